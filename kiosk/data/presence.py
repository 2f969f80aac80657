"""What each scan does to presence and occupancy: the one definition of the check-in state machine's effects.

A scan's outcome is decided when it is recorded (scans.record_scan); apply_scan then turns the
stored row into changes of the `presence` and `occupancy` tables. replay() runs the same
apply_scan over the whole history into empty tables, so the kept state and a replay can only
differ when a write was lost or half done.
"""

import sqlite3

from sqlite_utils import Database

from kiosk.db import one
from kiosk.outcomes import Outcome

_UNREAD = object()


def apply_scan(db, scan, presence=_UNREAD):
    """Change presence and occupancy for SCAN, a `scans` row (a dict) just recorded or replayed.

    PRESENCE is the attendee's presence row when the caller has read it already in this transaction.
    """
    kind, outcome, attendee_id = scan["kind"], scan["outcome"], scan.get("attendee_id")
    if kind in ("scan", "undo") and presence is _UNREAD:
        presence = get_presence(db, attendee_id) if attendee_id is not None else None
    if kind == "scan" and outcome == Outcome.CHECKED_IN:
        _enter(db, scan, presence)
    elif kind == "scan" and outcome == Outcome.CHECKED_OUT:
        _leave(db, presence)
    elif kind == "anonymous":
        step = 1 if scan["direction"] == "in" else -1
        change_inside(db, scan["room_id"], step, anonymous=step)
    elif kind == "clear":
        db.execute("UPDATE presence SET room_id = NULL, room_since = NULL, room_scan_id = NULL WHERE room_id = ?",
                   [scan["room_id"]])
        db.execute("UPDATE occupancy SET inside = 0, anonymous = 0 WHERE room_id = ?", [scan["room_id"]])
    elif kind == "undo":
        _take_back(db, scan["undoes"], presence)


def _enter(db, scan, presence):
    """A check-in: at the entrance into the building, at a door into ROOM (out of the room before)."""
    room_id, at, scan_id = scan["room_id"], scan["created_at"], scan["id"]
    if presence is None:
        db.execute(
            """INSERT INTO presence (attendee_id, checked_in_at, checkin_scan_id, room_id, room_since, room_scan_id)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [scan["attendee_id"], at, scan_id, room_id, at if room_id else None, scan_id if room_id else None],
        )
    elif room_id is not None:
        if presence["room_id"] is not None:
            change_inside(db, presence["room_id"], -1)
        db.execute(
            "UPDATE presence SET room_id = ?, room_since = ?, room_scan_id = ? WHERE attendee_id = ?",
            [room_id, at, scan_id, scan["attendee_id"]],
        )
    if room_id is not None:
        change_inside(db, room_id, +1)


def _leave(db, presence):
    """A check-out: out of the room the attendee is in (still checked in at the building)."""
    if presence is None:
        return
    if presence["room_id"] is not None:
        change_inside(db, presence["room_id"], -1)
    db.execute("UPDATE presence SET room_id = NULL, room_since = NULL, room_scan_id = NULL WHERE attendee_id = ?",
               [presence["attendee_id"]])


def _take_back(db, scan_id, presence):
    """An undo of SCAN_ID: the check-in taken back entirely, or only the room entry."""
    if presence is None:
        return
    if presence["checkin_scan_id"] == scan_id:
        if presence["room_id"] is not None:
            change_inside(db, presence["room_id"], -1)
        db.execute("DELETE FROM presence WHERE attendee_id = ?", [presence["attendee_id"]])
    elif presence["room_scan_id"] == scan_id:
        _leave(db, presence)


def change_inside(db, room_id, delta, anonymous=0):
    """Add DELTA people (ANONYMOUS of them without a badge) to ROOM_ID's kept counts, never below 0."""
    db.execute(
        """INSERT INTO occupancy (room_id, inside, anonymous) VALUES (?, max(?, 0), max(?, 0))
           ON CONFLICT (room_id) DO UPDATE SET inside = max(inside + ?, 0), anonymous = max(anonymous + ?, 0)""",
        [room_id, delta, anonymous, delta, anonymous],
    )


def get_presence(db, attendee_id):
    """The attendee's presence row (checked in when, in which room since when), or None."""
    return one(db, "SELECT * FROM presence WHERE attendee_id = ?", [attendee_id])


def replay(db):
    """Presence and occupancy recomputed from the scan history alone (apply_scan into empty tables),
    in the shape of kept_state(), to check the kept state."""
    fresh = Database(sqlite3.connect(":memory:"))
    try:
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN ('presence', 'occupancy')"
        ).fetchall():
            fresh.execute(sql)
        for scan in db.query("SELECT * FROM scans ORDER BY id"):
            apply_scan(fresh, scan)
        return kept_state(fresh)
    finally:
        fresh.close()


def kept_state(db):
    """The presence and occupancy tables as {checked_in, rooms, inside, anonymous}."""
    return {
        "checked_in": {row[0] for row in db.execute("SELECT attendee_id FROM presence")},
        "rooms": dict(db.execute("SELECT attendee_id, room_id FROM presence WHERE room_id IS NOT NULL").fetchall()),
        "inside": dict(db.execute("SELECT room_id, inside FROM occupancy WHERE inside != 0").fetchall()),
        "anonymous": dict(db.execute("SELECT room_id, anonymous FROM occupancy WHERE anonymous != 0").fetchall()),
    }
