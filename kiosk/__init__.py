"""Kiosk: event check-in with QR badges and live room occupancy."""

import os
import weakref
from pathlib import Path

from flask import Flask, Response

from kiosk import config


class KioskResponse(Response):
    """A response whose body is already in memory goes to the server as one list of bytes.

    Werkzeug hands every body over as an iterator; granian writes an iterator's headers and
    body in two writes, and with Nagle's algorithm the body can then wait for the client's
    delayed ACK: up to 40 ms added to a scan's answer. A list goes out in one write.
    Streamed bodies (files sent from disk, generators) stay iterators.
    """

    def get_app_iter(self, environ):
        if not self.is_sequence or self.direct_passthrough or getattr(self, "_on_close", True):
            return super().get_app_iter(environ)
        status = self.status_code
        if environ["REQUEST_METHOD"] == "HEAD" or 100 <= status < 200 or status in (204, 304):
            return []
        return [b"".join(self.iter_encoded())]


class KioskFlask(Flask):
    """Flask, remembering which views and hooks are plain functions.

    Flask asks inspect whether each view and hook is a coroutine on every request: a
    twentieth of a scan's time. The answer for a function never changes.
    """

    response_class = KioskResponse

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_functions = weakref.WeakKeyDictionary()

    def ensure_sync(self, func):
        try:
            if self._sync_functions.get(func):
                return func
        except TypeError:  # not weakly referenceable: ask Flask
            return super().ensure_sync(func)
        ready = super().ensure_sync(func)
        if ready is func:  # remember plain functions only: a value holding FUNC would keep it alive
            self._sync_functions[func] = True
        return ready


def create_app(test_config=None):
    """Create and configure the Kiosk app."""
    app = KioskFlask(
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
    app.wsgi_app = api.ScanFastPath(app)

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
