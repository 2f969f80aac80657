"""The report page for organisers (live during the event, final after it), its print view and its downloads."""

from datetime import datetime

from flask import Blueprint, Response, request

from kiosk.accounts.access import organiser_required
from kiosk.db import get_db
from kiosk.reports import charts, exports, service
from kiosk.web.rendering import render

bp = Blueprint("reports", __name__, url_prefix="/report")


@bp.get("")
@organiser_required
def report():
    """The report: arrivals, rooms over the day, sessions (sortable), organisations and no-shows."""
    db = get_db()
    sort = request.args.get("sort", "block")
    sort = sort if sort in service.SORTS else "block"
    descending = request.args.get("dir") == "desc"
    figures = service.build(db)
    no_shows = service.no_shows(db, limit=service.NO_SHOWS_SHOWN + 1)
    zone = figures["generated_at"].tzinfo

    def zone_of(epoch):
        return datetime.fromtimestamp(epoch, zone)

    span = figures["span"]
    return render(
        "reports/report.html",
        "reports/_report.html",
        report=figures,
        sessions=service.sorted_sessions(figures["sessions"], sort, descending),
        sort=sort,
        descending=descending,
        arrivals_chart=charts.arrivals_chart(figures["arrivals"], figures["starts"], span, zone_of) if span else None,
        room_charts={room["id"]: charts.room_chart(room, span, zone_of) for room in figures["rooms"]} if span else {},
        quarter_hours=service.quarter_hours,
        no_shows=no_shows[: service.NO_SHOWS_SHOWN],
        more_no_shows=len(no_shows) > service.NO_SHOWS_SHOWN,
        totals=service.totals(figures),
        csv_tables=[key for key in exports.CSV_TABLES if key != "no-shows" or not figures["purged_at"]],
    )


def _download(body, mimetype, filename):
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Before a purge the no-shows hold names: no shared cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/report.xlsx")
@organiser_required
def xlsx():
    """The report as an XLSX workbook, one sheet per table."""
    db = get_db()
    figures = service.build(db)
    body = exports.workbook(figures, None if figures["purged_at"] else service.no_shows(db))
    return _download(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "report.xlsx")


@bp.get("/<any(sessions, organisations, arrivals, rooms, 'room-counts', 'no-shows'):table>.csv")
@organiser_required
def table_csv(table):
    """One table of the report as a CSV file."""
    db = get_db()
    figures = service.build(db)
    if table == "no-shows" and figures["purged_at"]:
        return Response(status=404)
    no_shows = service.no_shows(db) if table == "no-shows" else None
    return _download(exports.csv_text(figures, no_shows, table), "text/csv", f"{table}.csv")
