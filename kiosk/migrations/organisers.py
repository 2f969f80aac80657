"""Migrations m0008 onwards: the event, staff, tokens, the program and people pages, registration, imports."""

from kiosk.migrations.registry import migrations


@migrations()
def m0008_event_setup_staff_and_api_tokens(db):
    # What an organiser needs to run their own event: the event's other fields and its logo
    # (a table of its own, so reading the event row on every scan does not read the image),
    # the one-time set-up link of a fresh install, account invitations and disabling, the
    # last login, and personal API tokens for integrations. Secrets are stored as SHA-256.
    db.executescript(
        """
        ALTER TABLE event ADD COLUMN end_date TEXT;
        ALTER TABLE event ADD COLUMN address TEXT NOT NULL DEFAULT '';
        ALTER TABLE event ADD COLUMN badge_header TEXT NOT NULL DEFAULT '';
        CREATE TABLE event_logo (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            png BLOB NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE setup_links (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            used_at TEXT
        );
        ALTER TABLE users ADD COLUMN last_login_at TEXT;
        ALTER TABLE users ADD COLUMN disabled_at TEXT;
        CREATE TABLE user_links (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            token_hash TEXT NOT NULL UNIQUE,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE INDEX user_links_user ON user_links(user_id);
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens(name) WHERE revoked_at IS NULL;
        """
    )


@migrations()
def m0009_scan_reasons_and_attendee_list_indexes(db):
    # Staff who let in a cancelled registration say why; the reason stays with the scan.
    # The attendee list filters by organisation and sorts by organisation or name: with the
    # organisation index extended by the name order, an organisation's page is read in order.
    # Cancellations are few: a partial index finds them (the list's filter, and the places
    # counts, which subtract their choices) without reading every attendee.
    db.executescript(
        """
        ALTER TABLE scans ADD COLUMN reason TEXT;
        DROP INDEX attendees_organisation;
        CREATE INDEX attendees_organisation ON attendees(organisation, last_name, first_name, id);
        CREATE INDEX attendees_cancelled ON attendees(id) WHERE status = 'cancelled';
        """
    )


@migrations()
def m0010_station_result_seconds(db):
    # How long a station's answer stays on screen is the station's own (WCAG 2.2.1: enough
    # time to read); NULL keeps the default.
    db.execute("ALTER TABLE stations ADD COLUMN result_seconds INTEGER CHECK (result_seconds BETWEEN 3 AND 120)")


# Long: one SQL script for the registration tables, and a migration is never edited once it landed.
@migrations()
def m0011_registration_waiting_list_and_outbox(db):
    # Registration on a public page: whether it is open (and until when), the consent and
    # privacy texts organisers write, which blocks everyone must choose in, the personal links
    # (SHA-256 of a random token, several per person: every ticket mail carries its own), the
    # waiting list per session in order of arrival, and the outbox every e-mail waits in.
    db.executescript(
        """
        ALTER TABLE event ADD COLUMN registration_open INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE event ADD COLUMN registration_closes_at TEXT;     -- UTC ISO; NULL: open until closed
        ALTER TABLE event ADD COLUMN consent_text TEXT NOT NULL DEFAULT '';
        ALTER TABLE event ADD COLUMN privacy_text TEXT NOT NULL DEFAULT '';
        ALTER TABLE blocks ADD COLUMN required INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE registration_links (
            id INTEGER PRIMARY KEY,
            attendee_id INTEGER NOT NULL REFERENCES attendees(id) ON DELETE CASCADE,
            token_hash TEXT NOT NULL UNIQUE,
            language TEXT NOT NULL DEFAULT 'nl',
            created_at TEXT NOT NULL
        );
        CREATE INDEX registration_links_attendee ON registration_links(attendee_id);
        CREATE TABLE waiting_list (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            attendee_id INTEGER REFERENCES attendees(id) ON DELETE CASCADE,  -- NULL: not registered (yet)
            position REAL NOT NULL,                 -- order of arrival; organisers may reorder
            name TEXT NOT NULL,
            email TEXT NOT NULL,
            organisation TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL DEFAULT 'nl',
            wishes TEXT NOT NULL DEFAULT '{}',      -- JSON {block_id: session_id} of the other choices
            created_at TEXT NOT NULL,
            promoted_at TEXT,
            removed_at TEXT
        );
        CREATE INDEX waiting_list_session ON waiting_list(session_id, position) WHERE promoted_at IS NULL AND removed_at IS NULL;
        CREATE INDEX waiting_list_attendee ON waiting_list(attendee_id) WHERE attendee_id IS NOT NULL;
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            kind TEXT NOT NULL,                     -- ticket, promoted, waiting
            attendee_id INTEGER REFERENCES attendees(id) ON DELETE SET NULL,
            recipient TEXT NOT NULL,
            recipient_name TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL DEFAULT 'nl',
            link_token TEXT,                        -- the personal link's token this mail carries
            detail TEXT NOT NULL DEFAULT '{}',      -- JSON: what the message says beyond the ticket
            message_id TEXT NOT NULL UNIQUE,
            subject TEXT NOT NULL DEFAULT '',
            message BLOB,                           -- the RFC 5322 bytes, built once, sent as built
            status TEXT NOT NULL DEFAULT 'waiting'
                CHECK (status IN ('waiting', 'sending', 'sent', 'failed', 'uncertain')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL DEFAULT 0,
            last_error TEXT,
            refused INTEGER NOT NULL DEFAULT 0,     -- the server refused the recipient (a bounce at SMTP)
            sending_at TEXT,
            sent_at TEXT
        );
        CREATE INDEX outbox_waiting ON outbox(next_attempt_at, id) WHERE status = 'waiting';
        CREATE INDEX outbox_attendee ON outbox(attendee_id) WHERE attendee_id IS NOT NULL;
        CREATE INDEX outbox_status ON outbox(status, id);
        """
    )


@migrations()
def m0012_import_mappings(db):
    # The organiser's choice of what each column of an export is for, remembered by its set of
    # headers (a hash of them) for the next import of the same export.
    db.executescript(
        """
        CREATE TABLE import_mappings (
            signature TEXT PRIMARY KEY,
            mapping TEXT NOT NULL,              -- JSON: {header key: target}
            updated_at TEXT NOT NULL
        );
        """
    )


@migrations()
def m0013_waiting_list_links(db):
    # Someone who only joined a waiting list has no registration, so no personal link: the e-mail
    # that tells them their place in line carries a link of its own (SHA-256 of a random token,
    # as registration_links), shared by the entries of that one sign-up, to see and leave them.
    db.executescript(
        """
        CREATE TABLE waiting_links (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            language TEXT NOT NULL DEFAULT 'nl',
            created_at TEXT NOT NULL
        );
        ALTER TABLE waiting_list ADD COLUMN link_id INTEGER REFERENCES waiting_links(id) ON DELETE SET NULL;
        CREATE INDEX waiting_list_link ON waiting_list(link_id) WHERE link_id IS NOT NULL;
        """
    )
