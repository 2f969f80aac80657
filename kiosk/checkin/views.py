"""Scanning at the kiosk: the kiosk page, its scans, the desk search, undo and the arrival badge."""

from datetime import datetime, timedelta, timezone

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kiosk.accounts.access import actor_name, allow, current_roles, signed_in_user_id, station_required
from kiosk.badges.views import DESK_LAYOUT, print_page
from kiosk.checkin import service
from kiosk.checkin.messages import describe
from kiosk.checkin.service import Result, TooManyAttempts
from kiosk.data import attendees as attendees_data
from kiosk.data import printing
from kiosk.data.badges import find_badge
from kiosk.data.rooms import room_live
from kiosk.db import get_db
from kiosk.outcomes import Outcome
from kiosk.web.ids import id_field
from kiosk.people import service as people
from kiosk.web.rendering import render, wants_fragment
from kiosk.web.security import safe_next_url

bp = Blueprint("checkin", __name__)

RESULT_SECONDS = 6  # how long an answer stays on a kiosk screen unless its station says otherwise; any key or touch extends it
PRINT_WINDOW = timedelta(minutes=10)  # a station may print the badge of its own check-in this long after


def personal_program(result):
    """The welcomed attendee's day: which room for each block."""
    attendee = result.attendee
    if not attendee or result.outcome not in (Outcome.CHECKED_IN, Outcome.ALREADY):
        return []
    return attendees_data.personal_program(get_db(), attendee["id"])


def kiosk_context(station, result=None, *, full_page=False):
    """What the kiosk templates show at STATION: the answer RESULT (a Result) and, on a room door's page, its room."""
    db = get_db()
    context = {"station": station, "result": result, "program": personal_program(result) if result else [],
               "result_seconds": (station or {}).get("result_seconds") or RESULT_SECONDS, "can_undo": can_undo(station),
               "print_url": _print_url(station, result)}
    if station["mode"] == "room" and (full_page or not wants_fragment()):  # fragments show only the answer
        live = room_live(db, station["room_id"])
        context.update(room=live, live=live, current_session=live["current"], next_session=live["next"])
    return context


def _print_url(station, result):
    """Where the kiosk loads the badge to print on arrival, for a fresh check-in at a printing station."""
    if not (station and station.get("print_on_arrival") and result and result.outcome == Outcome.CHECKED_IN
            and result.scan_id and not result.replayed and station["mode"] == "entrance"):
        return None
    return url_for("checkin.badge", scan_id=result.scan_id)


def can_undo(station):
    """Hosts and organisers may undo; so may the staffed desk they work at."""
    return bool(current_roles() & {"host", "organiser"}) or bool(station and station["staffed"])


@bp.get("/kiosk")
@station_required
def kiosk():
    """The station's own kiosk page: entrance or room door."""
    station = g.station
    result = None
    shown = id_field(request.args, "result")
    if shown:
        result = service.stored_result(shown, station=station)
    template = "checkin/room.html" if station["mode"] == "room" else "checkin/kiosk.html"
    return render(template, **kiosk_context(station, result, full_page=True))


@bp.get("/kiosk/ping")
@station_required
def ping():
    """A cheap answer the kiosk polls to learn that the server is reachable again."""
    return "", 204


@bp.post("/kiosk/scan")
@station_required
def scan():
    """Scan a code (camera, handheld scanner or typed short code) or check in a found attendee."""
    station = g.station
    form = request.form
    attendee_id = id_field(form, "attendee_id")
    if attendee_id is not None and not station["staffed"]:
        abort(403)  # self-service screens never pick people from a list
    override = form.get("override") == "1" and station["mode"] == "room"
    # The staffed desk may let in a cancelled registration, saying why (the scan keeps the reason).
    reason = " ".join(form.get("reason", "").split())[:500] if station["staffed"] else ""
    admit_cancelled = form.get("admit_cancelled") == "1" and bool(reason) and attendee_id is not None
    refused = id_field(form, "override_scan")
    if refused is not None:
        # "Let in anyway" names the door's own recent 'full' answer, never a person.
        attendee_id = _refused_attendee(station, refused)
        override = True
    direction = "out" if form.get("direction") == "out" else "in"
    try:
        result = service.scan(
            station,
            code=form.get("code", "")[:200] if attendee_id is None else None,
            attendee_id=attendee_id,
            direction=direction,
            client_scan_id=(form.get("scan_id") or None) and form.get("scan_id")[:64],
            override=override,
            admit_cancelled=admit_cancelled,
            reason=reason or None,
            by=signed_in_user_id(),
        )
    except TooManyAttempts:
        refused = Result(outcome=Outcome.TOO_MANY)
        return render("checkin/kiosk.html", "checkin/_scan_result.html", status=429,
                      **kiosk_context(station, refused.said(describe(refused))))
    if not wants_fragment():
        return redirect(url_for("checkin.kiosk", result=result.scan_id), code=303)
    return render("checkin/kiosk.html", "checkin/_scan_result.html", **kiosk_context(station, result))


@bp.get("/kiosk/search")
@station_required
def search():
    """Live search for the staffed desk: name or organisation, or a typed short code."""
    station = g.station
    if not station["staffed"]:
        abort(403)
    query = request.args.get("q", "")[:100]
    results = attendees_data.search(get_db(), query, limit=12) if query.strip() else []
    typed = find_badge(get_db(), query) if query.strip() else None
    if typed and not typed["replaced_at"] and all(person["id"] != typed["attendee_id"] for person in results):
        results.insert(0, attendees_data.get(get_db(), typed["attendee_id"]))
    # What tells two namesakes apart, without showing the desk anyone's whole address.
    results = [dict(person, masked_email=people.mask_email(person["email"])) for person in results]
    return render("checkin/kiosk.html", "checkin/_search_results.html", query=query, results=results,
                  **kiosk_context(station))


@bp.post("/kiosk/undo/<int:scan_id>")
@allow("station", "host", "organiser")
def undo(scan_id):
    """Take back a mistaken check-in: a new undo event, never a deletion."""
    station = g.get("station")
    if not can_undo(station):
        abort(403)
    if not (current_roles() & {"host", "organiser"}):
        target = service.get_scan(scan_id)
        if target is None or target["station_id"] != station["id"]:
            abort(403)
    result = service.undo(scan_id, station=station, by=signed_in_user_id())
    if station and wants_fragment():
        return render("checkin/kiosk.html", "checkin/_scan_result.html", **kiosk_context(station, result))
    target_url = safe_next_url(request.form.get("next"))
    return redirect(target_url or (url_for("checkin.kiosk") if station else url_for("admin.overview")), code=303)


def _refused_attendee(station, scan_id):
    """The attendee of a recent 'full' answer at this room door, for an override; else 403."""
    row = service.get_scan(scan_id)
    if (station["mode"] != "room" or row is None or row["station_id"] != station["id"] or row["kind"] != "scan"
            or row["outcome"] != Outcome.FULL or row["attendee_id"] is None
            or datetime.now(timezone.utc) - datetime.fromisoformat(row["created_at"]) > PRINT_WINDOW):
        abort(403)
    return row["attendee_id"]


def _printable_scan(station, scan_id):
    """SCAN_ID when it is a recent check-in at STATION (a station prints only its own arrivals, and only
    when it prints on arrival or is a staffed desk), else 404."""
    row = service.get_scan(scan_id)
    if (row is None or row["station_id"] != station["id"] or row["kind"] != "scan"
            or row["outcome"] != Outcome.CHECKED_IN or not (station.get("print_on_arrival") or station["staffed"])):
        abort(404)
    created = datetime.fromisoformat(row["created_at"])
    if datetime.now(timezone.utc) - created > PRINT_WINDOW:
        abort(404)
    return row


def _arrival_badges(scan_id):
    """The badge of the attendee of SCAN_ID, a recent check-in at this station (else 404), as print rows."""
    row = _printable_scan(g.station, scan_id)
    return printing.select_badges(get_db(), attendee_ids=[row["attendee_id"]])


@bp.get("/kiosk/badge/<int:scan_id>")
@station_required
def badge(scan_id):
    """The label badge of the attendee just checked in here, for the kiosk to print on arrival."""
    chosen = _arrival_badges(scan_id)
    if not chosen:
        abort(404)  # checked in by hand without a badge: the desk prints one from the attendee page
    return print_page(get_db(), chosen, DESK_LAYOUT, query={"layout": DESK_LAYOUT}, logged=True)


@bp.post("/kiosk/badge/<int:scan_id>/printed")
@station_required
def badge_printed(scan_id):
    """Log that the kiosk sent the arrival badge of SCAN_ID to its printer (GET never writes, so this is a POST)."""
    chosen = _arrival_badges(scan_id)
    if chosen:
        printing.record_prints(get_db(), [chosen[0]["badge_id"]], layout=DESK_LAYOUT, printed_by=actor_name())
    return "", 204


def _walk_in_signer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="walk-in-badge")


def _walk_in(token):
    """The attendee id a desk's walk-in TOKEN names, when this desk added them in the last PRINT_WINDOW; else 404."""
    try:
        station_id, attendee_id = _walk_in_signer().loads(token or "", max_age=PRINT_WINDOW.total_seconds())
    except (BadSignature, ValueError, TypeError):
        abort(404)
    if station_id != g.station["id"]:
        abort(404)
    return attendee_id


def _staffed_desk():
    """The request's station, when it is a staffed desk; else 403."""
    if not g.station["staffed"]:
        abort(403)
    return g.station


@bp.get("/kiosk/walk-in")
@station_required
def walk_in():
    """The staffed desk's form to add a walk-in: name, e-mail, organisation, role, sessions."""
    station = _staffed_desk()
    return render("checkin/walk_in.html", station=station, problems=[], duplicates=[], **people.form_context(get_db()))


@bp.post("/kiosk/walk-in")
@station_required
def walk_in_post():
    """Add a walk-in at the desk (a possible duplicate is shown first), then offer their badge to print."""
    station = _staffed_desk()
    form = request.form
    checked = people.check_details(form)
    duplicates = [] if checked.problems or form.get("confirm_duplicate") == "1" else people.duplicates(checked.values)
    if not checked.problems and not duplicates:
        attendee_id, checked = people.add(form, actor=actor_name())  # the desk cannot overfill a session
        if attendee_id is not None:
            token = _walk_in_signer().dumps([station["id"], attendee_id])
            return redirect(url_for("checkin.walk_in_added", t=token), code=303)
    return render("checkin/walk_in.html", station=station, problems=checked.problems, duplicates=duplicates,
                  status=422, **people.form_context(get_db(), form))


@bp.get("/kiosk/walk-in/added")
@station_required
def walk_in_added():
    """The walk-in just added at this desk: print their badge, check them in, or back to the desk."""
    station = _staffed_desk()
    attendee_id = _walk_in(request.args.get("t"))
    db = get_db()
    return render("checkin/walk_in_added.html", station=station, attendee=attendees_data.get(db, attendee_id),
                  program=attendees_data.personal_program(db, attendee_id), token=request.args.get("t"),
                  badge=printing.badge_status(db, attendee_id))


@bp.post("/kiosk/walk-in/badge")
@station_required
def walk_in_badge():
    """Print the label badge of the walk-in this desk just added: logged as printed, then the print view."""
    _staffed_desk()
    db = get_db()
    chosen = printing.select_badges(db, attendee_ids=[_walk_in(request.form.get("t"))])
    if not chosen:
        abort(404)
    printing.record_prints(db, [chosen[0]["badge_id"]], layout=DESK_LAYOUT, printed_by=actor_name())
    return print_page(db, chosen, DESK_LAYOUT, query={"layout": DESK_LAYOUT}, logged=True)
