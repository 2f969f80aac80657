"""Staff accounts as organisers manage them: invitations, password links, disabling, last logins."""

import secrets
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

from kiosk.data.accounts import AccountError, hash_token, host_event
from kiosk.data.audit import record
from kiosk.db import immediate, now_utc, one

LINK_VALID_FOR = timedelta(days=7)
ROLES = ("organiser", "host")
UNUSABLE_PASSWORD = "!"  # no password hash has this form: nobody logs in before setting one


def list_staff(db):
    """Every account with its role, last login, whether it is disabled and whether a password link is open."""
    return list(
        db.query(
            """SELECT users.id, users.email, users.role, users.created_at, users.last_login_at, users.disabled_at,
                      users.event_id,
                      users.password_hash = ? AS invited,
                      EXISTS (SELECT 1 FROM user_links WHERE user_links.user_id = users.id AND used_at IS NULL
                              AND expires_at > ?) AS link_open
               FROM users ORDER BY users.disabled_at IS NOT NULL, users.email""",
            [UNUSABLE_PASSWORD, _now()],
        )
    )


def get_staff(db, user_id):
    """One account (id, email, role, disabled_at), or None."""
    return one(db, "SELECT id, email, role, disabled_at FROM users WHERE id = ?", [user_id])


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _new_link(db, user_id):
    """A one-time password link for USER_ID (older open ones stop working); returns its secret."""
    secret = secrets.token_urlsafe(32)
    db.execute("DELETE FROM user_links WHERE user_id = ? AND used_at IS NULL", [user_id])
    db.execute(
        "INSERT INTO user_links (user_id, token_hash, expires_at) VALUES (?, ?, ?)",
        [user_id, hash_token(secret), (datetime.now(timezone.utc) + LINK_VALID_FOR).isoformat(timespec="seconds")],
    )
    return secret


def invite(db, email, role, *, actor):
    """A new account for EMAIL without a password; returns (user, secret of its one-time link)."""
    email = (email or "").strip()
    if "@" not in email or len(email) > 200:
        raise AccountError(_("not an e-mail address: %(email)s", email=repr(email[:200])))
    if role not in ROLES:
        raise AccountError(_("unknown role: %(role)s", role=repr(role)))
    with immediate(db):
        if db.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchone():
            raise AccountError(_("a user with e-mail %(email)s exists already", email=email))
        user_id = db["users"].insert(
            {"email": email, "password_hash": UNUSABLE_PASSWORD, "role": role, "created_at": now_utc(),
             "event_id": host_event(db) if role == "host" else None}
        ).last_pk
        secret = _new_link(db, user_id)
        record(db, actor, "invite user", f"{email} ({role})")
    return get_staff(db, user_id), secret


def reset_link(db, user_id, *, actor):
    """A new one-time link for USER_ID to set a password; None for no such active account."""
    with immediate(db):
        user = get_staff(db, user_id)
        if user is None or user["disabled_at"]:
            return None
        secret = _new_link(db, user_id)
        record(db, actor, "password link", user["email"])
    return secret


def link_user(db, secret):
    """The active account an open password link SECRET belongs to, or None."""
    if not isinstance(secret, str) or not secret or len(secret) > 200:
        return None
    return one(
        db,
        """SELECT users.id, users.email, users.role FROM user_links JOIN users ON users.id = user_links.user_id
           WHERE user_links.token_hash = ? AND user_links.used_at IS NULL AND user_links.expires_at > ?
             AND users.disabled_at IS NULL""",
        [hash_token(secret), _now()],
    )


def set_password_by_link(db, secret, password):
    """Use up SECRET to set its account's password, ending its other logins; the user, or None when spent."""
    if len(password or "") < 8:
        raise AccountError(_("the password must have at least 8 characters"))
    with immediate(db):
        user = link_user(db, secret)
        if user is None:
            return None
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [generate_password_hash(password), user["id"]])
        db.execute("UPDATE user_links SET used_at = ? WHERE token_hash = ?", [now_utc(), hash_token(secret)])
        db.execute("UPDATE login_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL", [now_utc(), user["id"]])
        record(db, user["email"], "set password", "by one-time link")
    return user


def set_disabled(db, user_id, disabled, *, actor):
    """Disable USER_ID (ending every login and open link) or enable them again; False for no such user."""
    with immediate(db):
        user = get_staff(db, user_id)
        if user is None:
            return False
        now = now_utc()
        db.execute("UPDATE users SET disabled_at = ? WHERE id = ?", [now if disabled else None, user_id])
        if disabled:
            db.execute("UPDATE login_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL", [now, user_id])
            db.execute("DELETE FROM user_links WHERE user_id = ? AND used_at IS NULL", [user_id])
        record(db, actor, "disable user" if disabled else "enable user", user["email"])
    return True


def active_organisers(db):
    """How many organiser accounts can log in."""
    return db.execute("SELECT count(*) FROM users WHERE role = 'organiser' AND disabled_at IS NULL").fetchone()[0]
