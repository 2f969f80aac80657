"""Flask extensions, created once and bound to the app in create_app."""

from functools import lru_cache

from babel import Locale
from flask import has_request_context, request, session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()

# The language the source strings are written in: what the CLI and other work outside a request speak.
SOURCE_LANGUAGE = "en"


@lru_cache(maxsize=32)
def locale(code):
    """The Babel Locale for CODE, parsed once: parsing it was a tenth of a scan's time."""
    return Locale.parse(code)


def select_locale():
    """Flask-Babel's locale selector, as a ready Locale (see _locale_code)."""
    return locale(_locale_code())


def _locale_code():
    """A kiosk station's own language; else the switch, else the browser, else the event's.

    Outside a request (the `kiosk` CLI, scripts) the source language: command output stays English
    and parseable, and there is no session or browser to ask.
    """
    from flask import current_app, g

    if not has_request_context():
        return SOURCE_LANGUAGE
    languages = current_app.config["LANGUAGES"]
    from kiosk.accounts import signed_in_user

    station = g.get("station")
    if station and not signed_in_user():
        # A kiosk screen speaks one language: the one its scan answers are given in.
        from kiosk.checkin import station_language

        return station_language(station)
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    if station and station.get("language") in languages:
        return station["language"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app):
    htmx.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
