"""Pairing links: the address devices reach this server at, and a station's one-time link as a QR."""

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
import qrcode.image.svg
from flask import current_app, has_request_context, request
from markupsafe import Markup


def public_url():
    """The address devices reach this server at: config, else what `kiosk serve` wrote, else the request's."""
    configured = current_app.config["PUBLIC_URL"]
    if configured:
        return configured.rstrip("/")
    written = Path(current_app.instance_path) / "public_url"
    if written.exists():
        return written.read_text().strip().rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://127.0.0.1:5000"


def loopback_address(url):
    """The port when URL points at this computer only (127.0.0.1, localhost, ::1), which no tablet can open; else None."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        loopback = host == "localhost" or host.endswith(".localhost") or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return None
    return str(parts.port or (443 if parts.scheme == "https" else 80))


def pairing_url(pairing_secret):
    """The one-time link a device opens to become a station."""
    # Built by hand: the CLI prints it outside any request, where url_for cannot build URLs.
    return f"{public_url()}/pair/{pairing_secret}"


def qr_svg(text):
    """TEXT as an inline SVG QR code."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    return Markup(image.to_string(encoding="unicode"))
