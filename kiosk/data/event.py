"""The event: name, date, venue, time zone and the clock in its time zone.

The event is db.event_id's (kiosk.db.EventDatabase). The install's first event may exist unnamed
(date ''), made for rooms or people added before `kiosk event create`: that is no event set up yet.
"""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from kiosk.data.audit import record
from kiosk.db import immediate, now_utc, one

EVENT_FIELDS = ("name", "date", "end_date", "venue", "address", "timezone", "language", "badge_header")


def get_event(db):
    """The event row, or None before an event is set up."""
    return one(db, "SELECT * FROM event WHERE id = ? AND date != ''", [db.event_id])


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


def create_event(db, fields, *, actor):
    """Write the event row from FIELDS (see EVENT_FIELDS) when there is none; False when one exists.

    The unnamed first event (rooms or people added before it) becomes this event.
    """
    values = {key: fields[key] for key in EVENT_FIELDS if fields.get(key) is not None}
    with immediate(db):
        if db.execute("SELECT 1 FROM event WHERE date != ''").fetchone():
            return False
        db["event"].upsert(dict(values, id=1, created_at=now_utc()), pk="id")
        record(db, actor, "create event", fields.get("name", ""))
    return True


def update_event(db, fields, *, actor):
    """Change the event's FIELDS (see EVENT_FIELDS); False when there is no event."""
    values = {key: fields[key] for key in EVENT_FIELDS if key in fields}
    with immediate(db):
        if not db.execute("SELECT 1 FROM event WHERE id = ? AND date != ''", [db.event_id]).fetchone():
            return False
        db["event"].update(db.event_id, values)
        record(db, actor, "edit event", ", ".join(f"{key}={value}" for key, value in values.items()))
    return True


def event_summary(db):
    """The event as `kiosk event show` and GET /api/v1/event give it, or None before one is set up."""
    return one(db, """SELECT name, date, end_date, venue, address, timezone, language, badge_header FROM event
                      WHERE id = ? AND date != ''""", [db.event_id])


def get_logo(db):
    """The event's logo as {png, width, height, updated_at}, or None."""
    return one(db, "SELECT png, width, height, updated_at FROM event_logo WHERE event_id = ?", [db.event_id])


def logo_version(db):
    """When the logo last changed (for cache-busting its URL), or None when there is none."""
    row = db.execute("SELECT updated_at FROM event_logo WHERE event_id = ?", [db.event_id]).fetchone()
    return row[0] if row else None


def save_logo(db, png, width, height, *, actor):
    """Set the event's logo to the PNG bytes PNG of WIDTH x HEIGHT pixels."""
    with immediate(db):
        db["event_logo"].upsert({"event_id": db.event_id, "png": png, "width": width, "height": height, "updated_at": now_utc()},
                                pk="event_id")
        record(db, actor, "set logo", f"{width}x{height}, {len(png)} bytes")


def remove_logo(db, *, actor):
    """Remove the event's logo."""
    with immediate(db):
        db.execute("DELETE FROM event_logo WHERE event_id = ?", [db.event_id])
        record(db, actor, "remove logo")

