"""The JSON API for scanner apps and integrations: scans and room occupancy."""

import json

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from kiosk.checkin.views import TooManyAttempts, record_station_scan, with_message
from kiosk.data.event import get_event
from kiosk.data.rooms import occupancy, sessions_by_room
from kiosk.db import get_db
from kiosk.extensions import csrf
from kiosk.accounts.access import allow, bearer_token, public
from kiosk.accounts.limits import client_key
from kiosk.web.rendering import json_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Authenticated by a bearer token, never by a cookie, so there is nothing to forge.
csrf.exempt(bp)

MAX_SCAN_BODY = 4096
SCANS_PATH = bp.url_prefix + "/scans"


def error(status, code, message):
    return json_response(status, {"error": code, "message": message})


ERROR_NAMES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests"}


@bp.errorhandler(HTTPException)
def http_error(exc):
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
        result = record_station_scan(station, client=client, **fields)
    except TooManyAttempts:
        return TOO_MANY_GUESSES
    return 200, scan_answer(with_message(result, station), station)


TOO_MANY_GUESSES = 429, {"error": "too_many_requests", "message": "too many unknown codes from this station; wait a minute"}


def read_scan_body(raw):
    """The scan a JSON body RAW asks for, as keyword arguments of record_station_scan, or
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
    """The API's answer for a scan: the documented fields first, extras after."""
    attendee = result.get("attendee")
    answer = {
        "outcome": result["outcome"],
        "attendee": {"name": attendee["name"], "organisation": attendee["organisation"]} if attendee and result["outcome"] != "unknown" else None,
        "message": result["message"],
        "scan_id": result.get("scan_id"),
        "direction": result.get("direction", "in"),
        "station": {"name": station["name"], "mode": station["mode"]},
        "replayed": bool(result.get("replayed")),
    }
    if result.get("checked_in_at"):
        answer["checked_in_at"] = result["checked_in_at"]
    if result.get("warning"):
        answer["warning"] = result["warning"]
    if result.get("room"):
        room = result["room"]
        answer["room"] = {key: room[key] for key in ("name", "capacity", "inside", "places_left", "percent", "level")}
    if result.get("session"):
        answer["session"] = result["session"]["title"]
    if result.get("alternative"):
        answer["alternative"] = result["alternative"]
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


_ERROR = {"type": "object", "required": ["error", "message"],
          "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
_ROOM = {
    "type": "object",
    "required": ["name", "capacity", "inside", "places_left"],
    "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "capacity": {"type": "integer"},
        "inside": {"type": "integer"}, "places_left": {"type": "integer"}, "anonymous": {"type": "integer"},
        "percent": {"type": "integer"}, "level": {"type": "string", "enum": ["ok", "busy", "full"]},
        "alert": {"type": ["string", "null"], "enum": ["90", "full", None], "description": "capacity alert level"},
        "has_exit_scan": {"type": "boolean"},
        "current_session": {"type": ["string", "null"]}, "next_session": {"type": ["string", "null"]},
    },
}
OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "Kiosk API", "version": "1.0.0",
             "description": "Check-in scans and live room occupancy. Authenticate with a station token from `kiosk station add`."},
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {"station": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": _ERROR, "Room": _ROOM},
    },
    "paths": {
        "/scans": {
            "post": {
                "summary": "Record a scan at the calling station",
                "operationId": "createScan",
                "security": [{"station": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["code"],
                    "properties": {
                        "code": {"type": "string", "description": "What the QR code holds, or the short code printed under it"},
                        "scan_id": {"type": "string", "minLength": 1, "maxLength": 64, "description": "Client-made id; a retry with the same id returns the first answer"},
                        "direction": {"type": "string", "enum": ["in", "out"], "default": "in"},
                    }}}}},
                "responses": {
                    "200": {"description": "The scan's answer", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["outcome", "attendee", "message"],
                        "properties": {
                            "outcome": {"type": "string", "enum": ["checked_in", "already", "unknown", "replaced", "cancelled", "full", "checked_out", "not_inside"]},
                            "attendee": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["name", "organisation"], "properties": {"name": {"type": "string"}, "organisation": {"type": "string"}}}]},
                            "message": {"type": "string"},
                            "scan_id": {"type": "integer"},
                            "direction": {"type": "string"},
                            "warning": {"type": "string", "enum": ["not_registered"]},
                            "checked_in_at": {"type": "string"},
                            "room": {"$ref": "#/components/schemas/Room"},
                            "session": {"type": "string"},
                            "alternative": {"type": ["object", "null"], "description": "nearest session with places left, when the room is full",
                                            "properties": {"session": {"type": "string"}, "room": {"type": "string"}, "places_left": {"type": ["integer", "null"]}}},
                            "replayed": {"type": "boolean"},
                        }}}}},
                    "400": {"description": "Malformed JSON or fields", "content": {"application/json": {"schema": _ERROR}}},
                    "401": {"description": "Missing or revoked token", "content": {"application/json": {"schema": _ERROR}}},
                    "413": {"description": "Body too large", "content": {"application/json": {"schema": _ERROR}}},
                    "429": {"description": "Too many unknown codes", "content": {"application/json": {"schema": _ERROR}}},
                },
            }
        },
        "/rooms": {
            "get": {
                "summary": "Occupancy of every room",
                "operationId": "listRooms",
                "security": [{"station": []}],
                "responses": {
                    "200": {"description": "Rooms", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["rooms"],
                        "properties": {"rooms": {"type": "array", "items": {"$ref": "#/components/schemas/Room"}}}}}}},
                    "401": {"description": "Missing or revoked token", "content": {"application/json": {"schema": _ERROR}}},
                },
            }
        },
    },
}
