"""The gate for every request but a scanner app's scan: bodies read first, then two at a time."""

import threading

from werkzeug.http import parse_cookie

from kiosk.accounts.access import STATION_COOKIE
from kiosk.serving.bodies import BodyGate
from kiosk.serving.stations import PairedStations

# A client address keeps at most this many bodies coming at once per worker, each for at most
# BODY_DEADLINE_SECONDS: the settings BODIES_PER_CLIENT and BODY_DEADLINE_SECONDS override them.
BODIES_PER_CLIENT = 3
BODY_DEADLINE_SECONDS = 30


class Admission:
    """WSGI middleware: at most OTHERS_AT_ONCE requests of a worker in Flask at a time, except a station's.

    What it buys: a worker runs many threads so that a batch of scans can grow (ScanBatches),
    but page renders side by side in those threads only hand the GIL back and forth, and
    with a hundred host tablets polling, the slowest polls took far longer that way than two
    at a time (benchmarks/bench_rooms.py measures the polls and the check-ins beside them).
    Requests from a paired station (its cookie, checked against the database by
    PairedStations, not only its name) do not wait for those places: a kiosk's scan or ping
    must not queue behind an organiser's badge PDF or import, and a venue has a few dozen
    stations, not hundreds. Any other request's body is read in full before it takes a place
    (bodies.BodyGate), so a client that sends slowly or never holds no place.
    """

    OTHERS_AT_ONCE = 2

    def __init__(self, app, wsgi_app, stations=None):
        self.app = app
        self.wsgi_app = wsgi_app
        self.places = threading.BoundedSemaphore(self.OTHERS_AT_ONCE)
        self.stations = stations or PairedStations(app)
        config = app.config
        self.bodies = BodyGate(
            limit=config["MAX_CONTENT_LENGTH"],
            deadline=float(config.get("BODY_DEADLINE_SECONDS") or BODY_DEADLINE_SECONDS),
            per_client=int(config.get("BODIES_PER_CLIENT") or BODIES_PER_CLIENT),
        )

    def __call__(self, environ, start_response):
        if self.stations.paired(parse_cookie(environ).get(STATION_COOKIE)):
            return self.wsgi_app(environ, start_response)
        body, refused = self.bodies.read_first(environ)
        if refused is not None:
            return refused(environ, start_response)
        address = environ.get("REMOTE_ADDR", "")
        self.bodies.enter(address)
        try:
            with self.places:
                return self.wsgi_app(environ, start_response)
        finally:
            self.bodies.leave(address)
            if body is not None:
                body.close()  # the request is handled: nothing reads its body after this
