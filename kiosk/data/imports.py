"""The SQL of attendee and program imports: the transaction, what they read to match rows, what they write."""

import contextlib
import json

from kiosk.data.program import IN_EVENT
from kiosk.db import immediate, now_utc

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
    return list(db.query("SELECT id, name FROM blocks WHERE event_id = ?", [db.event_id]))


def sessions(db):
    """Every session's id, block id and title, for matching the sessions a file names."""
    return db.query("SELECT id, block_id, title FROM sessions WHERE block_id IN (SELECT id FROM blocks WHERE event_id = ?)",
                    [db.event_id])


def attendees(db):
    """Every attendee with the fields an import compares, oldest first."""
    return db.query(
        "SELECT id, registration_id, first_name, name_prefix, last_name, name, email, organisation, role, "
        "status, extra, search_text, created_at, updated_at FROM attendees WHERE event_id = ? ORDER BY id", [db.event_id]
    )


def choices(db):
    """Every session choice as {(attendee id, block id): session id}."""
    rows = db.execute(
        """SELECT attendee_id, block_id, session_id FROM choices
           WHERE block_id IN (SELECT id FROM blocks WHERE event_id = ?)""", [db.event_id]
    ).fetchall()
    return {(attendee_id, block_id): session_id for attendee_id, block_id, session_id in rows}


def next_attendee_id(db):
    """The id the next new attendee gets."""
    return (db.execute("SELECT max(id) FROM attendees").fetchone()[0] or 0) + 1


def program(db):
    """Every room, block and session as they are, each table a list of rows."""
    return {table: list(db.query(f"SELECT * FROM {table} WHERE {IN_EVENT[table]}", [db.event_id])) for table in PROGRAM_TABLES}


def save(db, table, values, row_id=None):
    """Insert VALUES into TABLE (rooms, blocks or sessions), or update row ROW_ID with them; returns the id."""
    if table not in PROGRAM_TABLES:
        raise ValueError(table)
    if row_id is None:
        if table != "sessions":
            values = dict(values, event_id=db.event_id)
        return db[table].insert(values).last_pk
    db[table].update(row_id, values)
    return row_id


def add_occupancy_rows(db):
    """Give every room its occupancy counter row; rooms an import made have none yet."""
    db.execute("INSERT OR IGNORE INTO occupancy (room_id, inside, anonymous) SELECT id, 0, 0 FROM rooms")


def remembered_mapping(db, signature):
    """The organiser's mapping {header key: target} for an export with this set of headers, or None."""
    row = db.execute("SELECT mapping FROM import_mappings WHERE signature = ?", [signature]).fetchone()
    return json.loads(row[0]) if row else None


def remember_mapping(db, signature, mapping):
    """Keep MAPPING ({header key: target}) for the next import of an export with this set of headers."""
    with immediate(db):
        db.execute(
            "INSERT INTO import_mappings (signature, mapping, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (signature) DO UPDATE SET mapping = excluded.mapping, updated_at = excluded.updated_at",
            [signature, json.dumps(mapping, ensure_ascii=False), now_utc()],
        )
