"""A scanner app's scan, answered without Flask's request machinery and committed in batches."""

from flask import g
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from kiosk.accounts.access import API_ARCHIVED, API_REFUSAL, bearer_token
from kiosk.accounts.limits import client_key
from kiosk.api.views import (
    MAX_SCAN_BODY, SCANS_PATH, TOO_MANY_GUESSES, http_error_answer, read_scan_body, scan_answer,
)
from kiosk.checkin.messages import with_message
from kiosk.checkin.service import EventArchived, TooManyAttempts
from kiosk.checkin.service import record
from kiosk.data.accounts import station_for_token
from kiosk.db import WriterBusy, get_db, immediate, savepoint, use_event
from kiosk.serving.batches import PendingScan, ScanBatches
from kiosk.serving.bodies import stated_length
from kiosk.serving.stations import PairedStations
from kiosk.web.security import security_headers
from kiosk.web.busy import BUSY_ANSWER, RETRY_AFTER_SECONDS


class ScanFastPath:
    """WSGI middleware: a scanner app's POST /api/v1/scans, answered without Flask's request machinery.

    What it buys: check-ins are the one request a queue at the door waits for. A scanner app
    sends a bearer token and no cookie, so Flask's request context, URL dispatch, CSRF, login
    and session hooks, signals and response object do nothing for it, yet they were a large
    share of a check-in's server time. This answers it in an app context with the same pieces
    the API view uses: the token lookup, read_scan_body (validation), checkin.service.record,
    with_message and scan_answer, Flask's JSON and the security headers, so both answer with
    the same bytes. The scans that arrive together are committed together (ScanBatches).
    Every other request, and a scan that carries a cookie, a body of no stated length or a
    token that is not a paired station's (PairedStations), goes on to WSGI_APP, where its body
    is read with a deadline before anything waits on it (admission): only a station's scanner
    app may make this path wait for its body. benchmarks/run.py (API check-ins per second and their latency) measures it.
    """

    def __init__(self, app, wsgi_app, stations=None):
        self.app = app
        self.wsgi_app = wsgi_app
        self.stations = stations or PairedStations(app)
        self.batches = ScanBatches(self.answer_batch)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != SCANS_PATH or environ.get("REQUEST_METHOD") != "POST" or "HTTP_COOKIE" in environ:
            return self.wsgi_app(environ, start_response)
        length = stated_length(environ)
        token = bearer_token(environ.get("HTTP_AUTHORIZATION", ""))
        if length is None or not self.stations.paired(token):  # chunked, odd or not a station's
            return self.wsgi_app(environ, start_response)
        scan = PendingScan(
            token=token,
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
        if scan.status == 503:  # busy: as the Flask view's answer (kiosk.web.busy)
            headers.append(("Retry-After", RETRY_AFTER_SECONDS))
        start_response(f"{scan.status} {HTTP_STATUS_CODES[scan.status]}", headers)
        return [body]

    def answer_batch(self, batch):
        """Answer every scan of BATCH: what writes in one transaction, each scan in a savepoint.

        The token lookups, the JSON and the sentences are done outside it, so the write lock
        (which the other workers wait for) is held only for the writing.
        """
        with self.app.app_context():
            db = get_db()
            recording = list(self._read(db, batch))
            if recording and self._record(db, recording):
                self._answer(recording)

    def _read(self, db, batch):
        """Each scan of BATCH that is to be recorded, as (scan, station, fields); answer the others."""
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
                        yield scan, station, fields
            except Exception as exc:
                self._fail(scan, exc)

    def _record(self, db, recording):
        """Record RECORDING's scans in one transaction; False when it failed and none was recorded."""
        try:
            with immediate(db):
                for scan, station, fields in recording:
                    with savepoint(db) as step:  # this scan fails alone; the others in its batch still count
                        try:
                            scan.result = record(station, client=scan.client, **fields)
                        except TooManyAttempts:
                            scan.status, scan.answer = TOO_MANY_GUESSES
                        except EventArchived:
                            scan.status, scan.answer = 409, API_ARCHIVED
                    if step.error is not None:
                        self._fail(scan, step.error)
        except WriterBusy:  # another writer held the database past the deadline: nothing was written
            for scan, _station, _fields in recording:
                if scan.status is None:
                    scan.status, scan.answer = 503, BUSY_ANSWER
            return False
        except Exception as exc:  # the transaction failed: none of the batch was recorded
            self.app.logger.exception("Exception on POST %s", SCANS_PATH)  # once for the batch
            for scan, _station, _fields in recording:
                if scan.status is None:
                    scan.failed(exc)
            return False
        return True

    def _answer(self, recording):
        """The API's answer for each recorded scan, with its sentence in its station's language."""
        db = get_db()
        for scan, station, _fields in recording:
            if scan.status is None:
                try:
                    # One batch holds several stations' scans, maybe of several events: each sentence is
                    # in its own station's event's language (kiosk.web.i18n.current_event reads it once).
                    if station["event_id"] != db.event_id:
                        use_event(db, station["event_id"])
                        g.pop("event", None)
                    scan.status, scan.answer = 200, scan_answer(with_message(scan.result, station), station)
                except Exception as exc:
                    self._fail(scan, exc)

    def _fail(self, scan, exc):
        self.app.logger.error("Exception on POST %s", SCANS_PATH, exc_info=exc)
        scan.failed(exc)
