"""The event settings page: name, dates, venue, time zone, language, badge header and logo."""

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _

from kiosk.accounts.access import actor_name, allow, organiser_required
from kiosk.data import event as data
from kiosk.data import registration as registration_data
from kiosk.db import get_db
from kiosk.event import service
from kiosk.registration.service import local_closing
from kiosk.web.rendering import render

bp = Blueprint("event", __name__)


@bp.get("/admin/event")
@organiser_required
def settings():
    """The event's settings form, and the logo."""
    db = get_db()
    return render("event/settings.html", form=data.event_summary(db) or {}, logo=data.logo_version(db),
                  timezones=service.timezone_names(), error=None, registration=_registration(db))


def _registration(db):
    """The registration settings for their card on this page (saved by kiosk.registration.views)."""
    settings = registration_data.settings(db) or {}
    return dict(settings, closes_local=local_closing(data.get_event(db), settings.get("registration_closes_at")))


@bp.post("/admin/event")
@organiser_required
def save():
    """Save the event's settings (create the event when there is none yet)."""
    db = get_db()
    fields = {key: request.form.get(key, "") for key in data.EVENT_FIELDS}
    try:
        if not service.update(db, fields, actor=actor_name()):
            service.create(db, fields, actor=actor_name())
    except service.EventError as error:
        return render("event/settings.html", form=fields, logo=data.logo_version(db),
                      timezones=service.timezone_names(), error=error, registration=_registration(db), status=400)
    flash(_("The event is saved."), "success")
    return redirect(url_for("event.settings"), code=303)


@bp.post("/admin/event/logo")
@organiser_required
def upload_logo():
    """Check, resize and store an uploaded logo."""
    upload = request.files.get("logo")
    try:
        service.set_logo(get_db(), upload.read(service.LOGO_MAX_BYTES + 1) if upload else b"", actor=actor_name())
    except service.EventError as error:
        flash(str(error), "error")
    else:
        flash(_("The logo is saved."), "success")
    return redirect(url_for("event.settings"), code=303)


@bp.post("/admin/event/logo/remove")
@organiser_required
def remove_logo():
    """Remove the event's logo."""
    data.remove_logo(get_db(), actor=actor_name())
    flash(_("The logo is removed."), "success")
    return redirect(url_for("event.settings"), code=303)


@bp.get("/event/logo.png")
@allow("station", "host", "organiser")
def logo():
    """The event's logo (a PNG made by Kiosk itself), for badges and kiosk screens."""
    stored = data.get_logo(get_db())
    if stored is None:
        abort(404)
    response = make_response(stored["png"])
    response.mimetype = "image/png"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
