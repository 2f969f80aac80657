"""The program's rules for the organiser's pages: rooms, time blocks and sessions checked, written and audited.

Names are compared as the program import compares them (ignoring case and accents), so an
import later updates what these pages made instead of adding a second room or block.
"""

from dataclasses import dataclass, field

from flask_babel import gettext as _

from kiosk.data import audit
from kiosk.data import program as data
from kiosk.data import registration as registration_data
from kiosk.db import get_db, immediate
from kiosk.imports.program import parse_count, parse_time
from kiosk.registration import waiting
from kiosk.text import fold
from kiosk.web.ids import parse_id

KINDS = ("plenary", "session", "walk", "break")
TEXT_LIMIT = 200


@dataclass
class Change:
    """What a change did: the row's id when saved, the PROBLEMS that stopped it, the WARNINGS it carries."""

    row_id: int | None = None
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def _text(form, name, limit=TEXT_LIMIT):
    return " ".join((form.get(name) or "").split())[:limit]


def _same_name(db, table, column, name, exclude):
    """True when another row of TABLE has NAME in COLUMN, compared folded."""
    return any(fold(row[column]) == fold(name) and row["id"] != exclude for row in data.rows(db, table))


def save_room(form, *, actor, room_id=None):
    """Add a room (ROOM_ID None) or change one: name, capacity, location, whether its door scans people out."""
    db = get_db()
    result = Change()
    name, location = _text(form, "name"), _text(form, "location")
    capacity, ok = parse_count(form.get("capacity", ""))
    if not name:
        result.problems.append(_("Give the room a name."))
    if capacity is None or not ok:
        result.problems.append(_("The capacity must be a whole number, 0 or more."))
    values = {"name": name, "capacity": capacity, "location": location, "has_exit_scan": int(form.get("has_exit_scan") == "1")}
    with immediate(db):
        if name and _same_name(db, "rooms", "name", name, room_id):
            result.problems.append(_("There is already a room called “%(name)s”.", name=name))
        if result.problems:
            return result
        if room_id is None:
            room_id = data.insert(db, "rooms", values)
            data.add_occupancy(db, room_id)
            audit.record(db, actor, "room.add", f"{room_id} {name} capacity {capacity}")
        else:
            before = data.get(db, "rooms", room_id)
            data.update(db, "rooms", room_id, values)
            audit.record(db, actor, "room.edit", f"{room_id} {before['name']}: {_changes(before, values)}")
            # A raised capacity gives its new places to the people waiting for the room's sessions.
            waiting.promote(db, registration_data.sessions_in_room(db, room_id), actor=actor)
        inside = data.inside(db, room_id)
    if inside > capacity:
        result.warnings.append(_(
            "%(room)s now holds fewer (%(capacity)s) than are counted inside (%(inside)s): it shows as full.",
            room=name, capacity=capacity, inside=inside))
    result.row_id = room_id
    return result


def remove_room(room_id, *, actor):
    """Remove a room nothing refers to; otherwise say what still uses it."""
    db = get_db()
    with immediate(db):
        room = data.get(db, "rooms", room_id)
        uses = data.room_uses(db, room_id)
        if uses["sessions"]:
            return Change(problems=[_("%(room)s holds %(count)s sessions: move or remove them first.",
                                       room=room["name"], count=uses["sessions"])])
        if uses["stations"]:
            return Change(problems=[_("%(room)s has a door station: remove that station first.", room=room["name"])])
        if uses["scans"]:
            return Change(problems=[_("%(room)s has scans in its history; it stays so the history stays whole.",
                                       room=room["name"])])
        data.delete_room(db, room_id)
        audit.record(db, actor, "room.remove", f"{room_id} {room['name']}")
    return Change(row_id=room_id)


def save_block(form, *, actor, block_id=None):
    """Add a time block (BLOCK_ID None) or change one: name, start and end (HH:MM)."""
    db = get_db()
    result = Change()
    name = _text(form, "name")
    starts_at, ends_at = parse_time(form.get("starts_at", "")), parse_time(form.get("ends_at", ""))
    if not name:
        result.problems.append(_("Give the block a name."))
    if starts_at is None or ends_at is None:
        result.problems.append(_("Give the start and end as times like 09:30."))
    elif ends_at <= starts_at:
        result.problems.append(_("The block must end after it starts."))
    # Required: everyone who registers chooses a session here (kiosk.registration.service).
    values = {"name": name, "starts_at": starts_at, "ends_at": ends_at, "required": int(form.get("required") == "1")}
    with immediate(db):
        if name and _same_name(db, "blocks", "name", name, block_id):
            result.problems.append(_("There is already a block called “%(name)s”.", name=name))
        if result.problems:
            return result
        if block_id is None:
            block_id = data.insert(db, "blocks", values)
            audit.record(db, actor, "block.add", f"{block_id} {name} {starts_at}-{ends_at}")
        else:
            before = data.get(db, "blocks", block_id)
            data.update(db, "blocks", block_id, values)
            audit.record(db, actor, "block.edit", f"{block_id} {before['name']}: {_changes(before, values)}")
    result.row_id = block_id
    return result


def remove_block(block_id, *, actor):
    """Remove a time block that holds no sessions."""
    db = get_db()
    with immediate(db):
        block = data.get(db, "blocks", block_id)
        count = data.block_sessions(db, block_id)
        if count:
            return Change(problems=[_("%(block)s holds %(count)s sessions: remove them first.",
                                       block=block["name"], count=count)])
        data.delete_block(db, block_id)
        audit.record(db, actor, "block.remove", f"{block_id} {block['name']}")
    return Change(row_id=block_id)


def _session_values(db, form, result):
    """The session's columns from FORM; problems go to RESULT."""
    title, meeting_point = _text(form, "title"), _text(form, "meeting_point") or None
    kind = form.get("kind") if form.get("kind") in KINDS else None
    block_id, room_id = parse_id(form.get("block_id")), parse_id(form.get("room_id"))
    place_limit, ok = parse_count(form.get("place_limit", ""))
    if not title:
        result.problems.append(_("Give the session a title."))
    if kind is None:
        result.problems.append(_("Choose the kind of session."))
    if block_id is None or data.get(db, "blocks", block_id) is None:
        result.problems.append(_("Choose the block the session is in."))
    if room_id is not None and data.get(db, "rooms", room_id) is None:
        result.problems.append(_("Choose a room from the list."))
    if not ok:
        result.problems.append(_("The places must be a whole number, 0 or more, or empty for the room's capacity."))
    return {"block_id": block_id, "title": title, "kind": kind or "session", "room_id": room_id,
            "meeting_point": meeting_point, "place_limit": place_limit,
            "description": (form.get("description") or "").strip()[:2000]}


def save_session(form, *, actor, session_id=None):
    """Add a session (SESSION_ID None) or change one: block, title, kind, room or meeting point, places, description."""
    db = get_db()
    result = Change()
    with immediate(db):
        values = _session_values(db, form, result)
        before = data.get(db, "sessions", session_id) if session_id is not None else None
        _check_session(db, values, before, result)
        if result.problems:
            return result
        if before is None:
            session_id = data.insert(db, "sessions", values)
            audit.record(db, actor, "session.add", f"{session_id} {values['title']}")
        else:
            data.update(db, "sessions", session_id, values)
            audit.record(db, actor, "session.edit", f"{session_id} {before['title']}: {_changes(before, values)}")
            waiting.promote(db, [session_id], actor=actor)
    result.row_id = session_id
    return result


def _check_session(db, values, before, result):
    """Problems with saving VALUES over BEFORE (None for a new session) go to RESULT."""
    exclude = before["id"] if before else None
    if values["title"] and values["block_id"] is not None:
        same = [s for s in data.rows(db, "sessions") if s["block_id"] == values["block_id"] and s["id"] != exclude
                and fold(s["title"]) == fold(values["title"])]
        if same:
            result.problems.append(_("This block already has a session called “%(title)s”.", title=values["title"]))
    if values["room_id"] is not None and values["block_id"] is not None and values["kind"] in ("session", "plenary"):
        taken = data.room_taken(db, values["block_id"], values["room_id"], exclude=exclude)
        if taken:
            result.problems.append(_("That room already holds “%(title)s” in this block.", title=taken))
    if before is not None and before["block_id"] != values["block_id"]:
        chosen = data.chosen_by(db, before["id"])
        if chosen:
            result.problems.append(_(
                "%(count)s people chose this session in its block: it cannot move to another block.", count=chosen))


def remove_session(session_id, *, actor):
    """Remove a session nobody chose; otherwise say how many chose it."""
    db = get_db()
    with immediate(db):
        session = data.get(db, "sessions", session_id)
        chosen = data.chosen_by(db, session_id)
        if chosen:
            return Change(problems=[_(
                "%(count)s people chose “%(title)s”: move them to another session before removing it.",
                count=chosen, title=session["title"])])
        data.delete_session(db, session_id)
        audit.record(db, actor, "session.remove", f"{session_id} {session['title']}")
    return Change(row_id=session_id)


def _changes(before, values):
    """'capacity: 80 -> 60; name: ...' for the columns of VALUES that differ from BEFORE."""
    return "; ".join(f"{key}: {before[key]!r} -> {value!r}" for key, value in values.items() if before[key] != value)
