"""The `kiosk` command line: demo event, imports, users, stations, badges, serving."""

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup

from kiosk.db import get_db


def _create_app():
    from kiosk import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """Kiosk: event check-in with QR badges and live room occupancy.

    The database is KIOSK_DB (default: instance/kiosk.db).
    """


def init_app(app):
    """Register the kiosk commands on the app's `flask` CLI too."""
    for command in main.commands.values():
        app.cli.add_command(command)


def fail(message):
    """Print MESSAGE to stderr and exit with status 1."""
    click.echo(message, err=True)
    sys.exit(1)


@main.command("demo")
@click.option("--force", is_flag=True, help="Replace an event that is already in the database.")
def demo_command(force):
    """Build the embedded demo event (G40 network day, Zaanstad)."""
    from kiosk import demo

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
def import_attendees_command(file):
    """Import or update attendees from FILE (.csv or .xlsx); all or nothing."""
    from kiosk.imports import importer

    try:
        report = importer.import_attendees(get_db(), file)
    except importer.ImportRejected as rejected:
        fail(rejected.describe())
    click.echo(importer.summary_line(report))


@import_group.command("program")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_program_command(file):
    """Import or update rooms, time blocks and sessions from FILE (.csv or .xlsx); all or nothing."""
    from kiosk.imports import importer

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
def user_add_command(email, role, password):
    """Create an account for EMAIL with a password."""
    from kiosk.data import accounts

    try:
        accounts.add_user(get_db(), email, password, role)
    except accounts.AccountError as error:
        fail(str(error))
    click.echo(f"user added: {email} ({role})")


@user_group.command("logout")
@click.argument("email")
def user_logout_command(email):
    """End every login of EMAIL on every device (a lost tablet, a host who left)."""
    from kiosk.data import accounts

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
def station_add_command(name, mode, room_name, staffed):
    """Create a station; prints its one-time pairing URL and its API token."""
    from kiosk.stations import views as stations
    from kiosk.data import accounts

    try:
        station, token, pairing_secret = accounts.add_station(
            get_db(), name, mode=mode, room_name=room_name, staffed=staffed
        )
    except accounts.AccountError as error:
        fail(str(error))
    click.echo(stations.pairing_url(pairing_secret))
    click.echo(f"token: {token}")


@station_group.command("revoke")
@click.argument("name")
def station_revoke_command(name):
    """Revoke station NAME: its token and cookie stop working at once."""
    from kiosk.data import accounts

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
def serve_command(host, port, workers, threads, use_https, cert, key, demo_if_empty):
    """Serve Kiosk with granian, a production HTTP server."""
    from kiosk.serving import server

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
    )


def _add_capability_commands():
    """Commands that live beside their capability's blueprint."""
    from kiosk.badges.views import badges_command
    from kiosk.maintenance import backup_command, purge_command

    main.add_command(badges_command, "badges")
    main.add_command(backup_command, "backup")
    main.add_command(purge_command, "purge")


_add_capability_commands()


if __name__ == "__main__":  # `python -m kiosk.cli serve`, as the live-server test fixture starts it
    main()
