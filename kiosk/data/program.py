"""The program's SQL for the organiser's pages: rooms, time blocks and sessions, and what uses each."""

from kiosk.db import one

TABLES = ("rooms", "blocks", "sessions")
# Each table's rows of DB's event: rooms and blocks have their own event_id, sessions their block's.
IN_EVENT = {
    "rooms": "event_id = ?",
    "blocks": "event_id = ?",
    "sessions": "block_id IN (SELECT id FROM blocks WHERE event_id = ?)",
}


def get(db, table, row_id):
    """One row of TABLE (rooms, blocks or sessions), or None."""
    if table not in TABLES:
        raise ValueError(table)
    return one(db, f"SELECT * FROM {table} WHERE id = ? AND {IN_EVENT[table]}", [row_id, db.event_id])


def rows(db, table):
    """Every row of TABLE (rooms, blocks or sessions)."""
    if table not in TABLES:
        raise ValueError(table)
    return list(db.query(f"SELECT * FROM {table} WHERE {IN_EVENT[table]} ORDER BY id", [db.event_id]))


def insert(db, table, values):
    """Insert VALUES into TABLE, in DB's event; returns the new id."""
    if table not in TABLES:
        raise ValueError(table)
    if table != "sessions":
        values = dict(values, event_id=db.event_id)
    return db[table].insert(values).last_pk


def update(db, table, row_id, values):
    """Write VALUES to row ROW_ID of TABLE."""
    if table not in TABLES:
        raise ValueError(table)
    db[table].update(row_id, values)


def add_occupancy(db, room_id):
    """The kept count of a new room: nobody inside."""
    db.execute("INSERT OR IGNORE INTO occupancy (room_id, inside, anonymous) VALUES (?, 0, 0)", [room_id])


def inside(db, room_id):
    """How many are counted inside ROOM_ID now."""
    row = db.execute("SELECT inside FROM occupancy WHERE room_id = ?", [room_id]).fetchone()
    return row[0] if row else 0


def room_uses(db, room_id):
    """What still refers to ROOM_ID: its sessions, stations and scans."""
    return {
        "sessions": db.execute("SELECT count(*) FROM sessions WHERE room_id = ?", [room_id]).fetchone()[0],
        "stations": db.execute("SELECT count(*) FROM stations WHERE room_id = ?", [room_id]).fetchone()[0],
        "scans": db.execute("SELECT count(*) FROM scans WHERE room_id = ?", [room_id]).fetchone()[0]
        + db.execute("SELECT count(*) FROM presence WHERE room_id = ?", [room_id]).fetchone()[0],
    }


def delete_room(db, room_id):
    """Remove ROOM_ID and its (empty) kept count."""
    db.execute("DELETE FROM occupancy WHERE room_id = ?", [room_id])
    db.execute("DELETE FROM rooms WHERE id = ?", [room_id])


def block_sessions(db, block_id):
    """How many sessions BLOCK_ID holds."""
    return db.execute("SELECT count(*) FROM sessions WHERE block_id = ?", [block_id]).fetchone()[0]


def delete_block(db, block_id):
    """Remove BLOCK_ID (it holds no sessions, so nobody chose anything in it)."""
    db.execute("DELETE FROM blocks WHERE id = ?", [block_id])


def chosen_by(db, session_id):
    """How many attendees (cancelled ones too) chose SESSION_ID."""
    return db.execute("SELECT count(*) FROM choices WHERE session_id = ?", [session_id]).fetchone()[0]


def delete_session(db, session_id):
    """Remove SESSION_ID (nobody chose it)."""
    db.execute("DELETE FROM sessions WHERE id = ?", [session_id])


def room_taken(db, block_id, room_id, *, exclude=None):
    """The title of a session or plenary other than EXCLUDE held in ROOM_ID during BLOCK_ID, or None."""
    row = db.execute(
        """SELECT title FROM sessions WHERE block_id = ? AND room_id = ? AND kind IN ('session', 'plenary')
           AND id IS NOT ?""",
        [block_id, room_id, exclude],
    ).fetchone()
    return row[0] if row else None
