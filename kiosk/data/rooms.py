"""Rooms, the program in time blocks, and live occupancy against capacity."""

from datetime import date, datetime, time, timezone
from time import monotonic as time_monotonic

from kiosk.data.event import event_zone, get_event, local_now

BUSY_PERCENT = 80  # amber from here
ALERT_PERCENT = 90  # the first capacity alert
LATEST_IN = 8  # names on the host tablet
LOOK_BACK = 500  # scans at a door searched for them


def list_rooms(db):
    return list(db.query("SELECT * FROM rooms ORDER BY name"))


def get_room(db, room_id):
    rows = list(db.query("SELECT * FROM rooms WHERE id = ?", [room_id]))
    return rows[0] if rows else None


def list_blocks(db):
    return list(db.query("SELECT * FROM blocks ORDER BY starts_at, id"))


def program(db):
    """Every block with its sessions, their room, place limit and how many chose them."""
    sessions = list(
        db.query(
            """SELECT sessions.*, rooms.name AS room_name, rooms.capacity AS room_capacity,
                      (SELECT count(*) FROM choices JOIN attendees ON attendees.id = choices.attendee_id
                        WHERE choices.session_id = sessions.id AND attendees.status = 'registered') AS registered
               FROM sessions LEFT JOIN rooms ON rooms.id = sessions.room_id
               ORDER BY sessions.block_id, sessions.kind != 'plenary', sessions.title"""
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
    rows = list(db.query("SELECT * FROM blocks WHERE starts_at <= ? AND ends_at > ? ORDER BY starts_at LIMIT 1", [clock, clock]))
    return rows[0] if rows else None


def block_time_utc(event, hhmm):
    """The stored-timestamp form (ISO UTC) of local time HHMM on the event day."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    local = datetime.combine(date.fromisoformat(event["date"]), time(hours, minutes), tzinfo=event_zone(event))
    return local.astimezone(timezone.utc).isoformat(timespec="milliseconds")


SESSION_COLUMNS = """sessions.*, blocks.name AS block_name, blocks.starts_at, blocks.ends_at"""


def room_sessions(db, room_id, event, now=None):
    """(current, next) session in ROOM_ID at NOW; each None when there is none."""
    return sessions_by_room(db, event, now, room_id=room_id).get(room_id, (None, None))


def sessions_by_room(db, event, now=None, *, room_id=None):
    """{room_id: (current, next)} for every room with a session still to come or running, in one read."""
    clock, on_day = event_clock(event, now)
    where, params = "sessions.room_id IS NOT NULL AND blocks.ends_at > ?", [clock]
    if room_id is not None:
        where, params = "sessions.room_id = ? AND blocks.ends_at > ?", [room_id, clock]
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

    Rooms whose session ended are emptied first (see scans.clear_ended_sessions), so every
    reader, the JSON API included, sees what is real after a block ends.
    """
    if schedule:
        _clear_ended(db, now)
    return [room_counts(row) for row in db.execute(_COUNTS_SQL + " ORDER BY rooms.name").fetchall()]


def room_occupancy(db, room_id, now=None, *, schedule=True):
    """The counts of one room, or None."""
    if schedule:
        _clear_ended(db, now)
    row = db.execute(_COUNTS_SQL + " WHERE rooms.id = ?", [room_id]).fetchone()
    return room_counts(row) if row else None


def _clear_ended(db, now):
    from kiosk.data.scans import clear_ended_sessions  # scans imports this module

    clear_ended_sessions(db, now=now)


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


def registered_inside(db, sessions):
    """{session_id: people inside the session's room now who chose that session}, for SESSIONS (dicts)."""
    found = {}
    for session in sessions:
        if session is None or session.get("room_id") is None:
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
    from kiosk.data.scans import nearest_with_places  # scans imports this module

    _clear_ended(db, now)
    event = get_event(db)
    return _version(db, room_id, lambda: room_sessions(db, room_id, event, now),
                    lambda: nearest_with_places(db, event, room_id, now))


def _version(db, room_id, sessions, alternative):
    """room_version from SESSIONS() -> (current, next) and ALTERNATIVE(), called only when needed,
    so room_live can hand over what it has read already."""
    row = db.execute(
        """SELECT coalesce(occupancy.inside, 0), coalesce(occupancy.anonymous, 0), rooms.capacity,
                  (SELECT max(id) FROM scans WHERE scans.room_id = rooms.id)
           FROM rooms LEFT JOIN occupancy ON occupancy.room_id = rooms.id WHERE rooms.id = ?""",
        [room_id],
    ).fetchone()
    if row is None:
        return None
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
    _clear_ended(db, now)
    event = get_event(db)
    clock, _on_day = event_clock(event, now)
    newest = db.execute("SELECT max(id) FROM scans").fetchone()[0]
    # Sessions change at block edges only; the minute is a cheap stand-in for that.
    return f"{newest or 0}-{clock}"


def latest_in(db, room_id, limit=LATEST_IN):
    """The latest people let into ROOM_ID, newest first, with any warning, override or undo."""
    # A full room collects refusals: look back over its last LOOK_BACK scans at most.
    bound = db.execute(
        "SELECT id FROM scans WHERE room_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?", [room_id, LOOK_BACK]
    ).fetchone()
    return list(
        db.query(
            """SELECT scans.id, scans.created_at, scans.warning, scans.override, attendees.name, attendees.organisation,
                      -- An undo carries its target's attendee and comes after it: scans_attendee finds
                      -- it among a few rows (there is no index on undoes).
                      EXISTS (SELECT 1 FROM scans AS u WHERE u.attendee_id = scans.attendee_id AND u.id > scans.id
                              AND u.undoes = scans.id) AS undone
               FROM scans JOIN attendees ON attendees.id = scans.attendee_id
               WHERE scans.room_id = ? AND scans.id >= ?
                 AND scans.kind = 'scan' AND scans.outcome = 'checked_in' AND scans.direction = 'in'
               ORDER BY scans.id DESC LIMIT ?""",
            [room_id, bound[0] if bound else 0, limit],
        )
    )


def room_live(db, room_id, now=None):
    """Everything the host tablet shows for ROOM_ID: counts, sessions, registrations, alert, latest in."""
    from kiosk.data.scans import nearest_with_places

    room = room_occupancy(db, room_id, now)
    if room is None:
        return None
    event = get_event(db)
    current, upcoming = room_sessions(db, room_id, event, now)
    room["current"], room["next"] = current, upcoming
    _add_registrations(db, [room])
    room["alternative"] = nearest_with_places(db, event, room_id, now) if room["alert"] else None
    room["latest"] = latest_in(db, room_id)
    # From what was read above: the schedule check, sessions and alternative are not read twice.
    room["version"] = _version(db, room_id, lambda: (current, upcoming), lambda: room["alternative"])
    return room


def _add_registrations(db, rooms):
    currents = [room["current"] for room in rooms if room.get("current")]
    registered = registered_counts(db, [session["id"] for session in currents])
    inside = registered_inside(db, currents)
    for room in rooms:
        current = room.get("current")
        room["registered"] = registered.get(current["id"]) if current else None
        room["registered_inside"] = inside.get(current["id"]) if current else None
        room["walk_ins"] = room["inside"] - room["anonymous"] - room["registered_inside"] if current else None


def wall(db, now=None):
    """Every room for the organiser wall, grouped: sessions of the block running now, then the rest by next start."""
    from kiosk.data.scans import nearest_with_places

    rooms = occupancy(db, now)
    event = get_event(db)
    sessions = sessions_by_room(db, event, now)
    for room in rooms:
        room["current"], room["next"] = sessions.get(room["id"], (None, None))
    _add_registrations(db, rooms)
    for room in rooms:
        room["alternative"] = nearest_with_places(db, event, room["id"], now) if room["alert"] else None
    block = block_at(db, event, now)
    now_rooms = sorted((room for room in rooms if room["current"]), key=lambda room: room["name"])
    later = sorted(
        (room for room in rooms if not room["current"]),
        key=lambda room: ((room["next"] or {}).get("starts_at") or "99:99", room["name"]),
    )
    upcoming = None
    if later and later[0]["next"]:
        upcoming = {"name": later[0]["next"]["block_name"], "starts_at": later[0]["next"]["starts_at"]}
    checked_in = db.execute("SELECT count(*) FROM presence").fetchone()[0]
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


def get_session(db, session_id):
    """One session with its block and room."""
    rows = list(
        db.query(
            f"""SELECT {SESSION_COLUMNS}, rooms.name AS room_name, rooms.capacity AS room_capacity
                FROM sessions JOIN blocks ON blocks.id = sessions.block_id
                LEFT JOIN rooms ON rooms.id = sessions.room_id WHERE sessions.id = ?""",
            [session_id],
        )
    )
    return rows[0] if rows else None


def session_attendance(db, session_id, now=None):
    """Who is inside the session's room now and who registered for it but is not there, or None."""
    session = get_session(db, session_id)
    if session is None:
        return None
    event = get_event(db)
    room = room_occupancy(db, session["room_id"], now) if session["room_id"] else None
    current = None
    if room:
        current, _next = room_sessions(db, session["room_id"], event, now)
    inside = []
    if room:
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
    missing = list(
        db.query(
            """SELECT attendees.id, attendees.name, attendees.organisation,
                      presence.attendee_id IS NOT NULL AS checked_in, rooms.name AS where_now
               FROM choices JOIN attendees ON attendees.id = choices.attendee_id
               LEFT JOIN presence ON presence.attendee_id = attendees.id
               LEFT JOIN rooms ON rooms.id = presence.room_id
               WHERE choices.session_id = :session AND attendees.status = 'registered'
                 AND (:room IS NULL OR presence.room_id IS NOT :room)
               ORDER BY attendees.last_name, attendees.name""",
            {"session": session_id, "room": session["room_id"]},
        )
    )
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
