"""Request bodies read in full before a request goes on: within a deadline, a few at a time per address."""

import collections
import json
import os
import socket
import struct
import tempfile
import threading
import time

from werkzeug.http import HTTP_STATUS_CODES

from kiosk.serving.sockets import own_tcp_sockets
from kiosk.web.security import security_headers

BODY_IN_MEMORY = 512 * 1024  # a larger upload (an import) waits in a temporary file
BODY_CHUNK = 64 * 1024
SWEEP_SECONDS = 0.2  # past the deadline, how often silent connections are looked for
WATCHER_IDLE_SECONDS = 60  # a watcher with no body to watch for this long ends
# An address already sending PER_CLIENT bodies waits this long for one of them to finish before
# it is refused: a script or a NAT'd room of tablets posting several small bodies at once gets
# through (each takes milliseconds), while stalled bodies still cost a thread only this long.
QUEUE_SECONDS = 1.0
TCP_INFO_LAST_DATA_RECV = 52  # offset of tcpi_last_data_recv (ms) in Linux's struct tcp_info


class BodyGate:
    """Reads each request's body before it goes on, with a deadline, and at most PER_CLIENT
    bodies coming at once from one client address (per worker).

    What it buys: granian calls the app as soon as the headers are in, on one of the worker's
    threads, and waits for a body without any time limit, so a body that comes slowly (an
    import over the venue's Wi-Fi) or never (a tablet that lost the network, or someone who
    means it) holds that thread. Read inside one of admission's places, a never-finished
    chunked body stopped every page of a worker. Here the request's thread reads the body
    first, outside the places, while one watcher thread per worker looks out for bodies past
    DEADLINE seconds: it shuts such a silent connection for reading, which ends the read, and
    the request is answered 408. An address with PER_CLIENT bodies still coming waits up to
    QUEUE_SECONDS for one of them to finish, then is answered 429, so one client holds at most
    PER_CLIENT of the worker's threads, for at most DEADLINE seconds, and the others stay for
    scans and pages. tests/test_hardening_serving.py measures it on `kiosk serve`;
    benchmarks/run.py shows that check-ins do not pay for it, and its API figure what a
    request with a body does (a reader thread of its own per body, the earlier way, cost
    every such request about 0.4 ms of processor time).
    """

    def __init__(self, *, limit, deadline, per_client):
        self.limit, self.deadline, self.per_client = limit, deadline, per_client
        self.lock = threading.Lock()
        self.body_done = threading.Condition(self.lock)
        self.coming = collections.Counter()  # address -> bodies being read
        self.handling = collections.Counter()  # address -> requests past their body, in the app
        self.readings = set()  # the bodies being read now, for the watcher
        self.watcher_pid = None  # the process whose watcher thread runs (none survives a fork)

    def read_first(self, environ):
        """Read ENVIRON's body now; returns (the file it was read into or None, a refusal or None).

        A refusal is a WSGI app that answers 408 or 429. A body of no length, or of a stated
        length over the limit, is not read: werkzeug refuses it or finds it empty.
        """
        length = body_length(environ, self.limit)
        if length == 0:
            return None, None
        address = environ.get("REMOTE_ADDR", "")
        with self.lock:
            if not self.body_done.wait_for(lambda: self.coming[address] < self.per_client, QUEUE_SECONDS):
                return None, refusal(429, f"at most {self.per_client} requests with a body at once from one address")
            self.coming[address] += 1
            started = time.monotonic()  # the deadline counts from here, not from the wait for a turn
            reading = BodyReading(environ["wsgi.input"], length, self.limit, started + self.deadline,
                                  address=address, port=int(environ.get("SERVER_PORT") or 0), started=started)
            self._watch(reading)
        try:
            reading.run()
        finally:
            self._finished(reading)
        if reading.overdue:
            reading.body.close()  # nobody reads what came
            return None, refusal(408, f"the request's body did not arrive within {self.deadline:g} seconds")
        reading.body.seek(0)
        environ["wsgi.input"] = reading.body
        environ["CONTENT_LENGTH"] = str(reading.size)  # a chunked body is one piece now
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return reading.body, None

    def _watch(self, reading):
        """Hand READING to the watcher (under self.lock), starting one in this process if none runs."""
        self.readings.add(reading)
        if self.watcher_pid != os.getpid():
            self.watcher_pid = os.getpid()
            threading.Thread(target=self._watch_overdue, name="kiosk-body-watch", daemon=True).start()
        else:
            self.body_done.notify_all()  # an idle watcher waits on it

    def _finished(self, reading):
        with self.lock:
            self.readings.discard(reading)
            self.coming[reading.address] -= 1
            if not self.coming[reading.address]:
                del self.coming[reading.address]
            self.body_done.notify_all()

    def _watch_overdue(self):
        """The watcher: every SWEEP_SECONDS while bodies are being read, the ones past their
        deadline are marked overdue and their silent connections shut; idle while none are, and
        gone after WATCHER_IDLE_SECONDS of that."""
        while True:
            with self.lock:
                while not self.readings:
                    if not self.body_done.wait(WATCHER_IDLE_SECONDS) and not self.readings:
                        self.watcher_pid = None  # a minute without bodies: the next one starts a watcher again
                        return
                now = time.monotonic()
                overdue = [reading for reading in self.readings if reading.deadline_at <= now]
            for reading in overdue:
                reading.overdue = True
                self._close_stalled(reading.address, reading.port, reading.started)
            time.sleep(SWEEP_SECONDS)

    def enter(self, address):
        """Count a request from ADDRESS as being answered: its connection is not to be shut."""
        with self.lock:
            self.handling[address] += 1

    def leave(self, address):
        with self.lock:
            self.handling[address] -= 1
            if not self.handling[address]:
                del self.handling[address]

    def _close_stalled(self, address, port, started):
        """Shut this worker's connections from ADDRESS that received nothing since STARTED.

        granian reports no client port, so the stalled connection is found by its silence:
        the one whose body never came has received nothing since its request began. Others
        that match are idle keep-alive connections, which a server may close at any time. A
        connection waiting for a long answer is silent too, so nothing is shut while a request
        from ADDRESS is being answered; the next sweep tries again.
        """
        with self.lock:
            if self.handling[address]:
                return
        quiet_ms = (time.monotonic() - started) * 1000 - 50  # 50 ms: the clock's coarse steps
        for sock in connections_from(address, port):
            with sock:
                try:
                    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
                    if struct.unpack_from("I", info, TCP_INFO_LAST_DATA_RECV)[0] >= quiet_ms:
                        sock.shutdown(socket.SHUT_RD)  # the answer can still go out
                except OSError:
                    pass  # closed meanwhile


class BodyReading:
    """One body read into a file, LENGTH bytes or TO_ITS_END, until DEADLINE_AT (monotonic)."""

    def __init__(self, source, length, limit, deadline_at, *, address="", port=0, started=0.0):
        self.source, self.length, self.limit, self.deadline_at = source, length, limit, deadline_at
        self.address, self.port, self.started = address, port, started
        self.body = tempfile.SpooledTemporaryFile(max_size=BODY_IN_MEMORY)
        self.size = 0
        # Past the deadline before the body was whole: the watcher shut its connection, or it
        # trickled in too slowly. The request is answered 408.
        self.overdue = False

    def run(self):
        # A chunked body is read one byte past the limit, so werkzeug sees it is too large.
        remaining = self.length if self.length != TO_ITS_END else (self.limit or 1 << 40) + 1
        try:
            while remaining > 0 and not self.overdue:
                if time.monotonic() >= self.deadline_at:
                    self.overdue = True
                    break
                chunk = self.source.read(min(remaining, BODY_CHUNK))
                if not chunk:  # the client went away: werkzeug finds the body cut short
                    break
                self.body.write(chunk)
                self.size += len(chunk)
                remaining -= len(chunk)
        except Exception:  # noqa: BLE001 - a connection broken mid-body: the body is as far as it came
            pass


TO_ITS_END = -1  # a chunked body: its length is known when it ends


def body_length(environ, limit):
    """How much of ENVIRON's body to read first: its stated length, TO_ITS_END for a chunked
    body, or 0 when there is nothing to read first (no body, or a stated one over LIMIT)."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return TO_ITS_END
    length = stated_length(environ)
    if not length or (limit is not None and length > limit):
        return 0
    return length


def stated_length(environ):
    """The request body's length as its Content-Length header states it, or None when it
    states none (a chunked body) or an odd one."""
    length = environ.get("CONTENT_LENGTH") or ""
    return int(length) if length.isascii() and length.isdigit() else None


def refusal(status, message):
    """A WSGI app answering STATUS with MESSAGE (JSON under /api/) and closing the connection."""
    def answer(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/api/"):
            error = {408: "request_timeout", 429: "too_many_requests"}[status]
            body, kind = (json.dumps({"error": error, "message": message}) + "\n").encode(), "application/json"
        else:
            body, kind = (message + "\n").encode(), "text/plain; charset=utf-8"
        headers = [("Content-Type", kind), ("Content-Length", str(len(body))), ("Connection", "close")]
        headers.extend(security_headers(secure=environ.get("wsgi.url_scheme") == "https"))
        start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers)
        return [body]
    return answer


def connections_from(address, port):
    """This process's TCP connections from ADDRESS to local PORT (see sockets.own_tcp_sockets)."""
    return own_tcp_sockets(lambda sock: sock.getsockname()[1] == port
                           and sock.getpeername()[0] in (address, "::ffff:" + address))
