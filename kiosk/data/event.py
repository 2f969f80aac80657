"""The event: name, date, venue, time zone and the clock in its time zone."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from kiosk.db import one


def get_event(db):
    """The event row, or None before an event is set up."""
    return one(db, "SELECT * FROM event WHERE id = 1")


def event_zone(event):
    """The event's time zone: Europe/Amsterdam before an event is set up or for an unknown name."""
    try:
        return ZoneInfo(event["timezone"]) if event else ZoneInfo("Europe/Amsterdam")
    except Exception:  # an unknown zone name must not take the scan path down
        return ZoneInfo("Europe/Amsterdam")


def local_now(event, now=None):
    """NOW (default: the clock) in the event's time zone."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(event_zone(event))


def local_time(event, iso_utc):
    """'09:12' for a stored UTC timestamp, in the event's time zone."""
    if not iso_utc:
        return ""
    return datetime.fromisoformat(iso_utc).astimezone(event_zone(event)).strftime("%H:%M")


def save_event(db, *, name, date, venue="", timezone_name="Europe/Amsterdam", language="nl"):
    """Set up the event, or replace every field of the one there is."""
    db["event"].upsert(
        {"id": 1, "name": name, "date": date, "venue": venue, "timezone": timezone_name, "language": language}, pk="id"
    )
