"""Flask extensions, created once and bound to the app in create_app."""

from flask import request, session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()


def select_locale():
    """The language of the switch, else of the station, else of the browser, else of the event."""
    from flask import current_app, g

    languages = current_app.config["LANGUAGES"]
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    station = g.get("station")
    if station and station.get("language") in languages:
        return station["language"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app):
    htmx.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
