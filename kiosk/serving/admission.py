"""The gate for every request but a scanner app's scan: bodies read first, then two at a time."""

import tempfile
import threading

from werkzeug.http import parse_cookie

from kiosk.accounts.access import STATION_COOKIE

BODY_IN_MEMORY = 512 * 1024  # a larger upload (an import) waits in a temporary file
BODY_CHUNK = 64 * 1024


class Admission:
    """WSGI middleware: at most OTHERS_AT_ONCE requests of a worker in Flask at a time, except a station's.

    What it buys: a worker runs many threads so that a batch of scans can grow (ScanBatches),
    but page renders side by side in those threads only hand the GIL back and forth, and
    with a hundred host tablets polling, the slowest polls took far longer that way than two
    at a time (benchmarks/bench_rooms.py measures the polls and the check-ins beside them).
    Requests from a paired station (its cookie) do not wait for those places: a kiosk's scan
    or ping must not queue behind an organiser's badge PDF or import, and a venue has a few
    dozen stations, not hundreds. A request's body is read before it takes a place
    (read_body_first).
    """

    OTHERS_AT_ONCE = 2

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.places = threading.BoundedSemaphore(self.OTHERS_AT_ONCE)

    def __call__(self, environ, start_response):
        if STATION_COOKIE in parse_cookie(environ):
            return self.wsgi_app(environ, start_response)
        body = read_body_first(environ, self.app.config["MAX_CONTENT_LENGTH"])
        try:
            with self.places:
                return self.wsgi_app(environ, start_response)
        finally:
            if body is not None:
                body.close()  # the request is handled: nothing reads its body after this


def stated_length(environ):
    """The request body's length as its Content-Length header states it, or None when it
    states none (a chunked body) or an odd one."""
    length = environ.get("CONTENT_LENGTH") or ""
    return int(length) if length.isdigit() else None


def read_body_first(environ, limit):
    """Read the request's body now, before it takes one of the places other requests share.

    The server calls the app as soon as the headers are in, and waits for the body without a
    time limit (granian has none). Read inside a place, a body that comes slowly (an import
    uploaded over the venue's Wi-Fi) or never (a tablet that lost the network mid-request)
    held one of the two, and two of them stopped every organiser and host page of a worker
    (tests/test_server.py shows it on `kiosk serve`).
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
