"""The SQL of attendee and program imports: the transaction, what they read to match rows, what they write."""

import contextlib

from kiosk.data.badges import issue_badges
from kiosk.db import immediate, indexes_rebuilt_after

BULK_ROWS = 5000  # new attendees from which the secondary indexes are rebuilt, not updated
PROGRAM_TABLES = ("rooms", "blocks", "sessions")


class _Snapshot:
    """A read transaction for a dry run: consistent reads, nothing written, always rolled back."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN")
        return self.db

    def __exit__(self, *exc):
        if self.db.conn.in_transaction:
            self.db.execute("ROLLBACK")
        return False


@contextlib.contextmanager
def import_transaction(db, dry_run):
    """A rolled-back snapshot for a dry run, else BEGIN IMMEDIATE with foreign-key checks paused.

    Every id the import writes was read inside this same write-locked transaction (or made
    by it), and it deletes nothing with children, so the checks could not fail; skipping
    them halves the time for the hundreds of thousands of choice rows of a big import
    (benchmarks/bench_import.py).
    """
    if dry_run:
        with _Snapshot(db):
            yield db
        return
    enforced = db.execute("PRAGMA foreign_keys").fetchone()[0]
    if enforced:
        db.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction, so before BEGIN
    try:
        with immediate(db):
            yield db
    finally:
        if enforced:
            db.execute("PRAGMA foreign_keys = ON")


def blocks(db):
    """Every time block's id and name, for matching a file's columns to blocks."""
    return list(db.query("SELECT id, name FROM blocks"))


def sessions(db):
    """Every session's id, block id and title, for matching the sessions a file names."""
    return db.query("SELECT id, block_id, title FROM sessions")


def attendees(db):
    """Every attendee with the fields an import compares, oldest first."""
    return db.query(
        "SELECT id, registration_id, first_name, name_prefix, last_name, name, email, organisation, role, "
        "status, extra FROM attendees ORDER BY id"
    )


def choices(db):
    """Every session choice as {(attendee id, block id): session id}."""
    rows = db.execute("SELECT attendee_id, block_id, session_id FROM choices").fetchall()
    return {(attendee_id, block_id): session_id for attendee_id, block_id, session_id in rows}


def next_attendee_id(db):
    """The id the next new attendee gets."""
    return (db.execute("SELECT max(id) FROM attendees").fetchone()[0] or 0) + 1


def write_attendees(db, *, new, updated, choices_removed, choices_added, badged, now):
    """Write an attendee import and give each of BADGED who has no current badge one; returns the badges issued.

    NEW and UPDATED are lists of (attendee id, values), CHOICES_REMOVED (attendee id, block id)
    and CHOICES_ADDED (attendee id, block id, session id). A big first import loads faster
    with the secondary indexes built once at the end (benchmarks/bench_import.py).
    """
    with contextlib.ExitStack() as bulk:
        if len(new) > BULK_ROWS:
            for table in ("attendees", "choices", "badges"):
                bulk.enter_context(indexes_rebuilt_after(db, table))
        _insert_attendees(db, new, now)
        _update_attendees(db, updated, now)
        if choices_removed:
            db.conn.executemany("DELETE FROM choices WHERE attendee_id = ? AND block_id = ?", choices_removed)
        if choices_added:
            db.conn.executemany(
                "INSERT INTO choices (attendee_id, block_id, session_id) VALUES (?, ?, ?)", choices_added
            )
        with_badge = {r[0] for r in db.execute("SELECT DISTINCT attendee_id FROM badges WHERE replaced_at IS NULL")}
        return issue_badges(db, [a for a in badged if a not in with_badge], now=now)


def _insert_attendees(db, new, now):
    """Insert NEW, (attendee id, values) pairs, in one executemany."""
    if not new:
        return
    db.conn.executemany(
        "INSERT INTO attendees (id, registration_id, first_name, name_prefix, last_name, name, email, "
        "organisation, role, status, extra, search_text, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (attendee_id, v["registration_id"], v["first_name"], v["name_prefix"], v["last_name"], v["name"],
             v["email"], v["organisation"], v["role"], v["status"], v["extra"], v["search_text"], now, now)
            for attendee_id, v in new
        ),
    )


def _update_attendees(db, updated, now):
    """Update UPDATED, (attendee id, values) pairs."""
    if not updated:
        return
    # Registration ids move between people only through NULL, so the UNIQUE index never trips midway.
    db.conn.executemany(
        "UPDATE attendees SET registration_id = NULL WHERE id = ?", ((attendee_id,) for attendee_id, _v in updated)
    )
    db.conn.executemany(
        "UPDATE attendees SET registration_id = ?, first_name = ?, name_prefix = ?, last_name = ?, name = ?, "
        "email = ?, organisation = ?, role = ?, status = ?, extra = ?, search_text = ?, updated_at = ? "
        "WHERE id = ?",
        (
            (v["registration_id"], v["first_name"], v["name_prefix"], v["last_name"], v["name"], v["email"],
             v["organisation"], v["role"], v["status"], v["extra"], v["search_text"], now, attendee_id)
            for attendee_id, v in updated
        ),
    )


def program(db):
    """Every room, block and session as they are, each table a list of rows."""
    return {table: list(db.query(f"SELECT * FROM {table}")) for table in PROGRAM_TABLES}


def save(db, table, values, row_id=None):
    """Insert VALUES into TABLE (rooms, blocks or sessions), or update row ROW_ID with them; returns the id."""
    if table not in PROGRAM_TABLES:
        raise ValueError(table)
    if row_id is None:
        return db[table].insert(values).last_pk
    db[table].update(row_id, values)
    return row_id


def add_occupancy_rows(db):
    """Give every room its occupancy counter row; rooms an import made have none yet."""
    db.execute("INSERT OR IGNORE INTO occupancy (room_id, inside, anonymous) SELECT id, 0, 0 FROM rooms")
