"""Migration m0014 onwards: several events in one install, one after another."""

from kiosk.migrations.registry import migrations

# The four tables that belong to an event directly, rebuilt with event_id and their UNIQUE names and
# registration ids per event. Everything else follows from them: sessions and waiting lists from their
# block, choices, badges, presence, registration links from their attendee, occupancy from its room,
# scans from their attendee, room or station.
EVENT_TABLES = {
    "rooms": """
        CREATE TABLE rooms (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL DEFAULT 1 REFERENCES event(id),
            name TEXT NOT NULL,
            capacity INTEGER NOT NULL CHECK (capacity >= 0),
            location TEXT NOT NULL DEFAULT '',
            has_exit_scan INTEGER NOT NULL DEFAULT 0,
            UNIQUE (event_id, name)
        )""",
    "blocks": """
        CREATE TABLE blocks (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL DEFAULT 1 REFERENCES event(id),
            name TEXT NOT NULL,                 -- e.g. 'Ochtend', 'Lunch'; import column header
            starts_at TEXT NOT NULL,            -- local time HH:MM on the event date
            ends_at TEXT NOT NULL,
            required INTEGER NOT NULL DEFAULT 0,
            UNIQUE (event_id, name)
        )""",
    "attendees": """
        CREATE TABLE attendees (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL DEFAULT 1 REFERENCES event(id),
            registration_id TEXT,
            first_name TEXT NOT NULL DEFAULT '',
            name_prefix TEXT NOT NULL DEFAULT '',   -- tussenvoegsel: 'van', 'de', 'van der'
            last_name TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL,                     -- display name, 'Jan van der Berg'
            email TEXT,
            organisation TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'registered' CHECK (status IN ('registered', 'cancelled')),
            extra TEXT NOT NULL DEFAULT '{}',       -- JSON object of columns we do not know
            search_text TEXT NOT NULL DEFAULT '',   -- folded name, organisation, e-mail for search
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (event_id, registration_id)
        )""",
    "stations": """
        CREATE TABLE stations (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL DEFAULT 1 REFERENCES event(id),
            name TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('entrance', 'room')),
            room_id INTEGER REFERENCES rooms(id),
            staffed INTEGER NOT NULL DEFAULT 0,
            print_on_arrival INTEGER NOT NULL DEFAULT 0,
            language TEXT,                          -- NULL: the event's language
            token_hash TEXT NOT NULL UNIQUE,        -- sha256 of the API/cookie token
            pairing_hash TEXT UNIQUE,               -- sha256 of the one-time pairing secret
            pairing_expires_at TEXT,
            paired_at TEXT,
            revoked_at TEXT,
            created_at TEXT NOT NULL,
            result_seconds INTEGER CHECK (result_seconds BETWEEN 3 AND 120),
            CHECK ((mode = 'room') = (room_id IS NOT NULL)),
            UNIQUE (event_id, name)
        )""",
}


def _rebuild(db, table, create_sql, first_event):
    """SQLite's table rebuild: the new form beside the old, the rows copied, the old dropped, its indexes made again."""
    indexes = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", [table]
    ).fetchall()
    columns = [row[1] for row in db.execute(f"PRAGMA table_info([{table}])").fetchall()]
    db.execute(create_sql.replace(f"CREATE TABLE {table} (", f"CREATE TABLE [{table}_new] (", 1))
    listed = ", ".join(f"[{column}]" for column in columns)
    db.execute(f"INSERT INTO [{table}_new] ({listed}, event_id) SELECT {listed}, ? FROM [{table}]", [first_event])
    db.execute(f"DROP TABLE [{table}]")
    db.execute(f"ALTER TABLE [{table}_new] RENAME TO [{table}]")
    for (sql,) in indexes:
        db.execute(sql)
    # No index of its own on event_id: UNIQUE (event_id, ...) is one, with event_id first.
    # Rows written without an event (the single-event forms: the sqlite3 shell, scripts, an import
    # before `kiosk event create`) belong to the install's first event, made unnamed when there is none
    # yet (kiosk.data.event: an unnamed event is not an event set up); any other missing event fails.
    db.execute(
        f"""CREATE TRIGGER {table}_first_event BEFORE INSERT ON {table}
            WHEN NEW.event_id = 1 AND NOT EXISTS (SELECT 1 FROM event)
            BEGIN INSERT INTO event (id, name, date) VALUES (1, '', ''); END"""
    )


# Long: one table rebuild after another, and a migration is never edited once it landed.
@migrations(transactional=False)
def m0014_events_that_follow_one_another(db):
    # One install holds several events. SQLite cannot change a table's UNIQUE constraints or CHECKs in
    # place, so `event` (without its id = 1 check), `event_logo` (keyed by its event) and the four
    # tables of EVENT_TABLES are rebuilt, with foreign keys off (a DROP TABLE with them on would delete
    # the children of rooms and attendees through ON DELETE CASCADE) and checked after.
    # Not transactional in sqlite-utils' sense: PRAGMA foreign_keys is a no-op inside a transaction,
    # so it opens its own around the rebuild.
    if "event_id" in {row[1] for row in db.execute("PRAGMA table_info(rooms)").fetchall()}:
        return  # done, and only its record was not written
    enforced = db.execute("PRAGMA foreign_keys").fetchone()[0]
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            _to_several_events(db)
            problems = db.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"m0014 left foreign keys without their rows: {problems[:5]}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        if enforced:
            db.execute("PRAGMA foreign_keys = ON")


def _to_several_events(db):
    """m0014's work, inside its transaction with foreign keys off."""
    holds_rows = any(db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() for table in EVENT_TABLES)
    db.execute(
        """CREATE TABLE event_new (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            date TEXT NOT NULL,                -- ISO date of the event day; '' for the unnamed first event
            venue TEXT NOT NULL DEFAULT '',
            timezone TEXT NOT NULL DEFAULT 'Europe/Amsterdam',
            language TEXT NOT NULL DEFAULT 'nl',
            end_date TEXT,
            address TEXT NOT NULL DEFAULT '',
            badge_header TEXT NOT NULL DEFAULT '',
            registration_open INTEGER NOT NULL DEFAULT 0,
            registration_closes_at TEXT,     -- UTC ISO; NULL: open until closed
            consent_text TEXT NOT NULL DEFAULT '',
            privacy_text TEXT NOT NULL DEFAULT '',
            created_at TEXT,
            archived_at TEXT                 -- set: read-only, its report and exports stay
        )"""
    )
    db.execute(
        """INSERT INTO event_new (id, name, date, venue, timezone, language, end_date, address, badge_header,
                                  registration_open, registration_closes_at, consent_text, privacy_text, created_at)
           SELECT id, name, date, venue, timezone, language, end_date, address, badge_header,
                  registration_open, registration_closes_at, consent_text, privacy_text,
                  strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM event"""
    )
    db.execute("DROP TABLE event")
    db.execute("ALTER TABLE event_new RENAME TO event")
    if holds_rows and not db.execute("SELECT 1 FROM event").fetchone():
        db.execute("INSERT INTO event (id, name, date) VALUES (1, '', '')")  # rooms or people before an event
    first_event = db.execute("SELECT coalesce(min(id), 1) FROM event").fetchone()[0]
    db.execute(
        """CREATE TABLE event_logo_new (
            event_id INTEGER PRIMARY KEY REFERENCES event(id),
            png BLOB NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("INSERT INTO event_logo_new SELECT id, png, width, height, updated_at FROM event_logo")
    db.execute("DROP TABLE event_logo")
    db.execute("ALTER TABLE event_logo_new RENAME TO event_logo")
    for table, create_sql in EVENT_TABLES.items():
        _rebuild(db, table, create_sql, first_event)
    # Organisers (NULL) see every event; a host works for one at a time. A login remembers the
    # event its organiser switched to (NULL: the install's current event).
    db.execute("ALTER TABLE users ADD COLUMN event_id INTEGER REFERENCES event(id)")
    db.execute("UPDATE users SET event_id = (SELECT min(id) FROM event) WHERE role = 'host'")
    db.execute("ALTER TABLE login_sessions ADD COLUMN event_id INTEGER REFERENCES event(id)")
    # The install's current event when one is set (`kiosk event switch`); else the newest not archived.
    db.execute(
        """CREATE TABLE current_event (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            event_id INTEGER NOT NULL REFERENCES event(id)
        )"""
    )


@migrations()
def m0015_attendee_indexes_per_event(db):
    # Search and the attendee list read one event's people in name (or organisation) order and stop
    # at the first page. Their indexes lead with event_id, so `event_id = ?` keeps them walking one
    # index in order, reading search_text from the index itself: with the event filter on the old
    # indexes, SQLite read every attendee and sorted them (search at 50,000 attendees 2.2 -> 17 ms,
    # ./dev bench).
    db.executescript(
        """
        DROP INDEX attendees_name_search;
        CREATE INDEX attendees_name_search ON attendees(event_id, last_name, first_name, id, search_text);
        DROP INDEX attendees_organisation;
        CREATE INDEX attendees_organisation ON attendees(event_id, organisation, last_name, first_name, id);
        """
    )
