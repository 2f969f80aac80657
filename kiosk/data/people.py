"""People: the filtered attendee list, and adding, editing, cancelling attendees and their session choices."""

import json

from kiosk.data.badges import find_badge, issue_badge
from kiosk.db import now_utc, one
from kiosk.text import fold

STATUSES = ("arrived", "not_arrived", "cancelled")
BADGE_STATES = ("printed", "not_printed")
SORTS = {
    "name": "attendees.last_name, attendees.first_name, attendees.id",
    "organisation": "attendees.organisation, attendees.last_name, attendees.first_name, attendees.id",
    # Latest arrivals first; people who have not arrived after them, in name order.
    "arrival": "presence.checked_in_at IS NULL, presence.checked_in_at DESC, attendees.last_name, attendees.id",
}
_PRINTED = """EXISTS (SELECT 1 FROM badges JOIN badge_prints ON badge_prints.badge_id = badges.id
                      WHERE badges.attendee_id = attendees.id AND badges.replaced_at IS NULL)"""


def _like(word):
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(db, filters):
    """The WHERE clause and its parameters for FILTERS (a dict; see list_attendees), in DB's event."""
    clauses, params = ["attendees.event_id = ?"], [db.event_id]
    query = (filters.get("q") or "").strip()
    if query:
        words = fold(query).split()[:6]
        text = " AND ".join("attendees.search_text LIKE ? ESCAPE '\\'" for _ in words)
        params += [_like(word) for word in words]
        badge = find_badge(db, query)  # a badge's short (or full) code, typed or scanned
        if badge is not None:
            text = f"(({text}) OR attendees.id = ?)"
            params.append(badge["attendee_id"])
        clauses.append(text)
    status = filters.get("status")
    if status == "arrived":
        clauses.append("presence.attendee_id IS NOT NULL")
    elif status == "not_arrived":
        clauses.append("presence.attendee_id IS NULL AND attendees.status = 'registered'")
    elif status == "cancelled":
        clauses.append("attendees.status = 'cancelled'")
    if filters.get("organisation") is not None:
        clauses.append("attendees.organisation = ?")
        params.append(filters["organisation"])
    if filters.get("session_id") is not None:
        clauses.append("attendees.id IN (SELECT attendee_id FROM choices WHERE session_id = ?)")
        params.append(filters["session_id"])
    if filters.get("room_id") is not None:
        clauses.append("presence.room_id = ?")
        params.append(filters["room_id"])
    if filters.get("badge") == "printed":
        clauses.append(_PRINTED)
    elif filters.get("badge") == "not_printed":
        clauses.append("NOT " + _PRINTED)
    return " AND ".join(clauses), params


def list_attendees(db, filters, *, sort="name", limit=50, offset=0):
    """Attendees matching FILTERS, in SORT order (name, organisation or arrival), with their check-in.

    FILTERS may hold q (words of name, organisation or e-mail, or a badge code), status
    (arrived, not_arrived, cancelled), organisation, session_id, room_id (inside now) and badge
    (printed, not_printed).
    """
    where, params = _where(db, filters)
    return list(
        db.query(
            f"""SELECT attendees.id, attendees.name, attendees.organisation, attendees.role, attendees.email,
                       attendees.status, presence.checked_in_at, presence.room_id
                FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
                WHERE {where}
                ORDER BY {SORTS.get(sort, SORTS['name'])}
                LIMIT ? OFFSET ?""",
            params + [limit, offset],
        )
    )


def count_attendees(db, filters):
    """How many attendees match FILTERS (as list_attendees)."""
    where, params = _where(db, filters)
    return db.execute(
        f"SELECT count(*) FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id WHERE {where}",
        params,
    ).fetchone()[0]


def organisations(db):
    """Every organisation attendees belong to, in order."""
    return [row[0] for row in db.execute("SELECT DISTINCT organisation FROM attendees WHERE event_id = ? ORDER BY organisation",
                                         [db.event_id])]


def session_options(db):
    """Every session's id, title and block name, in program order: the list's session filter."""
    return list(
        db.query(
            """SELECT sessions.id, sessions.title, blocks.name AS block_name
               FROM sessions JOIN blocks ON blocks.id = sessions.block_id
               WHERE blocks.event_id = ?
               ORDER BY blocks.starts_at, blocks.id, sessions.title""", [db.event_id]
        )
    )


def session_rows(db):
    """Every session people can choose, with its block and places (no counts: see sessions_for_choice)."""
    return list(
        db.query(
            """SELECT sessions.id, sessions.block_id, sessions.title, sessions.kind, sessions.place_limit,
                      rooms.capacity AS room_capacity, blocks.name AS block_name, blocks.starts_at
               FROM sessions JOIN blocks ON blocks.id = sessions.block_id
               LEFT JOIN rooms ON rooms.id = sessions.room_id
               WHERE blocks.event_id = ?
               ORDER BY blocks.starts_at, blocks.id, sessions.title""", [db.event_id]
        )
    )


def sessions_for_choice(db):
    """Every session people can choose, with its block, places and how many (not cancelled) chose it."""
    # All choices per session from the choices_session index alone, less those of cancelled
    # attendees (few): a join of every choice with its attendee took 300 ms at 50,000 attendees.
    chosen = dict(db.execute("SELECT session_id, count(*) FROM choices GROUP BY session_id").fetchall())
    for session_id, cancelled in db.execute(
        # CROSS JOIN keeps this order: the cancelled attendees first, then their choices by primary key.
        """SELECT choices.session_id, count(*) FROM attendees CROSS JOIN choices ON choices.attendee_id = attendees.id
           WHERE attendees.status = 'cancelled' GROUP BY choices.session_id"""
    ).fetchall():
        chosen[session_id] -= cancelled
    return [dict(session, registered=chosen.get(session["id"], 0)) for session in session_rows(db)]


def choices_of(db, attendee_id):
    """{block_id: session_id} of ATTENDEE_ID's choices."""
    return dict(db.execute("SELECT block_id, session_id FROM choices WHERE attendee_id = ?", [attendee_id]).fetchall())


def possible_duplicates(db, *, email, name, organisation, exclude=None):
    """Attendees with the same e-mail (any case), or the same name and organisation (folded), up to 10."""
    rows = []
    if email:
        rows += db.query(
            """SELECT id, name, organisation, email, status FROM attendees
               WHERE email = ? COLLATE NOCASE AND event_id = ? LIMIT 10""",
            [email, db.event_id],
        )
    folded_name, folded_organisation = fold(name), fold(organisation)
    if folded_name:
        # search_text starts with the folded name; the organisation is compared folded below.
        for row in db.query(
            """SELECT id, name, organisation, email, status FROM attendees
               WHERE search_text LIKE ? ESCAPE '\\' AND event_id = ? LIMIT 200""",
            [_like(folded_name), db.event_id],
        ):
            if fold(row["name"]) == folded_name and fold(row["organisation"]) == folded_organisation:
                rows.append(row)
    found = {}
    for row in rows:
        if row["id"] != exclude:
            found.setdefault(row["id"], row)
    return list(found.values())[:10]


def insert_attendee(db, values):
    """Insert an attendee (VALUES: name parts, name, email, organisation, role, search_text); returns the id."""
    now = now_utc()
    # Plain SQL, not sqlite-utils' insert (which reads the table's columns first): the public registration
    # form runs this inside its write transaction (benchmarks/bench_registration.py).
    columns = ("first_name", "name_prefix", "last_name", "name", "email", "organisation", "role", "search_text")
    return db.execute(
        f"""INSERT INTO attendees ({", ".join(columns)}, event_id, status, extra, created_at, updated_at)
            VALUES ({", ".join("?" * len(columns))}, ?, 'registered', '{{}}', ?, ?)""",
        [values.get(column, "" if column != "email" else None) for column in columns] + [db.event_id, now, now],
    ).lastrowid


def update_attendee(db, attendee_id, values):
    """Write VALUES (columns of attendees) to ATTENDEE_ID and stamp updated_at."""
    db["attendees"].update(attendee_id, dict(values, updated_at=now_utc()))


def set_status(db, attendee_id, status):
    """Mark ATTENDEE_ID registered or cancelled."""
    db.execute("UPDATE attendees SET status = ?, updated_at = ? WHERE id = ?", [status, now_utc(), attendee_id])


def replace_choices(db, attendee_id, chosen):
    """Make CHOSEN ({block_id: session_id}) ATTENDEE_ID's session choices."""
    db.execute("DELETE FROM choices WHERE attendee_id = ?", [attendee_id])
    db.conn.executemany(
        "INSERT INTO choices (attendee_id, block_id, session_id) VALUES (?, ?, ?)",
        [(attendee_id, block_id, session_id) for block_id, session_id in chosen.items()],
    )


def session_registered(db, session_id, *, exclude=None):
    """How many (not cancelled) attendees other than EXCLUDE chose SESSION_ID."""
    # The session's choices from the choices_session index alone, less the cancelled ones (few,
    # found through their partial index): a join of each choice with its attendee reads a table
    # row per choice, and this count runs inside every registration's write transaction.
    chosen = db.execute("SELECT count(*) FROM choices WHERE session_id = ?", [session_id]).fetchone()[0]
    cancelled = db.execute(
        """SELECT count(*) FROM attendees CROSS JOIN choices ON choices.attendee_id = attendees.id
           WHERE attendees.status = 'cancelled' AND choices.session_id = ?""", [session_id]).fetchone()[0]
    mine = db.execute(
        """SELECT count(*) FROM choices JOIN attendees ON attendees.id = choices.attendee_id
           WHERE choices.attendee_id = ? AND choices.session_id = ? AND attendees.status = 'registered'""",
        [exclude, session_id]).fetchone()[0] if exclude is not None else 0
    return chosen - cancelled - mine


def give_badge(db, attendee_id):
    """A first badge for ATTENDEE_ID; returns it."""
    return issue_badge(db, attendee_id)


def export_rows(db, attendee_ids):
    """The export's rows for ATTENDEE_IDS, in name order."""
    ids = sorted({int(i) for i in attendee_ids})[:100_000]
    return list(
        db.query(
            """SELECT attendees.registration_id, attendees.name, attendees.email, attendees.organisation,
                      attendees.role, attendees.status, presence.checked_in_at, rooms.name AS room
               FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
               LEFT JOIN rooms ON rooms.id = presence.room_id
               WHERE attendees.id IN (SELECT value FROM json_each(?)) AND attendees.event_id = ?
               ORDER BY attendees.last_name, attendees.first_name, attendees.id""",
            [json.dumps(ids), db.event_id],
        )
    )


def attendee_row(db, attendee_id):
    """ATTENDEE_ID's own columns, or None."""
    return one(db, "SELECT * FROM attendees WHERE id = ? AND event_id = ?", [attendee_id, db.event_id])
