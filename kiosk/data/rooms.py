"""Rooms, the program in time blocks, and live occupancy against capacity."""

from kiosk.data.event import get_event, local_now


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


def block_at(db, event, now=None):
    """The block running at NOW on the event day, or None."""
    local = local_now(event, now)
    if event is None or local.date().isoformat() != event["date"]:
        return None
    clock = local.strftime("%H:%M")
    rows = list(db.query("SELECT * FROM blocks WHERE starts_at <= ? AND ends_at > ? ORDER BY starts_at LIMIT 1", [clock, clock]))
    return rows[0] if rows else None


def room_sessions(db, room_id, event, now=None):
    """(current, next) session in ROOM_ID at NOW; each None when there is none."""
    local = local_now(event, now)
    on_event_day = event is not None and local.date().isoformat() == event["date"]
    clock = local.strftime("%H:%M") if on_event_day else ("99:99" if event and local.date().isoformat() > event["date"] else "00:00")
    rows = list(
        db.query(
            """SELECT sessions.*, blocks.name AS block_name, blocks.starts_at, blocks.ends_at
               FROM sessions JOIN blocks ON blocks.id = sessions.block_id
               WHERE sessions.room_id = ? AND blocks.ends_at > ?
               ORDER BY blocks.starts_at""",
            [room_id, clock],
        )
    )
    current = next_session = None
    for row in rows:
        if row["starts_at"] <= clock and current is None and on_event_day:
            current = row
        elif row["starts_at"] > clock and next_session is None:
            next_session = row
    return current, next_session


def occupancy(db):
    """Inside now, capacity and places left for every room, in one indexed read."""
    rows = db.execute(
        """SELECT rooms.id, rooms.name, rooms.capacity, coalesce(occupancy.inside, 0), coalesce(occupancy.anonymous, 0)
           FROM rooms LEFT JOIN occupancy ON occupancy.room_id = rooms.id ORDER BY rooms.name"""
    ).fetchall()
    return [room_counts(row) for row in rows]


def room_occupancy(db, room_id):
    row = db.execute(
        """SELECT rooms.id, rooms.name, rooms.capacity, coalesce(occupancy.inside, 0), coalesce(occupancy.anonymous, 0)
           FROM rooms LEFT JOIN occupancy ON occupancy.room_id = rooms.id WHERE rooms.id = ?""",
        [room_id],
    ).fetchone()
    return room_counts(row) if row else None


def room_counts(row):
    room_id, name, capacity, inside, anonymous = row
    places_left = max(capacity - inside, 0)
    percent = round(100 * inside / capacity) if capacity else 100
    level = "full" if inside >= capacity else ("busy" if percent >= 80 else "ok")
    return {
        "id": room_id,
        "name": name,
        "capacity": capacity,
        "inside": inside,
        "anonymous": anonymous,
        "places_left": places_left,
        "percent": percent,
        "level": level,
    }
