"""Personal API tokens of organisers, for integrations: stored as SHA-256, shown once, revocable."""

import secrets

from flask_babel import gettext as _

from kiosk.data.accounts import AccountError, hash_token
from kiosk.data.audit import record
from kiosk.db import immediate, now_utc, one

TOKEN_PREFIX = "kot_"  # station tokens start kst_ and device tokens kdv_: a token says which kind it is


def is_api_token(token):
    """Whether TOKEN has the form of an organiser API token (not whether it is valid)."""
    return isinstance(token, str) and token.startswith(TOKEN_PREFIX)


def add_token(db, name, *, actor):
    """A new API token named NAME; returns (row, token), the token shown once and stored hashed."""
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise AccountError(_("a token needs a name of at most 80 characters"))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with immediate(db):
        if db.execute("SELECT 1 FROM api_tokens WHERE name = ? AND revoked_at IS NULL", [name]).fetchone():
            raise AccountError(_("a token named %(name)s exists already", name=name))
        token_id = db["api_tokens"].insert(
            {"name": name, "token_hash": hash_token(token), "created_by": actor or "?", "created_at": now_utc()}
        ).last_pk
        record(db, actor, "add api token", name)
    return get_token(db, token_id), token


def get_token(db, token_id):
    """The token row TOKEN_ID (without its hash), or None."""
    return one(db, "SELECT id, name, created_by, created_at, revoked_at FROM api_tokens WHERE id = ?", [token_id])


def list_tokens(db):
    """Every API token, active ones first, newest first."""
    return list(db.query(
        "SELECT id, name, created_by, created_at, revoked_at FROM api_tokens ORDER BY revoked_at IS NOT NULL, id DESC"
    ))


def token_owner(db, token):
    """The active API token row whose secret is TOKEN, or None."""
    if not is_api_token(token) or len(token) > 200:
        return None
    return one(db, "SELECT id, name, created_by FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
               [hash_token(token)])


def revoke_token(db, name_or_id, *, actor):
    """Revoke the active token with this name (str) or id (int); False when there is none."""
    column = "id" if isinstance(name_or_id, int) else "name"
    with immediate(db):
        row = one(db, f"SELECT id, name FROM api_tokens WHERE {column} = ? AND revoked_at IS NULL", [name_or_id])
        if row is None:
            return False
        db.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", [now_utc(), row["id"]])
        record(db, actor, "revoke api token", row["name"])
    return True
