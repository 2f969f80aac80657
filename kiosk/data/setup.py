"""The one-time set-up link of a fresh install: made when `kiosk serve` starts with no account, used once."""

import secrets

from kiosk.data.accounts import add_user, hash_token
from kiosk.data.audit import record
from kiosk.db import immediate, now_utc


def needs_setup(db):
    """Whether nobody can log in yet: the database holds no account."""
    return db.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def new_setup_link(db):
    """A fresh set-up secret (stored hashed), replacing any unused one; None when accounts exist."""
    secret = secrets.token_urlsafe(32)
    with immediate(db):
        if not needs_setup(db):
            return None
        db.execute("DELETE FROM setup_links WHERE used_at IS NULL")
        db.execute("INSERT INTO setup_links (token_hash, created_at) VALUES (?, ?)", [hash_token(secret), now_utc()])
    return secret


def setup_link_open(db, secret):
    """Whether SECRET is an unused set-up link of an install that nobody has claimed."""
    if not isinstance(secret, str) or not secret or len(secret) > 200:
        return False
    row = db.execute("SELECT 1 FROM setup_links WHERE token_hash = ? AND used_at IS NULL", [hash_token(secret)]).fetchone()
    return bool(row) and needs_setup(db)


def claim_install(db, secret, email, password):
    """Use up SECRET and create the first organiser; returns the user, or None when the link is spent.

    Raises accounts.AccountError for a bad e-mail or password (the link stays unused then).
    """
    with immediate(db):
        if not setup_link_open(db, secret):
            return None
        user = add_user(db, email, password, "organiser")
        db.execute("UPDATE setup_links SET used_at = ? WHERE token_hash = ?", [now_utc(), hash_token(secret)])
        record(db, user["email"], "set up install", "first organiser")
    return user
