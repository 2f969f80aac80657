"""Migrations m0001-m0007: the check-in core's schema and the indexes its figures asked for."""

from kiosk.migrations.registry import migrations


# Longer than a function should be: the first schema, one SQL script, and a migration is
# never edited once it landed.
@migrations()
def m0001_create_event_model(db):
    db.executescript(
        """
        CREATE TABLE event (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            name TEXT NOT NULL,
            date TEXT NOT NULL,                -- ISO date of the event day
            venue TEXT NOT NULL DEFAULT '',
            timezone TEXT NOT NULL DEFAULT 'Europe/Amsterdam',
            language TEXT NOT NULL DEFAULT 'nl'
        );
        CREATE TABLE rooms (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            capacity INTEGER NOT NULL CHECK (capacity >= 0),
            location TEXT NOT NULL DEFAULT '',
            has_exit_scan INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE blocks (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,          -- e.g. 'Ochtend', 'Lunch'; import column header
            starts_at TEXT NOT NULL,            -- local time HH:MM on the event date
            ends_at TEXT NOT NULL
        );
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            block_id INTEGER NOT NULL REFERENCES blocks(id),
            title TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('plenary', 'session', 'walk', 'break')),
            room_id INTEGER REFERENCES rooms(id),
            meeting_point TEXT,
            place_limit INTEGER CHECK (place_limit >= 0),
            description TEXT NOT NULL DEFAULT '',
            UNIQUE (block_id, title)
        );
        CREATE INDEX sessions_room ON sessions(room_id);
        CREATE TABLE attendees (
            id INTEGER PRIMARY KEY,
            registration_id TEXT UNIQUE,
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
            updated_at TEXT NOT NULL
        );
        CREATE INDEX attendees_email ON attendees(email COLLATE NOCASE);
        CREATE INDEX attendees_organisation ON attendees(organisation);
        CREATE TABLE choices (
            attendee_id INTEGER NOT NULL REFERENCES attendees(id) ON DELETE CASCADE,
            block_id INTEGER NOT NULL REFERENCES blocks(id),
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            PRIMARY KEY (attendee_id, block_id)
        ) WITHOUT ROWID;
        CREATE INDEX choices_session ON choices(session_id);
        CREATE TABLE badges (
            id INTEGER PRIMARY KEY,
            attendee_id INTEGER NOT NULL REFERENCES attendees(id) ON DELETE CASCADE,
            code TEXT NOT NULL UNIQUE,              -- what the QR carries, 'K1-' + 16 characters
            short_code TEXT NOT NULL UNIQUE,        -- first 8 characters, typed at the desk
            issued_at TEXT NOT NULL,
            replaced_at TEXT                        -- set when a newer badge was issued
        );
        CREATE INDEX badges_attendee ON badges(attendee_id);
        CREATE TABLE badge_prints (
            id INTEGER PRIMARY KEY,
            badge_id INTEGER NOT NULL REFERENCES badges(id) ON DELETE CASCADE,
            layout TEXT NOT NULL,
            printed_by TEXT NOT NULL,
            printed_at TEXT NOT NULL
        );
        CREATE INDEX badge_prints_badge ON badge_prints(badge_id);
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('organiser', 'host')),
            created_at TEXT NOT NULL
        );
        CREATE TABLE stations (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
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
            CHECK ((mode = 'room') = (room_id IS NOT NULL))
        );
        -- Append-only: every scan attempt, anonymous count and undo is a new row.
        CREATE TABLE scans (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('scan', 'undo', 'anonymous', 'clear')),
            direction TEXT NOT NULL DEFAULT 'in' CHECK (direction IN ('in', 'out')),
            code TEXT,                              -- what was scanned, as received (cut to 64)
            attendee_id INTEGER REFERENCES attendees(id) ON DELETE SET NULL,
            room_id INTEGER REFERENCES rooms(id),   -- NULL: the entrance
            station_id INTEGER REFERENCES stations(id),
            user_id INTEGER REFERENCES users(id),
            outcome TEXT NOT NULL,                  -- checked_in, already, unknown, replaced, cancelled, full, left, ...
            warning TEXT,
            override INTEGER NOT NULL DEFAULT 0,
            undoes INTEGER REFERENCES scans(id),    -- the scan an 'undo' row takes back
            client_scan_id TEXT,                    -- the scanner app's own id, for idempotent retries
            response TEXT                           -- JSON answer given, replayed on a retry
        );
        CREATE UNIQUE INDEX scans_client_id ON scans(station_id, client_scan_id) WHERE client_scan_id IS NOT NULL;
        CREATE INDEX scans_attendee ON scans(attendee_id, id);
        CREATE INDEX scans_room ON scans(room_id, id);
        CREATE INDEX scans_station ON scans(station_id, id);
        -- Current state, kept beside the scans in the same transaction.
        CREATE TABLE presence (
            attendee_id INTEGER PRIMARY KEY REFERENCES attendees(id) ON DELETE CASCADE,
            checked_in_at TEXT NOT NULL,
            checkin_scan_id INTEGER NOT NULL REFERENCES scans(id),
            room_id INTEGER REFERENCES rooms(id),   -- NULL: in the building, in no room
            room_since TEXT,
            room_scan_id INTEGER REFERENCES scans(id)
        );
        CREATE INDEX presence_room ON presence(room_id);
        CREATE INDEX presence_checked_in ON presence(checked_in_at);
        CREATE TABLE occupancy (
            room_id INTEGER PRIMARY KEY REFERENCES rooms(id) ON DELETE CASCADE,
            inside INTEGER NOT NULL DEFAULT 0 CHECK (inside >= 0),   -- badged people + anonymous
            anonymous INTEGER NOT NULL DEFAULT 0 CHECK (anonymous >= 0)
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        );
        """
    )


@migrations()
def m0002_create_station_devices(db):
    # A device paired through a station's one-time link carries its own cookie token,
    # so the API token printed once by `kiosk station add` keeps working beside it.
    db.executescript(
        """
        CREATE TABLE station_devices (
            id INTEGER PRIMARY KEY,
            station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
            token_hash TEXT NOT NULL UNIQUE,
            user_agent TEXT NOT NULL DEFAULT '',
            paired_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE INDEX station_devices_station ON station_devices(station_id);
        """
    )


@migrations()
def m0003_create_rate_limits(db):
    # Kept in SQLite, not in process memory, so every server worker sees the same count.
    db.executescript(
        """
        CREATE TABLE rate_limits (
            bucket TEXT NOT NULL,
            key TEXT NOT NULL,
            window_start REAL NOT NULL,
            hits INTEGER NOT NULL,
            PRIMARY KEY (bucket, key)
        ) WITHOUT ROWID;
        """
    )


@migrations()
def m0004_index_undoes(db):
    # "Was this scan undone?" is asked for every scan shown in a history or a door's list.
    db.execute("CREATE INDEX scans_undoes ON scans(undoes) WHERE undoes IS NOT NULL")


@migrations()
def m0005_index_attendee_search(db):
    # Search walks this index in name order and stops at the first page of matches,
    # reading search_text from the index itself instead of every table row.
    db.execute("CREATE INDEX attendees_name_search ON attendees(last_name, first_name, id, search_text)")


@migrations()
def m0006_partial_indexes_for_scans(db):
    # Each check-in writes every index page its new rows touch, and the WAL, its checkpoint
    # and the checkpoint's fsync grow with them. An entrance scan has no room, and an unknown
    # code no attendee: these indexes leave such rows out. Every query on them asks for one
    # room or one attendee (col = ?), which a partial index answers, and a check-in writes
    # fewer pages (benchmarks/run.py measures the check-ins).
    db.executescript(
        """
        DROP INDEX scans_attendee;
        CREATE INDEX scans_attendee ON scans(attendee_id, id) WHERE attendee_id IS NOT NULL;
        DROP INDEX scans_room;
        CREATE INDEX scans_room ON scans(room_id, id) WHERE room_id IS NOT NULL;
        DROP INDEX presence_room;
        CREATE INDEX presence_room ON presence(room_id) WHERE room_id IS NOT NULL;
        """
    )


@migrations()
def m0007_create_login_sessions(db):
    # A login is a row here and the browser's session cookie carries its random token, so
    # logging out ends the login itself: a copy of the cookie stops working with it.
    db.executescript(
        """
        CREATE TABLE login_sessions (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            token_hash TEXT NOT NULL UNIQUE,
            started_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX login_sessions_user ON login_sessions(user_id);
        """
    )
