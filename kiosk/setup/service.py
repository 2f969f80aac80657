"""Claiming a fresh install: the set-up link `kiosk serve` prints, the first organiser, then the event."""

from flask_babel import gettext as _

from kiosk.data import setup as data
from kiosk.data.accounts import AccountError
from kiosk.stations.links import public_url


def setup_url(secret):
    """The one-time link that opens the set-up page."""
    # Built by hand: `kiosk serve` prints it before any request, where url_for cannot build URLs.
    return f"{public_url()}/setup/{secret}"


def announce(db):
    """A fresh set-up link when nobody can log in yet (printed by `kiosk serve`), else None."""
    if not data.needs_setup(db):
        return None
    secret = data.new_setup_link(db)
    return setup_url(secret) if secret else None


def claim(db, secret, email, password, repeated):
    """Create the first organiser with SECRET; the user, or None when the link is spent; raises AccountError."""
    if password != repeated:
        raise AccountError(_("The two passwords are not the same."))
    return data.claim_install(db, secret, email, password)
