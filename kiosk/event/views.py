"""The event settings page (name, dates, venue, time zone, language, badge header, logo) and the events page."""

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _

from kiosk.accounts.access import actor_name, allow, organiser_required, signed_in_user
from kiosk.data import event as data
from kiosk.data import events as events_data
from kiosk.data.accounts import hash_token
from kiosk.data import registration as registration_data
from kiosk.db import get_db, use_event
from kiosk.event import service
from kiosk.registration.service import local_closing
from kiosk.web.ids import id_field
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


@bp.get("/admin/events")
@organiser_required
def events():
    """Every event: which one the organiser works on, the install's current one, archived ones; a new one."""
    return _events_page({})


def _events_page(form, error=None, status=200):
    db = get_db()
    return render("event/events.html", events=events_data.list_events(db), working=db.event_id, form=form,
                  error=error, status=status)


@bp.post("/admin/events")
@organiser_required
def add():
    """Create an event from scratch or from an earlier one (its program and settings), and work on it."""
    db = get_db()
    form = {key: request.form.get(key, "") for key in ("name", "date", "copy_from")}
    copy_from = id_field(request.form, "copy_from")  # empty: from scratch
    try:
        event_id = service.add(db, {"name": form["name"], "date": form["date"]}, actor=actor_name(), copy_from=copy_from)
    except service.EventError as error:
        return _events_page(form, error, 400)
    if event_id is None:
        return _events_page(form, _("There is no such event to start from."), 400)
    _work_on(db, event_id)
    flash(_("The event is created; you are working on it."), "success")
    return redirect(url_for("event.events"), code=303)


@bp.post("/admin/events/work")
@organiser_required
def work():
    """Work on another event from now on (remembered with this login)."""
    db = get_db()
    event_id = id_field(request.form, "event_id")
    event = events_data.get(db, event_id) if event_id is not None else None
    if event is None:
        return _events_page({}, _("There is no such event."), 400)
    _work_on(db, event_id)
    flash(_("You are working on %(name)s.", name=event["name"]), "success")
    return redirect(url_for("event.events"), code=303)


def _work_on(db, event_id):
    """Remember EVENT_ID with this organiser's login, and use it for the rest of this request."""
    events_data.switch_login(db, hash_token(signed_in_user().login_token), event_id, actor=actor_name())
    use_event(db, event_id)


@bp.post("/admin/events/<int:event_id>/archive")
@organiser_required
def archive(event_id):
    """Archive an event (read-only from then on; its report and exports stay) or reopen it (archived=0)."""
    archived = request.form.get("archived") == "1"
    if not events_data.set_archived(get_db(), event_id, archived, actor=actor_name()):
        abort(404)
    flash(_("The event is archived: it is read-only.") if archived else _("The event is open for changes again."),
          "success")
    return redirect(url_for("event.events"), code=303)
