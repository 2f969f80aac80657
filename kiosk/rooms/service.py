"""Rooms' rules: the capacity alert in words, the bar widths, and the schedule that empties rooms."""

from flask_babel import gettext as _
from flask_babel import ngettext

from kiosk.data import scans as scans_data


def alert_text(room):
    """The capacity alert in words, naming the session elsewhere that still has places."""
    if room["alert"] == "full":
        text = _("%(room)s is full.", room=room["name"])
    else:
        text = _("%(room)s is %(percent)s%% full.", room=room["name"], percent=room["percent"])
    alternative = room.get("alternative")
    if alternative and alternative["places_left"] is not None:
        text += " " + ngettext(
            "Send people to %(session)s in %(other)s (%(num)s place left).",
            "Send people to %(session)s in %(other)s (%(num)s places left).",
            alternative["places_left"], session=alternative["session"], other=alternative["room"],
        )
    elif alternative:
        text += " " + _("Send people to %(session)s in %(other)s.", session=alternative["session"], other=alternative["room"])
    else:
        text += " " + _("No other session has places left.")
    return text


def bar_class(percent):
    """The .w0 ... .w100 width class for a bar at PERCENT (the CSP allows no inline styles)."""
    return "w%d" % (min(max(int(percent), 0), 100) // 5 * 5)


def count(db, room_id, delta, *, by=None, station=None):
    """+1 or -1 for someone without a badge in ROOM_ID, by user BY and/or at STATION; the room's counts."""
    return scans_data.count_anonymous(db, room_id, delta, user_id=by, station_id=station["id"] if station else None)


def empty(db, room_id, *, by=None):
    """A host empties ROOM_ID at the end of a session; how many were counted inside."""
    return scans_data.clear_room(db, room_id, user_id=by)


def empty_ended_rooms(db):
    """Record the clears the schedule has due (rooms whose session ended); the room ids emptied.

    Readers already count those rooms as empty and every room write records them first; a
    background tick (kiosk serve) may call this so the history shows them without a write.
    """
    return scans_data.clear_ended_sessions(db)
