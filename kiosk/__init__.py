"""Kiosk: event check-in with QR badges and live room occupancy."""

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config=None):
    """Create and configure the Kiosk app."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("KIOSK_INSTANCE") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(
        SECRET_KEY=None,
        DATABASE=os.environ.get("KIOSK_DB") or os.path.join(app.instance_path, "kiosk.db"),
        BABEL_DEFAULT_LOCALE="nl",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        LANGUAGES=["nl", "en"],
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,  # imports; the scan API has its own, smaller limit
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # a kiosk page stays open all day
        PUBLIC_URL=None,  # base URL for pairing links, e.g. https://192.168.1.20:8443
        BODY_DEADLINE_SECONDS=30,  # kiosk serve: a request body not in by then is answered 408
        BODIES_PER_CLIENT=3,  # kiosk serve: request bodies one address may send at once per worker
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("KIOSK")
    if test_config is not None:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)

    from kiosk import db, extensions
    from kiosk.web import i18n, rendering, security

    db.init_app(app)
    extensions.init_app(app)
    i18n.init_app(app)
    rendering.init_app(app)

    from kiosk.accounts import access
    from kiosk.accounts import views as accounts
    from kiosk.admin import exports
    from kiosk.admin import views as admin
    from kiosk.api import views as api
    from kiosk.badges import views as badges
    from kiosk.checkin import views as checkin
    from kiosk.imports import views as imports
    from kiosk.rooms import views as rooms
    from kiosk.stations import views as stations

    security.init_app(app)
    access.init_app(app)
    for module in (accounts, admin, stations, checkin, api, rooms, badges, imports, exports):
        app.register_blueprint(module.bp)

    from kiosk import cli

    cli.init_app(app)

    with app.app_context():
        db.migrate(db.get_db())
    return app


def _instance_secret(instance_path):
    """A secret key kept in the instance folder, so sessions survive a restart."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        import secrets

        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip()
