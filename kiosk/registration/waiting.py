"""The waiting list's rules: who joins is told their place in line, may leave, and gets a place that frees up.

promote() runs inside the transaction that frees the places (a cancellation, a changed choice,
a raised capacity or session limit), so a freed place is never seen free by a newcomer before
the person waiting for it has it.
"""

import json
import secrets

from kiosk.data import audit
from kiosk.data import people as people_data
from kiosk.data import registration as data
from kiosk.data.rooms import places_of
from kiosk.db import immediate
from kiosk.imports.names import split_name
from kiosk.mail.outbox import queue_ticket, queue_waiting, token_hash
from kiosk.text import search_text

MAX_PROMOTIONS = 10_000  # per call: bounded, however a capacity changed


def places_left(db, session_id):
    """How many more people SESSION_ID takes now; None when it has no limit."""
    session = data.session_places(db, session_id)
    if session is None:
        return 0
    places = places_of(session)
    if places is None:
        return None
    return max(places - people_data.session_registered(db, session_id), 0)


def promote(db, session_ids, *, actor):
    """Inside a write transaction: give the free places of SESSION_IDS to the people waiting, first come
    first served; a promotion that frees another place (a moved choice) promotes for that one too."""
    queue, given = list(dict.fromkeys(sid for sid in session_ids if sid is not None)), 0
    while queue and given < MAX_PROMOTIONS:
        session_id = queue.pop(0)
        while given < MAX_PROMOTIONS:
            left = places_left(db, session_id)
            entry = data.first_waiting(db, session_id) if left is None or left > 0 else None
            if entry is None:
                break
            freed = give_place(db, entry, actor=actor)
            given += 1
            if freed is not None and freed not in queue:
                queue.append(freed)
    return given


def give_place(db, entry, *, actor):
    """Give ENTRY (a waiting list row) its session: a choice for a registered person, a new registration
    for someone who was only waiting; queues the e-mail. Returns a session it freed, or None."""
    session = data.session_places(db, entry["session_id"])
    freed, attendee_id = None, entry["attendee_id"]
    if attendee_id is not None:
        person = people_data.attendee_row(db, attendee_id)
        if person is None or person["status"] != "registered":
            data.close_entry(db, entry["id"], promoted=False)
            return None
        freed = data.set_choice(db, attendee_id, session["block_id"], session["id"])
    else:
        attendee_id = _register_waiting(db, entry, session)
        if entry["link_id"] is not None:  # their other lists of that sign-up: waiting as this registration now
            data.attach_link_entries(db, entry["link_id"], attendee_id)
    data.close_entry(db, entry["id"], promoted=True, attendee_id=attendee_id)
    queue_ticket(db, attendee_id, kind="promoted", language=entry["language"],
                 detail={"session": session["title"], "block": session["block_name"]})
    audit.record(db, actor, "waiting.promote", f"{attendee_id} {entry['name']} -> session {session['id']} {session['title']}")
    return freed


def _register_waiting(db, entry, session):
    """A registration for ENTRY, who waited without one: the session, and their other wishes that have places."""
    first, prefix, last = split_name(entry["name"])
    attendee_id = people_data.insert_attendee(db, {
        "first_name": first, "name_prefix": prefix, "last_name": last, "name": entry["name"], "email": entry["email"],
        "organisation": entry["organisation"], "role": entry["role"],
        "search_text": search_text(entry["name"], entry["organisation"], entry["email"])})
    chosen = {}
    for block_id, session_id in json.loads(entry["wishes"] or "{}").items():
        left = places_left(db, session_id)
        if left is None or left > 0:
            chosen[int(block_id)] = session_id
    chosen[session["block_id"]] = session["id"]
    people_data.replace_choices(db, attendee_id, chosen)
    people_data.give_badge(db, attendee_id)
    return attendee_id


def join(db, person, sessions, *, wishes):
    """Inside the sign-up's transaction: PERSON (name, email, organisation, role, language; no registration)
    at the end of the waiting lists of SESSIONS, and the e-mail with their places and a link to leave them.
    A list their address is on already keeps its place (a form sent twice); returns the ids of the sessions joined."""
    sessions = [session for session in sessions if not data.is_waiting(db, session["id"], person["email"])]
    if not sessions:
        return []
    token = secrets.token_urlsafe(24)
    link_id = data.add_waiting_link(db, token_hash(token), person["language"])
    places = [place_in_line(db, session, data.add_waiting(db, session["id"], dict(
        person, attendee_id=None, wishes=wishes, link_id=link_id))) for session in sessions]
    queue_waiting(db, person, language=person["language"], token=token, sessions=places)
    return [session["id"] for session in sessions]


def place_in_line(db, session, entry_id):
    """What an e-mail says of waiting list entry ENTRY_ID for SESSION: the session and the place in line."""
    return {"title": session["title"], "block": session["block_name"], "starts_at": session["starts_at"],
            "place": data.waiting_place(db, entry_id)}


def leave(entry_id, db, *, link_id=None, attendee_id=None, actor):
    """The person waiting takes ENTRY_ID off its list: theirs when made with their LINK_ID or of their
    ATTENDEE_ID. False when it is not theirs or no longer waiting. Nobody held a place: nothing to promote."""
    return _take_off(entry_id, db, actor=actor, action="waiting.leave", allowed=lambda entry: (
        (link_id is not None and entry["link_id"] == link_id)
        or (attendee_id is not None and entry["attendee_id"] == attendee_id)))


def promote_by_hand(entry_id, db, *, actor):
    """An organiser gives ENTRY_ID its place, full or not; False when it is no longer waiting."""
    with immediate(db):
        entry = data.waiting_entry(db, entry_id)
        if entry is None:
            return False
        freed = give_place(db, entry, actor=actor)
        promote(db, [freed], actor=actor)
    return True


def move(entry_id, direction, db, *, actor):
    """Move ENTRY_ID one place up or down its list (swapping with its neighbour)."""
    with immediate(db):
        entry = data.waiting_entry(db, entry_id)
        other = data.neighbour(db, entry, direction) if entry else None
        if other is None:
            return False
        data.set_position(db, entry["id"], other["position"])
        data.set_position(db, other["id"], entry["position"])
        audit.record(db, actor, "waiting.move", f"{entry_id} {direction} ({entry['name']}, {entry['title']})")
    return True


def remove(entry_id, db, *, actor):
    """An organiser takes ENTRY_ID off its waiting list."""
    return _take_off(entry_id, db, actor=actor, action="waiting.remove")


def _take_off(entry_id, db, *, actor, action, allowed=lambda entry: True):
    """Close ENTRY_ID when it is still waiting and ALLOWED(entry); False otherwise."""
    with immediate(db):
        entry = data.waiting_entry(db, entry_id)
        if entry is None or not allowed(entry):
            return False
        data.close_entry(db, entry_id, promoted=False)
        audit.record(db, actor, action, f"{entry_id} ({entry['name']}, {entry['title']})")
    return True
