"""Scans: the append-only check-in history, recorded with the presence and occupancy kept beside it.

Every function that writes takes the write lock first (BEGIN IMMEDIATE), reads the state,
decides the outcome, appends to `scans` and applies what that row does to `presence` and
`occupancy` (presence.apply_scan) in the same transaction, so two stations scanning one badge
at the same instant give one check-in and one "already".

Rooms are emptied by the schedule: when a block ends, each room whose session ended gets a
'clear' scan. Readers only count a due room as empty (schedule.due_rooms); the clear itself is
recorded at the start of every room write, inside its transaction (so no entry after a
session's end can land before that session's clear), and by clear_ended_sessions.
"""

import json
from datetime import timezone

from kiosk.data.badges import find_badge
from kiosk.data.event import get_event
from kiosk.data.presence import apply_scan, change_inside, get_presence, kept_state, replay  # noqa: F401 (re-exported)
from kiosk.data.rooms import nearest_with_places, room_counts
from kiosk.data.schedule import due_clears, room_sessions
from kiosk.db import immediate, now_utc
from kiosk.outcomes import Outcome


def record_scan(db, *, station=None, room_id=None, code=None, attendee_id=None, direction="in", client_scan_id=None,
                user_id=None, override=False, admit_cancelled=False, reason=None, now=None):
    """Check a badge in (or out) at STATION, or at the door of ROOM_ID by a user without a station
    (and with neither: at the entrance, by a user from the attendee's page); returns the answer as
    a dict with an Outcome.

    STATION is a dict with id, mode and room_id. Staff may pass ATTENDEE_ID instead of a CODE.
    ADMIT_CANCELLED lets staff let in a cancelled registration; REASON, kept with the scan, says why.
    A retry with the same CLIENT_SCAN_ID from the same station returns the first answer.
    """
    created_at = _stamp(now)
    station_id = station["id"] if station else None
    if station is not None:
        room_id = station["room_id"] if station["mode"] == "room" else None
    with immediate(db):
        if room_id is not None:
            _clear_due(db, now, created_at)
        if client_scan_id and station_id is not None:
            row = db.execute(
                "SELECT response FROM scans WHERE station_id = ? AND client_scan_id = ?", [station_id, client_scan_id]
            ).fetchone()
            if row:
                return dict(json.loads(row[0]), replayed=True)
        if attendee_id is not None:
            badge = _attendee_as_badge(db, attendee_id)
            scanned = badge["code"] if badge else None
        else:
            badge = find_badge(db, code)
            scanned = (code or "")[:64] if isinstance(code, str) else None
        presence = get_presence(db, badge["attendee_id"]) if badge is not None else None
        decided = _decide(db, badge, presence, direction, room_id, override, now, admit_cancelled)
        result = {
            "outcome": decided.pop("outcome"), "attendee": _attendee(badge), "direction": direction,
            "warning": decided.pop("warning", None), "room": None, **decided,
        }
        scan = {"kind": "scan", "direction": direction, "code": scanned, "attendee_id": badge and badge["attendee_id"],
                "room_id": room_id, "station_id": station_id, "user_id": user_id, "outcome": result["outcome"],
                "warning": result["warning"], "override": int(bool(result.get("override"))),
                "client_scan_id": client_scan_id, "created_at": created_at, "reason": (reason or None) and reason[:500]}
        scan["id"] = _insert(db, scan)
        apply_scan(db, scan, presence)
        result["scan_id"], result["scanned_at"] = scan["id"], created_at
        if room_id is not None:
            result["room"] = _room_state(db, room_id)
        db.execute("UPDATE scans SET response = ? WHERE id = ?", [json.dumps(result), scan["id"]])
    return result


def _insert(db, scan):
    columns = ", ".join(scan)
    marks = ", ".join("?" * len(scan))
    return db.execute(f"INSERT INTO scans ({columns}) VALUES ({marks})", list(scan.values())).lastrowid


def _attendee(badge):
    if badge is None:
        return None
    return {"id": badge["attendee_id"], "name": badge["name"], "organisation": badge["organisation"], "role": badge["role"]}


def _decide(db, badge, presence, direction, room_id, override, now, admit_cancelled=False):
    """The outcome of a scan of BADGE (and what the answer says beside it), from the state before it."""
    if badge is None:
        return {"outcome": Outcome.UNKNOWN}
    if badge["replaced_at"]:
        return {"outcome": Outcome.REPLACED}
    admitted = badge["status"] == "cancelled" and admit_cancelled and direction == "in"
    if badge["status"] == "cancelled" and not admitted and direction == "in":
        return {"outcome": Outcome.CANCELLED}
    if room_id is None:
        decided = _at_entrance(presence, direction)
    else:
        decided = _at_room_door(db, badge["attendee_id"], presence, direction, room_id, override, now)
    if admitted and decided["outcome"] == Outcome.CHECKED_IN:
        decided["override"] = True
    return decided


def _attendee_as_badge(db, attendee_id):
    rows = list(
        db.query(
            """SELECT badges.id AS badge_id, badges.code, badges.short_code, badges.replaced_at,
                      attendees.id AS attendee_id, attendees.name, attendees.organisation, attendees.role, attendees.status
               FROM attendees LEFT JOIN badges ON badges.attendee_id = attendees.id AND badges.replaced_at IS NULL
               WHERE attendees.id = ? AND attendees.event_id = ?""",
            [attendee_id, db.event_id],
        )
    )
    return rows[0] if rows else None


def _at_entrance(presence, direction):
    if direction == "out":
        return {"outcome": Outcome.CHECKED_OUT if presence else Outcome.NOT_INSIDE,
                "left_room_id": presence["room_id"] if presence else None}
    if presence:
        return {"outcome": Outcome.ALREADY, "checked_in_at": presence["checked_in_at"]}
    return {"outcome": Outcome.CHECKED_IN}


def _at_room_door(db, attendee_id, presence, direction, room_id, override, now):
    if direction == "out":
        inside = presence is not None and presence["room_id"] == room_id
        return {"outcome": Outcome.CHECKED_OUT if inside else Outcome.NOT_INSIDE, "left_room_id": room_id if inside else None}
    if presence and presence["room_id"] == room_id:
        return {"outcome": Outcome.ALREADY, "checked_in_at": presence["room_since"]}
    decided = {}
    room = _room_state(db, room_id)
    event = get_event(db)
    current, _next = room_sessions(db, room_id, event, now)
    if current is not None:
        decided["session"] = {"id": current["id"], "title": current["title"]}
        chosen = db.execute(
            "SELECT session_id FROM choices WHERE attendee_id = ? AND block_id = ?", [attendee_id, current["block_id"]]
        ).fetchone()
        if chosen is None or chosen[0] != current["id"]:
            decided["warning"] = "not_registered"
    if room["inside"] >= room["capacity"] and not override:
        return dict(decided, outcome=Outcome.FULL, warning=None,
                    alternative=nearest_with_places(db, event, room_id, now))
    if override and room["inside"] >= room["capacity"]:
        decided["override"] = True
    return dict(decided, outcome=Outcome.CHECKED_IN, left_room_id=presence["room_id"] if presence else None)


def _room_state(db, room_id):
    row = db.execute(
        """SELECT rooms.id, rooms.name, rooms.capacity, coalesce(occupancy.inside, 0), coalesce(occupancy.anonymous, 0)
           FROM rooms LEFT JOIN occupancy ON occupancy.room_id = rooms.id WHERE rooms.id = ?""",
        [room_id],
    ).fetchone()
    return room_counts(row)


def undo_scan(db, scan_id, *, user_id=None, station_id=None):
    """Take back a check-in (or a room entry) by appending an undo; returns the undo row's id or None."""
    with immediate(db):
        # Only a scan of DB's event: its attendee's (a check-in always has one).
        target = db.execute(
            """SELECT id, attendee_id, room_id, outcome, kind FROM scans
               WHERE id = ? AND EXISTS (SELECT 1 FROM attendees WHERE attendees.id = scans.attendee_id
                                         AND attendees.event_id = ?)""", [scan_id, db.event_id]
        ).fetchone()
        if target is None or target[3] != Outcome.CHECKED_IN or target[4] != "scan":
            return None
        if db.execute("SELECT 1 FROM scans WHERE undoes = ?", [scan_id]).fetchone():
            return None
        undo = {"created_at": now_utc(), "kind": "undo", "direction": "in", "attendee_id": target[1],
                "room_id": target[2], "station_id": station_id, "user_id": user_id, "outcome": Outcome.UNDONE,
                "undoes": scan_id}
        undo["id"] = _insert(db, undo)
        apply_scan(db, undo)
    return undo["id"]


def count_anonymous(db, room_id, delta, *, user_id=None, station_id=None, now=None):
    """+1 or -1 for a person without a badge, recorded as an anonymous scan; returns the room's counts."""
    created_at = _stamp(now)
    with immediate(db):
        _clear_due(db, now, created_at)
        room = _room_state(db, room_id)
        if delta < 0 and room["anonymous"] == 0:
            return dict(room, refused="no_anonymous")
        count = {"created_at": created_at, "kind": "anonymous", "direction": "in" if delta > 0 else "out",
                 "room_id": room_id, "station_id": station_id, "user_id": user_id, "outcome": Outcome.COUNTED}
        count["id"] = _insert(db, count)
        apply_scan(db, count)
        return _room_state(db, room_id)


def clear_room(db, room_id, *, user_id=None, station_id=None, now=None):
    """Move everyone still counted in ROOM_ID out (a session ended); returns how many were counted."""
    with immediate(db):
        return _clear(db, room_id, _stamp(now), user_id=user_id, station_id=station_id)


def _clear(db, room_id, at, *, user_id=None, station_id=None):
    counted = _room_state(db, room_id)["inside"]
    clear = {"created_at": at, "kind": "clear", "direction": "out", "room_id": room_id, "station_id": station_id,
             "user_id": user_id, "outcome": Outcome.CLEARED}
    clear["id"] = _insert(db, clear)
    apply_scan(db, clear)
    return counted


def clear_ended_sessions(db, *, now=None):
    """Empty each room whose latest session ended since the room's last clear; returns the room ids.

    Idempotent and cheap when nothing is due. The clear is recorded as a 'clear' scan without
    user or station: the schedule.
    """
    if not due_clears(db, now):
        return []
    at = _stamp(now)
    with immediate(db):
        return _clear_due(db, now, at)


def _clear_due(db, now, at):
    """Inside a write transaction: record the due clears at time AT; returns the room ids cleared."""
    cleared = []
    for room_id, _ended in due_clears(db, now):
        _clear(db, room_id, at)
        cleared.append(room_id)
    return cleared


def _stamp(now):
    return now_utc() if now is None else now.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def get_scan(db, scan_id):
    """One scan's row (kind, station, attendee, outcome, time and stored answer), or None."""
    rows = list(
        db.query(
            "SELECT id, kind, station_id, attendee_id, room_id, outcome, created_at, response FROM scans WHERE id = ?",
            [scan_id],
        )
    )
    return rows[0] if rows else None


def scan_answer_at_room(db, scan_id, room_id):
    """The stored answer (a dict) of scan SCAN_ID at ROOM_ID, or None."""
    row = db.execute("SELECT response FROM scans WHERE id = ? AND room_id = ?", [scan_id, room_id]).fetchone()
    return json.loads(row[0]) if row and row[0] else None
