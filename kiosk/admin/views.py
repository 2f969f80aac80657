"""Organiser pages: event overview, attendees with live search, attendee detail, program."""

from flask import Blueprint, abort, request

from kiosk.accounts.access import organiser_required
from kiosk.data import attendees as attendees_data
from kiosk.data import printing
from kiosk.data import rooms as rooms_data
from kiosk.data.event import get_event
from kiosk.db import get_db
from kiosk.web.ids import parse_id
from kiosk.web.rendering import render

bp = Blueprint("admin", __name__)


@bp.get("/")
@organiser_required
def overview():
    """Arrivals live: checked in / registered, per organisation, the latest arrivals."""
    db = get_db()
    return render(
        "admin/overview.html",
        "admin/_arrivals.html",
        event=get_event(db),
        arrivals=attendees_data.arrivals(db),
        rooms=rooms_data.occupancy(db),
    )


@bp.get("/admin/attendees")
@organiser_required
def attendees():
    """The attendee list with live search on name, organisation and e-mail."""
    db = get_db()
    query = request.args.get("q", "")[:200]
    # Not an id, so a page that is no number is the first, as a search box should; a huge page
    # would overflow SQLite's OFFSET.
    page = min(parse_id(request.args.get("page")) or 1, 100_000)
    per_page = 50
    rows = attendees_data.search(db, query, limit=per_page + 1, offset=(page - 1) * per_page)
    badge_status = printing.badge_status_map(db, [row["id"] for row in rows])
    return render(
        "admin/attendees.html",
        "admin/_attendee_rows.html",
        query=query,
        attendees=rows[:per_page],
        has_more=len(rows) > per_page,
        page=page,
        total=attendees_data.count(db),
        badge_status=badge_status,
    )


@bp.get("/admin/attendees/<int:attendee_id>")
@organiser_required
def attendee(attendee_id):
    """One attendee: their sessions, badge and scan history."""
    db = get_db()
    person = attendees_data.get(db, attendee_id)
    if person is None:
        abort(404)
    return render(
        "admin/attendee.html",
        attendee=person,
        program=attendees_data.personal_program(db, attendee_id),
        history=attendees_data.scan_history(db, attendee_id),
        badge_status=printing.badge_status(db, attendee_id),
    )


@bp.get("/admin/program")
@organiser_required
def program():
    """Rooms and the program per time block, with registrations against places."""
    db = get_db()
    return render("admin/program.html", blocks=rooms_data.program(db), rooms=rooms_data.occupancy(db))
