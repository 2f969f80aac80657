"""Registration: whether it is open, required blocks, personal links and the waiting list per session."""

import json

from kiosk.db import now_utc, one

SETTINGS = ("registration_open", "registration_closes_at", "consent_text", "privacy_text")


def settings(db):
    """The event's registration settings, or None before an event is set up."""
    return one(db, """SELECT registration_open, registration_closes_at, consent_text, privacy_text FROM event
                      WHERE id = ? AND date != ''""", [db.event_id])


def save_settings(db, values):
    """Write VALUES (keys of SETTINGS) to the event row; False when there is no event."""
    values = {key: value for key, value in values.items() if key in SETTINGS}
    if not db.execute("SELECT 1 FROM event WHERE id = ? AND date != ''", [db.event_id]).fetchone():
        return False
    db["event"].update(db.event_id, values)
    return True


def required_blocks(db):
    """The ids of the blocks everyone who registers must choose a session in."""
    return {row[0] for row in db.execute("SELECT id FROM blocks WHERE required = 1 AND event_id = ?", [db.event_id])}


def set_block_required(db, block_id, required):
    """Mark BLOCK_ID required (or not)."""
    db.execute("UPDATE blocks SET required = ? WHERE id = ?", [1 if required else 0, block_id])


def session_places(db, session_id):
    """SESSION_ID's id, block, title, place_limit and room_capacity (see rooms.places_of), or None."""
    return one(
        db,
        """SELECT sessions.id, sessions.block_id, sessions.title, sessions.place_limit, rooms.capacity AS room_capacity,
                  blocks.name AS block_name, blocks.starts_at, blocks.ends_at
           FROM sessions JOIN blocks ON blocks.id = sessions.block_id
           LEFT JOIN rooms ON rooms.id = sessions.room_id WHERE sessions.id = ? AND blocks.event_id = ?""",
        [session_id, db.event_id],
    )


def sessions_in_room(db, room_id):
    """The ids of the sessions held in ROOM_ID."""
    return [row[0] for row in db.execute("SELECT id FROM sessions WHERE room_id = ?", [room_id])]


def organisation_names(db, limit=500):
    """Organisation names of registered attendees, most common first: the form's suggestions (names only)."""
    return [row[0] for row in db.execute(
        """SELECT organisation FROM attendees WHERE status = 'registered' AND organisation != '' AND event_id = ?
           GROUP BY organisation ORDER BY count(*) DESC, organisation LIMIT ?""", [db.event_id, limit])]


def registered_with_email(db, email):
    """The id of a registered attendee with EMAIL (any case), or None."""
    row = db.execute(
        "SELECT id FROM attendees WHERE email = ? COLLATE NOCASE AND status = 'registered' AND event_id = ? LIMIT 1",
        [email, db.event_id]).fetchone()
    return row[0] if row else None


def set_choice(db, attendee_id, block_id, session_id):
    """Make SESSION_ID ATTENDEE_ID's choice in BLOCK_ID; returns the session it replaced, or None."""
    row = db.execute("SELECT session_id FROM choices WHERE attendee_id = ? AND block_id = ?", [attendee_id, block_id]).fetchone()
    db.execute("INSERT OR REPLACE INTO choices (attendee_id, block_id, session_id) VALUES (?, ?, ?)",
               [attendee_id, block_id, session_id])
    return row[0] if row and row[0] != session_id else None


def add_link(db, attendee_id, token_hash, language):
    """Store a personal link (its token's hash) for ATTENDEE_ID."""
    db.execute("INSERT INTO registration_links (attendee_id, token_hash, language, created_at) VALUES (?, ?, ?, ?)",
               [attendee_id, token_hash, language, now_utc()])


def link_owner(db, token_hash):
    """The attendee a personal link's token hash belongs to, with the link's language and the attendee's event, or None.

    Of any event: a personal link opens its own registration, whichever event is the install's current one.
    """
    return one(
        db,
        """SELECT attendees.id, attendees.name, attendees.email, attendees.organisation, attendees.status,
                  attendees.event_id, registration_links.language
           FROM registration_links JOIN attendees ON attendees.id = registration_links.attendee_id
           WHERE registration_links.token_hash = ?""",
        [token_hash],
    )


def add_waiting(db, session_id, values):
    """Put someone (VALUES: attendee_id or None, name, email, organisation, role, language, wishes) at the
    end of SESSION_ID's waiting list; returns the entry's id."""
    last = db.execute("SELECT max(position) FROM waiting_list WHERE session_id = ?", [session_id]).fetchone()[0]
    return db["waiting_list"].insert(dict(
        values, session_id=session_id, position=(last or 0) + 1, wishes=json.dumps(values.get("wishes") or {}),
        created_at=now_utc())).last_pk


def is_waiting(db, session_id, email):
    """Whether EMAIL (any case) is still waiting for SESSION_ID."""
    return db.execute(
        """SELECT 1 FROM waiting_list WHERE session_id = ? AND email = ? COLLATE NOCASE
           AND promoted_at IS NULL AND removed_at IS NULL LIMIT 1""", [session_id, email]).fetchone() is not None


_WAITING = """SELECT waiting_list.*, sessions.title, sessions.block_id FROM waiting_list
              JOIN sessions ON sessions.id = waiting_list.session_id
              WHERE waiting_list.promoted_at IS NULL AND waiting_list.removed_at IS NULL"""


def first_waiting(db, session_id):
    """The first person waiting for SESSION_ID, or None."""
    return one(db, _WAITING + " AND waiting_list.session_id = ? ORDER BY position, id LIMIT 1", [session_id])


def waiting_entry(db, entry_id):
    """One waiting list entry (still waiting), or None."""
    return one(db, _WAITING + " AND waiting_list.id = ?", [entry_id])


_PLACE = """(SELECT count(*) FROM waiting_list AS ahead WHERE ahead.session_id = waiting_list.session_id
               AND ahead.promoted_at IS NULL AND ahead.removed_at IS NULL
               AND (ahead.position < waiting_list.position
                    OR (ahead.position = waiting_list.position AND ahead.id < waiting_list.id))) + 1"""


def waiting_of(db, attendee_id):
    """The sessions ATTENDEE_ID is waiting for, with their place in each list."""
    return list(db.query(
        _WAITING.replace("SELECT waiting_list.*", f"SELECT waiting_list.*, {_PLACE} AS place")
        + " AND waiting_list.attendee_id = ? ORDER BY waiting_list.id", [attendee_id]))


def waiting_place(db, entry_id):
    """ENTRY_ID's place in its list (1: next to get a place)."""
    return db.execute(f"SELECT {_PLACE} FROM waiting_list WHERE id = ?", [entry_id]).fetchone()[0]


def add_waiting_link(db, token_hash, language):
    """Store the link (its token's hash) of someone who joins waiting lists without a registration; its id."""
    return db.execute("INSERT INTO waiting_links (token_hash, language, created_at) VALUES (?, ?, ?)",
                      [token_hash, language, now_utc()]).lastrowid


def waiting_link(db, token_hash):
    """The waiting list link with TOKEN_HASH (id, language), or None."""
    return one(db, "SELECT id, language FROM waiting_links WHERE token_hash = ?", [token_hash])


def entries_of_link(db, link_id):
    """Every entry made with LINK_ID (waiting, given a place, or off the list), with its session and
    its place in line while waiting."""
    return list(db.query(
        f"""SELECT waiting_list.id, waiting_list.name, waiting_list.attendee_id, waiting_list.promoted_at,
                   waiting_list.removed_at, sessions.title, blocks.name AS block_name, blocks.starts_at,
                   CASE WHEN waiting_list.promoted_at IS NULL AND waiting_list.removed_at IS NULL
                        THEN {_PLACE} END AS place
            FROM waiting_list JOIN sessions ON sessions.id = waiting_list.session_id
            JOIN blocks ON blocks.id = sessions.block_id
            WHERE waiting_list.link_id = ? ORDER BY blocks.starts_at, waiting_list.id""", [link_id]))


def attach_link_entries(db, link_id, attendee_id):
    """The entries of LINK_ID still waiting belong to ATTENDEE_ID now (their first place made them registered)."""
    db.execute("""UPDATE waiting_list SET attendee_id = ? WHERE link_id = ? AND attendee_id IS NULL
                  AND promoted_at IS NULL AND removed_at IS NULL""", [attendee_id, link_id])


def waiting_lists(db):
    """Every session's waiting list, in program order and each in its order."""
    return list(db.query(
        _WAITING.replace("FROM waiting_list", ", blocks.name AS block_name FROM waiting_list")
        .replace("WHERE", "JOIN blocks ON blocks.id = sessions.block_id WHERE")
        + " AND blocks.event_id = ? ORDER BY blocks.starts_at, sessions.title, waiting_list.position, waiting_list.id",
        [db.event_id]))


def waiting_counts(db):
    """{session_id: people waiting}."""
    return dict(db.execute(
        "SELECT session_id, count(*) FROM waiting_list WHERE promoted_at IS NULL AND removed_at IS NULL GROUP BY session_id"
    ).fetchall())


def neighbour(db, entry, direction):
    """The entry just before (DIRECTION 'up') or after ('down') ENTRY in its list, or None."""
    if direction == "up":
        sql = _WAITING + " AND session_id = ? AND position < ? ORDER BY position DESC LIMIT 1"
    else:
        sql = _WAITING + " AND session_id = ? AND position > ? ORDER BY position LIMIT 1"
    return one(db, sql, [entry["session_id"], entry["position"]])


def set_position(db, entry_id, position):
    """Move a waiting list entry to POSITION."""
    db.execute("UPDATE waiting_list SET position = ? WHERE id = ?", [position, entry_id])


def close_entry(db, entry_id, *, promoted, attendee_id=None):
    """Take ENTRY_ID off its list: PROMOTED (given a place, as ATTENDEE_ID) or removed."""
    column = "promoted_at" if promoted else "removed_at"
    db.execute(f"UPDATE waiting_list SET {column} = ?, attendee_id = coalesce(?, attendee_id) WHERE id = ?",
               [now_utc(), attendee_id, entry_id])


def remove_attendee_waiting(db, attendee_id):
    """Take ATTENDEE_ID off every waiting list (a cancellation)."""
    db.execute("UPDATE waiting_list SET removed_at = ? WHERE attendee_id = ? AND promoted_at IS NULL AND removed_at IS NULL",
               [now_utc(), attendee_id])
