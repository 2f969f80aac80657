"""The JSON API for scanner apps and integrations: scans and room occupancy."""

import json
from pathlib import Path

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from kiosk.checkin.messages import with_message
from kiosk.checkin.service import TooManyAttempts
from kiosk.checkin.service import record
from kiosk.data.event import get_event
from kiosk.data.rooms import occupancy
from kiosk.data.schedule import sessions_by_room
from kiosk.db import get_db
from kiosk.outcomes import Outcome
from kiosk.extensions import csrf
from kiosk.accounts.access import allow, bearer_token, public
from kiosk.accounts.limits import client_key
from kiosk.web.rendering import json_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Authenticated by a bearer token, never by a cookie, so there is nothing to forge.
csrf.exempt(bp)

MAX_SCAN_BODY = 4096
SCANS_PATH = bp.url_prefix + "/scans"
# The API's contract, a file so that it can be read (and diffed) as the document it is;
# tests/test_api.py checks it against the routes and the Outcome enum.
OPENAPI = json.loads(Path(__file__).with_name("openapi.json").read_text(encoding="utf-8"))


def error(status, code, message):
    """The API's error answer: STATUS with {"error": CODE, "message": MESSAGE}."""
    return json_response(status, {"error": code, "message": message})


ERROR_NAMES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests"}


@bp.errorhandler(HTTPException)
def http_error(exc):
    """Every HTTP error of the API as a JSON answer."""
    return json_response(exc.code, http_error_answer(exc))


def http_error_answer(exc):
    """The API's answer for an HTTP error EXC (werkzeug's HTTPException)."""
    return {"error": ERROR_NAMES.get(exc.code, "error"), "message": exc.description or exc.name}


@bp.post("/scans")
@allow("station")
def create_scan():
    """Check a badge in or out at the calling station.

    Under `kiosk serve`, a scanner app's request (no cookie) is answered by
    kiosk.serving.fastpath before it gets here; this view answers every other scan.
    """
    if bearer_token(request.headers.get("Authorization", "")) is None:
        return error(401, "unauthorized", "send the station token as 'Authorization: Bearer TOKEN'")
    # One byte over the limit: werkzeug cuts a chunked body at the limit instead of refusing it.
    request.max_content_length = MAX_SCAN_BODY + 1
    raw = request.get_data(cache=True)  # raises 413 for a stated length past it
    if len(raw) > MAX_SCAN_BODY:
        raise RequestEntityTooLarge()
    return json_response(*scan_from_body(g.station, raw, client=client_key()))


def scan_from_body(station, raw, *, client):
    """Check in the scan a JSON body RAW describes, at STATION; (HTTP status, the API's answer)."""
    fields = read_scan_body(raw)
    if isinstance(fields, tuple):
        return fields
    try:
        result = record(station, client=client, **fields)
    except TooManyAttempts:
        return TOO_MANY_GUESSES
    return 200, scan_answer(with_message(result, station), station)


TOO_MANY_GUESSES = 429, {"error": "too_many_requests", "message": "too many unknown codes from this station; wait a minute"}


def read_scan_body(raw):
    """The scan a JSON body RAW asks for, as keyword arguments of checkin.service.record, or
    (400, the API's answer) when it is not one."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict):
        return 400, {"error": "malformed_json", "message": "the body must be a JSON object"}
    code = body.get("code")
    scan_id = body.get("scan_id")
    direction = body.get("direction", "in")
    if not isinstance(code, str):
        return 400, {"error": "invalid", "message": "'code' must be a string"}
    if scan_id is not None and (not isinstance(scan_id, str) or not 0 < len(scan_id) <= 64):
        return 400, {"error": "invalid", "message": "'scan_id' must be a string of 1 to 64 characters"}
    if direction not in ("in", "out"):
        return 400, {"error": "invalid", "message": "'direction' must be 'in' or 'out'"}
    return {"code": code[:200], "direction": direction, "client_scan_id": scan_id}


def scan_answer(result, station):
    """The API's answer for a scan's RESULT (a described checkin.service.Result): the documented fields first, extras after."""
    attendee = result.attendee
    answer = {
        "outcome": result.outcome,
        "attendee": {"name": attendee["name"], "organisation": attendee["organisation"]}
        if attendee and result.outcome != Outcome.UNKNOWN else None,
        "message": result.message,
        "scan_id": result.scan_id,
        "direction": result.direction,
        "station": {"name": station["name"], "mode": station["mode"]},
        "replayed": result.replayed,
    }
    if result.checked_in_at:
        answer["checked_in_at"] = result.checked_in_at
    if result.warning:
        answer["warning"] = result.warning
    if result.room:
        room = result.room
        answer["room"] = {key: room[key] for key in ("name", "capacity", "inside", "places_left", "percent", "level")}
    if result.session:
        answer["session"] = result.session["title"]
    if result.alternative:
        answer["alternative"] = result.alternative
    return answer


@bp.get("/rooms")
@allow("station", "host", "organiser")
def rooms():
    """Every room's occupancy against capacity, with its current and next session."""
    db = get_db()
    event = get_event(db)
    sessions = sessions_by_room(db, event)
    answer = []
    for room in occupancy(db):
        current, upcoming = sessions.get(room["id"], (None, None))
        answer.append(
            dict(
                room,
                current_session=current["title"] if current else None,
                next_session=upcoming["title"] if upcoming else None,
            )
        )
    return jsonify({"rooms": answer})


@bp.get("/openapi.json")
@public
def openapi():
    """The OpenAPI document of this API."""
    return jsonify(OPENAPI)
