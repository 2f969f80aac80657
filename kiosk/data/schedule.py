"""The event's clock: which block and session runs when, and which rooms the schedule empties."""

import threading
from datetime import date, datetime, time, timezone

from kiosk.data.event import event_zone, get_event, local_now

SESSION_COLUMNS = """sessions.*, blocks.name AS block_name, blocks.starts_at, blocks.ends_at"""


def event_clock(event, now=None):
    """('HH:MM', on_event_day) at NOW; before the event day '00:00', after it '99:99'."""
    local = local_now(event, now)
    if event is None:
        return "00:00", False
    day = local.date().isoformat()
    if day == event["date"]:
        return local.strftime("%H:%M"), True
    return ("99:99" if day > event["date"] else "00:00"), False


def block_at(db, event, now=None):
    """The block running at NOW on the event day, or None."""
    clock, on_day = event_clock(event, now)
    if not on_day:
        return None
    rows = list(db.query("SELECT * FROM blocks WHERE starts_at <= ? AND ends_at > ? AND event_id = ? ORDER BY starts_at LIMIT 1",
                         [clock, clock, db.event_id]))
    return rows[0] if rows else None


def block_time_utc(event, hhmm):
    """The stored-timestamp form (ISO UTC) of local time HHMM on the event day."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    local = datetime.combine(date.fromisoformat(event["date"]), time(hours, minutes), tzinfo=event_zone(event))
    return local.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def room_sessions(db, room_id, event, now=None):
    """(current, next) session in ROOM_ID at NOW; each None when there is none."""
    return sessions_by_room(db, event, now, room_id=room_id).get(room_id, (None, None))


def sessions_by_room(db, event, now=None, *, room_id=None):
    """{room_id: (current, next)} for every room with a session still to come or running, in one read."""
    clock, on_day = event_clock(event, now)
    where, params = "sessions.room_id IS NOT NULL AND blocks.ends_at > ? AND blocks.event_id = ?", [clock, db.event_id]
    if room_id is not None:
        where, params = "sessions.room_id = ? AND blocks.ends_at > ? AND blocks.event_id = ?", [room_id, clock, db.event_id]
    rows = db.query(
        f"""SELECT {SESSION_COLUMNS} FROM sessions JOIN blocks ON blocks.id = sessions.block_id
            WHERE {where} ORDER BY blocks.starts_at, sessions.id""",
        params,
    )
    found = {}
    for row in rows:
        current, upcoming = found.get(row["room_id"], (None, None))
        if row["starts_at"] <= clock and current is None and on_day:
            current = row
        elif row["starts_at"] > clock and upcoming is None:
            upcoming = row
        found[row["room_id"]] = (current, upcoming)
    return found


def get_session(db, session_id):
    """One session with its block and room."""
    rows = list(
        db.query(
            f"""SELECT {SESSION_COLUMNS}, rooms.name AS room_name, rooms.capacity AS room_capacity
                FROM sessions JOIN blocks ON blocks.id = sessions.block_id
                LEFT JOIN rooms ON rooms.id = sessions.room_id WHERE sessions.id = ? AND blocks.event_id = ?""",
            [session_id, db.event_id],
        )
    )
    return rows[0] if rows else None


# (database file, room id, block end) already known to have a clear at or after that end.
# Only ever filled from what a committed read saw, so a rolled-back clear is retried.
_cleared_after = set()
_cleared_lock = threading.Lock()
_quiet = {}  # (database file, event id) -> (event date, minute) at which no clear was due
# (database file, event id) -> ((event date, minute, newest scan id), due): until a writer records the clears,
# every poll asks what is due; only a new scan (a clear is one) or a new minute changes the answer.
_due_seen = {}


def due_clears(db, now=None):
    """[(room_id, ended_at)] for rooms whose latest ended session has no clear since it ended.

    A read: the writers record these clears (scans.clear_ended_sessions and every room write);
    readers count a due room as empty. Cheap when nothing is due, or nothing has changed since
    the last ask (the newest scan id and the minute).
    """
    event = get_event(db)
    if event is None:
        return []
    clock, _on_day = event_clock(event, now)
    database = (db.execute("PRAGMA database_list").fetchone()[2], event["id"])
    # Which blocks have ended changes only when the clock's minute does; clears are never
    # taken back. So "nothing due" holds for the rest of the minute.
    quiet_key = (event["date"], clock)
    if _quiet.get(database) == quiet_key:
        return []
    seen_key = (*quiet_key, db.execute("SELECT max(id) FROM scans").fetchone()[0])
    seen = _due_seen.get(database)
    if seen is not None and seen[0] == seen_key:
        return list(seen[1])
    due = _find_due(db, event, clock, database)
    if not due:
        _quiet[database] = quiet_key
    elif not db.conn.in_transaction:  # what an uncommitted write saw may be rolled back
        _due_seen[database] = (seen_key, tuple(due))
    return due


def _find_due(db, event, clock, database):
    ended = db.execute(
        """SELECT sessions.room_id, max(blocks.ends_at) FROM sessions JOIN blocks ON blocks.id = sessions.block_id
           WHERE sessions.room_id IS NOT NULL AND blocks.ends_at <= ? AND blocks.event_id = ? GROUP BY sessions.room_id""",
        [clock, event["id"]],
    ).fetchall()
    due = []
    for room_id, ends_at in ended:
        ended_at = block_time_utc(event, ends_at)
        key = (database, room_id, ended_at)
        if key in _cleared_after:
            continue
        last = db.execute(
            "SELECT created_at FROM scans WHERE room_id = ? AND kind = 'clear' ORDER BY id DESC LIMIT 1", [room_id]
        ).fetchone()
        if last is not None and last[0] >= ended_at:
            with _cleared_lock:
                _cleared_after.add(key)
            continue
        due.append((room_id, ended_at))
    return due


def due_rooms(db, now=None):
    """The ids of the rooms due to be emptied at NOW, which readers count as empty."""
    return {room_id for room_id, _ended in due_clears(db, now)}
