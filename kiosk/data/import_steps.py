"""The SQL of an attendee import written in short steps, each its own transaction, and undone if one fails.

A step holds the write lock for about STEP_SECONDS and then pauses, so the door's scans get
in between: a 200,000-row import keeps no check-in waiting long (tests/test_import_steps.py).
The import stays all or nothing for the organiser: when a step fails, what the steps before it
wrote is undone, in steps too, and the error is raised. While the steps run, the organiser's
pages may show part of the import; the door cannot scan it, because the badges it makes carry
codes nobody holds yet.
"""

import contextlib
import time

from kiosk.data.badges import new_codes, short_form
from kiosk.db import WriterBusy, checkpoint, immediate

STEP_SECONDS = 0.02  # the write lock held by one step, at most about this long
STEP_PAUSE = 0.01  # between steps: a waiting writer takes the lock (Python's locks do not queue)
SLICE_ROWS = 100  # rows per executemany; a step ends at the first slice past STEP_SECONDS
CACHE_KIB = 32 * 1024  # the importing connection's page cache: index pages stay at hand between steps
CODE_BATCH = 1000  # badge codes made at a time: making 200,000 at once holds the interpreter lock too long
UNDO_TRIES = 5  # an undo that finds the database busy tries again, this many times

ATTENDEE_COLUMNS = (
    "id", "registration_id", "first_name", "name_prefix", "last_name", "name", "email", "organisation", "role",
    "status", "extra", "search_text", "created_at", "updated_at",
)
# The new attendees' event comes last, after the ATTENDEE_COLUMNS of a plan's row (see write_in_steps).
INSERT_ATTENDEE = (f"INSERT INTO attendees ({', '.join(ATTENDEE_COLUMNS)}, event_id) "
                   f"VALUES ({', '.join('?' * len(ATTENDEE_COLUMNS))}, ?)")
UPDATE_ATTENDEE = (
    "UPDATE attendees SET registration_id = ?, first_name = ?, name_prefix = ?, last_name = ?, name = ?, email = ?, "
    "organisation = ?, role = ?, status = ?, extra = ?, search_text = ?, created_at = ?, updated_at = ? WHERE id = ?"
)
CLEAR_REGISTRATION = "UPDATE attendees SET registration_id = NULL WHERE id = ?"
DELETE_CHOICE = "DELETE FROM choices WHERE attendee_id = ? AND block_id = ?"
INSERT_CHOICE = "INSERT OR REPLACE INTO choices (attendee_id, block_id, session_id) VALUES (?, ?, ?)"
INSERT_BADGE = "INSERT INTO badges (attendee_id, code, short_code, issued_at) VALUES (?, ?, ?, ?)"


class ImportChanged(Exception):
    """The attendees changed between the import's check and its first write; nothing was written."""


def fingerprint(db):
    """What must not change between an import's check and its writes: attendees, choices and badges, in brief."""
    return (
        db.execute("SELECT count(*), max(id), max(updated_at) FROM attendees").fetchone(),
        db.execute("SELECT count(*) FROM choices").fetchone()[0],
        db.execute("SELECT max(id) FROM badges").fetchone()[0],
    )


def attendee_rows(db, ids):
    """The full rows of attendees IDS as tuples in ATTENDEE_COLUMNS order, to put back if the import is undone."""
    query = f"SELECT {', '.join(ATTENDEE_COLUMNS)} FROM attendees WHERE id = ?"
    return [db.execute(query, [attendee_id]).fetchone() for attendee_id in ids]


def current_badge_holders(db):
    """The ids of attendees who have a current badge."""
    return {row[0] for row in db.execute("SELECT DISTINCT attendee_id FROM badges WHERE replaced_at IS NULL")}


def badge_records(db, attendee_ids, now):
    """(attendee id, code, short code, issued at) for a new badge for each of ATTENDEE_IDS, no code in use."""
    codes, shorts = set(), set()
    for code, short in db.execute("SELECT code, short_code FROM badges"):
        codes.add(code)
        shorts.add(short)
    records, fresh = [], []
    for attendee_id in attendee_ids:
        while True:
            if not fresh:
                fresh = new_codes(min(CODE_BATCH, len(attendee_ids) - len(records) + 8))
            code = fresh.pop()
            short = short_form(code)
            if code not in codes and short not in shorts:
                break
        codes.add(code)
        shorts.add(short)
        records.append((attendee_id, code, short, now))
    return records


def write_in_steps(db, plan):
    """Write PLAN (made by kiosk.imports.attendees.plan_attendees) in short transactions; undo all if one fails.

    PLAN: 'fingerprint' (read when the plan was made), 'new' and 'updated' (attendee rows as
    tuples in ATTENDEE_COLUMNS order), 'old' (the updated attendees' rows before), 'choices_removed'
    (attendee, block, session before), 'choices_added' (attendee, block, session), 'badges'
    (records from badge_records). Raises ImportChanged, WriterBusy or the database's error.
    """
    steps = [
        (INSERT_ATTENDEE, [(*row, db.event_id) for row in plan["new"]]),
        (CLEAR_REGISTRATION, [(row[0],) for row in plan["updated"]]),
        (UPDATE_ATTENDEE, [row[1:] + row[:1] for row in plan["updated"]]),
        (DELETE_CHOICE, [row[:2] for row in plan["choices_removed"]]),
        (INSERT_CHOICE, plan["choices_added"]),
        (INSERT_BADGE, plan["badges"]),
    ]
    if getattr(db, "write_depth", 0):
        # Inside the caller's transaction (the demo's): one transaction, which its rollback undoes.
        for sql, rows in steps:
            db.conn.executemany(sql, rows)
        return
    with _foreign_keys_paused(db), _checkpoints_between_steps(db):
        try:
            _run(db, steps, check=lambda: _unchanged(db, plan["fingerprint"]))
        except ImportChanged:
            raise
        except BaseException:
            _undo(db, plan)
            raise


@contextlib.contextmanager
def _foreign_keys_paused(db):
    """Foreign-key checks off while the steps run.

    Every id the import writes was read when it was checked (or is made by it), the fingerprint
    check proves nothing changed since, and it deletes nothing with children, so the checks
    could not fail; skipping them halves the time for the hundreds of thousands of choice rows
    of a big import (benchmarks/bench_import.py).
    """
    enforced = db.execute("PRAGMA foreign_keys").fetchone()[0]
    if enforced:
        db.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        if enforced:
            db.execute("PRAGMA foreign_keys = ON")


@contextlib.contextmanager
def _checkpoints_between_steps(db):
    """The steps' own commits copy no WAL into the database while they hold the write lock: _run does, between steps.

    Otherwise a commit that finds the WAL long (the import's, or a scan's right after a step)
    copies it back, with an fsync, while the door waits.
    """
    pages = db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    cache = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
        db.execute(f"PRAGMA cache_size = {int(cache)}")
        checkpoint(db)


def _unchanged(db, expected):
    if fingerprint(db) != expected:
        raise ImportChanged("the attendees changed while the import was checked")


def _slices(steps):
    for sql, rows in steps:
        for start in range(0, len(rows), SLICE_ROWS):
            yield sql, rows[start:start + SLICE_ROWS]


def _run(db, steps, check=None):
    """Run STEPS, (sql, rows) pairs, in order, in transactions of about STEP_SECONDS each."""
    pending = _slices(steps)
    next_slice = next(pending, None)
    first = True
    while next_slice is not None or first:
        with immediate(db):
            if first and check is not None:
                check()
            first = False
            started = time.monotonic()
            while next_slice is not None and time.monotonic() - started < STEP_SECONDS:
                db.conn.executemany(*next_slice)
                next_slice = next(pending, None)
        if next_slice is not None:
            checkpoint(db)
            time.sleep(STEP_PAUSE)


def _undo(db, plan):
    """Put back what write_in_steps wrote before it failed; each undo statement is harmless if its step never ran."""
    # A new attendee is deleted only as this import made it (its id and creation time): another
    # writer may have taken an id this import had planned for itself.
    new_keys = [(row[0], row[-2]) for row in plan["new"]]
    badge_keys = [(code,) for _attendee, code, _short, _at in plan["badges"]]
    steps = [
        ("DELETE FROM badges WHERE code = ?", badge_keys),
        (DELETE_CHOICE, [row[:2] for row in plan["choices_added"]]),
        (INSERT_CHOICE, plan["choices_removed"]),
        ("DELETE FROM attendees WHERE id = ? AND created_at = ?", new_keys),
        (CLEAR_REGISTRATION, [(row[0],) for row in plan["old"]]),
        (UPDATE_ATTENDEE, [row[1:] + row[:1] for row in plan["old"]]),
    ]
    for attempt in range(UNDO_TRIES):
        try:
            _run(db, steps)
            return
        except WriterBusy:
            if attempt == UNDO_TRIES - 1:
                raise
