"""Who may reach which route, station tokens, security headers and rate limits."""

import time
from urllib.parse import urlsplit

from flask import abort, current_app, g, jsonify, redirect, request, url_for
from flask_login import current_user

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


def init_app(app):
    app.before_request(load_station)
    app.before_request(gate)
    app.after_request(add_security_headers)


def load_station():
    """Put the station of the request's cookie or bearer token on g.station."""
    from kiosk.data.accounts import station_for_token

    g.station = None
    token = request.cookies.get(STATION_COOKIE)
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        token = header[7:].strip()
    if token:
        g.station = station_for_token(get_db(), token)


def gate():
    """Refuse any route the requester's roles do not open; unmarked views are for organisers."""
    from kiosk.accounts import current_roles

    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    view = current_app.view_functions.get(request.endpoint)
    allowed = getattr(view, "allowed_roles", frozenset({"organiser"}))
    if allowed & current_roles():
        return None
    if request.path.startswith("/api/"):
        response = jsonify({"error": "unauthorized", "message": "a valid station token or an organiser session is needed"})
        response.status_code = 401 if not (current_user.is_authenticated or g.station) else 403
        return response
    if current_user.is_authenticated or g.station:
        abort(403)
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def safe_next_url(target):
    """TARGET when it is a path on this site, else None (no open redirects)."""
    if not target or not isinstance(target, str):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def limiter_hit(bucket, key, *, limit):
    """Count one hit for KEY in BUCKET; True when it goes over LIMIT = (hits, seconds)."""
    max_hits, seconds = limit
    now = time.time()
    db = get_db()
    with immediate(db):
        row = db.execute(
            "SELECT window_start, hits FROM rate_limits WHERE bucket = ? AND key = ?", [bucket, str(key)]
        ).fetchone()
        if row is None or now - row[0] > seconds:
            db.execute(
                "INSERT OR REPLACE INTO rate_limits (bucket, key, window_start, hits) VALUES (?, ?, ?, 1)",
                [bucket, str(key), now],
            )
            return False
        db.execute("UPDATE rate_limits SET hits = hits + 1 WHERE bucket = ? AND key = ?", [bucket, str(key)])
        return row[1] + 1 > max_hits


def limiter_blocked(bucket, key, *, limit):
    """True while KEY in BUCKET is over LIMIT = (hits, seconds); counts nothing."""
    max_hits, seconds = limit
    row = get_db().execute(
        "SELECT window_start, hits FROM rate_limits WHERE bucket = ? AND key = ?", [bucket, str(key)]
    ).fetchone()
    return row is not None and time.time() - row[0] <= seconds and row[1] >= max_hits
