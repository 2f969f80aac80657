"""People in the browser, for organisers: add, edit, sessions, cancel and reinstate, check in or out by hand."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from kiosk.accounts.access import actor_name, organiser_required, signed_in_user_id
from kiosk.checkin import service as checkin
from kiosk.data import people as people_data
from kiosk.db import get_db
from kiosk.outcomes import Outcome
from kiosk.people import service
from kiosk.web.rendering import render

bp = Blueprint("people", __name__, url_prefix="/admin/attendees")
bp.add_app_template_filter(service.mask_email, "mask_email")


def _attendee_or_404(attendee_id):
    person = people_data.attendee_row(get_db(), attendee_id)
    if person is None:
        abort(404)
    return person


def _edit_page(db, person, *, problems=(), details=None, chosen=None, status=200):
    """The edit page of PERSON, showing DETAILS (default: as saved) and CHOSEN sessions (default: as saved)."""
    if chosen is None:
        chosen = people_data.choices_of(db, person["id"])
    return render("people/edit.html", attendee=person, problems=list(problems), status=status,
                  **service.form_context(db, details or person, chosen=chosen))


@bp.get("/new")
@organiser_required
def new():
    """The form to add an attendee (a walk-in, a late registration)."""
    return render("people/new.html", problems=[], duplicates=[], **service.form_context(get_db()))


@bp.post("/new")
@organiser_required
def add():
    """Add an attendee; a possible duplicate is shown first and saved only when confirmed."""
    db = get_db()
    form = request.form
    checked = service.check_details(form)
    duplicates = [] if checked.problems or form.get("confirm_duplicate") == "1" else service.duplicates(checked.values)
    if checked.problems or duplicates:
        return render("people/new.html", problems=checked.problems, duplicates=duplicates, status=422,
                      **service.form_context(db, form))
    attendee_id, checked = service.add(form, actor=actor_name(), override=form.get("override_places") == "1")
    if attendee_id is None:
        return render("people/new.html", problems=checked.problems, duplicates=[], status=422, **service.form_context(db, form))
    flash(_("%(name)s added, with a badge.", name=checked.values["name"]), "success")
    return redirect(url_for("admin.attendee", attendee_id=attendee_id), 303)


@bp.get("/<int:attendee_id>/edit")
@organiser_required
def edit(attendee_id):
    """The form to change an attendee's name, e-mail, organisation, role and sessions."""
    return _edit_page(get_db(), _attendee_or_404(attendee_id))


@bp.post("/<int:attendee_id>/edit")
@organiser_required
def save(attendee_id):
    """Save an attendee's details."""
    db = get_db()
    person = _attendee_or_404(attendee_id)
    checked = service.edit(attendee_id, request.form, actor=actor_name())
    if checked.problems:
        return _edit_page(db, person, problems=checked.problems, details=request.form, status=422)
    flash(_("Saved."), "success")
    return redirect(url_for("admin.attendee", attendee_id=attendee_id), 303)


@bp.post("/<int:attendee_id>/sessions")
@organiser_required
def sessions(attendee_id):
    """Change an attendee's sessions; a full session only with the organiser's override."""
    db = get_db()
    person = _attendee_or_404(attendee_id)
    checked = service.change_choices(attendee_id, request.form, actor=actor_name(),
                                     override=request.form.get("override_places") == "1")
    if checked.problems:
        return _edit_page(db, person, problems=checked.problems, chosen=service.chosen_in(request.form), status=422)
    flash(_("Sessions saved."), "success")
    return redirect(url_for("admin.attendee", attendee_id=attendee_id), 303)


@bp.post("/<int:attendee_id>/status")
@organiser_required
def status(attendee_id):
    """Cancel or reinstate a registration."""
    _attendee_or_404(attendee_id)
    new_status = request.form.get("status")
    if new_status not in ("registered", "cancelled"):
        abort(400)
    service.set_status(attendee_id, new_status, actor=actor_name())
    flash(_("Registration cancelled.") if new_status == "cancelled" else _("Registration reinstated."), "success")
    return redirect(url_for("admin.attendee", attendee_id=attendee_id), 303)


@bp.post("/<int:attendee_id>/scan")
@organiser_required
def scan(attendee_id):
    """Check an attendee in or out at the entrance by hand; a cancelled registration needs a reason."""
    person = _attendee_or_404(attendee_id)
    direction = "out" if request.form.get("direction") == "out" else "in"
    reason = " ".join(request.form.get("reason", "").split())[:500]
    admit = person["status"] == "cancelled" and direction == "in"
    if admit and not reason:
        flash(_("This registration is cancelled: say why you let them in."), "error")
        return redirect(url_for("admin.attendee", attendee_id=attendee_id), 303)
    result = checkin.scan(None, attendee_id=attendee_id, direction=direction, admit_cancelled=admit,
                          reason=reason or None, by=signed_in_user_id())
    ok = result.outcome in (Outcome.CHECKED_IN, Outcome.CHECKED_OUT)
    flash(result.message, "success" if ok else "error")
    return redirect(url_for("admin.attendee", attendee_id=attendee_id), 303)
