"""Scans: the append-only check-in history and the presence and occupancy kept beside it.

Every function that writes takes the write lock first (BEGIN IMMEDIATE), reads the state,
appends to `scans` and updates `presence`/`occupancy` in the same transaction, so two
stations scanning one badge at the same instant give one check-in and one "already".

Rooms are emptied by the schedule: when a block ends, each room whose session ended gets a
'clear' scan. The check is idempotent and runs on the read path (rooms.occupancy) and at the
start of every room write, inside its transaction, so no entry after a session's end can
land before that session's clear.
"""

import json
import threading
from datetime import timezone

from kiosk.data.badges import find_badge
from kiosk.data.event import get_event
from kiosk.data.rooms import block_time_utc, event_clock, places_of, room_counts, room_sessions
from kiosk.db import immediate, now_utc, one

OUTCOMES = ("checked_in", "already", "unknown", "replaced", "cancelled", "full", "checked_out", "not_inside")


def record_scan(db, *, station, code=None, attendee_id=None, direction="in", client_scan_id=None, user_id=None, override=False, now=None):
    """Check a badge in (or out) at STATION; returns the answer as a dict (see OUTCOMES).

    STATION is a dict with id, mode and room_id. Staff may pass ATTENDEE_ID instead of a CODE.
    A retry with the same CLIENT_SCAN_ID from the same station returns the first answer.
    """
    created_at = _stamp(now)
    room_id = station["room_id"] if station["mode"] == "room" else None
    with immediate(db):
        if room_id is not None:
            _clear_due(db, now, created_at)
        if client_scan_id:
            row = db.execute(
                "SELECT response FROM scans WHERE station_id = ? AND client_scan_id = ?", [station["id"], client_scan_id]
            ).fetchone()
            if row:
                return dict(json.loads(row[0]), replayed=True)
        if attendee_id is not None:
            badge = _attendee_as_badge(db, attendee_id)
            scanned = badge["code"] if badge else None
        else:
            badge = find_badge(db, code)
            scanned = (code or "")[:64] if isinstance(code, str) else None
        result = {"outcome": None, "attendee": None, "direction": direction, "warning": None, "room": None}
        if badge is not None:
            result["attendee"] = {
                "id": badge["attendee_id"],
                "name": badge["name"],
                "organisation": badge["organisation"],
                "role": badge["role"],
            }
        presence = None
        if badge is None:
            result["outcome"] = "unknown"
        elif badge["replaced_at"]:
            result["outcome"] = "replaced"
        elif badge["status"] == "cancelled":
            result["outcome"] = "cancelled"
        else:
            presence = _presence(db, badge["attendee_id"])
            if room_id is None:
                _entrance(db, result, presence, direction)
            else:
                _room_door(db, result, presence, direction, room_id, override, now)
        scan_id = db.execute(
            """INSERT INTO scans (created_at, kind, direction, code, attendee_id, room_id, station_id, user_id,
                                  outcome, warning, override, client_scan_id)
               VALUES (?, 'scan', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                created_at,
                direction,
                scanned,
                badge["attendee_id"] if badge else None,
                room_id,
                station["id"],
                user_id,
                result["outcome"],
                result["warning"],
                int(bool(result.get("override"))),
                client_scan_id,
            ],
        ).lastrowid
        result["scan_id"] = scan_id
        result["scanned_at"] = created_at
        _apply(db, result, presence, room_id, scan_id, created_at)
        if room_id is not None:
            result["room"] = _room_state(db, room_id)
        db.execute("UPDATE scans SET response = ? WHERE id = ?", [json.dumps(result), scan_id])
    return result


def _attendee_as_badge(db, attendee_id):
    rows = list(
        db.query(
            """SELECT badges.id AS badge_id, badges.code, badges.short_code, badges.replaced_at,
                      attendees.id AS attendee_id, attendees.name, attendees.organisation, attendees.role, attendees.status
               FROM attendees LEFT JOIN badges ON badges.attendee_id = attendees.id AND badges.replaced_at IS NULL
               WHERE attendees.id = ?""",
            [attendee_id],
        )
    )
    return rows[0] if rows else None


def _presence(db, attendee_id):
    return one(db, "SELECT * FROM presence WHERE attendee_id = ?", [attendee_id])


def _entrance(db, result, presence, direction):
    if direction == "out":
        result["outcome"] = "checked_out" if presence else "not_inside"
        result["left_room_id"] = presence["room_id"] if presence else None
    elif presence:
        result["outcome"] = "already"
        result["checked_in_at"] = presence["checked_in_at"]
    else:
        result["outcome"] = "checked_in"


def _room_door(db, result, presence, direction, room_id, override, now):
    if direction == "out":
        inside = presence is not None and presence["room_id"] == room_id
        result["outcome"] = "checked_out" if inside else "not_inside"
        result["left_room_id"] = room_id if inside else None
        return
    if presence and presence["room_id"] == room_id:
        result["outcome"] = "already"
        result["checked_in_at"] = presence["room_since"]
        return
    room = _room_state(db, room_id)
    event = get_event(db)
    current, _next = room_sessions(db, room_id, event, now)
    if current is not None:
        result["session"] = {"id": current["id"], "title": current["title"]}
        chosen = db.execute(
            "SELECT session_id FROM choices WHERE attendee_id = ? AND block_id = ?",
            [result["attendee"]["id"], current["block_id"]],
        ).fetchone()
        if chosen is None or chosen[0] != current["id"]:
            result["warning"] = "not_registered"
    if room["inside"] >= room["capacity"] and not override:
        result["outcome"] = "full"
        result["warning"] = None
        result["alternative"] = nearest_with_places(db, event, room_id, now)
        return
    result["outcome"] = "checked_in"
    result["left_room_id"] = presence["room_id"] if presence else None
    if override and room["inside"] >= room["capacity"]:
        result["override"] = True


def _apply(db, result, presence, room_id, scan_id, at):
    """Update presence and occupancy for what RESULT says happened."""
    outcome = result["outcome"]
    if outcome not in ("checked_in", "checked_out"):
        return
    attendee_id = result["attendee"]["id"]
    left = result.get("left_room_id")
    if left is not None:
        _change_inside(db, left, -1)
    if outcome == "checked_out":
        db.execute("UPDATE presence SET room_id = NULL, room_since = NULL, room_scan_id = NULL WHERE attendee_id = ?", [attendee_id])
        return
    if presence is None:
        db.execute(
            """INSERT INTO presence (attendee_id, checked_in_at, checkin_scan_id, room_id, room_since, room_scan_id)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [attendee_id, at, scan_id, room_id, at if room_id else None, scan_id if room_id else None],
        )
    elif room_id is not None:
        db.execute(
            "UPDATE presence SET room_id = ?, room_since = ?, room_scan_id = ? WHERE attendee_id = ?",
            [room_id, at, scan_id, attendee_id],
        )
    if room_id is not None:
        _change_inside(db, room_id, +1)


def _change_inside(db, room_id, delta, anonymous=0):
    db.execute(
        """INSERT INTO occupancy (room_id, inside, anonymous) VALUES (?, max(?, 0), max(?, 0))
           ON CONFLICT (room_id) DO UPDATE SET inside = max(inside + ?, 0), anonymous = max(anonymous + ?, 0)""",
        [room_id, delta, anonymous, delta, anonymous],
    )


def _room_state(db, room_id):
    row = db.execute(
        """SELECT rooms.id, rooms.name, rooms.capacity, coalesce(occupancy.inside, 0), coalesce(occupancy.anonymous, 0)
           FROM rooms LEFT JOIN occupancy ON occupancy.room_id = rooms.id WHERE rooms.id = ?""",
        [room_id],
    ).fetchone()
    return room_counts(row)


def nearest_with_places(db, event, full_room_id, now=None):
    """The session elsewhere with the most places left, in the block the full room is in (else the next one).

    Returns {"session", "room", "places_left", ...} or None; places_left is None for a session without a limit.
    """
    clock, _on_day = event_clock(event, now)
    current, upcoming = room_sessions(db, full_room_id, event, now)
    target = current or upcoming
    if target is not None:
        block_start = target["starts_at"]
    else:
        row = db.execute("SELECT min(starts_at) FROM blocks WHERE ends_at > ?", [clock]).fetchone()
        block_start = row[0] if row else None
    if block_start is None:
        return None
    rows = db.query(
        """SELECT sessions.id, sessions.title, sessions.place_limit, rooms.id AS room_id, rooms.name AS room_name,
                  rooms.location, rooms.capacity AS room_capacity, coalesce(occupancy.inside, 0) AS inside,
                  blocks.starts_at
           FROM sessions JOIN rooms ON rooms.id = sessions.room_id
           JOIN blocks ON blocks.id = sessions.block_id
           LEFT JOIN occupancy ON occupancy.room_id = rooms.id
           WHERE rooms.id != ? AND sessions.kind IN ('session', 'plenary') AND blocks.starts_at = ?""",
        [full_room_id, block_start],
    )
    candidates = []
    for row in rows:
        places = places_of(row)
        left = max(places - row["inside"], 0) if places is not None else None
        if left == 0:
            continue
        candidates.append({
            "session": row["title"], "room": row["room_name"], "places_left": left,
            "session_id": row["id"], "room_id": row["room_id"], "location": row["location"], "starts_at": row["starts_at"],
        })
    candidates.sort(key=lambda c: (c["places_left"] is not None, -(c["places_left"] or 0), c["room"]))
    return candidates[0] if candidates else None


def undo_scan(db, scan_id, *, user_id=None, station_id=None):
    """Take back a check-in (or a room entry) by appending an undo; returns the undo row's id or None."""
    with immediate(db):
        target = db.execute(
            "SELECT id, attendee_id, room_id, outcome, kind FROM scans WHERE id = ?", [scan_id]
        ).fetchone()
        if target is None or target[3] != "checked_in" or target[4] != "scan":
            return None
        if db.execute("SELECT 1 FROM scans WHERE undoes = ?", [scan_id]).fetchone():
            return None
        undo_id = db.execute(
            """INSERT INTO scans (created_at, kind, direction, attendee_id, room_id, station_id, user_id, outcome, undoes)
               VALUES (?, 'undo', 'in', ?, ?, ?, ?, 'undone', ?)""",
            [now_utc(), target[1], target[2], station_id, user_id, scan_id],
        ).lastrowid
        _apply_undo(db, scan_id, target[1])
    return undo_id


def _apply_undo(db, scan_id, attendee_id):
    presence = _presence(db, attendee_id)
    if presence is None:
        return
    if presence["checkin_scan_id"] == scan_id:
        if presence["room_id"] is not None:
            _change_inside(db, presence["room_id"], -1)
        db.execute("DELETE FROM presence WHERE attendee_id = ?", [attendee_id])
    elif presence["room_scan_id"] == scan_id:
        _change_inside(db, presence["room_id"], -1)
        db.execute("UPDATE presence SET room_id = NULL, room_since = NULL, room_scan_id = NULL WHERE attendee_id = ?", [attendee_id])


def count_anonymous(db, room_id, delta, *, user_id=None, station_id=None, now=None):
    """+1 or -1 for a person without a badge, recorded as an anonymous scan; returns the room's counts."""
    created_at = _stamp(now)
    with immediate(db):
        _clear_due(db, now, created_at)
        room = _room_state(db, room_id)
        if delta < 0 and room["anonymous"] == 0:
            return dict(room, refused="no_anonymous")
        db.execute(
            """INSERT INTO scans (created_at, kind, direction, room_id, station_id, user_id, outcome)
               VALUES (?, 'anonymous', ?, ?, ?, ?, 'counted')""",
            [created_at, "in" if delta > 0 else "out", room_id, station_id, user_id],
        )
        _change_inside(db, room_id, 1 if delta > 0 else -1, anonymous=1 if delta > 0 else -1)
        return _room_state(db, room_id)


def clear_room(db, room_id, *, user_id=None, station_id=None, now=None):
    """Move everyone still counted in ROOM_ID out (a session ended); returns how many were counted."""
    with immediate(db):
        return _clear(db, room_id, _stamp(now), user_id=user_id, station_id=station_id)


def _clear(db, room_id, at, *, user_id=None, station_id=None):
    room = _room_state(db, room_id)
    db.execute(
        """INSERT INTO scans (created_at, kind, direction, room_id, station_id, user_id, outcome)
           VALUES (?, 'clear', 'out', ?, ?, ?, 'cleared')""",
        [at, room_id, station_id, user_id],
    )
    db.execute("UPDATE presence SET room_id = NULL, room_since = NULL, room_scan_id = NULL WHERE room_id = ?", [room_id])
    db.execute("UPDATE occupancy SET inside = 0, anonymous = 0 WHERE room_id = ?", [room_id])
    return room["inside"]


# (database file, room id, block end) already known to have a clear at or after that end.
# Only ever filled from what a committed read saw, so a rolled-back clear is retried.
_cleared_after = set()
_cleared_lock = threading.Lock()
_quiet = {}  # database file -> (event date, minute) at which no clear was due


def clear_ended_sessions(db, *, now=None):
    """Empty each room whose latest session ended since the room's last clear; returns the room ids.

    Idempotent and cheap when nothing is due (a set lookup per room), so it runs on every
    occupancy read. The clear is recorded as a 'clear' scan without user or station: the schedule.
    """
    if not _due(db, now):
        return []
    at = _stamp(now)
    with immediate(db):
        return _clear_due(db, now, at)


def _clear_due(db, now, at):
    """Inside a write transaction: record the due clears at time AT; returns the room ids cleared."""
    cleared = []
    for room_id, _ended in _due(db, now):
        _clear(db, room_id, at)
        cleared.append(room_id)
    return cleared


def _due(db, now):
    """[(room_id, ended_at)] for rooms whose latest ended session has no clear since it ended."""
    event = get_event(db)
    if event is None:
        return []
    clock, _on_day = event_clock(event, now)
    database = db.execute("PRAGMA database_list").fetchone()[2]
    # Which blocks have ended changes only when the clock's minute does; clears are never
    # taken back. So "nothing due" holds for the rest of the minute.
    quiet_key = (event["date"], clock)
    if _quiet.get(database) == quiet_key:
        return []
    ended = db.execute(
        """SELECT sessions.room_id, max(blocks.ends_at) FROM sessions JOIN blocks ON blocks.id = sessions.block_id
           WHERE sessions.room_id IS NOT NULL AND blocks.ends_at <= ? GROUP BY sessions.room_id""",
        [clock],
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
    if not due:
        _quiet[database] = quiet_key
    return due


def _stamp(now):
    return now_utc() if now is None else now.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def replay(db):
    """Presence and occupancy recomputed from the scan history alone, to check the kept state."""
    presence, inside, anonymous = {}, {}, {}

    def leave(attendee_id):
        room = presence[attendee_id]["room_id"]
        if room is not None:
            inside[room] = inside.get(room, 0) - 1
        presence[attendee_id].update(room_id=None, room_scan_id=None)

    for scan in db.query("SELECT * FROM scans ORDER BY id"):
        kind, attendee, room = scan["kind"], scan["attendee_id"], scan["room_id"]
        if kind == "scan" and scan["outcome"] == "checked_in":
            if attendee not in presence:
                presence[attendee] = {"checkin_scan_id": scan["id"], "room_id": None, "room_scan_id": None}
            if room is not None:
                leave(attendee)
                presence[attendee].update(room_id=room, room_scan_id=scan["id"])
                inside[room] = inside.get(room, 0) + 1
        elif kind == "scan" and scan["outcome"] == "checked_out" and attendee in presence:
            leave(attendee)
        elif kind == "anonymous":
            step = 1 if scan["direction"] == "in" else -1
            inside[room] = inside.get(room, 0) + step
            anonymous[room] = anonymous.get(room, 0) + step
        elif kind == "clear":
            for state in presence.values():
                if state["room_id"] == room:
                    state.update(room_id=None, room_scan_id=None)
            inside[room] = 0
            anonymous[room] = 0
        elif kind == "undo" and attendee in presence:
            state = presence[attendee]
            if state["checkin_scan_id"] == scan["undoes"]:
                leave(attendee)
                del presence[attendee]
            elif state["room_scan_id"] == scan["undoes"]:
                leave(attendee)
    return {
        "checked_in": set(presence),
        "rooms": {attendee: state["room_id"] for attendee, state in presence.items() if state["room_id"] is not None},
        "inside": {room: count for room, count in inside.items() if count},
        "anonymous": {room: count for room, count in anonymous.items() if count},
    }


def kept_state(db):
    """The presence and occupancy tables in the same shape as replay()."""
    return {
        "checked_in": {row[0] for row in db.execute("SELECT attendee_id FROM presence")},
        "rooms": dict(db.execute("SELECT attendee_id, room_id FROM presence WHERE room_id IS NOT NULL").fetchall()),
        "inside": dict(db.execute("SELECT room_id, inside FROM occupancy WHERE inside != 0").fetchall()),
        "anonymous": dict(db.execute("SELECT room_id, anonymous FROM occupancy WHERE anonymous != 0").fetchall()),
    }


def recent_scans(db, *, station_id=None, room_id=None, limit=10):
    """The latest scans at a station or room, newest first, with names."""
    where, params = [], []
    if station_id is not None:
        where.append("scans.station_id = ?")
        params.append(station_id)
    if room_id is not None:
        where.append("scans.room_id = ?")
        params.append(room_id)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    return list(
        db.query(
            f"""SELECT scans.id, scans.created_at, scans.kind, scans.outcome, scans.direction, scans.warning,
                       scans.override, attendees.name, attendees.organisation,
                       EXISTS (SELECT 1 FROM scans AS u WHERE u.undoes = scans.id) AS undone
                FROM scans LEFT JOIN attendees ON attendees.id = scans.attendee_id
                {clause} ORDER BY scans.id DESC LIMIT ?""",
            params + [limit],
        )
    )


def get_scan(db, scan_id):
    """One scan's row (kind, station, attendee, outcome, time and stored answer), or None."""
    rows = list(
        db.query(
            "SELECT id, kind, station_id, attendee_id, room_id, outcome, created_at, response FROM scans WHERE id = ?",
            [scan_id],
        )
    )
    return rows[0] if rows else None
