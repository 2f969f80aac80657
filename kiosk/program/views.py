"""The program in the browser, for organisers: rooms, time blocks and sessions added, changed and removed."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from kiosk.accounts.access import actor_name, organiser_required
from kiosk.data import program as program_data
from kiosk.data import rooms as rooms_data
from kiosk.db import get_db
from kiosk.program import service
from kiosk.web.rendering import render

bp = Blueprint("program", __name__, url_prefix="/admin/program")

# The edit page of each table's rows.
EDIT_PAGES = {"rooms": "program/room.html", "blocks": "program/block.html", "sessions": "program/session.html"}


def program_page(*, problems=(), form=None, adding=None, status=200):
    """The program page: every block with its sessions, the rooms, and the forms to add each.

    PROBLEMS and FORM are those of a refused add (ADDING: 'room', 'block' or 'session').
    """
    db = get_db()
    return render("admin/program.html", blocks=rooms_data.program(db), rooms=rooms_data.occupancy(db),
                  room_choices=rooms_data.list_rooms(db), problems=list(problems), form=form or {}, adding=adding,
                  kinds=service.KINDS, status=status)


def _edit_page(table, row, *, problems=(), form=None, status=200):
    """The edit page of ROW of TABLE, showing FORM (default: the row as saved) and any PROBLEMS."""
    db = get_db()
    return render(EDIT_PAGES[table], item=row, form=form or row, problems=list(problems), kinds=service.KINDS,
                  blocks=rooms_data.list_blocks(db), room_choices=rooms_data.list_rooms(db), status=status)


def _row_or_404(table, row_id):
    row = program_data.get(get_db(), table, row_id)
    if row is None:
        abort(404)
    return row


def _done(change, message):
    """After a saved change: its message and warnings, and back to the program page."""
    flash(message, "success")
    for warning in change.warnings:
        flash(warning, "warning")
    return redirect(url_for("admin.program"), 303)


def _removed(change, message):
    """After a removal (or its refusal): say which, and back to the program page."""
    for problem in change.problems:
        flash(problem, "error")
    if not change.problems:
        flash(message, "success")
    return redirect(url_for("admin.program"), 303)


@bp.post("/rooms")
@organiser_required
def add_room():
    """Add a room."""
    change = service.save_room(request.form, actor=actor_name())
    if change.problems:
        return program_page(problems=change.problems, form=request.form, adding="room", status=422)
    return _done(change, _("Room added."))


@bp.get("/rooms/<int:room_id>")
@organiser_required
def room(room_id):
    """The form to change a room."""
    return _edit_page("rooms", _row_or_404("rooms", room_id))


@bp.post("/rooms/<int:room_id>")
@organiser_required
def save_room(room_id):
    """Save a room: name, capacity, location, exit scanning. A capacity below the count inside is warned."""
    row = _row_or_404("rooms", room_id)
    change = service.save_room(request.form, actor=actor_name(), room_id=room_id)
    if change.problems:
        return _edit_page("rooms", row, problems=change.problems, form=request.form, status=422)
    return _done(change, _("Room saved."))


@bp.post("/rooms/<int:room_id>/remove")
@organiser_required
def remove_room(room_id):
    """Remove a room that nothing uses."""
    _row_or_404("rooms", room_id)
    return _removed(service.remove_room(room_id, actor=actor_name()), _("Room removed."))


@bp.post("/blocks")
@organiser_required
def add_block():
    """Add a time block."""
    change = service.save_block(request.form, actor=actor_name())
    if change.problems:
        return program_page(problems=change.problems, form=request.form, adding="block", status=422)
    return _done(change, _("Block added."))


@bp.get("/blocks/<int:block_id>")
@organiser_required
def block(block_id):
    """The form to change a time block."""
    return _edit_page("blocks", _row_or_404("blocks", block_id))


@bp.post("/blocks/<int:block_id>")
@organiser_required
def save_block(block_id):
    """Save a time block: name, start, end."""
    row = _row_or_404("blocks", block_id)
    change = service.save_block(request.form, actor=actor_name(), block_id=block_id)
    if change.problems:
        return _edit_page("blocks", row, problems=change.problems, form=request.form, status=422)
    return _done(change, _("Block saved."))


@bp.post("/blocks/<int:block_id>/remove")
@organiser_required
def remove_block(block_id):
    """Remove a time block without sessions."""
    _row_or_404("blocks", block_id)
    return _removed(service.remove_block(block_id, actor=actor_name()), _("Block removed."))


@bp.post("/sessions")
@organiser_required
def add_session():
    """Add a session."""
    change = service.save_session(request.form, actor=actor_name())
    if change.problems:
        return program_page(problems=change.problems, form=request.form, adding="session", status=422)
    return _done(change, _("Session added."))


@bp.get("/sessions/<int:session_id>")
@organiser_required
def session(session_id):
    """The form to change a session."""
    return _edit_page("sessions", _row_or_404("sessions", session_id))


@bp.post("/sessions/<int:session_id>")
@organiser_required
def save_session(session_id):
    """Save a session: block, title, kind, room or meeting point, places, description."""
    row = _row_or_404("sessions", session_id)
    change = service.save_session(request.form, actor=actor_name(), session_id=session_id)
    if change.problems:
        return _edit_page("sessions", row, problems=change.problems, form=request.form, status=422)
    return _done(change, _("Session saved."))


@bp.post("/sessions/<int:session_id>/remove")
@organiser_required
def remove_session(session_id):
    """Remove a session nobody chose; otherwise the page says how many did."""
    _row_or_404("sessions", session_id)
    return _removed(service.remove_session(session_id, actor=actor_name()), _("Session removed."))
