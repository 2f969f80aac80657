"""Flask and werkzeug tweaks for production load, installed on one app instance."""

import weakref

from flask import Response
from flask.sessions import SecureCookieSessionInterface


def install(app):
    """Install the tweaks below on APP."""
    remember_plain_functions(app)
    app.response_class = OnePieceResponse
    app.session_interface = CookieSessions()


def remember_plain_functions(app):
    """Make APP remember which views and hooks are plain functions.

    What it buys: Flask asks inspect whether each view and hook is a coroutine on every
    request, a noticeable share of a short request's time; the answer for a function never
    changes. benchmarks/bench_rooms.py (host polls) and benchmarks/bench_scan_browser.py (a
    kiosk page's scan) measure requests that go through Flask.
    """
    flask_ensure_sync = app.ensure_sync
    plain = weakref.WeakKeyDictionary()

    def ensure_sync(func):
        try:
            if plain.get(func):
                return func
        except TypeError:  # not weakly referenceable: ask Flask
            return flask_ensure_sync(func)
        ready = flask_ensure_sync(func)
        if ready is func:  # remember plain functions only: a value holding FUNC would keep it alive
            plain[func] = True
        return ready

    app.ensure_sync = ensure_sync  # Flask calls self.ensure_sync: the instance's attribute wins


class OnePieceResponse(Response):
    """A response whose body is already in memory goes to the server as one list of bytes.

    What it buys: werkzeug hands every body over as an iterator; granian writes an iterator's
    headers and body in two writes, and with Nagle's algorithm the body can then wait for the
    client's delayed ACK, tens of milliseconds added to an answer. A list goes out in one
    write. Streamed bodies (files sent from disk, generators) and bodies with close callbacks
    stay iterators. benchmarks/bench_rooms.py (host polls) and benchmarks/bench_scan_browser.py
    (a kiosk page's scan) measure answers that go through Flask.

    Relies on werkzeug's private `_on_close` list (tests/test_serving.py checks it).
    """

    def get_app_iter(self, environ):
        if not self.is_sequence or self.direct_passthrough or getattr(self, "_on_close", True):
            return super().get_app_iter(environ)
        status = self.status_code
        if environ["REQUEST_METHOD"] == "HEAD" or 100 <= status < 200 or status in (204, 304):
            return []
        return [b"".join(self.iter_encoded())]


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building a signer for a request that has no cookie.

    What it buys: a request without the session cookie (a scanner app's GET /api/v1/rooms, a
    scan sent with another cookie, a first visit) gets an empty session without the signer's
    key derivation, which is pure overhead for it. It was measured with benchmarks/run.py's
    API check-ins, when those still went through Flask (before ScanFastPath).
    """

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
