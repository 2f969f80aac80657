"""Who may reach which route, station tokens, security headers and rate limits."""

import time
from urllib.parse import urlsplit

from flask import abort, current_app, g, has_request_context, jsonify, redirect, request, request_finished, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.routing import IntegerConverter

from kiosk.db import get_db, immediate

STATION_COOKIE = "kiosk_station"
PUBLIC_ENDPOINTS = {"static"}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        # 'wasm-unsafe-eval' lets the QR decoder's WebAssembly run; no inline scripts.
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",  # the kiosk prints badges from a same-site frame
    ]
)


# A guess (an unknown badge code) counts against the station and against the client's
# address, so neither many stations on one laptop nor one station on many laptops can guess.
GUESS_CLIENT_BUCKET = "guess-client"


class RowIdConverter(IntegerConverter):
    """<int:...> that matches only what fits an SQLite integer: a larger id is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building a signer for a request that has no cookie.

    Scanner apps send a bearer token and no cookies; for them the signer was pure overhead.
    """

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def init_app(app):
    app.session_interface = CookieSessions()
    app.config.setdefault("SCAN_GUESS_CLIENT_LIMIT", (60, 60))
    # Before any blueprint adds its rules, so every <int:...> in the app is bounded.
    app.url_map.converters["int"] = RowIdConverter
    app.register_error_handler(OverflowError, number_too_large)
    app.before_request(load_station)
    app.before_request(gate)
    app.after_request(add_security_headers)
    # After every after_request hook and the session save, so it sees every cookie.
    request_finished.connect(secure_cookies, app)


def load_station():
    """Put the station of the request's cookie or bearer token on g.station."""
    from kiosk.data.accounts import station_for_token

    g.station = None
    token = bearer_token(request.headers.get("Authorization", ""))
    if token is None:
        token = request.cookies.get(STATION_COOKIE)
    if token:
        g.station = station_for_token(get_db(), token)


def bearer_token(header):
    """The token of an 'Authorization: Bearer TOKEN' header, or None when HEADER is not one."""
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def gate():
    """Refuse any route the requester's roles do not open; unmarked views are for organisers."""
    from kiosk.accounts import current_roles, signed_in_user

    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    view = current_app.view_functions.get(request.endpoint)
    allowed = getattr(view, "allowed_roles", frozenset({"organiser"}))
    if allowed & current_roles():
        return None
    if request.path.startswith("/api/"):
        return api_refusal(401 if not (signed_in_user() or g.station) else 403)
    if signed_in_user() or g.station:
        abort(403)
    if request.headers.get("HX-Request"):
        # A live page polling after its login ended (logged out in another tab, `kiosk user
        # logout`): a redirect would be followed and the login form swapped into the room's
        # card. HX-Redirect sends the whole page to the login form, and back here after it.
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = url_for("accounts.login", next=_page_url())
        return response
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def _page_url():
    """The page an HTMX request came from (path and query), when it is on this site."""
    page = urlsplit(request.headers.get("HX-Current-URL", ""))
    if page.netloc == request.host and page.path.startswith("/"):
        return page.path + (f"?{page.query}" if page.query else "")
    return request.path


API_REFUSAL = {"error": "unauthorized", "message": "a valid station token or an organiser session is needed"}


def api_refusal(status):
    """The API's answer to a request without the right credentials."""
    return json_response(status, API_REFUSAL)


def json_response(status, answer):
    """A JSON response: ANSWER with the HTTP STATUS."""
    response = jsonify(answer)
    response.status_code = status
    return response


def number_too_large(error):
    """A query or form number past SQLite's 64-bit integers (?page=1e30): the request is bad, not the server."""
    if request.path.startswith("/api/"):
        return json_response(400, {"error": "bad_request", "message": "a number in the request is out of range"})
    return "A number in the request is out of range.", 400


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(self), microphone=(), geolocation=()"),
)
HTTPS_HEADERS = SECURITY_HEADERS + (("Strict-Transport-Security", "max-age=31536000"),)


def security_headers(secure):
    """The security headers every answer carries; SECURE: the request came over HTTPS."""
    return HTTPS_HEADERS if secure else SECURITY_HEADERS


def add_security_headers(response):
    """Each security header unless the view set its own (one pass: a lookup per header raised and caught a KeyError)."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    for name, value in security_headers(request.is_secure):
        if name.lower() not in present:
            headers.add(name, value)
    return response


def secure_cookies(sender, response, **extra):
    """Mark every cookie Secure when the request came over HTTPS, so it never travels in the clear."""
    if not request.is_secure:
        return response
    cookies = response.headers.getlist("Set-Cookie")
    if cookies and any("; secure" not in cookie.lower() for cookie in cookies):
        response.headers.remove("Set-Cookie")
        for cookie in cookies:
            response.headers.add("Set-Cookie", cookie if "; secure" in cookie.lower() else cookie + "; Secure")
    return response


def safe_next_url(target):
    """TARGET when it is a path on this site, else None (no open redirects)."""
    if not target or not isinstance(target, str):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def client_key(environ=None):
    """The requesting client's address, the key for per-client limits: from the WSGI ENVIRON
    when given (the scan fast path has no request), else the current request's."""
    return (environ if environ is not None else request.environ).get("REMOTE_ADDR") or "?"


def _client_limit(bucket, client):
    """(bucket, client address, limit) for the per-client limit that goes with BUCKET, or None.

    Only guessing has one. CLIENT is the address; by default, the current request's.
    """
    if bucket != "guess":
        return None
    if client is None:
        if not has_request_context():
            return None
        client = client_key()
    return GUESS_CLIENT_BUCKET, str(client), current_app.config.get("SCAN_GUESS_CLIENT_LIMIT", (60, 60))


def limiter_hit(bucket, key, *, limit, client=None):
    """Count one hit for KEY in BUCKET; True when it goes over LIMIT = (hits, seconds).

    A hit in the 'guess' bucket (per station) also counts for the client's address (CLIENT,
    by default the current request's), in the same transaction.
    """
    per_client = _client_limit(bucket, client)
    with immediate(get_db()):
        over_client = _hit(*per_client) if per_client else False
        return _hit(bucket, key, limit) or over_client


def _hit(bucket, key, limit):
    """Count one hit; the caller holds the write transaction."""
    max_hits, seconds = limit
    now = time.time()
    db = get_db()
    row = db.execute("SELECT window_start, hits FROM rate_limits WHERE bucket = ? AND key = ?", [bucket, str(key)]).fetchone()
    if row is None or now - row[0] > seconds:
        db.execute(
            "INSERT OR REPLACE INTO rate_limits (bucket, key, window_start, hits) VALUES (?, ?, ?, 1)",
            [bucket, str(key), now],
        )
        return False
    db.execute("UPDATE rate_limits SET hits = hits + 1 WHERE bucket = ? AND key = ?", [bucket, str(key)])
    return row[1] + 1 > max_hits


def limiter_blocked(bucket, key, *, limit, client=None):
    """True while KEY in BUCKET is over LIMIT = (hits, seconds); counts nothing.

    The 'guess' bucket is also blocked while the client's address (CLIENT, by default the
    current request's) is over its own limit. Both are read in one query: this runs before
    every scan.
    """
    wanted = {(bucket, str(key)): limit}
    per_client = _client_limit(bucket, client)
    if per_client:
        wanted[per_client[:2]] = per_client[2]
    pairs = list(wanted)
    rows = get_db().execute(
        "SELECT bucket, key, window_start, hits FROM rate_limits WHERE "
        + " OR ".join(["(bucket = ? AND key = ?)"] * len(pairs)),
        [value for pair in pairs for value in pair],
    ).fetchall()
    now = time.time()
    for row_bucket, row_key, window_start, hits in rows:
        max_hits, seconds = wanted[(row_bucket, row_key)]
        if now - window_start <= seconds and hits >= max_hits:
            return True
    return False
