"""The gate for every request but a scanner app's scan: bodies read first, then two at a time."""

import collections
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
        self.places = Places(self.OTHERS_AT_ONCE)
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


class Places:
    """COUNT places, given in the order they were asked for: `with places:` waits for one.

    What it buys: threading.Semaphore lets a thread that just arrived take a place that was
    let go while others wait, and a waiter that loses that race waits again at the back, so
    under load a few requests waited far longer than the rest: a long slowest 1% beside a short
    median. Here a place let go passes straight to the longest waiter. benchmarks/run.py's API
    figure and benchmarks/bench_registration.py measure the slowest 1%.
    """

    def __init__(self, count):
        self.free = count
        self.lock = threading.Lock()
        self.waiting = collections.deque()  # a lock per waiter, held until its place is handed over

    def __enter__(self):
        with self.lock:
            if self.free and not self.waiting:
                self.free -= 1
                return self
            turn = threading.Lock()
            turn.acquire()
            self.waiting.append(turn)
        turn.acquire()  # released by __exit__ when this waiter's place is handed over
        return self

    def __exit__(self, *exc):
        with self.lock:
            if self.waiting:
                self.waiting.popleft().release()  # the place goes to the longest waiter
            else:
                self.free += 1
