"""Pairing links: the address devices reach this server at, and a station's one-time link as a QR."""

from pathlib import Path

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


def pairing_url(pairing_secret):
    """The one-time link a device opens to become a station."""
    # Built by hand: the CLI prints it outside any request, where url_for cannot build URLs.
    return f"{public_url()}/pair/{pairing_secret}"


def qr_svg(text):
    """TEXT as an inline SVG QR code."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    return Markup(image.to_string(encoding="unicode"))
