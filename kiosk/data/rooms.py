"""Rooms, the program in time blocks, and live occupancy against capacity.

Readers never write: a room the schedule is due to empty (schedule.due_rooms) is counted as
empty here until a writer records its clear (scans.clear_ended_sessions, or the next room write).
"""

from time import monotonic as time_monotonic

from kiosk.data.event import get_event, local_now
from kiosk.data.schedule import (SESSION_COLUMNS, block_at, due_rooms, event_clock, get_session, room_sessions,
                                 sessions_by_room)
from kiosk.outcomes import Outcome

BUSY_PERCENT = 80  # amber from here
ALERT_PERCENT = 90  # the first capacity alert
LATEST_IN = 8  # names on the host tablet
LOOK_BACK = 500  # scans at a door searched for them


def list_rooms(db):
    return list(db.query("SELECT * FROM rooms WHERE event_id = ? ORDER BY name", [db.event_id]))


def get_room(db, room_id):
    rows = list(db.query("SELECT * FROM rooms WHERE id = ? AND event_id = ?", [room_id, db.event_id]))
    return rows[0] if rows else None


def list_blocks(db):
    return list(db.query("SELECT * FROM blocks WHERE event_id = ? ORDER BY starts_at, id", [db.event_id]))


def program(db):
    """Every block with its sessions, their room, place limit and how many chose them."""
    sessions = list(
        db.query(
            """SELECT sessions.*, rooms.name AS room_name, rooms.capacity AS room_capacity,
                      (SELECT count(*) FROM choices JOIN attendees ON attendees.id = choices.attendee_id
                        WHERE choices.session_id = sessions.id AND attendees.status = 'registered') AS registered
               FROM sessions LEFT JOIN rooms ON rooms.id = sessions.room_id
               WHERE sessions.block_id IN (SELECT id FROM blocks WHERE event_id = ?)
               ORDER BY sessions.block_id, sessions.kind != 'plenary', sessions.title""", [db.event_id]
        )
    )
    blocks = list_blocks(db)
    by_block = {block["id"]: dict(block, sessions=[]) for block in blocks}
    for session in sessions:
        session["places"] = places_of(session)
        session["full"] = session["places"] is not None and session["registered"] >= session["places"]
        by_block[session["block_id"]]["sessions"].append(session)
    return list(by_block.values())


def places_of(session):
    """How many people a session can hold: its own limit, else its room's capacity, else None."""
    limits = [value for value in (session.get("place_limit"), session.get("room_capacity")) if value is not None]
    return min(limits) if limits else None


def room_counts(row):
    """The counts a host reads, from (id, name, capacity, inside, anonymous[, has_exit_scan])."""
    room_id, name, capacity, inside, anonymous = row[:5]
    places_left = max(capacity - inside, 0)
    percent = round(100 * inside / capacity) if capacity else 100
    level = "full" if inside >= capacity else ("busy" if percent >= BUSY_PERCENT else "ok")
    # Exact integer comparison: 89.6% rounds to 90 but has not reached it.
    alert = "full" if level == "full" else ("90" if inside * 100 >= capacity * ALERT_PERCENT else None)
    counts = {
        "id": room_id,
        "name": name,
        "capacity": capacity,
        "inside": inside,
        "anonymous": anonymous,
        "places_left": places_left,
        "percent": percent,
        "level": level,
        "alert": alert,
    }
    if len(row) > 5:
        counts["has_exit_scan"] = bool(row[5])
    return counts


_COUNTS_SQL = """SELECT rooms.id, rooms.name, rooms.capacity, coalesce(occupancy.inside, 0),
                        coalesce(occupancy.anonymous, 0), rooms.has_exit_scan
                 FROM rooms LEFT JOIN occupancy ON occupancy.room_id = rooms.id"""


def occupancy(db, now=None, *, schedule=True):
    """Inside now, capacity, places left, percent and level for every room, in one indexed read.

    With SCHEDULE, a room whose session ended is counted as emptied even before its clear is
    recorded, so every reader, the JSON API included, sees what is real after a block ends.
    """
    due = due_rooms(db, now) if schedule else set()
    return [_counts(row, due) for row in db.execute(_COUNTS_SQL + " WHERE rooms.event_id = ? ORDER BY rooms.name",
                                                     [db.event_id]).fetchall()]


def room_occupancy(db, room_id, now=None, *, schedule=True):
    """The counts of one room, or None (a room due to be emptied counts as empty, with SCHEDULE)."""
    return _room_occupancy(db, room_id, due_rooms(db, now) if schedule else set())


def _room_occupancy(db, room_id, due):
    row = db.execute(_COUNTS_SQL + " WHERE rooms.id = ? AND rooms.event_id = ?", [room_id, db.event_id]).fetchone()
    return _counts(row, due) if row else None


def _counts(row, due):
    """room_counts of ROW, with nobody inside when the room is in DUE (its clear is due)."""
    if row[0] in due:
        row = (*row[:3], 0, 0, *row[5:])
    return room_counts(row)


# Registrations change with an import or a cancellation, not with scans, yet live views
# read them on every change of a room: they are kept per process for REGISTERED_TTL seconds.
REGISTERED_TTL = 30
_registered = {}


def registered_counts(db, session_ids, *, fresh=False):
    """{session_id: attendees (not cancelled) who chose it}; up to REGISTERED_TTL seconds old unless FRESH."""
    session_ids = [sid for sid in session_ids if sid is not None]
    if not session_ids:
        return {}
    database = db.execute("PRAGMA database_list").fetchone()[2]
    now = time_monotonic()
    found = {}
    for sid in session_ids:
        kept = None if fresh else _registered.get((database, sid))
        if kept is not None and now - kept[0] < REGISTERED_TTL:
            found[sid] = kept[1]
    missing = [sid for sid in session_ids if sid not in found]
    if missing:
        marks = ",".join("?" * len(missing))
        counts = dict(
            db.execute(
                f"""SELECT choices.session_id, count(*) FROM choices JOIN attendees ON attendees.id = choices.attendee_id
                    WHERE choices.session_id IN ({marks}) AND attendees.status = 'registered'
                    GROUP BY choices.session_id""",
                missing,
            ).fetchall()
        )
        for sid in missing:
            found[sid] = counts.get(sid, 0)
            _registered[(database, sid)] = (now, found[sid])
    return found


def registered_inside(db, sessions, due=frozenset()):
    """{session_id: people inside the session's room now who chose that session}, for SESSIONS (dicts);
    nobody for a room in DUE (due to be emptied)."""
    found = {}
    for session in sessions:
        if session is None or session.get("room_id") is None:
            continue
        if session["room_id"] in due:
            found[session["id"]] = 0
            continue
        found[session["id"]] = db.execute(
            """SELECT count(*) FROM presence JOIN choices
                 ON choices.attendee_id = presence.attendee_id AND choices.block_id = ? AND choices.session_id = ?
               WHERE presence.room_id = ?""",
            [session["block_id"], session["id"], session["room_id"]],
        ).fetchone()[0]
    return found


def room_version(db, room_id, now=None):
    """A short string that changes whenever what the room's live views show changes.

    Built from the kept counts, the newest scan at the room and the current and next session,
    so a poll of an unchanged room costs two index lookups and no rendering.
    """
    due = due_rooms(db, now)
    event = get_event(db)
    return _version(db, room_id, due, lambda: room_sessions(db, room_id, event, now),
                    lambda: nearest_with_places(db, event, room_id, now, due=due))


def _version(db, room_id, due, sessions, alternative):
    """room_version from SESSIONS() -> (current, next) and ALTERNATIVE(), called only when needed,
    so room_live can hand over what it has read already; a room in DUE counts as empty."""
    # The newest audit line stands for the organiser's latest change (a session renamed or moved,
    # a room's name or exit scanning): every change on the program pages writes one.
    row = db.execute(
        """SELECT coalesce(occupancy.inside, 0), coalesce(occupancy.anonymous, 0), rooms.capacity,
                  (SELECT max(id) FROM scans WHERE scans.room_id = rooms.id), (SELECT max(id) FROM audit_log)
           FROM rooms LEFT JOIN occupancy ON occupancy.room_id = rooms.id WHERE rooms.id = ? AND rooms.event_id = ?""",
        [room_id, db.event_id],
    ).fetchone()
    if row is None:
        return None
    if room_id in due:
        row = (0, 0, *row[2:])
    current, upcoming = sessions()
    parts = [*row, current and current["id"], upcoming and upcoming["id"]]
    if row[0] * 100 >= row[2] * ALERT_PERCENT:
        # The alert names the session elsewhere with the most places and how many it has left.
        # That, not every scan anywhere, is what changes it: a busy event re-rendered each
        # alerting room's tablets after every scan in every other room.
        found = alternative()
        parts.append(f"{found['session_id']}:{found['places_left']}" if found else "none")
    return "-".join("" if part is None else str(part) for part in parts)


def wall_version(db, now=None):
    """A short string that changes whenever anything on the organiser wall changes."""
    event = get_event(db)
    clock, _on_day = event_clock(event, now)
    newest, changed = db.execute("SELECT (SELECT max(id) FROM scans), (SELECT max(id) FROM audit_log)").fetchone()
    # Sessions (and the rooms the schedule empties) change at block edges only; the minute is a
    # cheap stand-in for that. An organiser's change (a capacity, a session moved) writes an
    # audit line, so the wall shows it at the next poll.
    return f"{newest or 0}-{changed or 0}-{clock}"


def latest_in(db, room_id, limit=LATEST_IN):
    """The latest people let into ROOM_ID, newest first, with any warning, override or undo."""
    # A full room collects refusals: look back over its last LOOK_BACK scans at most.
    bound = db.execute(
        "SELECT id FROM scans WHERE room_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?", [room_id, LOOK_BACK]
    ).fetchone()
    return list(
        db.query(
            """SELECT scans.id, scans.created_at, scans.warning, scans.override, attendees.name, attendees.organisation,
                      -- An undo carries its target's attendee and comes after it (see scans_undoes).
                      EXISTS (SELECT 1 FROM scans AS u WHERE u.attendee_id = scans.attendee_id AND u.id > scans.id
                              AND u.undoes = scans.id) AS undone
               FROM scans JOIN attendees ON attendees.id = scans.attendee_id
               WHERE scans.room_id = ? AND scans.id >= ?
                 AND scans.kind = 'scan' AND scans.outcome = ? AND scans.direction = 'in'
               ORDER BY scans.id DESC LIMIT ?""",
            [room_id, bound[0] if bound else 0, Outcome.CHECKED_IN, limit],
        )
    )


def room_live(db, room_id, now=None):
    """Everything the host tablet shows for ROOM_ID: counts, sessions, registrations, alert, latest in."""
    due = due_rooms(db, now)
    room = _room_occupancy(db, room_id, due)
    if room is None:
        return None
    event = get_event(db)
    current, upcoming = room_sessions(db, room_id, event, now)
    room["current"], room["next"] = current, upcoming
    _add_registrations(db, [room], due)
    room["alternative"] = nearest_with_places(db, event, room_id, now, due=due) if room["alert"] else None
    room["latest"] = latest_in(db, room_id)
    # From what was read above: the schedule check, sessions and alternative are not read twice.
    room["version"] = _version(db, room_id, due, lambda: (current, upcoming), lambda: room["alternative"])
    return room


def _add_registrations(db, rooms, due):
    currents = [room["current"] for room in rooms if room.get("current")]
    registered = registered_counts(db, [session["id"] for session in currents])
    inside = registered_inside(db, currents, due)
    for room in rooms:
        current = room.get("current")
        room["registered"] = registered.get(current["id"]) if current else None
        room["registered_inside"] = inside.get(current["id"]) if current else None
        room["walk_ins"] = room["inside"] - room["anonymous"] - room["registered_inside"] if current else None


def wall(db, now=None):
    """Every room for the organiser wall, grouped: sessions of the block running now, then the rest by next start."""
    due = due_rooms(db, now)
    rooms = occupancy(db, now)  # the due clears are read once a minute (schedule.due_clears)
    event = get_event(db)
    sessions = sessions_by_room(db, event, now)
    for room in rooms:
        room["current"], room["next"] = sessions.get(room["id"], (None, None))
    _add_registrations(db, rooms, due)
    for room in rooms:
        room["alternative"] = nearest_with_places(db, event, room["id"], now, due=due) if room["alert"] else None
    block = block_at(db, event, now)
    now_rooms = sorted((room for room in rooms if room["current"]), key=lambda room: room["name"])
    later = sorted(
        (room for room in rooms if not room["current"]),
        key=lambda room: ((room["next"] or {}).get("starts_at") or "99:99", room["name"]),
    )
    upcoming = None
    if later and later[0]["next"]:
        upcoming = {"name": later[0]["next"]["block_name"], "starts_at": later[0]["next"]["starts_at"]}
    checked_in = db.execute("SELECT count(*) FROM presence JOIN attendees ON attendees.id = presence.attendee_id "
                            "WHERE attendees.event_id = ?", [db.event_id]).fetchone()[0]
    return {
        "block": block,
        "now_rooms": now_rooms,
        "later_rooms": later,
        "upcoming_block": upcoming,
        "checked_in": checked_in,
        "in_rooms": sum(room["inside"] for room in rooms),
        "version": wall_version(db, now),
        "clock": local_now(event, now).strftime("%H:%M"),
    }


def session_attendance(db, session_id, now=None):
    """Who is inside the session's room now and who registered for it but is not there, or None."""
    session = get_session(db, session_id)
    if session is None:
        return None
    event = get_event(db)
    due = due_rooms(db, now)
    room = _room_occupancy(db, session["room_id"], due) if session["room_id"] else None
    current = None
    if room:
        current, _next = room_sessions(db, session["room_id"], event, now)
    inside = []
    if room and room["id"] not in due:
        inside = list(
            db.query(
                """SELECT attendees.id, attendees.name, attendees.organisation, presence.room_since,
                          choices.session_id = :session AS registered
                   FROM presence JOIN attendees ON attendees.id = presence.attendee_id
                   LEFT JOIN choices ON choices.attendee_id = presence.attendee_id AND choices.block_id = :block
                   WHERE presence.room_id = :room
                   ORDER BY attendees.last_name, attendees.name""",
                {"session": session_id, "block": session["block_id"], "room": session["room_id"]},
            )
        )
    missing = _missing(db, session, due)
    registered = registered_counts(db, [session_id], fresh=True)[session_id]
    return {
        "session": session,
        "room": room,
        "running": current is not None and current["id"] == session_id,
        "inside": inside,
        "registered": registered,
        "registered_inside": sum(1 for person in inside if person["registered"]),
        "missing": missing,
        "places": places_of(session),
    }


def _missing(db, session, due):
    """Registered for SESSION and not inside its room, with where each is now (rooms in DUE count as empty)."""
    missing = []
    for person in db.query(
        """SELECT attendees.id, attendees.name, attendees.organisation,
                  presence.attendee_id IS NOT NULL AS checked_in, rooms.name AS where_now, presence.room_id
           FROM choices JOIN attendees ON attendees.id = choices.attendee_id
           LEFT JOIN presence ON presence.attendee_id = attendees.id
           LEFT JOIN rooms ON rooms.id = presence.room_id
           WHERE choices.session_id = ? AND attendees.status = 'registered'
           ORDER BY attendees.last_name, attendees.name""",
        [session["id"]],
    ):
        room_id = person.pop("room_id")
        if room_id in due:
            room_id = person["where_now"] = None
        if session["room_id"] is None or room_id != session["room_id"]:
            missing.append(person)
    return missing


def nearest_with_places(db, event, full_room_id, now=None, *, due=frozenset()):
    """The session elsewhere with the most places left, in the block the full room is in (else the next one).

    Returns {"session", "room", "places_left", ...} or None; places_left is None for a session without a
    limit. A room in DUE (due to be emptied) counts as empty.
    """
    clock, _on_day = event_clock(event, now)
    current, upcoming = room_sessions(db, full_room_id, event, now)
    target = current or upcoming
    if target is not None:
        block_start = target["starts_at"]
    else:
        block_start = db.execute("SELECT min(starts_at) FROM blocks WHERE ends_at > ? AND event_id = ?",
                                 [clock, db.event_id]).fetchone()[0]
    if block_start is None:
        return None
    rows = db.query(
        """SELECT sessions.id, sessions.title, sessions.place_limit, rooms.id AS room_id, rooms.name AS room_name,
                  rooms.location, rooms.capacity AS room_capacity, coalesce(occupancy.inside, 0) AS inside,
                  blocks.starts_at
           FROM sessions JOIN rooms ON rooms.id = sessions.room_id
           JOIN blocks ON blocks.id = sessions.block_id
           LEFT JOIN occupancy ON occupancy.room_id = rooms.id
           WHERE rooms.id != ? AND sessions.kind IN ('session', 'plenary') AND blocks.starts_at = ? AND blocks.event_id = ?""",
        [full_room_id, block_start, db.event_id],
    )
    candidates = []
    for row in rows:
        places = places_of(row)
        inside = 0 if row["room_id"] in due else row["inside"]
        left = max(places - inside, 0) if places is not None else None
        if left == 0:
            continue
        candidates.append({
            "session": row["title"], "room": row["room_name"], "places_left": left,
            "session_id": row["id"], "room_id": row["room_id"], "location": row["location"], "starts_at": row["starts_at"],
        })
    candidates.sort(key=lambda c: (c["places_left"] is not None, -(c["places_left"] or 0), c["room"]))
    return candidates[0] if candidates else None
