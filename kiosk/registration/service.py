"""Registration's rules: when it is open, the places left, a sign-up that never oversells, the personal link.

A sign-up takes its places in one BEGIN IMMEDIATE transaction together with the attendee, the
badge, the personal link and the ticket in the outbox (kiosk.people.service.check_choices
counts the places, as the organiser's and the desk's forms do). A full session is never
given: the answer offers its waiting list instead.

Which blocks are required: a block marked "everyone chooses here" (blocks.required, on the
program page). The form insists on a choice in it, and when every session of a required block
is full, registration is closed and only the waiting list is offered. Other blocks may be left
empty.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask_babel import gettext as _

from kiosk.accounts.limits import limiter_hit
from kiosk.data import audit
from kiosk.data import people as people_data
from kiosk.data import registration as data
from kiosk.data.event import event_zone, get_event
from kiosk.data.rooms import places_of
from kiosk.db import get_db, immediate, use_event
from kiosk.imports.attendees import EMAIL_RE
from kiosk.imports.names import split_name
from kiosk.mail.outbox import queue_ticket
from kiosk.people.service import Checked, check_choices, set_status
from kiosk.registration import waiting
from kiosk.text import search_text

LIMITS = {"name": 120, "email": 254, "organisation": 150, "role": 100}
CONSENT_LIMIT, PRIVACY_LIMIT = 2000, 20000
ACTOR = "registration form"


@dataclass
class Answer:
    """What a sign-up came to: STATUS 'registered', 'waiting', 'full' (the waiting list offered),
    'problems', 'closed' or 'limited' (too many posts from the address); FULL the sessions that were full, PROBLEMS the sentences to show."""

    status: str
    problems: list = field(default_factory=list)
    full: list = field(default_factory=list)
    attendee_id: int | None = None


def offer(db, now=None):
    """What the page shows: whether registration is open (and why not), and per block its sessions with
    the places left."""
    event, settings = get_event(db), data.settings(db) or {}
    required = data.required_blocks(db)
    blocks = {}
    for session in people_data.sessions_for_choice(db):
        block = blocks.setdefault(session["block_id"], {
            "id": session["block_id"], "name": session["block_name"], "starts_at": session["starts_at"],
            "required": session["block_id"] in required, "sessions": []})
        places = places_of(session)
        left = None if places is None else max(places - session["registered"], 0)
        block["sessions"].append(dict(session, places=places, left=left, full=left == 0))
    blocks = list(blocks.values())
    full_blocks = [b for b in blocks if b["required"] and b["sessions"] and all(s["full"] for s in b["sessions"])]
    return {"event": event, "settings": settings, "blocks": blocks, "full_blocks": full_blocks,
            "state": state(event, settings, full_blocks, now)}


def state(event, settings, full_blocks, now=None):
    """'open', 'not_open' (no event, or closed by an organiser), 'ended' (past the closing time) or 'full'."""
    if not event or not settings.get("registration_open"):
        return "not_open"
    closes = settings.get("registration_closes_at")
    if closes and (now or datetime.now(timezone.utc)) >= datetime.fromisoformat(closes):
        return "ended"
    return "full" if full_blocks else "open"


def local_closing(event, closes_at):
    """The closing time in the event's time zone, as YYYY-MM-DDTHH:MM for a datetime-local field."""
    if not closes_at:
        return ""
    return datetime.fromisoformat(closes_at).astimezone(event_zone(event)).strftime("%Y-%m-%dT%H:%M")


def check_person(form):
    """The registrant's details from FORM, checked: a Checked with values and problems."""
    checked = Checked()
    raw = {key: form.get(key) or "" for key in LIMITS}
    for key, limit in LIMITS.items():
        if len(raw[key]) > limit:
            checked.problems.append(_("%(field)s is longer than %(count)d characters.", field=_field_label(key), count=limit))
    name = " ".join(raw["name"].split())[:LIMITS["name"]]
    email = "".join(raw["email"].split())[:LIMITS["email"]]
    organisation = " ".join(raw["organisation"].split())[:LIMITS["organisation"]]
    role = " ".join(raw["role"].split())[:LIMITS["role"]]
    if not name:
        checked.problems.append(_("Give your name."))
    if not EMAIL_RE.match(email):
        checked.problems.append(_("Give an e-mail address we can send your ticket to."))
    if form.get("consent") != "yes":
        checked.problems.append(_("Registration needs your consent."))
    first, prefix, last = split_name(name)
    checked.values = {"first_name": first, "name_prefix": prefix, "last_name": last, "name": name, "email": email,
                      "organisation": organisation, "role": role, "search_text": search_text(name, organisation, email)}
    return checked


def _field_label(key):
    return {"name": _("Name"), "email": _("E-mail"), "organisation": _("Organisation"), "role": _("Role")}[key]


def register(form, *, language, client=None, limit=None, now=None):
    """Sign up the person of FORM (in LANGUAGE): an Answer. With form['waitlist'] the full sessions
    they chose put them on those waiting lists. The post counts against the CLIENT address's LIMIT
    (hits, seconds) in the same transaction; over it, the Answer is 'limited' and nothing is written."""
    db = get_db()
    checked = check_person(form)
    with immediate(db):
        if limit is not None and limiter_hit("register", client, limit=limit):
            return Answer("limited")
        current = _required_now(db, now)
        if current["state"] in ("not_open", "ended"):
            return Answer("closed")
        if checked.problems:
            return Answer("problems", problems=checked.problems)
        check_choices(db, form, checked)
        missing = [b["name"] for b in current["blocks"] if b["id"] not in checked.choices
                   and b["id"] not in {s["block_id"] for s in checked.full}]
        problems = [p for p in checked.problems if not _about_full(p, checked.full)]
        problems += [_("Choose a session in %(block)s.", block=name) for name in missing]
        if problems:
            return Answer("problems", problems=problems)
        if checked.full and form.get("waitlist") != "yes":
            return Answer("full", full=checked.full)
        return _sign_up(db, checked, current, language)


def _required_now(db, now=None):
    """Inside the registration's transaction, cheaply: the state, and the required blocks with whether
    each is full (counting only their sessions' choices, not every session's as offer() does)."""
    required = data.required_blocks(db)
    blocks = {}
    for session in people_data.session_rows(db) if required else ():
        if session["block_id"] in required:
            block = blocks.setdefault(session["block_id"], {"id": session["block_id"], "name": session["block_name"],
                                                            "full": True})
            block["full"] = block["full"] and waiting.places_left(db, session["id"]) == 0
    full_blocks = [block for block in blocks.values() if block["full"]]
    return {"blocks": list(blocks.values()),
            "state": state(get_event(db), data.settings(db) or {}, full_blocks, now)}


def _about_full(problem, full):
    """True for check_choices' sentence about a full session: the answer offers its waiting list instead."""
    return any(problem == _("%(session)s is full (%(places)s places).", session=session["title"], places=places_of(session))
               for session in full)


def _sign_up(db, checked, current, language):
    """Inside the transaction: the attendee (or, when a required block is full, only the waiting list)."""
    values = checked.values
    person = {"name": values["name"], "email": values["email"], "organisation": values["organisation"],
              "role": values["role"], "language": language}
    existing = data.registered_with_email(db, values["email"])
    if existing is not None:
        # Registered already (a full required block does not take their place away): the ticket
        # again, to that address only. The answer is the same as for a new sign-up, so the form
        # tells nobody whether an address is registered.
        queue_ticket(db, existing, language=language)
        audit.record(db, ACTOR, "registration.again", f"{existing} ticket sent again")
        return Answer("registered", attendee_id=existing)
    required = {b["id"] for b in current["blocks"]}
    if any(session["block_id"] in required for session in checked.full):
        joined = waiting.join(db, person, checked.full, wishes=checked.choices)
        audit.record(db, ACTOR, "registration.waiting", f"{values['name']} for {joined}")
        return Answer("waiting", full=checked.full)
    attendee_id = people_data.insert_attendee(db, values)
    people_data.replace_choices(db, attendee_id, checked.choices)
    people_data.give_badge(db, attendee_id)
    # The ticket tells them which waiting lists they are on, and their place in each.
    places = [waiting.place_in_line(db, session, data.add_waiting(db, session["id"], dict(
        person, attendee_id=attendee_id, wishes={}))) for session in checked.full]
    queue_ticket(db, attendee_id, language=language, person={"name": values["name"], "email": values["email"]},
                 detail={"waiting": places} if places else None)
    audit.record(db, ACTOR, "registration.add", f"{attendee_id} {values['name']} sessions {sorted(checked.choices.values())}"
                 + (f" waiting {[s['id'] for s in checked.full]}" if checked.full else ""))
    return Answer("waiting" if checked.full else "registered", attendee_id=attendee_id, full=checked.full)


def owner(token):
    """The attendee a personal link's TOKEN opens (with the link's language), or None."""
    if not token or len(token) > 100:
        return None
    db = get_db()
    found = data.link_owner(db, hashlib.sha256(token.encode()).hexdigest())
    if found is not None:
        use_event(db, found["event_id"])  # the rest of the request is about the registrant's own event
    return found


def waiting_owner(token):
    """The waiting list link (id, language) a TOKEN from a waiting list e-mail opens, or None."""
    if not token or len(token) > 100:
        return None
    return data.waiting_link(get_db(), hashlib.sha256(token.encode()).hexdigest())


def cancel(attendee_id):
    """The registrant cancels: the places go to the waiting lists at once (kiosk.people.service.set_status)."""
    set_status(attendee_id, "cancelled", actor=f"registrant {attendee_id}")


def save_settings(form, *, actor):
    """The organiser's registration settings from FORM: open, closing time (event time), consent, privacy."""
    db = get_db()
    event = get_event(db)
    closes, problems = None, []
    raw = (form.get("registration_closes_at") or "").strip()
    if raw:
        try:
            closes = datetime.fromisoformat(raw).replace(tzinfo=event_zone(event)).astimezone(timezone.utc).isoformat()
        except ValueError:
            problems.append(_("Give the closing time as a date and time."))
    if problems or event is None:
        return problems or [_("Set up the event first.")]
    values = {"registration_open": 1 if form.get("registration_open") == "1" else 0, "registration_closes_at": closes,
              "consent_text": (form.get("consent_text") or "").strip()[:CONSENT_LIMIT],
              "privacy_text": (form.get("privacy_text") or "").strip()[:PRIVACY_LIMIT]}
    with immediate(db):
        data.save_settings(db, values)
        audit.record(db, actor, "registration.settings",
                     f"open={values['registration_open']} closes={closes} consent={len(values['consent_text'])} chars "
                     f"privacy={len(values['privacy_text'])} chars")
    return []


def set_open(db, is_open, *, actor, closes_at=None):
    """Open (with an optional closing time, UTC ISO) or close registration; False when there is no event."""
    with immediate(db):
        values = {"registration_open": 1 if is_open else 0}
        if is_open:
            values["registration_closes_at"] = closes_at
        done = data.save_settings(db, values)
        if done:
            audit.record(db, actor, "registration.open" if is_open else "registration.close", closes_at or "")
    return done


def promote_freed(db, session_ids, *, actor):
    """Give places freed in SESSION_IDS to the waiting lists (inside the caller's transaction)."""
    return waiting.promote(db, session_ids, actor=actor)
