"""Which language a request speaks (the catalogues themselves: kiosk.web.catalogue)."""

from flask import current_app, g, has_request_context, request, session

from kiosk.accounts.access import signed_in_user
from kiosk.data.event import get_event
from kiosk.db import get_db
from kiosk.web.catalogue import locale, request_translations

# The language the source strings are written in: what the CLI and other work outside a request speak.
SOURCE_LANGUAGE = "en"


def select_locale():
    """Flask-Babel's locale selector, as a ready Locale (see _locale_code)."""
    return locale(_locale_code())


def _locale_code():
    """A kiosk station's own language; else the switch, else the browser, else the event's.

    Outside a request (the `kiosk` CLI, scripts) the source language: command output stays English
    and parseable, and there is no session or browser to ask.
    """
    if not has_request_context():
        return SOURCE_LANGUAGE
    languages = current_app.config["LANGUAGES"]
    station = g.get("station")
    if station and not signed_in_user():
        # A kiosk screen speaks one language: the one its scan answers are given in.
        return station_language(station)
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    if station and station.get("language") in languages:
        return station["language"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_event():
    """The event, read once per request."""
    event = g.get("event", False)
    if event is False:  # None is an answer too: no event set up yet
        event = g.event = get_event(get_db())
    return event


def station_language(station):
    """The language answers at STATION are given in: its own, else the event's."""
    if station and station.get("language"):
        return station["language"]
    event = current_event()
    return (event or {}).get("language") or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app):
    app.extensions["babel"].locale_selector = select_locale
    # Templates' _(), gettext and ngettext: Flask-Babel's own, with the catalogue looked up once a request.
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: request_translations().ugettext(string),
        ngettext=lambda singular, plural, n: request_translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: request_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: request_translations().unpgettext(context, singular, plural, n),
        newstyle=True,
    )
