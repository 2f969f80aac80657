"""Building e-mail: the ticket (program, QR as PNG, short code, .ics, personal link) and the waiting list notice.

Headers are set through the standard library's email package only (headerregistry.Address):
a name or an address is never pasted into header text, so it cannot add a header.
"""

import email.policy
import email.utils
import functools
import re
import uuid
from datetime import date, datetime, time, timezone
from email.headerregistry import Address
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar
from icalendar import Event as CalendarEvent
from icalendar import Timezone

from kiosk.badges.qr import qr_png
from kiosk.data.event import event_zone

SMTP_POLICY = email.policy.SMTP  # CRLF line ends, as the bytes go to the server
_ADDRESS = re.compile(r"^[^@\s\x00-\x1f\x7f<>()\[\],;:\"\\]+@[^@\s\x00-\x1f\x7f<>()\[\],;:\"\\]+$")


class BadAddress(ValueError):
    """An address that cannot be written into a header."""


def address(name, addr):
    """A To/From header value for NAME <ADDR>; raises BadAddress for an address with spaces or controls."""
    addr = (addr or "").strip()
    if not _ADDRESS.match(addr):
        raise BadAddress(f"not an e-mail address: {addr[:80]!r}")
    username, _at, domain = addr.rpartition("@")
    # Line breaks and other controls in a name become spaces: a name is one line of text.
    display = " ".join("".join(c if c.isprintable() else " " for c in (name or "")).split())[:200]
    return Address(display_name=display, username=username, domain=domain)


def sender_address(public_host):
    """The From address: KIOSK_MAIL_FROM ('Name <addr>' or 'addr'), else kiosk@ the public address's host."""
    configured = current_app.config.get("MAIL_FROM")
    if configured:
        name, addr = email.utils.parseaddr(configured)
        return address(name, addr)
    host = public_host if public_host and re.search(r"[a-z]", public_host, re.I) else "localhost"
    return address("Kiosk", f"kiosk@{host}")


def new_message_id(public_host):
    """A Message-ID for a new outbox row: unique, so a resend is recognisably the same message."""
    return f"<{uuid.uuid4().hex}@{public_host or 'kiosk.local'}>"


def calendar_file(event, blocks, program):
    """The .ics file (bytes): the event, and each session of the person's PROGRAM, in the event's time zone."""
    key = (tuple(event.get(k) for k in ("name", "date", "venue", "address", "timezone")),
           tuple((b["starts_at"], b["ends_at"]) for b in blocks),
           tuple((p["session_id"], p["title"], p["starts_at"], p["ends_at"], p["place"]) for p in program))
    return _calendar(*key)


# Many people share a program: the file is made once per program (the personal link is in the mail, not here).
@functools.lru_cache(maxsize=256)
def _calendar(event, blocks, program):
    name, day, venue, address_line, zone_name = event
    zone = event_zone({"timezone": zone_name})
    day = datetime.fromisoformat(day).date()
    calendar = Calendar()
    calendar.add("prodid", "-//Kiosk//Registration//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")

    def add(uid, summary, starts_at, ends_at, place=""):
        item = CalendarEvent()
        item.add("uid", uid)
        item.add("dtstamp", datetime.now(timezone.utc))
        item.add("summary", summary)
        item.add("dtstart", datetime.combine(day, time.fromisoformat(starts_at), zone))
        item.add("dtend", datetime.combine(day, time.fromisoformat(ends_at), zone))
        if place:
            item.add("location", place)
        calendar.add_component(item)

    where = ", ".join(part for part in (venue, address_line) if part)
    if blocks:
        add(f"event-{day}@kiosk", name, min(b[0] for b in blocks), max(b[1] for b in blocks), where)
    for session_id, title, starts_at, ends_at, place in program:
        add(f"session-{session_id}-{day}@kiosk", f"{title} ({name})", starts_at, ends_at, place or where)
    calendar.add_component(_vtimezone(str(zone), day.year))
    return calendar.to_ical()


@functools.lru_cache(maxsize=16)
def _vtimezone(name, year):
    """The VTIMEZONE of NAME around YEAR, written once: from all of 1970-2038 it took longer than the rest
    of the mail together, and a calendar reader needs only the rules around its dates."""
    return Timezone.from_tzid(name, first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))


def ticket(row, person, event, blocks, program, badge, link, public_host):
    """The ticket e-mail of outbox ROW for PERSON, in ROW's language: (subject, bytes)."""
    with force_locale(row["language"]):
        context = {"person": person, "event": event, "program": program, "badge": badge, "link": link,
                   "kind": row["kind"], "detail": row["detail"], "qr_cid": None}
        if row["kind"] == "promoted":
            subject = _("A place for you: %(event)s", event=event["name"])
        else:
            subject = _("Your registration: %(event)s", event=event["name"])
        text = render_template("mail/ticket.txt", **context)
        png = qr_png(badge["code"]) if badge else None
        cid = email.utils.make_msgid(domain=public_host or "kiosk.local")
        html = render_template("mail/ticket.html", **dict(context, qr_cid=cid[1:-1] if png else None))
        message = _message(row, subject, text, html, public_host)
        if png:
            message.get_payload()[1].add_related(png, "image", "png", cid=cid, disposition="inline",
                                                 filename="qr.png")
            message.add_attachment(png, "image", "png", filename=f"ticket-{badge['short_code']}.png")
        message.add_attachment(calendar_file(event, blocks, program), "text", "calendar",
                               filename="event.ics", params={"method": "PUBLISH"})
    return subject, message.as_bytes(policy=SMTP_POLICY)


def waiting(row, event, link, public_host):
    """The e-mail of outbox ROW (kind 'waiting') to someone who joined waiting lists without a registration:
    which sessions, their place in line, what happens next, and LINK to leave; (subject, bytes)."""
    with force_locale(row["language"]):
        context = {"person": {"name": row["recipient_name"]}, "event": event, "link": link,
                   "sessions": row["detail"].get("sessions", [])}
        subject = _("On the waiting list: %(event)s", event=event["name"])
        message = _message(row, subject, render_template("mail/waiting.txt", **context),
                           render_template("mail/waiting.html", **context), public_host)
    return subject, message.as_bytes(policy=SMTP_POLICY)


def _message(row, subject, text, html, public_host):
    """An EmailMessage for outbox ROW: its headers, the plain TEXT and the HTML alternative."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = subject
    message["From"] = sender_address(public_host)
    message["To"] = address(row["recipient_name"], row["recipient"])
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = row["message_id"]
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message
