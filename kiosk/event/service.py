"""The event's rules: which fields it has and what each may hold, and the logo's checks."""

import io
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kiosk.data import event as data
from kiosk.data import events as events_data

LANGUAGES = ("nl", "en")
MAX_LENGTHS = {"name": 120, "venue": 200, "address": 300, "badge_header": 60}
LOGO_MAX_BYTES = 2 * 1024 * 1024  # an upload larger than this is refused before it is decoded
LOGO_MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
LOGO_BOX = (600, 200)  # stored at most this size: sharp on a badge, small in the database
FIELD_LABELS = {
    "name": _l("Name"), "date": _l("Date"), "end_date": _l("End date"),
    "venue": _l("Venue"), "address": _l("Address"), "timezone": _l("Time zone"),
    "language": _l("Language"), "badge_header": _l("Badge header"), "logo": _l("Logo"),
}


class EventError(ValueError):
    """A field of the event that cannot be saved: FIELD names it, the message says why."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def clean(fields, *, partial=False):
    """FIELDS checked and tidied for saving; raises EventError naming the first bad field.

    With PARTIAL, only the fields given are checked (an edit through the API or the CLI).
    """
    cleaned = {}
    for key in data.EVENT_FIELDS:
        if key not in fields:
            if partial:
                continue
            value = None
        else:
            value = fields[key]
        if value is not None and not isinstance(value, str):
            raise EventError(key, _("%(field)s must be text", field=key))
        cleaned[key] = (value or "").strip()
    if "name" in cleaned and not cleaned["name"]:
        raise EventError("name", _("The event needs a name."))
    for key, limit in MAX_LENGTHS.items():
        if len(cleaned.get(key, "")) > limit:
            raise EventError(key, _("%(field)s is longer than %(count)d characters.", field=FIELD_LABELS[key], count=limit))
    if "date" in cleaned:
        cleaned["date"] = _iso_date("date", cleaned["date"], required=True)
    if "end_date" in cleaned:
        cleaned["end_date"] = _iso_date("end_date", cleaned["end_date"], required=False)
    if cleaned.get("end_date") and cleaned.get("date") and cleaned["end_date"] < cleaned["date"]:
        raise EventError("end_date", _("The end date cannot be before the date."))
    if cleaned.get("end_date") == cleaned.get("date"):
        cleaned["end_date"] = None  # a one-day event
    if "timezone" in cleaned:
        cleaned["timezone"] = valid_timezone(cleaned["timezone"] or "Europe/Amsterdam")
    if "language" in cleaned:
        cleaned["language"] = cleaned["language"] or "nl"
        if cleaned["language"] not in LANGUAGES:
            raise EventError("language", _("The language must be nl or en."))
    return cleaned


def _iso_date(field, text, *, required):
    """TEXT as an ISO date (YYYY-MM-DD), None when empty and not REQUIRED; raises EventError."""
    if not text:
        if required:
            raise EventError(field, _("%(field)s is needed (YYYY-MM-DD).", field=FIELD_LABELS[field]))
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise EventError(field, _("%(field)s is not a date (YYYY-MM-DD): %(value)s", field=FIELD_LABELS[field],
                                  value=text[:40])) from None


def valid_timezone(name):
    """NAME when it is an IANA time zone (Europe/Amsterdam); raises EventError."""
    try:
        if "/" in name or name == "UTC":
            ZoneInfo(name)
            return name
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise EventError("timezone", _("Unknown time zone: %(name)s (for example Europe/Amsterdam)", name=name[:60]))


def timezone_names():
    """Every IANA time zone name, sorted, for the settings form's list."""
    return sorted(name for name in available_timezones() if "/" in name and not name.startswith(("Etc/", "SystemV/")))


def create(db, fields, *, actor):
    """Create the event from FIELDS; raises EventError, or returns False when there is one already."""
    return data.create_event(db, clean(fields), actor=actor)


def add(db, fields, *, actor, copy_from=None):
    """Add another event from FIELDS (with COPY_FROM: an earlier event's program and settings); raises
    EventError (also when an event of that name is on that date already), returns the new id, or None
    when COPY_FROM is no event."""
    cleaned = clean(fields)
    try:
        return events_data.new_event(db, cleaned, actor=actor, copy_from=copy_from)
    except events_data.SameEvent as same:
        raise EventError("name", _("There is an event named %(name)s on %(date)s already (event %(id)d): work on "
                                   "that one, or give this one another name or date.",
                                   name=cleaned["name"], date=cleaned["date"], id=same.existing_id)) from None


def update(db, fields, *, actor):
    """Change the event's FIELDS; raises EventError, returns False when there is no event."""
    return data.update_event(db, clean(fields, partial=True), actor=actor)


def read_logo(raw):
    """The uploaded bytes RAW as (png, width, height), fitted in LOGO_BOX; raises EventError."""
    # Pillow is imported here, not at the top: only a logo upload needs it, and the app starts without it.
    from PIL import Image, UnidentifiedImageError

    if not raw:
        raise EventError("logo", _("Choose an image file."))
    if len(raw) > LOGO_MAX_BYTES:
        raise EventError("logo", _("The image is larger than %(size)s MB.", size=LOGO_MAX_BYTES // (1024 * 1024)))
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                raise EventError("logo", _("The logo must be a PNG, JPEG, GIF or WebP image."))
            if image.width * image.height > LOGO_MAX_PIXELS:
                raise EventError("logo", _("The image has too many pixels (at most %(count)d million).",
                                           count=LOGO_MAX_PIXELS // 1_000_000))
            image.load()
            image = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as error:
        if isinstance(error, EventError):
            raise
        raise EventError("logo", _("This file is not an image Kiosk can read.")) from None
    image.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue(), image.width, image.height


def set_logo(db, raw, *, actor):
    """Check, resize and store the uploaded logo RAW; raises EventError."""
    png, width, height = read_logo(raw)
    data.save_logo(db, png, width, height, actor=actor)
