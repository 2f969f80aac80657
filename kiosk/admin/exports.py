"""Exports for organisers: the attendee list with check-in status as CSV."""

import csv
import io

from flask import Blueprint, Response, request
from flask_babel import gettext as _

from kiosk.accounts.access import organiser_required
from kiosk.data import attendees as attendees_data
from kiosk.data import people as people_data
from kiosk.data.event import get_event, local_time
from kiosk.db import get_db
from kiosk.web.ids import id_fields

bp = Blueprint("exports", __name__, url_prefix="/admin/exports")

# A cell starting with one of these is read as a formula by Excel and LibreOffice
# (CSV injection); tab and carriage return start one too in some versions.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """VALUE as CSV cell text that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def attendees_csv(db, attendee_ids=None):
    """The attendee list (or the attendees ATTENDEE_IDS) as CSV text: semicolons and a byte order mark,
    as Dutch Excel opens it."""
    event = get_event(db)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [_("Registration id"), _("Name"), _("E-mail"), _("Organisation"), _("Role"), _("Status"),
         _("Checked in"), _("Checked in at"), _("Room now")]
    )
    statuses = {"registered": _("registered"), "cancelled": _("cancelled")}  # in the headers' language
    rows = people_data.export_rows(db, attendee_ids) if attendee_ids else attendees_data.export_rows(db)
    for row in rows:
        writer.writerow(
            neutralise(cell)
            for cell in (
                row["registration_id"], row["name"], row["email"], row["organisation"], row["role"],
                statuses.get(row["status"], row["status"]),
                _("yes") if row["checked_in_at"] else _("no"),
                local_time(event, row["checked_in_at"]), row["room"],
            )
        )
    return out.getvalue()


@bp.get("/attendees.csv")
@organiser_required
def attendees():
    """Download every attendee (or those chosen: ?attendee=ID&attendee=ID) with check-in status as a CSV file."""
    chosen = id_fields(request.args, "attendee")
    response = Response(attendees_csv(get_db(), chosen), mimetype="text/csv")
    # The file is named in the language of its headers ("deelnemers.csv"); ASCII, so no RFC 5987 form is needed.
    name = _("attendees")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    # Personal data: no shared cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response
