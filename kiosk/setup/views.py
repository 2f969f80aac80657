"""The set-up pages of a fresh install: the first organiser (with the one-time link), then the event."""

from flask import Blueprint, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user

from kiosk.accounts.access import User, actor_name, organiser_required, public
from kiosk.data import accounts
from kiosk.data import event as event_data
from kiosk.data import setup as data
from kiosk.db import get_db
from kiosk.event import service as event_service
from kiosk.setup import service
from kiosk.web.rendering import render

bp = Blueprint("setup", __name__)


@bp.get("/setup/<secret>")
@public
def start(secret):
    """Step 1: the first organiser's account; 404 once the link is used or unknown."""
    if not data.setup_link_open(get_db(), secret):
        abort(404)
    return render("setup/start.html", secret=secret, email="", error=None)


@bp.post("/setup/<secret>")
@public
def claim(secret):
    """Create the first organiser, log them in and go on to the event."""
    db = get_db()
    email = request.form.get("email", "")
    try:
        user = service.claim(db, secret, email, request.form.get("password", ""), request.form.get("password2", ""))
    except accounts.AccountError as error:
        return render("setup/start.html", secret=secret, email=email, error=error, status=400)
    if user is None:
        abort(404)
    session.clear()
    login_user(User(user, accounts.start_login(db, user["id"])))
    return redirect(url_for("setup.event"), code=303)


@bp.get("/setup/event")
@organiser_required
def event():
    """Step 2: the event's name, dates, venue, time zone and language."""
    return render("setup/event.html", form=event_data.event_summary(get_db()) or {},
                  timezones=event_service.timezone_names(), error=None)


@bp.post("/setup/event")
@organiser_required
def event_post():
    """Create (or correct) the event, then on to the overview."""
    db = get_db()
    fields = {key: request.form.get(key, "") for key in event_data.EVENT_FIELDS}
    try:
        if not event_service.update(db, fields, actor=actor_name()):
            event_service.create(db, fields, actor=actor_name())
    except event_service.EventError as error:
        return render("setup/event.html", form=fields, timezones=event_service.timezone_names(), error=error,
                      status=400)
    flash(_("Kiosk is set up. Next: the program (rooms, time blocks, sessions), attendees and stations."), "success")
    return redirect(url_for("admin.overview"), code=303)
