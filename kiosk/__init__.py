"""Kiosk: event check-in with QR badges and live room occupancy."""

import os
import secrets
from pathlib import Path

from flask import Flask

from kiosk import config, db, extensions
from kiosk.accounts import access
from kiosk.accounts import views as accounts
from kiosk.admin import exports
from kiosk.admin import views as admin
from kiosk.api import organiser as organiser_api
from kiosk.api import views as api
from kiosk.badges import views as badges
from kiosk.checkin import views as checkin
from kiosk.event import views as event
from kiosk.imports import views as imports
from kiosk.mail import views as mail
from kiosk.people import views as people
from kiosk.program import views as program
from kiosk.reports import views as reports
from kiosk.registration import views as registration
from kiosk.rooms import views as rooms
from kiosk.setup import views as setup
from kiosk.staff import views as staff
from kiosk.stations import views as stations
from kiosk.web import busy, errors, i18n, rendering, security

BLUEPRINTS = (accounts, admin, stations, checkin, api, organiser_api, rooms, badges, imports, exports, event, setup, staff,
              people, program, reports, registration, mail)


def create_app(test_config=None):
    """Create and configure the Kiosk app: settings, extensions, blueprints, the schema.

    What `kiosk serve` adds for production load (kiosk.serving) is not installed here: this
    app alone serves every page and the API.
    """
    app = Flask(
        __name__,
        instance_path=config.instance_path(),
        instance_relative_config=True,
        template_folder=str(config.site_folder("templates")),
        static_folder=str(config.site_folder("static")),
    )
    app.config.from_mapping(config.defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(config.PREFIX)
    if test_config is not None:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)

    db.init_app(app)
    extensions.init_app(app)
    i18n.init_app(app)
    rendering.init_app(app)
    security.init_app(app)  # before the blueprints: it bounds every <int:...> in their rules
    access.init_app(app)
    errors.init_app(app)
    busy.init_app(app)
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    with app.app_context():
        db.migrate(db.get_db())
    return app


def _instance_secret(instance_path):
    """A secret key kept in the instance folder, so sessions survive a restart."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip()
