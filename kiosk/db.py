"""The SQLite connection and schema: every table, migration and connection setting lives here."""

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from datetime import datetime, timezone

from flask import current_app, g
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("kiosk")


def connect(path):
    """Open a sqlite-utils Database on PATH with the settings every connection needs."""
    # isolation_level=None: we open transactions ourselves (BEGIN IMMEDIATE where a
    # read-then-write must hold), so the driver must not open implicit ones.
    conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
    db = Database(conn, execute_plugins=False)
    db.write_lock_path = None if str(path) == ":memory:" else f"{path}-writelock"
    db.execute("PRAGMA busy_timeout = 10000")
    with db.ensure_autocommit_on():
        db.execute("PRAGMA journal_mode = WAL")
    # NORMAL in WAL mode survives an application crash (SIGKILL) without losing a
    # committed transaction; only a power loss may drop the last commits.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    if _checkpointer_pid == os.getpid():
        # This process's checkpointer thread keeps the WAL short; a writer's own checkpoint
        # is left only as a safety net (see SAFETY_CHECKPOINT_PAGES).
        db.execute(f"PRAGMA wal_autocheckpoint = {SAFETY_CHECKPOINT_PAGES}")
    return db


# SQLite copies the WAL back into the database file (a checkpoint, with an fsync) inside
# the commit that takes the WAL past 1,000 pages. For check-ins that was every ~110th scan,
# done while it held the write lock, so every other station waited for the copy and the
# fsync. A server worker checkpoints from a thread of its own instead, outside any request
# and any lock; measured on the API check-in benchmark, 5-20% more check-ins per second.
# Often and small: each checkpoint's fsync stalls the writers for a moment, and the stall
# grows with what it copies. At 1,000 check-ins/s on loopback (2 workers, scans committed
# in batches), the slowest 1% of answers in 5-second runs took 16-25 ms with a checkpoint
# every 0.025 s (8 of 12 runs under 25 ms) against 16-31 ms every 0.1 s (5 of 12); every
# 0.5 s, 27-40 ms. In a pause the thread waits longer and longer, up to
# IDLE_CHECKPOINT_SECONDS, so an idle server does not wake 40 times a second.
CHECKPOINT_SECONDS = 0.025
IDLE_CHECKPOINT_SECONDS = 0.5
# The WAL starts over from its beginning when a writer finds it all copied, which the
# thread's checkpoints manage in any pause between writes: at a door's pace the WAL stays
# a few pages long. Under a sustained stream of writes (hundreds a second) they never
# quite catch up, and the WAL grows until a writer's own checkpoint forces the restart:
# it copies the rest and fsyncs twice inside its commit, while every station waits (19-31
# ms at 1,000 check-ins/s, every 1.6 s). A 100,000-page net made that ten times rarer, but
# a WAL file growing to 400 MB costs the disk more while it grows: at 1,000/s the slowest
# 1% took 70-84 ms against 34-45 ms from a fresh file, though less once it had grown.
# Mixed, so the smaller net stays.
SAFETY_CHECKPOINT_PAGES = 10_000
_checkpointer_pid = None  # the process whose checkpointer thread runs


def start_checkpointer(path, every=CHECKPOINT_SECONDS, idle=IDLE_CHECKPOINT_SECONDS):
    """Checkpoint the database at PATH from a daemon thread, once per process: every EVERY
    seconds while writes come in, up to IDLE seconds apart in a pause.

    Call it in the process that serves requests, after any fork: threads do not survive one.
    """
    global _checkpointer_pid
    if _checkpointer_pid == os.getpid():
        return
    ready = threading.Event()

    def run():
        db = connect(path)
        ready.set()
        wait, last = every, None
        while True:
            time.sleep(wait)
            try:
                # PASSIVE: copies what it can; never waits for readers, never blocks a writer.
                state = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:
                state = None  # busy or briefly unavailable: the next round tries again
            wait = next_checkpoint_wait(wait, state, last, every=every, idle=idle)
            last = state

    _checkpointer_pid = os.getpid()
    threading.Thread(target=run, name="kiosk-checkpointer", daemon=True).start()
    ready.wait(10)


def next_checkpoint_wait(wait, state, last, *, every, idle):
    """Seconds until the next checkpoint, given this one's STATE and the one before's (LAST).

    A state is SQLite's answer (busy, frames in the WAL, frames copied), None when the
    checkpoint failed. Unless the WAL is all copied and unchanged since the last round, writes
    are coming in: come back in EVERY seconds. Otherwise wait twice as long as the last time,
    up to IDLE.
    """
    if state is None or state[0] or state[1] != state[2] or state != last:
        return every
    return min(wait * 2, idle)


# One open connection per server thread, reused by its requests: opening a connection
# and setting its pragmas costs more than a whole check-in. Keyed by process id too,
# because the server forks workers after the app (and maybe a connection) was created.
_per_thread = threading.local()


def get_db():
    """The request's Database: the thread's open connection to the app's database file."""
    db = g.get("db")  # one lookup through Flask's context proxy: this runs several times a scan
    if db is None:
        path = str(current_app.config["DATABASE"])
        db = getattr(_per_thread, "db", None)
        if db is None or _per_thread.key != (os.getpid(), path):
            if db is not None and _per_thread.key[0] == os.getpid():
                db.close()
            db = connect(path)
            _per_thread.db, _per_thread.key = db, (os.getpid(), path)
        g.db = db
    return db


def close_db(_exc=None):
    """At the end of a request: the connection stays open, but no transaction may."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def forget_connection():
    """Close this thread's cached connection (before a database file is replaced)."""
    cached = getattr(_per_thread, "db", None)
    if cached is not None and _per_thread.key[0] == os.getpid():
        cached.close()
    _per_thread.db = None


# Writers queue on these locks instead of in SQLite's busy handler, which sleeps in
# growing steps (1, 2, 5, 10 ... 100 ms) and so turns a queue of 0.5 ms transactions
# into hundreds of milliseconds of latency: threads of one process on a lock, server
# workers and command-line tools on a lock file beside the database, which the kernel
# hands to the next waiter the moment it is released.
_writer = threading.RLock()
_lock_files = {}


@contextlib.contextmanager
def _process_write_lock(db):
    path = getattr(db, "write_lock_path", None)
    if path is None:
        yield
        return
    key = (os.getpid(), path)
    fd = _lock_files.get(key)
    if fd is None:
        fd = _lock_files[key] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def immediate(db):
    """A write transaction that takes the write lock up front, so a read inside it stays true.

    Nested use joins the transaction already open: a scan and the rate limit it counts
    commit together.
    """
    if getattr(db, "write_depth", 0):
        db.write_depth += 1
        try:
            yield db
        finally:
            db.write_depth -= 1
        return
    with _writer, _process_write_lock(db):
        db.execute("BEGIN IMMEDIATE")
        db.write_depth = 1
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")
        finally:
            db.write_depth = 0


def one(db, sql, params=()):
    """The first row of SQL as a dict, or None; for hot paths (no savepoint around the read)."""
    cursor = db.conn.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([column[0] for column in cursor.description], row))


@contextlib.contextmanager
def indexes_rebuilt_after(db, table):
    """Drop TABLE's secondary indexes for a bulk load and build them again at the end.

    Building an index once over sorted data is cheaper than updating it row by row;
    call it inside the load's transaction, so readers never see the table without them.
    """
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", [table]
    ).fetchall()
    for name, _sql in indexes:
        db.execute(f'DROP INDEX "{name}"')
    yield
    # Only on success: after an error the caller's rollback brings the indexes back.
    for _name, sql in indexes:
        db.execute(sql)


def now_utc():
    """The current time as an ISO 8601 string in UTC, the form every timestamp is stored in."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def migrate(db):
    """Bring DB's schema up to date."""
    migrations.apply(db)


def init_app(app):
    app.teardown_appcontext(close_db)


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
    # room or one attendee (col = ?), which a partial index answers. 7.7 -> 5.7 pages written
    # per entrance check-in.
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
