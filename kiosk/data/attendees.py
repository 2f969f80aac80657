"""Attendees: search, detail, the export list, personal program, scan history and arrival figures."""

from kiosk.db import one
from kiosk.text import fold

SEARCH_LIMIT = 50


def search(db, query="", *, limit=SEARCH_LIMIT, offset=0):
    """Attendees whose name, organisation or e-mail contain every word of QUERY (diacritics ignored)."""
    words = fold(query).split()[:6]
    where = " AND ".join(["attendees.event_id = ?"] + ["attendees.search_text LIKE ? ESCAPE '\\'" for _ in words])
    params = [db.event_id] + ["%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for word in words]
    return list(
        db.query(
            f"""SELECT attendees.id, attendees.name, attendees.organisation, attendees.role, attendees.email,
                       attendees.status, presence.checked_in_at, presence.room_id
                FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
                WHERE {where}
                ORDER BY attendees.last_name, attendees.first_name, attendees.id
                LIMIT ? OFFSET ?""",
            params + [limit, offset],
        )
    )


def count(db):
    """How many attendees there are, of any status."""
    return db.execute("SELECT count(*) FROM attendees WHERE event_id = ?", [db.event_id]).fetchone()[0]


def summary(db, attendee_id):
    """ATTENDEE_ID's id, name, organisation and role, or None when there is no such attendee."""
    return one(db, "SELECT id, name, organisation, role FROM attendees WHERE id = ? AND event_id = ?", [attendee_id, db.event_id])


def get(db, attendee_id):
    """One attendee with their check-in and current room, or None."""
    rows = list(
        db.query(
            """SELECT attendees.*, presence.checked_in_at, presence.room_id AS current_room_id,
                      rooms.name AS current_room
               FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
               LEFT JOIN rooms ON rooms.id = presence.room_id
               WHERE attendees.id = ? AND attendees.event_id = ?""",
            [attendee_id, db.event_id],
        )
    )
    return rows[0] if rows else None


def export_rows(db):
    """Every attendee with check-in time and current room, in name order."""
    return list(
        db.query(
            """SELECT attendees.registration_id, attendees.name, attendees.email, attendees.organisation,
                      attendees.role, attendees.status, presence.checked_in_at, rooms.name AS room
               FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
               LEFT JOIN rooms ON rooms.id = presence.room_id
               WHERE attendees.event_id = ?
               ORDER BY attendees.last_name, attendees.first_name, attendees.id""",
            [db.event_id],
        )
    )


def personal_program(db, attendee_id):
    """Per block: the session the attendee chose, with its room or meeting point."""
    return list(
        db.query(
            """SELECT blocks.id AS block_id, blocks.name AS block, blocks.starts_at, blocks.ends_at,
                      sessions.id AS session_id, sessions.title, sessions.kind,
                      coalesce(rooms.name, sessions.meeting_point, '') AS place
               FROM choices JOIN blocks ON blocks.id = choices.block_id
               JOIN sessions ON sessions.id = choices.session_id
               LEFT JOIN rooms ON rooms.id = sessions.room_id
               WHERE choices.attendee_id = ?
               ORDER BY blocks.starts_at""",
            [attendee_id],
        )
    )


def scan_history(db, attendee_id, limit=200):
    """The attendee's scans, newest first, with station and room names and whether each was undone."""
    return list(
        db.query(
            """SELECT scans.*, stations.name AS station_name, rooms.name AS room_name, users.email AS user_email,
                      EXISTS (SELECT 1 FROM scans AS undo WHERE undo.undoes = scans.id) AS undone
               FROM scans LEFT JOIN stations ON stations.id = scans.station_id
               LEFT JOIN rooms ON rooms.id = scans.room_id
               LEFT JOIN users ON users.id = scans.user_id
               WHERE scans.attendee_id = ?
               ORDER BY scans.id DESC LIMIT ?""",
            [attendee_id, limit],
        )
    )


def arrivals(db):
    """Checked in / registered overall, per organisation, and the latest arrivals."""
    totals = db.execute(
        """SELECT count(*), count(presence.attendee_id)
           FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
           WHERE attendees.status = 'registered' AND attendees.event_id = ?""", [db.event_id]
    ).fetchone()
    per_organisation = list(
        db.query(
            """SELECT attendees.organisation, count(*) AS registered, count(presence.attendee_id) AS checked_in
               FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
               WHERE attendees.status = 'registered' AND attendees.event_id = ?
               GROUP BY attendees.organisation ORDER BY attendees.organisation""", [db.event_id]
        )
    )
    latest = list(
        db.query(
            """SELECT attendees.id, attendees.name, attendees.organisation, presence.checked_in_at
               FROM presence JOIN attendees ON attendees.id = presence.attendee_id
               WHERE attendees.event_id = ?
               ORDER BY presence.checked_in_at DESC LIMIT 10""", [db.event_id]
        )
    )
    return {"registered": totals[0], "checked_in": totals[1], "per_organisation": per_organisation, "latest": latest}


def event_of(db, attendee_id):
    """The id of ATTENDEE_ID's event (of any event), or None when there is no such attendee."""
    row = db.execute("SELECT event_id FROM attendees WHERE id = ?", [attendee_id]).fetchone()
    return row[0] if row else None


def summary_with_email(db, attendee_id):
    """ATTENDEE_ID's id, name, e-mail, organisation and status, or None."""
    return one(db, "SELECT id, name, email, organisation, status FROM attendees WHERE id = ? AND event_id = ?",
               [attendee_id, db.event_id])
