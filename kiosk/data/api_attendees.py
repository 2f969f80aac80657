"""Attendees as the organiser API reads and writes them: filtered lists, one attendee, duplicates, writes."""

from kiosk.data.badges import CODE_PREFIX, normalise
from kiosk.db import now_utc, one
from kiosk.text import fold

ATTENDEE_COLUMNS = """attendees.id, attendees.name, attendees.email, attendees.organisation, attendees.role,
    attendees.registration_id, attendees.status, badges.code AS badge_code, badges.short_code,
    presence.checked_in_at"""
FROM = """FROM attendees LEFT JOIN badges ON badges.attendee_id = attendees.id AND badges.replaced_at IS NULL
    LEFT JOIN presence ON presence.attendee_id = attendees.id"""


def _where(event_id, search, status, arrived, organisation):
    """The WHERE clause and its parameters for the list's filters, in event EVENT_ID."""
    clauses, params = ["attendees.event_id = ?"], [event_id]
    words = fold(search).split()[:6]
    if words:
        text = " AND ".join("attendees.search_text LIKE ? ESCAPE '\\'" for _ in words)
        params += ["%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for word in words]
        code = normalise(search)
        if code:
            column = "code" if code.startswith(CODE_PREFIX) else "short_code"
            text = f"({text}) OR attendees.id IN (SELECT attendee_id FROM badges WHERE {column} = ?)"
            params.append(code)
        clauses.append(f"({text})")
    if status:
        clauses.append("attendees.status = ?")
        params.append(status)
    if arrived is not None:
        clauses.append("presence.attendee_id IS NOT NULL" if arrived else "presence.attendee_id IS NULL")
    if organisation:
        clauses.append("attendees.organisation = ? COLLATE NOCASE")
        params.append(organisation)
    return " AND ".join(clauses), params


def list_attendees(db, *, search="", status=None, arrived=None, organisation=None, limit=100, offset=0):
    """(the attendees on this page in name order, how many match) for the list's filters."""
    where, params = _where(db.event_id, search, status, arrived, organisation)
    rows = list(db.query(
        f"""SELECT {ATTENDEE_COLUMNS} {FROM} WHERE {where}
            ORDER BY attendees.last_name, attendees.first_name, attendees.id LIMIT ? OFFSET ?""",
        params + [limit, offset],
    ))
    total = db.execute(
        f"""SELECT count(*) FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
            WHERE {where}""", params
    ).fetchone()[0]
    _add_sessions(db, rows)
    return rows, total


def get_attendee(db, attendee_id):
    """One attendee as the API shows it, or None."""
    row = one(db, f"SELECT {ATTENDEE_COLUMNS} {FROM} WHERE attendees.id = ? AND attendees.event_id = ?",
              [attendee_id, db.event_id])
    if row is not None:
        _add_sessions(db, [row])
    return row


def _add_sessions(db, rows):
    """Give each of ROWS its session choices as {block name: session title}."""
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        row["sessions"] = {}
    if not by_id:
        return
    marks = ",".join("?" * len(by_id))
    for attendee_id, block, title in db.execute(
        f"""SELECT choices.attendee_id, blocks.name, sessions.title FROM choices
            JOIN blocks ON blocks.id = choices.block_id JOIN sessions ON sessions.id = choices.session_id
            WHERE choices.attendee_id IN ({marks}) ORDER BY blocks.starts_at, blocks.id""",
        list(by_id),
    ):
        by_id[attendee_id]["sessions"][block] = title


def find_duplicate(db, *, registration_id=None, email=None, exclude_id=None):
    """(the field, the existing attendee's id) of another attendee with this registration id or e-mail, or None."""
    if registration_id:
        row = db.execute("SELECT id FROM attendees WHERE event_id = ? AND registration_id = ? AND id IS NOT ?",
                         [db.event_id, registration_id, exclude_id]).fetchone()
        if row:
            return "registration_id", row[0]
    if email:
        row = db.execute("SELECT id FROM attendees WHERE email = ? COLLATE NOCASE AND event_id = ? AND id IS NOT ? LIMIT 1",
                         [email, db.event_id, exclude_id]).fetchone()
        if row:
            return "email", row[0]
    return None


def find_session(db, block_name, title):
    """The session TITLE in the block BLOCK_NAME with its block id and place limit,
    {} when the block exists but not the session, None when there is no such block."""
    block = db.execute("SELECT id FROM blocks WHERE name = ? COLLATE NOCASE AND event_id = ?",
                       [block_name, db.event_id]).fetchone()
    if block is None:
        return None
    return one(
        db,
        "SELECT id, block_id, place_limit FROM sessions WHERE block_id = ? AND title = ? COLLATE NOCASE",
        [block[0], title],
    ) or {}


def chosen_count(db, session_id):
    """How many people chose SESSION_ID. Counting reads every choice of the session (thousands for
    a plenary at 50,000 attendees), so callers ask only for sessions with a place limit."""
    return db.execute("SELECT count(*) FROM choices WHERE session_id = ?", [session_id]).fetchone()[0]


def insert_attendee(db, values):
    """Add an attendee from VALUES (name parts, name, email, organisation, role, registration_id, status); the id."""
    now = now_utc()
    row = dict(values, event_id=db.event_id, extra="{}", created_at=now, updated_at=now)
    # Plain SQL, not sqlite-utils' insert: that looks the table up in sqlite_master three times and
    # wraps the row in a savepoint, all while the caller holds the write lock.
    return db.execute(
        f"INSERT INTO attendees ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
    ).lastrowid


def update_attendee(db, attendee_id, values):
    """Change ATTENDEE_ID's columns in VALUES."""
    db["attendees"].update(attendee_id, dict(values, updated_at=now_utc()))


def attendee_row(db, attendee_id):
    """ATTENDEE_ID's stored columns, or None."""
    return one(db, "SELECT * FROM attendees WHERE id = ? AND event_id = ?", [attendee_id, db.event_id])


def set_choice(db, attendee_id, block_id, session_id):
    """Choose SESSION_ID in BLOCK_ID for ATTENDEE_ID (None: no choice in that block)."""
    db.execute("DELETE FROM choices WHERE attendee_id = ? AND block_id = ?", [attendee_id, block_id])
    if session_id is not None:
        db.execute("INSERT INTO choices (attendee_id, block_id, session_id) VALUES (?, ?, ?)",
                   [attendee_id, block_id, session_id])


def block_id(db, block_name):
    """The id of the block BLOCK_NAME, or None."""
    row = db.execute("SELECT id FROM blocks WHERE name = ? COLLATE NOCASE AND event_id = ?", [block_name, db.event_id]).fetchone()
    return row[0] if row else None
