"""Security headers, Secure cookies, safe redirects and bounded row ids for every response."""

from urllib.parse import urlsplit

from flask import request, request_finished
from werkzeug.routing import IntegerConverter

from kiosk.web.rendering import json_response

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


class RowIdConverter(IntegerConverter):
    """<int:...> that matches only what fits an SQLite integer: a larger id is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_app(app):
    """Bounded row ids, security headers and Secure cookies for every response."""
    # Before any blueprint adds its rules, so every <int:...> in the app is bounded.
    app.url_map.converters["int"] = RowIdConverter
    app.register_error_handler(OverflowError, number_too_large)
    app.after_request(add_security_headers)
    # After every after_request hook and the session save, so it sees every cookie.
    request_finished.connect(secure_cookies, app)


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
