"""The JSON API for scanner apps and integrations: scans and room occupancy."""

import json
import tempfile
import threading
from pathlib import Path

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES, parse_cookie

from kiosk.checkin.messages import with_message
from kiosk.checkin.service import TooManyAttempts
from kiosk.checkin.service import record as record_station_scan  # the name ScanFastPath (kiosk.serving) calls
from kiosk.data.accounts import station_for_token
from kiosk.data.event import get_event
from kiosk.data.rooms import occupancy
from kiosk.data.schedule import sessions_by_room
from kiosk.outcomes import Outcome
from kiosk.db import get_db, immediate
from kiosk.extensions import csrf
from kiosk.accounts.access import API_REFUSAL, STATION_COOKIE, allow, bearer_token, public
from kiosk.accounts.limits import client_key
from kiosk.web.rendering import json_response
from kiosk.web.security import security_headers

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


class ScanFastPath:
    """WSGI middleware: a scanner app's POST /api/v1/scans, answered without Flask's request machinery.

    Check-ins are the one request a queue at the door waits for. A scanner app sends a bearer
    token and no cookie, so Flask's request context, URL dispatch, CSRF, login and session
    hooks, signals and response object do nothing for it, yet they were about 40% of a
    check-in's server time. This answers it in an app context with the same pieces the view
    uses: the token lookup, read_scan_body (validation), record_station_scan, with_message and
    scan_answer, Flask's JSON and the security headers. Every other request, and a scan that
    carries a cookie or a body of no stated length, goes through Flask as before.

    Scans that arrive together are committed together (ScanBatches), so a worker runs many
    threads (kiosk serve: 8) to let a batch grow. Every other request goes through Flask, at
    most OTHERS_AT_ONCE at a time per worker: page renders side by side in 8 threads only
    hand the GIL back and forth, and with 100 host tablets polling, the slowest 1% of polls
    took 323 ms that way against 110 ms two at a time. Requests from a paired station (its
    cookie) do not wait for those places: a kiosk's scan or ping must not queue behind an
    organiser's badge PDF or import, and a venue has a few dozen stations, not hundreds.
    """

    OTHERS_AT_ONCE = 2

    def __init__(self, app):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self.batches = ScanBatches(self.answer_batch)
        self.others = threading.BoundedSemaphore(self.OTHERS_AT_ONCE)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != SCANS_PATH or environ.get("REQUEST_METHOD") != "POST" or "HTTP_COOKIE" in environ:
            return self.through_flask(environ, start_response)
        length = stated_length(environ)
        if length is None:  # chunked or odd: werkzeug reads those
            return self.through_flask(environ, start_response)
        scan = PendingScan(
            token=bearer_token(environ.get("HTTP_AUTHORIZATION", "")),
            raw=environ["wsgi.input"].read(length) if length <= MAX_SCAN_BODY else None,
            client=client_key(environ),
        )
        self.batches.submit(scan)
        app = self.app
        if scan.error is not None:
            propagate = app.config["PROPAGATE_EXCEPTIONS"]
            if propagate or (propagate is None and (app.testing or app.debug)):  # as Flask decides
                raise scan.error
        body = (app.json.dumps(scan.answer, separators=(",", ":")) + "\n").encode()  # the bytes jsonify sends
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        headers.extend(security_headers(secure=environ.get("wsgi.url_scheme") == "https"))
        start_response(f"{scan.status} {HTTP_STATUS_CODES[scan.status]}", headers)
        return [body]

    def through_flask(self, environ, start_response):
        if STATION_COOKIE in parse_cookie(environ):
            return self.wsgi_app(environ, start_response)
        body = read_body_first(environ, self.app.config["MAX_CONTENT_LENGTH"])
        try:
            with self.others:
                return self.wsgi_app(environ, start_response)
        finally:
            if body is not None:
                body.close()  # the request is handled: nothing reads its body after this

    def answer_batch(self, batch):
        """Answer every scan of BATCH: what writes in one transaction, each scan in a savepoint.

        The token lookups, the JSON and the sentences are done outside it, so the write lock
        (which the other workers wait for) is held only for the writing.
        """
        app = self.app

        def fail(scan, exc):
            app.logger.error("Exception on POST %s", SCANS_PATH, exc_info=exc)
            scan.failed(exc)

        with app.app_context():
            db = get_db()
            recording = []
            for scan in batch:
                try:
                    station = station_for_token(db, scan.token) if scan.token else None
                    if station is None:
                        scan.status, scan.answer = 401, API_REFUSAL
                    elif scan.raw is None:
                        scan.status, scan.answer = 413, http_error_answer(RequestEntityTooLarge())
                    else:
                        fields = read_scan_body(scan.raw)
                        if isinstance(fields, tuple):
                            scan.status, scan.answer = fields
                        else:
                            recording.append((scan, station, fields))
                except Exception as exc:
                    fail(scan, exc)
            if not recording:
                return
            try:
                with immediate(db):
                    for scan, station, fields in recording:
                        db.execute("SAVEPOINT scan")
                        try:
                            scan.result = record_station_scan(station, client=scan.client, **fields)
                        except TooManyAttempts:
                            scan.status, scan.answer = TOO_MANY_GUESSES
                        except Exception as exc:  # this scan fails; the others in its batch still count
                            db.execute("ROLLBACK TO scan")
                            fail(scan, exc)
                        db.execute("RELEASE scan")
            except Exception as exc:  # the transaction failed: none of the batch was recorded
                app.logger.exception("Exception on POST %s", SCANS_PATH)  # once for the batch
                for scan, _station, _fields in recording:
                    if scan.status is None:
                        scan.failed(exc)
                return
            for scan, station, _fields in recording:
                if scan.status is None:
                    try:
                        scan.status, scan.answer = 200, scan_answer(with_message(scan.result, station), station)
                    except Exception as exc:
                        fail(scan, exc)


def stated_length(environ):
    """The request body's length as its Content-Length header states it, or None when it
    states none (a chunked body) or an odd one."""
    length = environ.get("CONTENT_LENGTH") or ""
    return int(length) if length.isdigit() else None


BODY_IN_MEMORY = 512 * 1024  # a larger upload (an import) waits in a temporary file
BODY_CHUNK = 64 * 1024


def read_body_first(environ, limit):
    """Read the request's body now, before it takes one of the places other requests share.

    The server calls the app as soon as the headers are in, and waits for the body without a
    time limit (granian has none). Read inside a place, a body that comes slowly (an import
    uploaded over the venue's Wi-Fi) or never (a tablet that lost the network mid-request)
    held one of the two, and two of them stopped every organiser and host page of a worker.
    A body of no stated length, or over LIMIT, is left to werkzeug, which refuses or reads it.
    Returns the file the body was read into (the caller closes it), or None.
    """
    remaining = stated_length(environ)
    if not remaining or (limit is not None and remaining > limit):
        return None
    source = environ["wsgi.input"]
    body = tempfile.SpooledTemporaryFile(max_size=BODY_IN_MEMORY)
    while remaining:
        chunk = source.read(min(remaining, BODY_CHUNK))
        if not chunk:  # the client went away: werkzeug finds the body cut short
            break
        body.write(chunk)
        remaining -= len(chunk)
    body.seek(0)
    environ["wsgi.input"] = body
    return body


class PendingScan:
    """A scan request waiting for its batch: what it sent, then its answer."""

    __slots__ = ("token", "raw", "client", "result", "status", "answer", "error", "leads", "woken")

    def __init__(self, token, raw, client):
        self.token, self.raw, self.client = token, raw, client
        self.result = self.status = self.answer = self.error = None
        self.leads = False  # handed the lead of the next batch instead of an answer
        self.woken = threading.Lock()  # released when answered or handed the lead
        self.woken.acquire()

    def failed(self, exc):
        self.status, self.error = 500, exc
        self.answer = {"error": "error", "message": "the scan could not be answered; try again"}


class ScanBatches:
    """Group commit for the scans of one worker process.

    A scan that arrives while no batch is being answered leads one: it takes every scan
    waiting by then and answers them all in one transaction, so one BEGIN and one commit
    serve them all and the pages they share are written once. At a batch of 4 a check-in
    writes 3.0 pages to the WAL instead of 5.9, so the WAL fills (and its copy back, with the
    fsyncs that stall every station, comes) half as often; in one process a batch of 8 costs
    0.37 ms of CPU per check-in against 0.57 ms one at a time. The others wait, without the
    GIL, until their answers are in; each answer is given only after its commit, as before.
    When a batch is done, its answers go out and the first scan that arrived meanwhile leads
    the next batch with the rest, so no request waits for more than the batch before its own.

    Scans in one worker also take turns this way: run side by side in two threads they only
    handed the GIL back and forth at every SQLite call (at 1,000 check-ins/s the slowest 1%
    took 34-62 ms that way, 12-16 ms taking turns).
    """

    def __init__(self, answer_batch):
        self.answer_batch = answer_batch
        self.lock = threading.Lock()
        self.waiting = []
        self.leading = False

    def submit(self, scan):
        """Return once SCAN is answered, by a batch this thread leads or another's."""
        with self.lock:
            if self.leading:
                self.waiting.append(scan)
            else:
                self.leading = scan.leads = True
        if not scan.leads:
            scan.woken.acquire()
            if not scan.leads:
                return  # answered by another thread's batch
        with self.lock:
            batch, self.waiting = [scan, *self.waiting], []
        try:
            self.answer_batch(batch)
        finally:
            with self.lock:
                following = self.waiting.pop(0) if self.waiting else None
                if following is None:
                    self.leading = False
                else:
                    following.leads = True
            for answered in batch:
                if answered.status is None:  # only when something past its own handlers stopped answer_batch
                    answered.failed(RuntimeError("the scan's batch stopped"))
                if answered is not scan:
                    answered.woken.release()
            if following is not None:
                following.woken.release()


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
