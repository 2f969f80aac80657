"""Badge printing outside a request: a selection's badges written to a PDF file, and the print logged."""

import os
import tempfile

from kiosk.badges.layouts import LAYOUTS
from kiosk.badges.pdf import render_pdf
from kiosk.data import printing
from kiosk.data.event import get_event


class NothingToPrint(ValueError):
    """No badge matches the selection; the message says which selection."""


def event_name(db):
    """The event's name for the badges, '' before an event is set up."""
    return (get_event(db) or {}).get("name", "")


def write_pdf(db, out, *, layout, organisation=None, not_printed=False, actor="cli"):
    """Write the selected badges to the PDF file OUT and log them as printed by ACTOR.

    Registered attendees without a badge code get one first; cancelled attendees are left
    out. Returns (badges, pages). Raises NothingToPrint, or fitting.FontsMissing.
    """
    missing = printing.missing_badges(db, organisation=organisation)
    if missing:
        printing.issue_missing(db, missing, actor=actor)
    chosen = printing.select_badges(db, organisation=organisation, not_printed=not_printed)
    if not chosen:
        raise NothingToPrint("no badges match" + (f" organisation {organisation!r}" if organisation else "")
                             + (" that were not printed yet" if not_printed else ""))
    _replace_file(out, render_pdf(chosen, layout, event_name=event_name(db)))
    printing.record_prints(db, [b["badge_id"] for b in chosen], layout=layout, printed_by=actor)
    return len(chosen), LAYOUTS[layout].sheets(len(chosen))


def _replace_file(path, data):
    """Write DATA beside PATH and rename it over PATH, so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".pdf.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
