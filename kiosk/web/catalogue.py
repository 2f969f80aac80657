"""Message catalogues, each looked up once: a language's for scan answers, the request's for
templates and labels (kiosk.web.i18n installs it in Jinja)."""

from functools import lru_cache

from babel import Locale
from flask import current_app, g
from flask_babel import force_locale, get_locale, get_translations


@lru_cache(maxsize=32)
def locale(code):
    """The Babel Locale for CODE, parsed once: parsing it was a tenth of a scan's time."""
    return Locale.parse(code)


def translations_for(language):
    """The message catalogue for LANGUAGE, fetched from Flask-Babel once per app.

    Forcing the locale and looking the catalogue up again for every sentence was a tenth of
    an API check-in's time.
    """
    cache = current_app.extensions.setdefault("kiosk_translations", {})
    translations = cache.get(language)
    if translations is None:
        with force_locale(locale(language)):
            translations = cache[language] = get_translations()
    return translations


def request_translations():
    """The message catalogue of the request's language, looked up once per request and language.

    Flask-Babel looks the catalogue up again for every string (the request's context several
    times, the locale and its name, then its cache): for the 60 strings of the registration form
    that was about a tenth of the page's time. A locale forced for a while (a ticket mail in the
    attendee's language) is another Locale object, so it gets its own catalogue here too.
    """
    locale_now = get_locale()
    found = g.get("kiosk_catalogue")
    if found is None or found[0] is not locale_now:
        found = g.kiosk_catalogue = (locale_now, get_translations())
    return found[1]
