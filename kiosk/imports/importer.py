"""Import attendees and the program from the CSV and XLSX files organisers really have.

Both imports are all or nothing: the file is read and checked completely, every
problem is collected with its line number (line 1 is the header), and only a file
without problems is written, in one BEGIN IMMEDIATE transaction.

A re-import of an updated export updates people instead of duplicating them (see
kiosk.imports.attendees for how a row finds its person). People missing from a
re-import are NOT cancelled: an export filtered differently would otherwise cancel
half the event. Cancel them with a Status column instead.

This module is what the rest of Kiosk calls: reading is in kiosk.imports.reading,
headers in kiosk.imports.columns, names in kiosk.imports.names, the checks and writes
in kiosk.imports.attendees and kiosk.imports.program, their SQL in kiosk.data.imports.
"""

import contextlib
import gc

from kiosk.data import audit
from kiosk.data.imports import import_transaction
from kiosk.imports.attendees import apply_attendees
from kiosk.imports.names import split_name
from kiosk.imports.program import apply_program
from kiosk.imports.reading import Table, read_table
from kiosk.imports.report import ImportRejected, summary_line

__all__ = [
    "ImportRejected", "Table", "apply_attendees", "apply_program", "import_attendees", "import_program",
    "read_table", "record_audit", "split_name", "summary_line",
]


def import_attendees(db, path_or_file, *, filename=None, dry_run=False):
    """Import or update attendees from a CSV/XLSX file, all or nothing; returns the report.

    The report has 'added', 'updated', 'unchanged', 'cancelled' (existing people newly
    set to cancelled; new rows that arrive cancelled count as added), 'total', 'badges'
    (badges issued), 'preview' (the first rows with their action) and 'changes' (the
    first rows that are not unchanged). People missing from
    the file are left as they are: they are not cancelled automatically.
    """
    with _gc_paused():
        table = read_table(path_or_file, filename)
        with import_transaction(db, dry_run):
            return apply_attendees(db, table, dry_run=dry_run)


def import_program(db, path_or_file, *, filename=None, dry_run=False):
    """Import or update rooms, time blocks and sessions from a CSV/XLSX file, all or nothing; returns the report.

    Rooms match by name, blocks by name and sessions by block and title (all ignoring
    case and accents). Sessions missing from the file are kept: attendees may have chosen them.
    """
    with _gc_paused():
        table = read_table(path_or_file, filename)
        with import_transaction(db, dry_run):
            return apply_program(db, table, dry_run=dry_run)


def record_audit(db, actor, action, detail):
    """Write an audit line for an import."""
    audit.record(db, actor, action, detail)


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic GC while a file is read and imported (benchmarks/bench_import.py).

    A big import makes many objects that are not cycles, and the collector would rescan them all often.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
