"""The JSON API for scanner apps and integrations: scans and room occupancy."""

import json
import threading

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from kiosk.accounts import allow, public
from kiosk.checkin import TooManyAttempts, perform_scan
from kiosk.data.accounts import station_for_token
from kiosk.data.event import get_event
from kiosk.data.rooms import occupancy, sessions_by_room
from kiosk.db import get_db
from kiosk.extensions import csrf
from kiosk.security import API_REFUSAL, bearer_token, client_key, json_response, security_headers

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

    A scanner app's request (no cookie) is answered by ScanFastPath before it gets here;
    this view answers scans from a client that also sends cookies.
    """
    if bearer_token(request.headers.get("Authorization", "")) is None:
        return error(401, "unauthorized", "send the station token as 'Authorization: Bearer TOKEN'")
    request.max_content_length = MAX_SCAN_BODY
    raw = request.get_data(cache=True)  # raises 413 past MAX_SCAN_BODY
    return json_response(*scan_from_body(g.station, raw, client=client_key()))


def scan_from_body(station, raw, *, client):
    """Check in the scan a JSON body RAW describes, at STATION; (HTTP status, the API's answer)."""
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
    try:
        result = perform_scan(station, code=code[:200], direction=direction, client_scan_id=scan_id, client=client)
    except TooManyAttempts:
        return 429, {"error": "too_many_requests", "message": "too many unknown codes from this station; wait a minute"}
    return 200, scan_answer(result, station)


class ScanFastPath:
    """WSGI middleware: a scanner app's POST /api/v1/scans, answered without Flask's request machinery.

    Check-ins are the one request a queue at the door waits for. A scanner app sends a bearer
    token and no cookie, so Flask's request context, URL dispatch, CSRF, login and session
    hooks, signals and response object do nothing for it, yet they were about 40% of a
    check-in's server time. This answers it in an app context with the same pieces the view
    uses: the token lookup, scan_from_body (validation, perform_scan, the answer), Flask's JSON
    and the security headers. Every other request, and a scan that carries a cookie or a body
    of no stated length, goes through Flask as before.

    Scans in one worker process take turns (self.turn). Run side by side in two threads they
    only hand the GIL back and forth at every SQLite call; at 1,000 check-ins/s the slowest
    1% took 34-62 ms that way and 12-16 ms taking turns. A worker's other thread stays free
    for a long request such as a badge PDF.
    """

    def __init__(self, app):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self.turn = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != SCANS_PATH or environ.get("REQUEST_METHOD") != "POST" or "HTTP_COOKIE" in environ:
            return self.wsgi_app(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or ""
        if not length.isdigit():  # chunked or odd: werkzeug reads those
            return self.wsgi_app(environ, start_response)
        app = self.app
        with self.turn, app.app_context():
            try:
                status, answer = self.answer(environ, int(length))
            except Exception:
                propagate = app.config["PROPAGATE_EXCEPTIONS"]
                if propagate or (propagate is None and (app.testing or app.debug)):  # as Flask decides
                    raise
                app.logger.exception("Exception on POST %s", SCANS_PATH)
                status, answer = 500, {"error": "error", "message": "the scan could not be answered; try again"}
            body = (app.json.dumps(answer, separators=(",", ":")) + "\n").encode()  # the bytes jsonify sends
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        headers.extend(security_headers(secure=environ.get("wsgi.url_scheme") == "https"))
        start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers)
        return [body]

    def answer(self, environ, length):
        token = bearer_token(environ.get("HTTP_AUTHORIZATION", ""))
        station = station_for_token(get_db(), token) if token else None
        if station is None:
            return 401, API_REFUSAL
        if length > MAX_SCAN_BODY:
            return 413, http_error_answer(RequestEntityTooLarge())
        return scan_from_body(station, environ["wsgi.input"].read(length), client=client_key(environ))


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
