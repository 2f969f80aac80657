"""The one check-in path: a scan at a station (entrance, room door, desk) or by a host at a room door."""

import json
from dataclasses import dataclass, fields, replace

from flask import current_app

from kiosk.accounts.limits import limiter_blocked, limiter_hit
from kiosk.checkin.messages import with_message
from kiosk.data import attendees as attendees_data
from kiosk.data import scans as scans_data
from kiosk.db import get_db, immediate, use_event
from kiosk.outcomes import Outcome


class TooManyAttempts(Exception):
    """The station guessed too many unknown codes in a short time."""


class EventArchived(Exception):
    """The station's event is archived: read-only, nothing is recorded."""


@dataclass(frozen=True)
class Result:
    """A scan's answer: its Outcome, who, where, and the sentence a person reads (once described)."""

    outcome: Outcome
    attendee: dict | None = None  # id, name, organisation, role
    direction: str = "in"
    warning: str | None = None  # 'not_registered': let into a session the attendee did not choose
    room: dict | None = None  # the room's counts after the scan, at a room door
    session: dict | None = None  # the session running in the room: id, title
    alternative: dict | None = None  # when full: the session elsewhere with places left
    checked_in_at: str | None = None  # when already inside: since when
    override: bool = False  # let into a full room anyway
    scan_id: int | None = None
    scanned_at: str | None = None
    replayed: bool = False  # a retry of a scan already answered
    message: str = ""

    @classmethod
    def from_answer(cls, answer):
        """The Result of a stored or just-recorded answer ANSWER (a dict from the data layer)."""
        known = {field.name for field in fields(cls)}
        values = {key: value for key, value in answer.items() if key in known and value is not None}
        return cls(**dict(values, outcome=Outcome(answer["outcome"])))

    def said(self, message):
        """This result with MESSAGE, the sentence a person reads."""
        return replace(self, message=message)


def scan(station, *, room_id=None, code=None, attendee_id=None, direction="in", client_scan_id=None, override=False,
         admit_cancelled=False, reason=None, by=None, client=None):
    """Record one scan and return its Result with the message in the station's language (see record)."""
    result = record(station, room_id=room_id, code=code, attendee_id=attendee_id, direction=direction,
                    client_scan_id=client_scan_id, override=override, admit_cancelled=admit_cancelled, reason=reason,
                    by=by, client=client)
    return with_message(result, station)


def record(station, *, room_id=None, code=None, attendee_id=None, direction="in", client_scan_id=None, override=False,
           admit_cancelled=False, reason=None, by=None, client=None):
    """Record one scan of CODE (or of ATTENDEE_ID, picked by staff) and return its Result without a message.

    At STATION (a dict: id, mode, room_id, ...), or, when STATION is None, at the door of ROOM_ID
    by a host without a station; with neither, at the entrance by a user from the attendee's page.
    ADMIT_CANCELLED lets staff in a cancelled registration, for REASON. BY is the signed-in user's id. A station's unknown codes count
    towards its guess limit (and CLIENT's, the device's address; by default the request's):
    raises TooManyAttempts when the limit refuses.
    """
    db = get_db()
    arguments = dict(code=code, attendee_id=attendee_id, direction=direction, client_scan_id=client_scan_id,
                     user_id=by, override=override, admit_cancelled=admit_cancelled, reason=reason)
    if station is None:
        return Result.from_answer(scans_data.record_scan(db, room_id=room_id, **arguments))
    # Scans of several stations are recorded on one connection by the fast path (kiosk.serving.fastpath).
    use_event(db, station["event_id"])
    if station.get("event_archived_at"):  # the fast path passes no gate (kiosk.accounts.access.read_only_gate)
        raise EventArchived()
    limit = current_app.config["SCAN_GUESS_LIMIT"]
    with immediate(db):  # the check, the scan and the guess it may count: one transaction
        if limiter_blocked("guess", station["id"], limit=limit, client=client):
            raise TooManyAttempts()
        answer = scans_data.record_scan(db, station=station, **arguments)
        if answer["outcome"] == Outcome.UNKNOWN and not answer.get("replayed"):
            limiter_hit("guess", station["id"], limit=limit, client=client)
    return Result.from_answer(answer)


def stored_result(scan_id, *, station=None, room_id=None):
    """The described Result of scan SCAN_ID made at STATION (or at ROOM_ID), or None: what a
    no-JavaScript scan's redirect shows."""
    db = get_db()
    if station is not None:
        row = scans_data.get_scan(db, scan_id)
        found = row and row["station_id"] == station["id"] and row["response"]
        answer = json.loads(row["response"]) if found else None
    else:
        answer = scans_data.scan_answer_at_room(db, scan_id, room_id)
    return with_message(Result.from_answer(answer), station) if answer else None


def undo(scan_id, *, station=None, by=None):
    """Take back check-in SCAN_ID; the described Result (Outcome.UNDONE or NOT_UNDONE) with the undo's id."""
    db = get_db()
    target = scans_data.get_scan(db, scan_id)
    undo_id = scans_data.undo_scan(db, scan_id, user_id=by, station_id=station["id"] if station else None)
    person = attendees_data.get(db, target["attendee_id"]) if target and target["attendee_id"] else None
    attendee = {key: person[key] for key in ("id", "name", "organisation")} if person else None
    result = Result(outcome=Outcome.UNDONE if undo_id else Outcome.NOT_UNDONE, scan_id=undo_id, attendee=attendee)
    return with_message(result, station)


def get_scan(scan_id):
    """One scan's row (kind, station, attendee, outcome, time), or None."""
    return scans_data.get_scan(get_db(), scan_id)
