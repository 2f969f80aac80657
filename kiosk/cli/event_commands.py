"""`kiosk event`, `kiosk token`, `kiosk registration` and `kiosk mail`: running one's own event."""

import json
import sys
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import with_appcontext

from kiosk.cli.output import fail
from kiosk.data import accounts, tokens
from kiosk.data import events as events_data
from kiosk.data import outbox as outbox_data
from kiosk.data.event_data import has_event
from kiosk.data.event import event_summary, event_zone, get_event
from kiosk.db import get_db
from kiosk.event import service as event_service
from kiosk.mail import sender
from kiosk.registration import service as registration
from kiosk.stations.links import public_url

@click.group("event")
def event_group():
    """Create, show, list and switch events."""


@event_group.command("create")
@click.argument("name")
@click.option("--date", "event_date", required=True, help="The (first) day, YYYY-MM-DD.")
@click.option("--end-date", help="The last day of a two-day event, YYYY-MM-DD.")
@click.option("--venue", default="", help="Where it is.")
@click.option("--timezone", "timezone_name", default="Europe/Amsterdam", show_default=True, help="An IANA time zone.")
@click.option("--language", type=click.Choice(["nl", "en"]), default="nl", show_default=True, help="The default language.")
@click.option("--new", "add", is_flag=True, help="Add another event beside the ones there are (it becomes the current one).")
@click.option("--from", "copy_from", type=int, help="With --new: copy rooms, time blocks, sessions and settings "
              "(not people) from the event with this id.")
@with_appcontext
def event_create_command(name, event_date, end_date, venue, timezone_name, language, add, copy_from):
    """Create the event NAME in a database that holds none (with --new: another one)."""
    fields = {"name": name, "date": event_date, "end_date": end_date or "", "venue": venue, "timezone": timezone_name,
              "language": language}
    if copy_from is not None and not add:
        fail("--from needs --new")
    try:
        if add and has_event(get_db()):
            event_id = event_service.add(get_db(), fields, actor="cli", copy_from=copy_from)
            if event_id is None:
                fail(f"no event {copy_from}; `kiosk event list` shows them")
            click.echo(f"event created: {name} on {event_date} (event {event_id}, now the current event)")
            return
        created = event_service.create(get_db(), fields, actor="cli")
    except event_service.EventError as error:
        fail(f"{error.field}: {error}")
    if not created:
        fail("the database already holds an event; change it on the event page (/admin/event), "
             "or add another with `kiosk event create --new`")
    click.echo(f"event created: {name} on {event_date}")


@event_group.command("list")
@with_appcontext
def event_list_command():
    """Print every event, newest first: id, date, name, and which is current or archived."""
    for event in events_data.list_events(get_db()):
        marks = " ".join(mark for mark, on in (("(current)", event["current"]), ("(archived)", event["archived_at"])) if on)
        click.echo(f"{event['id']}\t{event['date']}\t{event['name']}{' ' + marks if marks else ''}")


@event_group.command("switch")
@click.argument("event_id", type=int)
@with_appcontext
def event_switch_command(event_id):
    """Make event EVENT_ID the install's current event (of the commands, the API and /register)."""
    if not events_data.set_current(get_db(), event_id, actor="cli"):
        fail(f"no event {event_id}; `kiosk event list` shows them")
    click.echo(f"current event: {event_id}")


@event_group.command("archive")
@click.argument("event_id", type=int)
@click.option("--reopen", is_flag=True, help="Open an archived event for changes again.")
@with_appcontext
def event_archive_command(event_id, reopen):
    """Archive event EVENT_ID: read-only from then on, its report and exports stay."""
    if not events_data.set_archived(get_db(), event_id, not reopen, actor="cli"):
        fail(f"no event {event_id}; `kiosk event list` shows them")
    click.echo(f"event {event_id} {'reopened' if reopen else 'archived'}")


@event_group.command("show")
@with_appcontext
def event_show_command():
    """Print the event as one JSON object (name, date, end_date, venue, timezone, language)."""
    summary = event_summary(get_db())
    if summary is None:
        fail("no event yet; create one with `kiosk event create`")
    click.echo(json.dumps({key: summary[key] for key in ("name", "date", "end_date", "venue", "timezone", "language")},
                          ensure_ascii=False))


@click.group("token")
def token_group():
    """Manage organiser API tokens for integrations."""


@token_group.command("add")
@click.argument("name")
@with_appcontext
def token_add_command(name):
    """Create an API token NAME; prints it once, on a line 'token: ...'."""
    try:
        _row, token = tokens.add_token(get_db(), name, actor="cli")
    except accounts.AccountError as error:
        fail(str(error))
    click.echo(f"token: {token}")


@token_group.command("revoke")
@click.argument("name")
@with_appcontext
def token_revoke_command(name):
    """Revoke the API token NAME: it stops working at once."""
    if not tokens.revoke_token(get_db(), name, actor="cli"):
        fail(f"no active token named {name!r}")
    click.echo(f"token revoked: {name}")


@click.group("registration")
def registration_group():
    """Open or close the public registration page (/register)."""


@registration_group.command("open")
@click.option("--until", "until", help="Close by itself at this time, event time: 'YYYY-MM-DD HH:MM'.")
@with_appcontext
def registration_open_command(until):
    """Open registration (until a closing time, or until `kiosk registration close`)."""
    db = get_db()
    closes_at = None
    if until:
        try:
            local = datetime.fromisoformat(until.strip().replace(" ", "T"))
        except ValueError:
            fail(f"not a date and time (YYYY-MM-DD HH:MM): {until}")
        closes_at = local.replace(tzinfo=event_zone(get_event(db))).astimezone(timezone.utc).isoformat()
    if not registration.set_open(db, True, actor="cli", closes_at=closes_at):
        fail("no event yet; create one with `kiosk event create`")
    click.echo("registration open" + (f" until {until} (event time)" if until else ""))


@registration_group.command("close")
@with_appcontext
def registration_close_command():
    """Close registration: the page says so, and takes no sign-ups."""
    if not registration.set_open(get_db(), False, actor="cli"):
        fail("no event yet; create one with `kiosk event create`")
    click.echo("registration closed")


@click.group("mail")
def mail_group():
    """The outbox: e-mail waiting to be sent."""


@mail_group.command("send")
@click.option("--wait", default=10.0, show_default=True, help="Seconds to wait for a running sender to let go.")
@with_appcontext
def mail_send_command(wait):
    """Send every message waiting in the outbox now, once (KIOSK_SMTP_HOST must be set)."""
    app = current_app._get_current_object()
    if not app.config.get("SMTP_HOST"):
        fail(f"no mail server set (KIOSK_SMTP_HOST); {outbox_data.waiting_count(get_db())} messages wait in the outbox")
    with app.test_request_context(base_url=public_url()):
        result = sender.flush(app, wait=wait)
    if result is None:
        fail("another sender (kiosk serve) holds the outbox; it sends these messages itself")
    click.echo(f"mail: {result['sent']} sent, {result['retry']} to try again later, {result['failed']} failed, "
               f"{result['uncertain']} uncertain")
    if result["retry"]:
        sys.exit(1)


GROUPS = (event_group, token_group, registration_group, mail_group)
