"""Organiser and host accounts, kiosk stations and their tokens."""

import functools
import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from kiosk.data.audit import record
from kiosk.db import immediate, now_utc, one

PAIRING_VALID_FOR = timedelta(days=7)
LOGIN_VALID_FOR = timedelta(days=7)  # a forgotten login on a tablet ends by itself


class AccountError(ValueError):
    """A user or station request that cannot be honoured, with a message for people.

    The message is in the language of the request (English in the CLI and without Flask).
    """


def hash_token(token):
    """Tokens are stored as SHA-256: they are long and random, so no slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(db, email, password, role):
    """Create an account; raises AccountError for a taken e-mail or a short password."""
    email = (email or "").strip()
    if "@" not in email:
        raise AccountError(_("not an e-mail address: %(email)s", email=repr(email)))
    if role not in ("organiser", "host"):
        raise AccountError(_("unknown role: %(role)s", role=repr(role)))
    if len(password or "") < 8:
        raise AccountError(_("the password must have at least 8 characters"))
    with immediate(db):
        if db.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchone():
            raise AccountError(_("a user with e-mail %(email)s exists already", email=email))
        user_id = db["users"].insert(
            {
                "email": email,
                # scrypt, Werkzeug's default: a current memory-hard algorithm.
                "password_hash": generate_password_hash(password),
                "role": role,
                "created_at": now_utc(),
                "event_id": host_event(db) if role == "host" else None,
            }
        ).last_pk
    return get_user(db, user_id)


def host_event(db):
    """The event a new host works for: DB's, or None (the install's current one) before there is an event.

    Organisers work for every event (their event_id is NULL).
    """
    row = db.execute("SELECT id FROM event WHERE id = ?", [db.event_id]).fetchone()
    return row[0] if row else None


def get_user(db, user_id):
    """The user with USER_ID (id, email, role), or None."""
    rows = list(db.query("SELECT id, email, role FROM users WHERE id = ?", [user_id]))
    return rows[0] if rows else None


@functools.cache
def no_account_hash():
    """The hash an address without an account is checked against: a random password's, made
    once per process in the way add_user makes every account's, so that checking it costs the same."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(db, email, password):
    """The user with EMAIL and PASSWORD, or None.

    A wrong e-mail costs as long as a wrong password (one hash checked), so that the time a login
    takes does not tell which addresses have an account.
    """
    stand_in = no_account_hash()  # made here on either path, so even a process's first login tells nothing
    rows = list(db.query("SELECT * FROM users WHERE email = ? AND disabled_at IS NULL", [(email or "").strip()]))
    if not rows:
        check_password_hash(stand_in, password or "")
        return None
    user = rows[0]
    if not check_password_hash(user["password_hash"], password or ""):
        return None
    return {"id": user["id"], "email": user["email"], "role": user["role"]}


def start_login(db, user_id):
    """A new login for USER_ID; returns its token, for the browser's session cookie."""
    token = "kls_" + secrets.token_urlsafe(32)
    now = now_utc()
    with immediate(db):
        db.execute(
            "INSERT INTO login_sessions (user_id, token_hash, started_at) VALUES (?, ?, ?)",
            [user_id, hash_token(token), now],
        )
        db.execute("UPDATE users SET last_login_at = ? WHERE id = ?", [now, user_id])
    return token


def user_for_login(db, token, *, valid_for=LOGIN_VALID_FOR):
    """The user signed in by login TOKEN, or None once that login ended or started more than VALID_FOR ago.

    With the event the login works for (event_id): a host's own, the one an organiser switched to
    (None: the install's current event).
    """
    if not isinstance(token, str) or not token.startswith("kls_") or len(token) > 200:
        return None
    started_after = (datetime.now(timezone.utc) - valid_for).isoformat(timespec="milliseconds")
    return one(
        db,
        """SELECT users.id, users.email, users.role,
                  CASE users.role WHEN 'host' THEN users.event_id ELSE login_sessions.event_id END AS event_id
           FROM login_sessions JOIN users ON users.id = login_sessions.user_id
           WHERE login_sessions.token_hash = ? AND login_sessions.ended_at IS NULL AND login_sessions.started_at > ?
             AND users.disabled_at IS NULL""",
        [hash_token(token), started_after],
    )


def end_login(db, token):
    """End one login (logging out)."""
    if isinstance(token, str):
        with immediate(db):
            db.execute(
                "UPDATE login_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                [now_utc(), hash_token(token)],
            )


def end_logins_of(db, email, actor):
    """End every login of the user with EMAIL, on every device; returns how many, or None for no such user."""
    with immediate(db):
        row = db.execute("SELECT id FROM users WHERE email = ?", [(email or "").strip()]).fetchone()
        if row is None:
            return None
        ended = db.execute(
            "UPDATE login_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL", [now_utc(), row[0]]
        ).rowcount
        record(db, actor, "end logins", f"{email}: {ended}")
    return ended


def list_users(db):
    """Every user, by e-mail."""
    return list(db.query("SELECT id, email, role, created_at FROM users ORDER BY email"))


def add_station(db, name, *, mode, room_name=None, room_id=None, staffed=False, print_on_arrival=False, language=None,
                result_seconds=None, actor=None):
    """Create a station; returns (station, api_token, pairing_secret), the secrets shown once.

    With ACTOR, the audit log says who added it, in the same transaction.
    """
    name = (name or "").strip()
    if not name:
        raise AccountError(_("a station needs a name"))
    if mode not in ("entrance", "room"):
        raise AccountError(_("unknown mode: %(mode)s", mode=repr(mode)))
    token = "kst_" + secrets.token_urlsafe(32)
    pairing_secret = secrets.token_urlsafe(24)
    with immediate(db):
        if mode == "room":
            if room_id is None and not (room_name or "").strip():
                raise AccountError(_("a room door needs a room"))
            if room_id is None:
                rows = list(db.query("SELECT id FROM rooms WHERE name = ? COLLATE NOCASE AND event_id = ?",
                                     [(room_name or "").strip(), db.event_id]))
                if not rows:
                    raise AccountError(_("no room named %(room)s", room=repr(room_name)))
                room_id = rows[0]["id"]
            elif not db.execute("SELECT 1 FROM rooms WHERE id = ? AND event_id = ?", [room_id, db.event_id]).fetchone():
                raise AccountError(_("no such room"))
        else:
            room_id = None
        if db.execute("SELECT 1 FROM stations WHERE name = ? AND event_id = ?", [name, db.event_id]).fetchone():
            raise AccountError(_("a station named %(name)s exists already", name=name))
        station_id = db["stations"].insert(
            {
                "event_id": db.event_id,
                "name": name,
                "mode": mode,
                "room_id": room_id,
                "staffed": int(bool(staffed)) if mode == "entrance" else 0,
                "print_on_arrival": int(bool(print_on_arrival)),
                "language": language or None,
                "result_seconds": result_seconds,
                "token_hash": hash_token(token),
                "pairing_hash": hash_token(pairing_secret),
                "pairing_expires_at": (datetime.now(timezone.utc) + PAIRING_VALID_FOR).isoformat(timespec="seconds"),
                "paired_at": None,
                "revoked_at": None,
                "created_at": now_utc(),
            }
        ).last_pk
        if actor:
            record(db, actor, "add station", name)
    return get_station(db, station_id), token, pairing_secret


# With the station's event's archived_at, read in the same query: an archived event's stations refuse to scan.
STATION_COLUMNS = """stations.id, stations.event_id,
    (SELECT archived_at FROM event WHERE event.id = stations.event_id) AS event_archived_at, stations.name, stations.mode, stations.room_id, stations.staffed,
    stations.print_on_arrival, stations.language, stations.result_seconds, stations.paired_at, stations.revoked_at,
    stations.created_at, stations.pairing_expires_at, stations.pairing_hash IS NOT NULL AS pairing_open,
    rooms.name AS room_name"""


def get_station(db, station_id):
    """The station with STATION_ID, with its room's name, or None."""
    rows = list(
        db.query(
            f"""SELECT {STATION_COLUMNS} FROM stations LEFT JOIN rooms ON rooms.id = stations.room_id
                WHERE stations.id = ? AND stations.event_id = ?""",
            [station_id, db.event_id],
        )
    )
    return rows[0] if rows else None


def list_stations(db):
    """Every station with its paired devices and last scan; revoked ones last."""
    return list(
        db.query(
            f"""SELECT {STATION_COLUMNS},
                   (SELECT count(*) FROM station_devices d WHERE d.station_id = stations.id AND d.revoked_at IS NULL) AS devices,
                   (SELECT max(created_at) FROM scans WHERE scans.station_id = stations.id) AS last_scan_at
                FROM stations LEFT JOIN rooms ON rooms.id = stations.room_id
                WHERE stations.event_id = ?
                ORDER BY stations.revoked_at IS NOT NULL, stations.name""", [db.event_id]
        )
    )


def station_for_token(db, token):
    """The active station whose API token or paired-device token is TOKEN, or None."""
    # An organiser's API token (kot_, kiosk.data.tokens) never scans as a station.
    if not token or len(token) > 200 or token.startswith("kot_"):
        return None
    digest = hash_token(token)
    return one(
        db,
        f"""SELECT {STATION_COLUMNS} FROM stations LEFT JOIN rooms ON rooms.id = stations.room_id
            WHERE stations.revoked_at IS NULL AND (stations.token_hash = :digest OR stations.id IN (
                SELECT station_id FROM station_devices WHERE token_hash = :digest AND revoked_at IS NULL))""",
        {"digest": digest},
    )


def pairing_station(db, pairing_secret):
    """The station this unused, unexpired pairing secret belongs to, or None."""
    if not pairing_secret or len(pairing_secret) > 200:
        return None
    rows = list(
        db.query(
            f"""SELECT {STATION_COLUMNS} FROM stations LEFT JOIN rooms ON rooms.id = stations.room_id
                WHERE pairing_hash = ? AND revoked_at IS NULL AND pairing_expires_at > ?""",
            [hash_token(pairing_secret), datetime.now(timezone.utc).isoformat(timespec="seconds")],
        )
    )
    return rows[0] if rows else None


def pair_device(db, pairing_secret, user_agent=""):
    """Use up PAIRING_SECRET: returns (station, device_token) or None when it is spent or unknown."""
    device_token = "kdv_" + secrets.token_urlsafe(32)
    with immediate(db):
        station = pairing_station(db, pairing_secret)
        if station is None:
            return None
        now = now_utc()
        db.execute("UPDATE stations SET pairing_hash = NULL, paired_at = ? WHERE id = ?", [now, station["id"]])
        db["station_devices"].insert(
            {
                "station_id": station["id"],
                "token_hash": hash_token(device_token),
                "user_agent": (user_agent or "")[:200],
                "paired_at": now,
                "revoked_at": None,
            }
        )
    return station, device_token


def new_pairing_link(db, station_id, *, actor=None):
    """A fresh one-time pairing secret for an existing, active station, or None.

    With ACTOR, the audit log says who made it, in the same transaction.
    """
    pairing_secret = secrets.token_urlsafe(24)
    with immediate(db):
        updated = db.execute(
            "UPDATE stations SET pairing_hash = ?, pairing_expires_at = ? WHERE id = ? AND revoked_at IS NULL AND event_id = ?",
            [
                hash_token(pairing_secret),
                (datetime.now(timezone.utc) + PAIRING_VALID_FOR).isoformat(timespec="seconds"),
                station_id,
                db.event_id,
            ],
        ).rowcount
        if updated and actor:
            record(db, actor, "new pairing link", db.execute("SELECT name FROM stations WHERE id = ?", [station_id]).fetchone()[0])
    return pairing_secret if updated else None


def revoke_station(db, name_or_id, actor):
    """Revoke a station and every device paired to it; False when there is no active one."""
    column = "id" if isinstance(name_or_id, int) else "name"
    now = now_utc()
    with immediate(db):
        rows = list(db.query(f"SELECT id, name FROM stations WHERE {column} = ? AND revoked_at IS NULL AND event_id = ?",
                             [name_or_id, db.event_id]))
        if not rows:
            return False
        station_id = rows[0]["id"]
        db.execute("UPDATE stations SET revoked_at = ?, pairing_hash = NULL WHERE id = ?", [now, station_id])
        db.execute("UPDATE station_devices SET revoked_at = ? WHERE station_id = ? AND revoked_at IS NULL", [now, station_id])
        record(db, actor, "revoke station", rows[0]["name"])
    return True


def update_station(db, station_id, *, name, language, room_id=None, exit_scan=None, actor):
    """Change a station's name, language and (for a room door) room, and whether that room's doors
    also scan people out (rooms.has_exit_scan); False when there is no active station STATION_ID."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise AccountError(_("a station needs a name"))
    with immediate(db):
        station = get_station(db, station_id)
        if station is None or station["revoked_at"]:
            return False
        if db.execute("SELECT 1 FROM stations WHERE name = ? AND id != ? AND event_id = ?",
                      [name, station_id, db.event_id]).fetchone():
            raise AccountError(_("a station named %(name)s exists already", name=name))
        values = {"name": name, "language": language or None}
        if station["mode"] == "room":
            room_id = room_id or station["room_id"]
            if not db.execute("SELECT 1 FROM rooms WHERE id = ? AND event_id = ?", [room_id, db.event_id]).fetchone():
                raise AccountError(_("no such room"))
            values["room_id"] = room_id
            if exit_scan is not None:
                db.execute("UPDATE rooms SET has_exit_scan = ? WHERE id = ?", [int(bool(exit_scan)), room_id])
        db["stations"].update(station_id, values)
        record(db, actor, "edit station", f"{station['name']} -> {name}, language {language or '-'}"
               + (f", room {room_id}, in and out {bool(exit_scan)}" if station["mode"] == "room" else ""))
    return True
