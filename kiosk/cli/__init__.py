"""The `kiosk` command line: demo event, imports, users, stations, badges, serving, backups."""

import sqlite3
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext
from flask_babel import force_locale

from kiosk import create_app, demo
from kiosk.cli import event_commands
from kiosk.cli.output import fail
from kiosk.badges.fitting import FontsMissing
from kiosk.badges.layouts import LAYOUTS
from kiosk.badges.service import NothingToPrint, write_pdf
from kiosk.data import accounts, maintenance
from kiosk.data import events as events_data
from kiosk.db import get_db, migrate, use_event
from kiosk.imports import importer
from kiosk.reports import exports as report_exports
from kiosk.reports import service as report_service
from kiosk.serving import server
from kiosk.stations.links import pairing_url


@click.group()
@click.pass_context
def main(ctx):
    """Kiosk: event check-in with QR badges and live room occupancy.

    The database is KIOSK_DB (default: instance/kiosk.db).
    """
    # A command builds the app when it runs (with_appcontext), so --help touches no database.
    # Under `flask` or a test runner the caller's ScriptInfo already names the app.
    if ctx.find_object(ScriptInfo) is None:
        ctx.obj = ScriptInfo(create_app=create_app)


@main.command("demo")
@click.option("--force", is_flag=True, help="Replace an event that is already in the database.")
@with_appcontext
def demo_command(force):
    """Build the embedded demo event (G40 network day, Zaanstad)."""
    db = get_db()
    if demo.has_event(db) and not force:
        fail("the database already holds an event; use --force to replace it")
    summary = demo.build_demo(db)
    click.echo(
        f"demo event built: {summary['attendees']} attendees, {summary['sessions']} sessions, "
        f"{summary['rooms']} rooms in {current_app.config['DATABASE']}"
    )


@main.group("import")
def import_group():
    """Import attendees or the program from CSV or XLSX."""


@import_group.command("attendees")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--sheet", help="The workbook's sheet to read (default: its attendees' sheet, else the first).")
@click.option("--map", "maps", multiple=True, metavar="HEADER=FIELD",
              help="What a column is for: name, first_name, name_prefix, last_name, email, organisation, role, "
                   "registration_id, status, cancelled, block:<id>, extra or ignore. Repeat for more columns.")
@with_appcontext
def import_attendees_command(file, sheet, maps):
    """Import or update attendees from FILE (.csv or .xlsx); all or nothing.

    Prints the use it made of each column and every warning, then one summary line; exits 1
    only when the file is rejected.
    """
    mapping = {}
    for item in maps:
        header, separator, field = item.rpartition("=")
        if not separator or not header.strip():
            fail(f"--map {item!r}: write it as HEADER=FIELD")
        if not importer.is_target(field.strip()):
            fail(f"--map {item!r}: {field.strip()!r} is not a use a column can have")
        mapping[header.strip()] = field.strip()
    try:
        report = importer.import_attendees(get_db(), file, sheet=sheet, mapping=mapping or None)
    except importer.ImportRejected as rejected:
        fail(rejected.describe())
    for line in importer.describe_lines(report):
        click.echo(line)
    click.echo(importer.summary_line(report))


@import_group.command("program")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_program_command(file):
    """Import or update rooms, time blocks and sessions from FILE (.csv or .xlsx); all or nothing."""
    try:
        report = importer.import_program(get_db(), file)
    except importer.ImportRejected as rejected:
        fail(rejected.describe())
    click.echo(importer.summary_line(report))


@main.group("user")
def user_group():
    """Manage organiser and host accounts."""


@user_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["organiser", "host"]), default="organiser", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Asked for when left out.")
@with_appcontext
def user_add_command(email, role, password):
    """Create an account for EMAIL with a password."""
    try:
        accounts.add_user(get_db(), email, password, role)
    except accounts.AccountError as error:
        fail(str(error))
    click.echo(f"user added: {email} ({role})")


@user_group.command("logout")
@click.argument("email")
@with_appcontext
def user_logout_command(email):
    """End every login of EMAIL on every device (a lost tablet, a host who left)."""
    ended = accounts.end_logins_of(get_db(), email, actor="cli")
    if ended is None:
        fail(f"no user with e-mail {email}")
    click.echo(f"logins ended for {email}: {ended}")


@main.group("station")
def station_group():
    """Manage kiosk stations (tablets, laptops with a handheld scanner)."""


@station_group.command("add")
@click.argument("name")
@click.option("--mode", type=click.Choice(["entrance", "room"]), required=True)
@click.option("--room", "room_name", help="The room this door station counts (with --mode room).")
@click.option("--staffed", is_flag=True, help="A staffed desk: also search attendees and check in by hand.")
@with_appcontext
def station_add_command(name, mode, room_name, staffed):
    """Create a station; prints its one-time pairing URL and its API token."""
    if mode == "room" and not (room_name or "").strip():
        fail("a room door station needs its room: add --room NAME")
    try:
        station, token, pairing_secret = accounts.add_station(
            get_db(), name, mode=mode, room_name=room_name, staffed=staffed
        )
    except accounts.AccountError as error:
        fail(str(error))
    click.echo(pairing_url(pairing_secret))
    click.echo(f"token: {token}")


@station_group.command("revoke")
@click.argument("name")
@with_appcontext
def station_revoke_command(name):
    """Revoke station NAME: its token and cookie stop working at once."""
    if not accounts.revoke_station(get_db(), name, actor="cli"):
        fail(f"no active station named {name!r}")
    click.echo(f"station revoked: {name}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Worker processes.")
@click.option("--threads", default=8, show_default=True, type=int, help="Python threads per worker: at most this many requests at once.")
@click.option("--https", "use_https", is_flag=True, help="Serve HTTPS with a certificate made for this machine.")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False), help="Certificate (PEM) to serve HTTPS with.")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="Private key (PEM) for --cert.")
@click.option("--demo-if-empty", is_flag=True, help="Build the demo event when the database holds none.")
@click.option("--access-log", is_flag=True, help="Print a line for every request (off by default).")
@with_appcontext
def serve_command(host, port, workers, threads, use_https, cert, key, demo_if_empty, access_log):
    """Serve Kiosk with granian, a production HTTP server."""
    server.serve(
        current_app._get_current_object(),
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        use_https=use_https or bool(cert),
        cert=cert,
        key=key,
        demo_if_empty=demo_if_empty,
        access_log=access_log,
    )


@main.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the database schema."""
    migrate(get_db())
    click.echo(f"database ready: {current_app.config['DATABASE']}")


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--force", is_flag=True, help="Replace FILE when it exists.")
@with_appcontext
def backup_command(file, force):
    """Copy the database to FILE while the server runs (SQLite's online backup)."""
    target = Path(file)
    if target.resolve() == Path(current_app.config["DATABASE"]).resolve():
        fail("the backup must go to another file than the database itself")
    if target.exists() and not force:
        fail(f"{file} exists; use --force to replace it")
    try:
        pages = maintenance.backup(get_db(), target)
    except (OSError, sqlite3.Error, RuntimeError) as error:
        fail(f"backup failed: {error}")
    click.echo(f"backup written: {file} ({pages} pages, {target.stat().st_size} bytes)")


@main.command("purge")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--event", "event_id", type=int, help="The event to purge (asked when there are several).")
@with_appcontext
def purge_command(yes, event_id):
    """Remove personal data after the event, keeping anonymous counts (of one event, the others untouched)."""
    db = get_db()
    use_event(db, _event_to_purge(db, event_id))
    if not yes:
        click.confirm(
            "This removes every name, e-mail address, registration id and badge code for good. Continue?",
            abort=True,
        )
    done = maintenance.purge(db)
    click.echo(
        f"personal data purged: {done['attendees']} attendees, {done['badges']} badges removed, "
        f"{done['scans']} scans and {done['audit']} audit lines scrubbed; counts kept"
    )




@main.command("report")
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="FILE.xlsx (every table, one sheet each) or FILE.csv (one CSV per table: FILE-sessions.csv, ...).")
@click.option("--language", type=click.Choice(["nl", "en"]), help="The headers' language (default: the event's).")
@with_appcontext
def report_command(out, language):
    """Write the event report (sessions, organisations, arrivals, rooms; no-shows before a purge)."""
    db = get_db()
    figures = report_service.build(db)
    no_shows = None if figures["purged_at"] else report_service.no_shows(db)
    with force_locale(language or (figures["event"] or {}).get("language") or "nl"):
        written = _write_report(Path(out), figures, no_shows)
    state = "final" if figures["final"] else "live"
    click.echo(f"{state} report written: {', '.join(str(path) for path in written)}")


def _event_to_purge(db, event_id):
    """The id of the event `kiosk purge` acts on: EVENT_ID, the only one, or the one asked for."""
    events = events_data.list_events(db)
    if event_id is not None:
        if event_id not in {event["id"] for event in events}:
            fail(f"no event {event_id}; `kiosk event list` shows them")
        return event_id
    if len(events) <= 1:
        return events[0]["id"] if events else None
    listing = "\n".join(f"{event['id']}\t{event['date']}\t{event['name']}" for event in events)
    if not sys.stdin.isatty():
        fail(f"this database holds several events; say which with --event ID:\n{listing}")
    click.echo(listing)
    return int(click.prompt("Purge which event (id)?", type=click.Choice([str(event["id"]) for event in events]),
                            show_choices=False))


def _write_report(target, figures, no_shows):
    """Write the report to TARGET (.xlsx or .csv); returns the files written."""
    if target.suffix.lower() == ".xlsx":
        target.write_bytes(report_exports.workbook(figures, no_shows))
        written = [target]
    elif target.suffix.lower() == ".csv":
        keys = [key for key in report_exports.CSV_TABLES if key != "no-shows" or no_shows is not None]
        written = [target.with_name(f"{target.stem}-{key}.csv") for key in keys]
        for key, path in zip(keys, written):
            path.write_text(report_exports.csv_text(figures, no_shows, key), encoding="utf-8")
    else:
        fail("--out must end in .xlsx or .csv")
    return written


@main.command("badges")
@click.option("--layout", type=click.Choice(list(LAYOUTS)), required=True, help="Badge layout.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The PDF file to write.")
@click.option("--organisation", help="Only attendees of this organisation.")
@click.option("--not-printed", is_flag=True, help="Only badges that were never printed.")
@with_appcontext
def badges_command(layout, out, organisation, not_printed):
    """Write badges to a PDF and mark them printed (all, one organisation, or those not yet printed).

    Registered attendees without a badge code get one first; cancelled attendees are left out.
    """
    try:
        count, pages = write_pdf(get_db(), out, layout=layout, organisation=organisation, not_printed=not_printed)
    except (NothingToPrint, FontsMissing) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"wrote {count} badges ({layout}, {pages} page{'s' if pages != 1 else ''}) to {out}")


for group in event_commands.GROUPS:
    main.add_command(group)
