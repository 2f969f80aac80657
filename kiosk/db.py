"""The SQLite connection: settings, the per-thread connection, write transactions and their locks."""

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from datetime import datetime, timezone
from types import SimpleNamespace

from flask import current_app, g
from sqlite_utils import Database

# Re-exported: callers import the schema's versions from here, beside the connection.
from kiosk.migrations import migrate, migrations  # noqa: F401

# Process id -> the WAL size (pages) at which a writer's commit checkpoints, for connections
# that process opens; see writers_checkpoint_at.
_writers_checkpoint_pages = {}

# How long a writer waits for the write lock before it gives up with WriterBusy (setting
# WRITER_WAIT_SECONDS, environment KIOSK_WRITER_WAIT_SECONDS): a door that cannot write
# says so instead of hanging.
WRITER_WAIT_SECONDS = 10.0


class WriterBusy(Exception):
    """Another writer held the database past this writer's deadline; nothing was written.

    Views that write must answer it as "busy, try again" (HTTP 503), never as a 500.
    """


class EventDatabase(Database):
    """A sqlite-utils Database that knows which event its work is for: `db.event_id`.

    The data layer filters by db.event_id (kiosk.data.*), so no function signature carries the
    event. Set in one place per request: get_db() forgets the previous request's event, and
    whoever identifies the requester calls use_event() (a station's event, a host's, an organiser's
    login's; kiosk.accounts.access and the scan fast path). Unset, it is the install's current
    event (current_event_id), read on first use: the CLI, the organiser API, the public pages.
    """

    _event_id = None

    @property
    def event_id(self):
        if self._event_id is None:
            self._event_id = current_event_id(self)
        return self._event_id

    @event_id.setter
    def event_id(self, value):
        self._event_id = value


def current_event_id(db):
    """The install's current event: the one set (`kiosk event switch`), else the newest not archived,
    else the newest; 1 (the first event, not made yet) in a database without events."""
    return db.execute(
        """SELECT coalesce((SELECT event_id FROM current_event WHERE id = 1),
                           (SELECT max(id) FROM event WHERE archived_at IS NULL), (SELECT max(id) FROM event), 1)"""
    ).fetchone()[0]


def use_event(db, event_id):
    """From now on DB's work is for EVENT_ID (None: the install's current event again)."""
    db.event_id = event_id


def connect(path, writer_wait=WRITER_WAIT_SECONDS):
    """Open a sqlite-utils Database on PATH with the settings every connection needs.

    WRITER_WAIT: seconds a write transaction waits for the write lock before WriterBusy.
    """
    # isolation_level=None: we open transactions ourselves (BEGIN IMMEDIATE where a
    # read-then-write must hold), so the driver must not open implicit ones.
    conn = sqlite3.connect(str(path), timeout=writer_wait, isolation_level=None, check_same_thread=False)
    db = EventDatabase(conn, execute_plugins=False)
    db.write_lock_path = None if str(path) == ":memory:" else f"{path}-writelock"
    db.writer_wait = writer_wait
    db.execute(f"PRAGMA busy_timeout = {int(writer_wait * 1000)}")
    with db.ensure_autocommit_on():
        db.execute("PRAGMA journal_mode = WAL")
    # NORMAL in WAL mode survives an application crash (SIGKILL) without losing a
    # committed transaction; only a power loss may drop the last commits.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    pages = _writers_checkpoint_pages.get(os.getpid())
    if pages is not None:
        db.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
    return db


def writers_checkpoint_at(pages):
    """From now on, connections this process opens checkpoint inside a commit only once the
    WAL is PAGES long (SQLite's default: 1,000).

    The hook for kiosk.serving.checkpointer, whose thread keeps the WAL short and leaves the
    writers' own checkpoint as a safety net. Per process: a worker forked from this one runs
    no thread of its parent's, so its connections keep SQLite's default.
    """
    _writers_checkpoint_pages[os.getpid()] = pages


def checkpoint(db):
    """Copy what can be copied of the WAL into the database file without waiting for readers
    or blocking a writer (PASSIVE); SQLite's answer: (busy, frames in the WAL, frames copied)."""
    return db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


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
        db.writer_wait = current_app.config["WRITER_WAIT_SECONDS"]
        db.event_id = None  # a new request: whose event it is, access decides (EventDatabase)
        g.db = db
    return db


def close_db(_exc=None):
    """At the end of a request: the connection stays open, but no transaction may."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


# Writers queue on these locks instead of in SQLite's busy handler, which sleeps in
# growing steps (1, 2, 5, 10 ... 100 ms) and so turns a queue of short transactions
# into long waits: threads of one process on a lock, server workers and command-line
# tools on a lock file beside the database. Each wait has a deadline (db.writer_wait).
_writer = threading.RLock()
_lock_files = {}
# A lock file's waiter that gave up at its deadline but may still get the lock later (and then
# lets go of it at once). While one is out, this process's next writers wait for it first: flock
# locks belong to the open file, so a writer taking the lock beside it would be let go with it.
_late_waiter = {}
SPIN_SECONDS = 0.002


def _busy(db):
    return WriterBusy(f"the database was busy with another writer for {db.writer_wait:g} s")


def _take_lock_file(fd, deadline):
    """Take the lock file FD's exclusive lock, waiting until DEADLINE (monotonic); False when it passed.

    The kernel hands a flock to the next waiter the moment it is let go, which polling cannot
    match (a poller sleeps past the hand-over, and two server workers lose their turns to each
    other: benchmarks/run.py's check-in figures). flock itself has no timeout, so a contended wait
    runs in a thread of its own while this one waits on an event with the deadline.
    """
    late = _late_waiter.get(fd)
    if late is not None and not late.wait(max(0.0, deadline - time.monotonic())):
        return False
    # Another worker's transaction is usually over within a millisecond: try again, giving the
    # processor away in between, before a thread of its own waits in the kernel's queue.
    spin_until = min(deadline, time.monotonic() + SPIN_SECONDS)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= spin_until:
                break
            time.sleep(0)
    got, done, guard = threading.Event(), threading.Event(), threading.Lock()
    state = {"abandoned": False}

    def wait_for_lock():
        fcntl.flock(fd, fcntl.LOCK_EX)
        with guard:
            if state["abandoned"]:
                fcntl.flock(fd, fcntl.LOCK_UN)
            else:
                got.set()
        done.set()

    threading.Thread(target=wait_for_lock, name="kiosk-lock-wait", daemon=True).start()
    if got.wait(max(0.0, deadline - time.monotonic())):
        return True
    with guard:
        if got.is_set():
            return True
        state["abandoned"] = True
        _late_waiter[fd] = done
    return False


@contextlib.contextmanager
def _process_write_lock(db, deadline):
    path = getattr(db, "write_lock_path", None)
    if path is None:
        yield
        return
    key = (os.getpid(), path)
    fd = _lock_files.get(key)
    if fd is None:
        fd = _lock_files[key] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if not _take_lock_file(fd, deadline):
        raise _busy(db)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def immediate(db):
    """A write transaction that takes the write lock up front, so a read inside it stays true.

    Nested use joins the transaction already open: a scan and the rate limit it counts
    commit together. Waiting longer than db.writer_wait for the lock raises WriterBusy.
    """
    if getattr(db, "write_depth", 0):
        db.write_depth += 1
        try:
            yield db
        finally:
            db.write_depth -= 1
        return
    wait = getattr(db, "writer_wait", WRITER_WAIT_SECONDS)
    deadline = time.monotonic() + wait
    if not _writer.acquire(timeout=wait):
        raise _busy(db)
    try:
        with _process_write_lock(db, deadline):
            _begin(db)
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
    finally:
        _writer.release()


def _begin(db):
    """BEGIN IMMEDIATE; a writer outside Kiosk's locks (the sqlite3 shell) that outlasts busy_timeout is WriterBusy."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise _busy(db) from error
        raise


@contextlib.contextmanager
def savepoint(db):
    """Inside a write transaction: a step whose error undoes only the step's own writes.

    The error (an Exception) is kept as the step's `.error`, not raised, so the transaction
    goes on; an error undoing the writes is raised.
    """
    step = SimpleNamespace(error=None)
    db.execute("SAVEPOINT step")
    try:
        yield step
    except Exception as exc:
        db.execute("ROLLBACK TO step")
        step.error = exc
    db.execute("RELEASE step")


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


def init_app(app):
    app.teardown_appcontext(close_db)
