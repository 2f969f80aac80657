"""The outbox's rules: a message is queued in the transaction that causes it and built once, later.

Queuing is cheap (one row), so a registration holds the write lock for no longer than its own
rows; the sender builds the message's bytes (QR PNG, calendar, both text parts) outside any
transaction, keeps them, and every retry or resend sends exactly those bytes.
"""

import hashlib
import json
import secrets
from urllib.parse import urlsplit

from flask import current_app

from kiosk.data import attendees as attendees_data
from kiosk.data import audit
from kiosk.data import outbox as data
from kiosk.data import registration as registration_data
from kiosk.data.badges import current_badge
from kiosk.data.event import get_event
from kiosk.data.rooms import list_blocks
from kiosk.db import immediate, use_event
from kiosk.mail import message
from kiosk.stations.links import public_url


def token_hash(token):
    """How a personal link's token is stored: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def personal_link(token):
    """The address of the personal registration page a mail links to."""
    return f"{public_url()}/register/me/{token}"


def waiting_link(token):
    """The address of the page where someone on a waiting list (without a registration) sees and leaves it."""
    return f"{public_url()}/register/waiting/{token}"


def public_host():
    """The host of the public address, for Message-IDs and the default sender."""
    return urlsplit(public_url()).hostname or "kiosk.local"


def queue_ticket(db, attendee_id, *, kind="ticket", language=None, detail=None, person=None):
    """Inside the caller's transaction: a new personal link for ATTENDEE_ID and their ticket in the
    outbox (KIND 'ticket' or 'promoted'); returns the link's token, or None without an e-mail address."""
    person = person or attendees_data.summary_with_email(db, attendee_id)
    if not person or not person.get("email"):
        return None
    if language is None:
        language = (get_event(db) or {}).get("language") or "nl"
    token = secrets.token_urlsafe(24)
    registration_data.add_link(db, attendee_id, token_hash(token), language)
    data.enqueue(db, {"kind": kind, "attendee_id": attendee_id, "recipient": person["email"],
                      "recipient_name": person["name"], "language": language, "link_token": token,
                      "detail": json.dumps(detail or {}), "message_id": message.new_message_id(public_host())})
    return token


def queue_waiting(db, person, *, language, token, sessions, attendee_id=None):
    """Inside the transaction that put PERSON (name, email) on the waiting lists of SESSIONS (title, block,
    starts_at, place in line): the e-mail that says so, with the link of TOKEN to see and leave them."""
    data.enqueue(db, {"kind": "waiting", "attendee_id": attendee_id, "recipient": person["email"],
                      "recipient_name": person["name"], "language": language, "link_token": token,
                      "detail": json.dumps({"sessions": sessions}), "message_id": message.new_message_id(public_host())})


def queue_tickets(db, attendee_ids, *, actor):
    """Queue a ticket for each of ATTENDEE_IDS (registered, with an e-mail address); returns how many."""
    with immediate(db):
        wanted = data.with_email(db, attendee_ids)
        for attendee_id in wanted:
            queue_ticket(db, attendee_id)
        if wanted:
            audit.record(db, actor, "tickets.send", f"{len(wanted)} tickets: {wanted[:50]}")
    return len(wanted)


def queue_unsent(db, *, actor):
    """Queue a ticket for everyone registered with an address who never had one; returns how many."""
    return queue_tickets(db, data.without_ticket(db), actor=actor)


def resend(db, message_id, *, actor):
    """Send an outbox message again; False when it is still waiting or being sent."""
    with immediate(db):
        done = data.resend(db, message_id)
        if done:
            audit.record(db, actor, "outbox.resend", str(message_id))
    return done


def build(db, row):
    """ROW's bytes: built now (and kept) when the row has none yet. Raises message.BadAddress.

    About its attendee's event, whichever event is current where it is sent from (the outbox is the install's).
    """
    if row["message"] is not None:
        return row["message"]
    previous = db.event_id
    use_event(db, attendees_data.event_of(db, row["attendee_id"]) if row["attendee_id"] else None)
    try:
        return _build(db, row)
    finally:
        use_event(db, previous)


def _build(db, row):
    event = get_event(db) or {"name": "Kiosk", "date": "1970-01-01", "timezone": "UTC"}
    if row["kind"] == "waiting":
        subject, raw = message.waiting(dict(row, detail=json.loads(row["detail"] or "{}")), event,
                                       waiting_link(row["link_token"]), public_host())
        with immediate(db):
            data.store_message(db, row["id"], subject, raw)
        return raw
    attendee_id = row["attendee_id"]
    person = attendees_data.summary_with_email(db, attendee_id) if attendee_id else None
    program = attendees_data.personal_program(db, attendee_id) if attendee_id else []
    badge = current_badge(db, attendee_id) if attendee_id else None
    row = dict(row, detail=json.loads(row["detail"] or "{}"))
    link = personal_link(row["link_token"]) if row["link_token"] else public_url() + "/register"
    subject, raw = message.ticket(row, person or {"name": row["recipient_name"]}, event, list_blocks(db), program,
                                  badge, link, public_host())
    with immediate(db):
        data.store_message(db, row["id"], subject, raw)
    return raw


def configured():
    """True when a mail server is configured (KIOSK_SMTP_HOST)."""
    return bool(current_app.config.get("SMTP_HOST"))
