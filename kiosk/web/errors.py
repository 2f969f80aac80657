"""Error pages: every HTTP error in the app's layout and the user's language, with a way back."""

from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def _titles():
    """What each error means for the person who sees it."""
    return {
        400: (_("This request could not be handled"), _("Something in it was missing or not right. Go back and try again.")),
        403: (_("No access to this page"), _("Your account or device may not open this page.")),
        404: (_("Page not found"), _("The address may be mistyped, or the page was removed.")),
        405: (_("This page cannot be opened like that"), _("Use the buttons and links on the pages instead.")),
        409: (_("This cannot be changed"), ""),
        413: (_("The file is too large"), _("Choose a smaller file and try again.")),
        429: (_("Too many attempts"), _("Wait a minute, then try again.")),
        500: (_("Something went wrong on our side"), _("Try again in a moment. If it keeps happening, tell the organiser.")),
    }


def error_page(exc):
    """The error EXC as a page; the scan API's own errors stay JSON (its blueprint answers them)."""
    if request.path.startswith("/api/"):
        return exc
    code = exc.code or 500
    title, advice = _titles().get(code, (exc.name, ""))
    if isinstance(exc, CSRFError):
        advice = _("The form was open too long or came from another site (CSRF check). Reload the page and try again.")
    # What the app itself said about this request (a field named, a file refused), not werkzeug's default text.
    detail = exc.description if exc.description and exc.description != type(exc).description else None
    return render_template("errors/error.html", code=code, title=title, advice=advice, detail=detail), code


def init_app(app):
    app.register_error_handler(HTTPException, error_page)
