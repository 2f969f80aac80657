"""Scanning at the kiosk: the one check-in path behind the kiosk page and the JSON API."""

import json
from datetime import datetime, timedelta, timezone

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from flask_babel import force_locale, get_translations
from flask_babel import gettext as _

from kiosk.accounts.access import actor_name, allow, current_roles, signed_in_user_id, station_required
from kiosk.data import attendees as attendees_data
from kiosk.data import printing
from kiosk.data import scans as scans_data
from kiosk.data.badges import find_badge
from kiosk.data.event import local_time
from kiosk.data.rooms import room_live
from kiosk.db import get_db, immediate
from kiosk.web.rendering import render, wants_fragment
from kiosk.accounts.limits import limiter_blocked, limiter_hit
from kiosk.web.i18n import current_event, locale, station_language, translations_for
from kiosk.web.security import safe_next_url

bp = Blueprint("checkin", __name__)

RESULT_SECONDS = 6  # how long an answer stays on the kiosk screen: long enough to read the day's program
PRINT_WINDOW = timedelta(minutes=10)  # a station may print the badge of its own check-in this long after


class TooManyAttempts(Exception):
    """The station guessed too many unknown codes in a short time."""


def perform_scan(station, *, code=None, attendee_id=None, direction="in", client_scan_id=None, override=False, client=None):
    """Record one scan at STATION and return the answer with its message in the station's language.

    CLIENT is the scanning device's address, for the per-client guess limit; by default, the
    current request's.
    """
    result = record_station_scan(station, code=code, attendee_id=attendee_id, direction=direction,
                                 client_scan_id=client_scan_id, override=override, client=client)
    return with_message(result, station)


def record_station_scan(station, *, code=None, attendee_id=None, direction="in", client_scan_id=None, override=False, client=None):
    """The part of perform_scan that writes: the guess limit, the scan and what it changes; the
    answer without its message. Raises TooManyAttempts when the guess limit refuses."""
    db = get_db()
    limit = current_app.config["SCAN_GUESS_LIMIT"]
    with immediate(db):  # the check, the scan and the guess it may count: one transaction
        if limiter_blocked("guess", station["id"], limit=limit, client=client):
            raise TooManyAttempts()
        result = scans_data.record_scan(
            db,
            station=station,
            code=code,
            attendee_id=attendee_id,
            direction=direction,
            client_scan_id=client_scan_id,
            user_id=signed_in_user_id(),
            override=override,
        )
        if result["outcome"] == "unknown" and not result.get("replayed"):
            limiter_hit("guess", station["id"], limit=limit, client=client)
    return result


def with_message(result, station):
    """RESULT of a scan at STATION with the sentence a person reads, in the station's language."""
    result["message"] = describe(result, translations_for(station_language(station)))
    return result


def describe(result, translations=None):
    """The sentence a person reads for a scan answer, from TRANSLATIONS (default: the request's language)."""
    catalogue = translations if translations is not None else get_translations()

    def _(text, **variables):  # as flask_babel.gettext, from this catalogue
        text = catalogue.ugettext(text)
        return text % variables if variables else text

    def ngettext(singular, plural, num, **variables):
        variables.setdefault("num", num)
        return catalogue.ungettext(singular, plural, num) % variables

    attendee = result.get("attendee") or {}
    name = attendee.get("name", "")
    room = (result.get("room") or {}).get("name", "")
    outcome = result["outcome"]
    event = current_event()
    if outcome == "checked_in":
        if room and result.get("warning") == "not_registered":
            # One sentence, not two joined: a translation may need another order.
            return ngettext(
                "Welcome to %(room)s, %(name)s — not registered for this session; %(num)s place left",
                "Welcome to %(room)s, %(name)s — not registered for this session; %(num)s places left",
                result["room"]["places_left"], room=room, name=name,
            )
        if room:
            return _("Welcome to %(room)s, %(name)s", room=room, name=name)
        return _("Welcome, %(name)s", name=name)
    if outcome == "already":
        when = local_time(event, result.get("checked_in_at"))
        if room:
            return _("%(name)s is already inside %(room)s (since %(time)s)", name=name, room=room, time=when)
        return _("%(name)s is already checked in at %(time)s", name=name, time=when)
    if outcome == "unknown":
        return _("Unknown code. Please go to the registration desk.")
    if outcome == "replaced":
        return _("This badge was replaced by a newer badge. Please use your new badge, or go to the registration desk.")
    if outcome == "cancelled":
        return _("This registration was cancelled. Please go to the registration desk.")
    if outcome == "full":
        alternative = result.get("alternative")
        if alternative:
            return _(
                "%(room)s is full. Places left at %(session)s in %(other)s.",
                room=room, session=alternative["session"], other=alternative["room"],
            )
        return _("%(room)s is full.", room=room)
    if outcome == "checked_out":
        return _("Goodbye, %(name)s", name=name)
    if outcome == "not_inside":
        return _("%(name)s was not counted inside here.", name=name)
    if outcome == "undone":
        return _("Check-in of %(name)s undone", name=name)
    return outcome


def personal_program(result):
    """The welcomed attendee's day: which room for each block."""
    attendee = result.get("attendee")
    if not attendee or result["outcome"] not in ("checked_in", "already"):
        return []
    return attendees_data.personal_program(get_db(), attendee["id"])


def kiosk_context(station, result=None, *, full_page=False):
    db = get_db()
    context = {"station": station, "result": result, "program": personal_program(result) if result else [],
               "result_seconds": RESULT_SECONDS, "can_undo": can_undo(station),
               "print_url": _print_url(station, result)}
    if station["mode"] == "room" and (full_page or not wants_fragment()):  # fragments show only the answer
        live = room_live(db, station["room_id"])
        context.update(room=live, live=live, current_session=live["current"], next_session=live["next"])
    return context


def _print_url(station, result):
    """Where the kiosk loads the badge to print on arrival, for a fresh check-in at a printing station."""
    if not (station and station.get("print_on_arrival") and result and result.get("outcome") == "checked_in"
            and result.get("scan_id") and not result.get("replayed") and station["mode"] == "entrance"):
        return None
    return url_for("checkin.badge", scan_id=result["scan_id"])


def can_undo(station):
    """Hosts and organisers may undo; so may the staffed desk they work at."""
    return bool(current_roles() & {"host", "organiser"}) or bool(station and station["staffed"])


@bp.get("/kiosk")
@station_required
def kiosk():
    """The station's own kiosk page: entrance or room door."""
    station = g.station
    result = None
    shown = request.args.get("result", type=int)
    if shown:
        result = _shown_result(station, shown)
    template = "checkin/room.html" if station["mode"] == "room" else "checkin/kiosk.html"
    return render(template, **kiosk_context(station, result, full_page=True))


@bp.get("/kiosk/ping")
@station_required
def ping():
    """A cheap answer the kiosk polls to learn that the server is reachable again."""
    return "", 204


def _shown_result(station, scan_id):
    """The answer of scan SCAN_ID, for the no-JavaScript redirect after a scan."""
    row = scans_data.get_scan(get_db(), scan_id)
    if not row or row["station_id"] != station["id"] or not row["response"]:
        return None
    return with_message(json.loads(row["response"]), station)


@bp.post("/kiosk/scan")
@station_required
def scan():
    """Scan a code (camera, handheld scanner or typed short code) or check in a found attendee."""
    station = g.station
    form = request.form
    attendee_id = form.get("attendee_id", type=int)
    if attendee_id is not None and not station["staffed"]:
        abort(403)  # self-service screens never pick people from a list
    override = form.get("override") == "1" and station["mode"] == "room"
    refused = form.get("override_scan", type=int)
    if refused is not None:
        # "Let in anyway" names the door's own recent 'full' answer, never a person.
        attendee_id = _refused_attendee(station, refused)
        override = True
    direction = "out" if form.get("direction") == "out" else "in"
    try:
        result = perform_scan(
            station,
            code=form.get("code", "")[:200] if attendee_id is None else None,
            attendee_id=attendee_id,
            direction=direction,
            client_scan_id=(form.get("scan_id") or None) and form.get("scan_id")[:64],
            override=override,
        )
    except TooManyAttempts:
        return render(
            "checkin/kiosk.html", "checkin/_scan_result.html", status=429,
            **kiosk_context(station, {"outcome": "too_many", "attendee": None, "message": _("Too many unknown codes. Wait a minute, then try again.")}),
        )
    if not wants_fragment():
        return redirect(url_for("checkin.kiosk", result=result["scan_id"]), code=303)
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
    return render("checkin/kiosk.html", "checkin/_search_results.html", query=query, results=results,
                  **kiosk_context(station))


@bp.post("/kiosk/undo/<int:scan_id>")
@allow("station", "host", "organiser")
def undo(scan_id):
    """Take back a mistaken check-in: a new undo event, never a deletion."""
    station = g.get("station")
    if not can_undo(station):
        abort(403)
    db = get_db()
    target = scans_data.get_scan(get_db(), scan_id)
    if not (current_roles() & {"host", "organiser"}):
        if target is None or target["station_id"] != station["id"]:
            abort(403)
    undo_id = scans_data.undo_scan(
        db, scan_id, user_id=signed_in_user_id(),
        station_id=station["id"] if station else None,
    )
    if station and wants_fragment():
        attendee = attendees_data.get(db, target["attendee_id"]) if target and target["attendee_id"] else None
        result = {"outcome": "undone" if undo_id else "not_undone", "scan_id": undo_id,
                  "attendee": {"id": attendee["id"], "name": attendee["name"], "organisation": attendee["organisation"]}
                  if attendee else None}
        with force_locale(locale(station_language(station))):
            result["message"] = describe(result) if undo_id else _("This check-in was undone already.")
        return render("checkin/kiosk.html", "checkin/_scan_result.html", **kiosk_context(station, result))
    target_url = safe_next_url(request.form.get("next"))
    return redirect(target_url or (url_for("checkin.kiosk") if station else url_for("admin.overview")), code=303)


def _refused_attendee(station, scan_id):
    """The attendee of a recent 'full' answer at this room door, for an override; else 403."""
    row = scans_data.get_scan(get_db(), scan_id)
    if (station["mode"] != "room" or row is None or row["station_id"] != station["id"] or row["kind"] != "scan"
            or row["outcome"] != "full" or row["attendee_id"] is None
            or datetime.now(timezone.utc) - datetime.fromisoformat(row["created_at"]) > PRINT_WINDOW):
        abort(403)
    return row["attendee_id"]


def _printable_scan(station, scan_id):
    """SCAN_ID when it is a recent check-in at STATION (a station prints only its own arrivals), else 404."""
    row = scans_data.get_scan(get_db(), scan_id)
    if (row is None or row["station_id"] != station["id"] or row["kind"] != "scan"
            or row["outcome"] != "checked_in" or not station.get("print_on_arrival")):
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
    from kiosk.badges import views as badges  # the badge module owns the badge markup and the print view

    chosen = _arrival_badges(scan_id)
    if not chosen:
        abort(404)  # checked in by hand without a badge: the desk prints one from the attendee page
    return badges.print_page(get_db(), chosen, badges.DESK_LAYOUT, query={"layout": badges.DESK_LAYOUT}, logged=True)


@bp.post("/kiosk/badge/<int:scan_id>/printed")
@station_required
def badge_printed(scan_id):
    """Log that the kiosk sent the arrival badge of SCAN_ID to its printer (GET never writes, so this is a POST)."""
    from kiosk.badges.views import DESK_LAYOUT

    chosen = _arrival_badges(scan_id)
    if chosen:
        printing.record_prints(get_db(), [chosen[0]["badge_id"]], layout=DESK_LAYOUT, printed_by=actor_name())
    return "", 204
