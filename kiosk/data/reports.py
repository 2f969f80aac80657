"""The report's reads: sessions with their registrations, organisations, rooms and the people who did not come.

Counts use only what `kiosk purge` keeps (attendee ids, status, organisation, choices, presence);
the list of no-shows reads names and e-mail addresses, which are gone after a purge.
"""


from kiosk.data.rooms import places_of


def sessions(db):
    """Every session with its block, room and places."""
    rows = list(
        db.query(
            """SELECT sessions.id, sessions.title, sessions.kind, sessions.room_id, sessions.place_limit,
                      blocks.name AS block, blocks.starts_at, blocks.ends_at,
                      rooms.name AS room, rooms.capacity AS room_capacity
               FROM sessions JOIN blocks ON blocks.id = sessions.block_id
               LEFT JOIN rooms ON rooms.id = sessions.room_id
               WHERE blocks.event_id = ?
               ORDER BY blocks.starts_at, blocks.id, sessions.kind != 'plenary', sessions.title""", [db.event_id]
        )
    )
    for row in rows:
        row["places"] = places_of(row)
    return rows


def registrations_version(db):
    """A value that changes whenever attendees, their status, organisation or choices may have changed.

    Only an import (or the demo build, or a purge) changes them, and each leaves an audit line in
    the same transaction.
    """
    return (db.event_id, *db.execute(
        "SELECT (SELECT max(id) FROM audit_log), (SELECT count(*) FROM attendees), (SELECT count(*) FROM choices)"
    ).fetchone())


def registrations(db):
    """({attendee_id: organisation}, {attendee_id: {session_id, ...}}) of the registered attendees."""
    organisation_of = dict(db.execute(
        "SELECT id, organisation FROM attendees WHERE status = 'registered' AND event_id = ?", [db.event_id]).fetchall())
    chose = {}
    for attendee, session in db.execute("SELECT attendee_id, session_id FROM choices").fetchall():
        if attendee in organisation_of:
            chose.setdefault(attendee, set()).add(session)
    return organisation_of, chose


def rooms(db):
    """Every room: id, name, capacity."""
    return list(db.query("SELECT id, name, capacity FROM rooms WHERE event_id = ? ORDER BY name", [db.event_id]))


def no_shows(db, limit=None):
    """Registered attendees who never arrived, by organisation and name, with the sessions they chose."""
    return list(
        db.query(
            f"""SELECT attendees.id, attendees.name, attendees.email, attendees.organisation,
                       (SELECT group_concat(sessions.title, '; ') FROM choices
                         JOIN sessions ON sessions.id = choices.session_id JOIN blocks ON blocks.id = choices.block_id
                         WHERE choices.attendee_id = attendees.id ORDER BY blocks.starts_at) AS sessions
                FROM attendees LEFT JOIN presence ON presence.attendee_id = attendees.id
                WHERE attendees.status = 'registered' AND presence.attendee_id IS NULL AND attendees.event_id = ?
                ORDER BY attendees.organisation, attendees.last_name, attendees.first_name, attendees.id
                {'LIMIT ' + str(int(limit)) if limit is not None else ''}""", [db.event_id]
        )
    )


def purged_at(db):
    """When `kiosk purge` removed the personal data of DB's event (a stored UTC timestamp), or None.

    A purge from before several events (its line names no event) was of the first event.
    """
    row = db.execute(
        """SELECT max(created_at) FROM audit_log WHERE action = 'purge personal data'
           AND (detail LIKE '% of event ' || :event
                OR (detail NOT LIKE '% of event %' AND :event = (SELECT min(id) FROM event)))""",
        {"event": db.event_id},
    ).fetchone()
    return row[0] if row else None

