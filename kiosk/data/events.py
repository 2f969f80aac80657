"""The install's events, one after another: the list, a new one from an earlier one, the current one, archiving."""

from kiosk.data.audit import record
from kiosk.data.event import EVENT_FIELDS
from kiosk.db import current_event_id, immediate, now_utc, one

# What a new event takes over from an earlier one beside the program: its settings, not its people.
COPIED_FIELDS = ("venue", "address", "timezone", "language", "badge_header", "consent_text", "privacy_text")


def list_events(db):
    """Every event set up, newest first: id, name, date, end_date, created_at, archived_at and whether it is current."""
    current = current_event_id(db)
    rows = list(db.query(
        "SELECT id, name, date, end_date, created_at, archived_at FROM event WHERE date != '' ORDER BY id DESC"))
    return [dict(row, current=row["id"] == current) for row in rows]


def get(db, event_id):
    """One event set up (id, name, date, archived_at), or None."""
    return one(db, "SELECT id, name, date, archived_at FROM event WHERE id = ? AND date != ''", [event_id])


class SameEvent(Exception):
    """An event with this name on this date exists already: EXISTING_ID is its id."""

    def __init__(self, existing_id):
        super().__init__(existing_id)
        self.existing_id = existing_id


def new_event(db, fields, *, actor, copy_from=None):
    """Add an event from FIELDS (see EVENT_FIELDS); with COPY_FROM, an earlier event's id, its settings,
    logo, rooms, time blocks and sessions come along (not its people, stations or scans). Returns the new id,
    or None when COPY_FROM is no event; raises SameEvent when one of that name (in any case) is on that date.
    """
    with immediate(db):
        same = one(db, "SELECT id FROM event WHERE name = ? COLLATE NOCASE AND date = ? AND date != ''",
                   [fields.get("name") or "", fields.get("date") or ""])
        if same is not None:  # a form sent twice, or the same event set up again: one of each is enough
            raise SameEvent(same["id"])
        values = {key: fields[key] for key in EVENT_FIELDS if fields.get(key) is not None}
        if copy_from is not None:
            source = one(db, "SELECT * FROM event WHERE id = ? AND date != ''", [copy_from])
            if source is None:
                return None
            # The new event's own name and dates; everything else as the earlier one had it.
            values = dict({key: source[key] for key in COPIED_FIELDS},
                          **{key: values[key] for key in ("name", "date", "end_date") if key in values})
        event_id = db["event"].insert(dict(values, created_at=now_utc())).last_pk
        if copy_from is not None:
            _copy_program(db, copy_from, event_id)
        record(db, actor, "add event", f"{event_id}: {values.get('name', '')}"
               + (f" (from event {copy_from})" if copy_from is not None else ""))
    return event_id


def _copy_program(db, source, target):
    """Copy event SOURCE's logo, rooms (with an empty count), blocks and sessions into event TARGET."""
    db.execute("""INSERT INTO event_logo (event_id, png, width, height, updated_at)
                  SELECT ?, png, width, height, updated_at FROM event_logo WHERE event_id = ?""", [target, source])
    rooms = {}
    for room in db.query("SELECT * FROM rooms WHERE event_id = ? ORDER BY id", [source]):
        rooms[room["id"]] = db.execute(
            "INSERT INTO rooms (event_id, name, capacity, location, has_exit_scan) VALUES (?, ?, ?, ?, ?)",
            [target, room["name"], room["capacity"], room["location"], room["has_exit_scan"]]).lastrowid
        db.execute("INSERT INTO occupancy (room_id, inside, anonymous) VALUES (?, 0, 0)", [rooms[room["id"]]])
    blocks = {}
    for block in db.query("SELECT * FROM blocks WHERE event_id = ? ORDER BY id", [source]):
        blocks[block["id"]] = db.execute(
            "INSERT INTO blocks (event_id, name, starts_at, ends_at, required) VALUES (?, ?, ?, ?, ?)",
            [target, block["name"], block["starts_at"], block["ends_at"], block["required"]]).lastrowid
    for session in db.query("SELECT * FROM sessions WHERE block_id IN (SELECT id FROM blocks WHERE event_id = ?) "
                            "ORDER BY id", [source]):
        db.execute(
            """INSERT INTO sessions (block_id, title, kind, room_id, meeting_point, place_limit, description)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [blocks[session["block_id"]], session["title"], session["kind"], rooms.get(session["room_id"]),
             session["meeting_point"], session["place_limit"], session["description"]])


def set_current(db, event_id, *, actor):
    """Make EVENT_ID the install's current event (the CLI's, the API's, /register's); False when there is no such event."""
    with immediate(db):
        if get(db, event_id) is None:
            return False
        db.execute("INSERT INTO current_event (id, event_id) VALUES (1, ?) "
                   "ON CONFLICT (id) DO UPDATE SET event_id = excluded.event_id", [event_id])
        record(db, actor, "switch current event", str(event_id))
    return True


def switch_login(db, login_token_hash, event_id, *, actor):
    """Make the login with LOGIN_TOKEN_HASH work for EVENT_ID (an organiser's choice, remembered with the login)."""
    with immediate(db):
        db.execute("UPDATE login_sessions SET event_id = ? WHERE token_hash = ?", [event_id, login_token_hash])
        record(db, actor, "work on event", str(event_id))


def set_archived(db, event_id, archived, *, actor):
    """Archive EVENT_ID (read-only from then on) or open it again; False when there is no such event."""
    with immediate(db):
        if get(db, event_id) is None:
            return False
        db.execute("UPDATE event SET archived_at = ? WHERE id = ?", [now_utc() if archived else None, event_id])
        if archived:  # the current event is the newest not archived again, unless another one was chosen
            db.execute("DELETE FROM current_event WHERE event_id = ?", [event_id])
        record(db, actor, "archive event" if archived else "reopen event", str(event_id))
    return True


def archived(db):
    """Whether DB's event is archived (read-only)."""
    row = db.execute("SELECT archived_at FROM event WHERE id = ?", [db.event_id]).fetchone()
    return bool(row and row[0])


def move_station(db, station_id, event_id, *, actor):
    """Move DB's event's active station STATION_ID to event EVENT_ID: an entrance as it is, a room door to the
    room of the same name there. Returns the room name missing there ('' when moved), or None for no such
    station or event."""
    with immediate(db):
        station = one(db, """SELECT stations.id, stations.name, stations.mode, rooms.name AS room_name FROM stations
                             LEFT JOIN rooms ON rooms.id = stations.room_id
                             WHERE stations.id = ? AND stations.event_id = ? AND stations.revoked_at IS NULL""",
                      [station_id, db.event_id])
        if station is None or get(db, event_id) is None:
            return None
        room_id = None
        if station["mode"] == "room":
            row = db.execute("SELECT id FROM rooms WHERE event_id = ? AND name = ?", [event_id, station["room_name"]]).fetchone()
            if row is None:
                return station["room_name"]
            room_id = row[0]
        if db.execute("SELECT 1 FROM stations WHERE event_id = ? AND name = ? AND id != ?",
                      [event_id, station["name"], station_id]).fetchone():
            return None
        db.execute("UPDATE stations SET event_id = ?, room_id = ? WHERE id = ?", [event_id, room_id, station_id])
        record(db, actor, "move station", f"{station['name']} -> event {event_id}")
    return ""


def move_host(db, user_id, event_id, *, actor):
    """Make host USER_ID work for event EVENT_ID; False for no such host or event."""
    with immediate(db):
        email = db.execute("SELECT email FROM users WHERE id = ? AND role = 'host'", [user_id]).fetchone()
        if email is None or get(db, event_id) is None:
            return False
        db.execute("UPDATE users SET event_id = ? WHERE id = ?", [event_id, user_id])
        record(db, actor, "move host", f"{email[0]} -> event {event_id}")
    return True


def open_event_ids(db):
    """The ids of the events set up and not archived, oldest first."""
    return [row[0] for row in db.execute("SELECT id FROM event WHERE archived_at IS NULL AND date != '' ORDER BY id")]
