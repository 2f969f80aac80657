"""Import attendees and the program from the CSV and XLSX files organisers really have.

Both imports are all or nothing: the file is read and checked completely, every
problem is collected with its line number (line 1 is the header), and only a file
without problems is written. The program goes in one BEGIN IMMEDIATE transaction;
attendees, which may be hundreds of thousands of rows, in short steps that let the
door's scans in between, undone if a step fails (kiosk.data.import_steps).

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
import sqlite3

from flask_babel import gettext as _

from kiosk.data import audit
from kiosk.data.import_steps import ImportChanged, write_in_steps
from kiosk.data.imports import import_transaction, remember_mapping
from kiosk.db import WriterBusy
from kiosk.imports.attendees import apply_attendees, plan_attendees
from kiosk.imports.memory import release_gradually
from kiosk.imports.names import split_name
from kiosk.imports.program import apply_program
from kiosk.imports.recognise import is_target
from kiosk.imports.reading import Table, read_table
from kiosk.imports.report import ImportRejected, describe_lines, summary_line

__all__ = [
    "ImportRejected", "Table", "apply_attendees", "apply_program", "describe_lines", "import_attendees",
    "import_program", "is_target", "read_table", "record_audit", "split_name", "summary_line",
]


def import_attendees(db, path_or_file, *, filename=None, dry_run=False, sheet=None, mapping=None):
    """Import or update attendees from a CSV/XLSX file, all or nothing; returns the report.

    The report has 'added', 'updated', 'unchanged', 'cancelled' (existing people newly
    set to cancelled; new rows that arrive cancelled count as added), 'total', 'badges'
    (badges issued), 'preview' (the first rows with their action) and 'changes' (the
    first rows that are not unchanged). People missing from
    the file are left as they are: they are not cancelled automatically. The preview's part
    (each column's use, skipped rows, warnings) is in kiosk.imports.preview.describe.

    SHEET names a workbook's sheet; MAPPING ({column index or header: target}) is the organiser's
    choice of what columns are for, remembered for the next file with the same headers.
    """
    with _gc_paused():
        table = read_table(path_or_file, filename, sheet)
        with import_transaction(db, dry_run=True):  # checked in a snapshot, which holds up no writer
            try:
                report, plan = plan_attendees(db, table, dry_run=dry_run, overrides=mapping)
            finally:
                release_gradually(table.rows)
        try:
            if not dry_run:
                _write_attendees(db, plan)
                if plan["mapping"]:
                    remember_mapping(db, *plan["mapping"])
        finally:
            release_gradually(*(value for value in plan.values() if isinstance(value, list)))
        return report


def _write_attendees(db, plan):
    """Write a checked attendee import in steps; a failure is an ImportRejected saying nothing was imported."""
    try:
        write_in_steps(db, plan)
    except ImportChanged:
        raise ImportRejected([
            _("the attendees changed while the file was checked; nothing was imported: import the file again")
        ]) from None
    except WriterBusy:
        raise ImportRejected([
            _("the database was too busy to take the import; nothing was imported: try again in a minute")
        ]) from None
    except sqlite3.Error as error:
        raise ImportRejected([
            _("the database refused the import (%(error)s); nothing was imported", error=str(error))
        ]) from None


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
