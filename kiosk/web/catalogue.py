"""The request's message catalogue, for templates and labels (kiosk.web.i18n installs it in Jinja)."""

from flask import g
from flask_babel import get_locale, get_translations


def request_translations():
    """The message catalogue of the request's language, looked up once per request and language.

    Flask-Babel looks the catalogue up again for every string (the request's context several
    times, the locale and its name, then its cache): for the 60 strings of the registration form
    that was about a tenth of the page's time. A locale forced for a while (a ticket mail in the
    attendee's language) is another Locale object, so it gets its own catalogue here too.
    """
    locale = get_locale()
    found = g.get("kiosk_catalogue")
    if found is None or found[0] is not locale:
        found = g.kiosk_catalogue = (locale, get_translations())
    return found[1]
