"""The report's reads: sessions with their registrations, organisations, rooms and the people who did not come.

Counts use only what `kiosk purge` keeps (attendee ids, status, organisation, choices, presence);
the list of no-shows reads names and e-mail addresses, which are gone after a purge.
"""

import json

from kiosk.data.rooms import places_of


def sessions(db):
    """Every session with its block, room, places and how many registered attendees chose it."""
    rows = list(
        db.query(
            """SELECT sessions.id, sessions.title, sessions.kind, sessions.room_id, sessions.place_limit,
                      blocks.name AS block, blocks.starts_at, blocks.ends_at,
                      rooms.name AS room, rooms.capacity AS room_capacity,
                      (SELECT count(*) FROM choices JOIN attendees ON attendees.id = choices.attendee_id
                        WHERE choices.session_id = sessions.id AND attendees.status = 'registered') AS registered
               FROM sessions JOIN blocks ON blocks.id = sessions.block_id
               LEFT JOIN rooms ON rooms.id = sessions.room_id
               ORDER BY blocks.starts_at, blocks.id, sessions.kind != 'plenary', sessions.title"""
        )
    )
    for row in rows:
        row["places"] = places_of(row)
    return rows


def registered_among(db, attended):
    """{session_id: how many of ATTENDED[session_id] (attendee ids) are registered and chose that session}."""
    pairs = [[session, attendee] for session, people in attended.items() for attendee in people]
    if not pairs:
        return {}
    rows = db.execute(
        """SELECT choices.session_id, count(*) FROM json_each(?) AS pair
           JOIN choices ON choices.attendee_id = pair.value ->> 1 AND choices.session_id = pair.value ->> 0
           JOIN attendees ON attendees.id = choices.attendee_id AND attendees.status = 'registered'
           GROUP BY choices.session_id""",
        [json.dumps(pairs)],
    ).fetchall()
    return dict(rows)


def organisations(db):
    """Per organisation: registered attendees and how many of them arrived (checked in, not taken back)."""
    return list(
        db.query(
            """SELECT attendees.organisation AS name, count(*) AS registered, count(presence.attendee_id) AS arrived
               FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
               WHERE attendees.status = 'registered'
               GROUP BY attendees.organisation ORDER BY attendees.organisation"""
        )
    )


def rooms(db):
    """Every room: id, name, capacity."""
    return list(db.query("SELECT id, name, capacity FROM rooms ORDER BY name"))


def no_shows(db, limit=None):
    """Registered attendees who never arrived, by organisation and name, with the sessions they chose."""
    return list(
        db.query(
            f"""SELECT attendees.id, attendees.name, attendees.email, attendees.organisation,
                       (SELECT group_concat(sessions.title, '; ') FROM choices
                         JOIN sessions ON sessions.id = choices.session_id JOIN blocks ON blocks.id = choices.block_id
                         WHERE choices.attendee_id = attendees.id ORDER BY blocks.starts_at) AS sessions
                FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
                WHERE attendees.status = 'registered' AND presence.attendee_id IS NULL
                ORDER BY attendees.organisation, attendees.last_name, attendees.first_name, attendees.id
                {'LIMIT ' + str(int(limit)) if limit is not None else ''}"""
        )
    )


def purged_at(db):
    """When `kiosk purge` removed the personal data (a stored UTC timestamp), or None."""
    row = db.execute(
        "SELECT max(created_at) FROM audit_log WHERE action = 'purge personal data'"
    ).fetchone()
    return row[0] if row else None

