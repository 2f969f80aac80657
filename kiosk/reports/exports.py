"""The report as files: an XLSX workbook (one sheet per table) and one CSV file per table.

CSV is one file per table, not a zip: a CSV holds one table, and an organiser opens each in a
spreadsheet directly (a zip is one more step, and some office machines block zips). The XLSX has
every table in one file, with numbers as numbers and times as date-time cells.
"""

import csv
import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from kiosk.admin.exports import neutralise

TIME_FORMAT = "yyyy-mm-dd hh:mm"
CSV_TABLES = ("sessions", "organisations", "arrivals", "rooms", "room-counts", "no-shows")


def _percent(fraction):
    return None if fraction is None else round(100 * fraction)


def _naive(moment):
    """A local date-time without its zone: spreadsheets store times without one."""
    return moment.replace(tzinfo=None) if moment else None


def tables(report, no_shows):
    """{key: (title, headers, rows)}: the report's tables with plain values (numbers, local date-times, text)."""
    found = {
        "sessions": (_("Sessions"), [_("Block"), _("Starts"), _("Session"), _("Room"), _("Registered"), _("Attended"),
                                     _("No-shows"), _("Places"), _("Fill rate (percent)")],
                     [[s["block"], _naive(s["starts"]), s["name"], s["room"], s["registered"], s["attended"], s["no_show"],
                       s["places"], _percent(s["fill"])] for s in report["sessions"]]),
        "organisations": (_("Organisations"), [_("Organisation"), _("Registered"), _("Arrived"), _("No-shows"),
                                               _("No-show rate (percent)")],
                          [[o["name"], o["registered"], o["arrived"], o["no_show"], _percent(o["no_show_rate"])]
                           for o in report["organisations"]]),
        "arrivals": (_("Arrivals"), [_("Time"), _("Check-ins"), _("Total so far")],
                     [[_naive(a["at"]), a["count"], a["total"]] for a in report["arrivals"]]),
        "rooms": (_("Rooms"), [_("Room"), _("Capacity"), _("Peak"), _("Peak at")],
                  [[r["name"], r["capacity"], r["peak"], _naive(r["peak_at"])] for r in report["rooms"]]),
        "room-counts": (_("Rooms per 5 minutes"), [_("Time")] + [r["name"] for r in report["rooms"]],
                        _room_counts(report["rooms"])),
    }
    if no_shows is not None:
        found["no-shows"] = (_("No-shows"), [_("Name"), _("Organisation"), _("E-mail"), _("Sessions chosen")],
                             [[p["name"], p["organisation"], p["email"], p["sessions"]] for p in no_shows])
    return found


def _room_counts(rooms):
    """Rows of (time, people inside each room: the highest in those five minutes)."""
    if not rooms or not rooms[0]["series"]:
        return []
    return [[_naive(point["at"])] + [room["series"][n]["inside"] for room in rooms]
            for n, point in enumerate(rooms[0]["series"])]


def workbook(report, no_shows):
    """The report as XLSX bytes, one sheet per table."""
    book = Workbook()
    book.remove(book.active)
    for title, headers, rows in tables(report, no_shows).values():
        sheet = book.create_sheet(title[:31])
        sheet.append(headers)
        for row in rows:
            sheet.append([None] * len(row))
            for column, value in enumerate(row, start=1):
                cell = sheet.cell(row=sheet.max_row, column=column, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text, never a formula (a name may start with '=')
                elif hasattr(value, "hour"):
                    cell.number_format = TIME_FORMAT
        for column, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = max(12, min(len(str(header)) + 4, 50))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(report, no_shows, key):
    """One table (KEY, one of CSV_TABLES) as CSV text: semicolons and a byte order mark, as Dutch Excel opens it."""
    _title, headers, rows = tables(report, no_shows)[key]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value):
    if value is None:
        return ""
    if hasattr(value, "hour"):
        return value.strftime("%Y-%m-%d %H:%M")
    return neutralise(value)
