"""A write that waited past its deadline for another writer (kiosk.db.WriterBusy): "busy, try again", a 503."""

from flask import make_response, render_template, request
from flask_babel import gettext as _

from kiosk.db import WriterBusy
from kiosk.web.rendering import json_response

# What the scan API (and the fast path under `kiosk serve`) answers; a scanner app retries it.
BUSY_ANSWER = {"error": "busy", "message": "the database is busy; try again in a moment"}
RETRY_AFTER_SECONDS = "2"


def busy(error):
    """Answer a WriterBusy: JSON for the API, a short page (or fragment) for the rest; nothing was written."""
    if request.path.startswith("/api/"):
        response = json_response(503, BUSY_ANSWER)
    else:
        message = _("Kiosk is busy for a moment and did not save this. Please try again.")
        response = make_response(render_template("busy.html", message=message), 503)
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def init_app(app):
    app.register_error_handler(WriterBusy, busy)
