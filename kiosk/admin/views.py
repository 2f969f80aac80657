"""Organiser pages: event overview, the attendee list (search, filters, sort), attendee detail, the program page."""

from flask import Blueprint, abort, request

from kiosk.accounts.access import organiser_required
from kiosk.data import attendees as attendees_data
from kiosk.data import outbox as outbox_data
from kiosk.data import people as people_data
from kiosk.data import printing
from kiosk.data import rooms as rooms_data
from kiosk.data.event import get_event
from kiosk.db import get_db
from kiosk.web.ids import parse_id
from kiosk.program.views import program_page
from kiosk.web.rendering import render

PER_PAGE = 50
NO_ORGANISATION = "-"  # the list's value for attendees without an organisation

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


def list_filters(args):
    """The attendee list's filters and sort from the query ARGS, each checked; unknown values are dropped."""
    organisation = args.get("organisation") or None
    filters = {
        "q": args.get("q", "")[:200],
        "status": args.get("status") if args.get("status") in people_data.STATUSES else None,
        "organisation": "" if organisation == NO_ORGANISATION else organisation and organisation[:200],
        "session_id": parse_id(args.get("session")),
        "room_id": parse_id(args.get("room")),
        "badge": args.get("badge") if args.get("badge") in people_data.BADGE_STATES else None,
    }
    sort = args.get("sort") if args.get("sort") in people_data.SORTS else "name"
    return filters, sort


def list_args(filters, sort):
    """FILTERS and SORT as query arguments again, for links that keep them (pages, sort)."""
    args = {"q": filters["q"] or None, "status": filters["status"], "badge": filters["badge"],
            "organisation": NO_ORGANISATION if filters["organisation"] == "" else filters["organisation"],
            "session": filters["session_id"], "room": filters["room_id"], "sort": None if sort == "name" else sort}
    return {key: value for key, value in args.items() if value is not None}


@bp.get("/admin/attendees")
@organiser_required
def attendees():
    """The attendee list: live search (also by badge code), filters, sort, the count shown, bulk actions."""
    db = get_db()
    filters, sort = list_filters(request.args)
    # Not an id, so a page that is no number is the first, as a search box should; a huge page
    # would overflow SQLite's OFFSET.
    page = min(parse_id(request.args.get("page")) or 1, 100_000)
    rows = people_data.list_attendees(db, filters, sort=sort, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    return render(
        "admin/attendees.html",
        "admin/_attendee_rows.html",
        query=filters["q"],
        filters=filters,
        sort=sort,
        args=list_args(filters, sort),
        attendees=rows[:PER_PAGE],
        has_more=len(rows) > PER_PAGE,
        page=page,
        shown=people_data.count_attendees(db, filters),
        total=attendees_data.count(db),
        badge_status=printing.badge_status_map(db, [row["id"] for row in rows]),
        organisations=people_data.organisations(db),
        sessions=people_data.session_options(db),
        rooms=rooms_data.list_rooms(db),
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
        mails=outbox_data.of_attendee(db, attendee_id),
    )


@bp.get("/admin/program")
@organiser_required
def program():
    """The program, editable: rooms, time blocks and sessions (the changes post to kiosk.program.views)."""
    return program_page()
