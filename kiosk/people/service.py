"""People's rules: checking an attendee's details, duplicates, places in sessions, and every change audited."""

from dataclasses import dataclass, field

from flask_babel import gettext as _

from kiosk.data import audit
from kiosk.data import people as data
from kiosk.data import registration as registration_data
from kiosk.data.rooms import places_of
from kiosk.db import get_db, immediate
from kiosk.imports.attendees import EMAIL_RE
from kiosk.registration import waiting
from kiosk.text import display_name, search_text
from kiosk.web.ids import parse_id

FIELD_LIMIT = 200


@dataclass
class Checked:
    """A form's values once checked: VALUES for the attendees table, CHOICES {block_id: session_id}, PROBLEMS,
    and FULL: the sessions refused because they are full (the registration page offers their waiting lists)."""

    values: dict = field(default_factory=dict)
    choices: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    full: list = field(default_factory=list)


def _text(form, name):
    return " ".join((form.get(name) or "").split())[:FIELD_LIMIT]


def check_details(form):
    """The attendee's details from FORM (name parts, e-mail, organisation, role), checked."""
    checked = Checked()
    first, prefix, last = _text(form, "first_name"), _text(form, "name_prefix"), _text(form, "last_name")
    email = _text(form, "email").replace(" ", "")
    organisation, role = _text(form, "organisation"), _text(form, "role")
    if not (first or last):
        checked.problems.append(_("Give a first name or a last name."))
    if email and not EMAIL_RE.match(email):
        checked.problems.append(_("“%(email)s” is not an e-mail address.", email=email))
    name = display_name(first, prefix, last)
    checked.values = {"first_name": first, "name_prefix": prefix, "last_name": last, "name": name,
                      "email": email or None, "organisation": organisation, "role": role,
                      "search_text": search_text(name, organisation, email)}
    return checked


def check_choices(db, form, checked, *, attendee_id=None, override=False):
    """Read the session chosen per block (`block-<id>` fields of FORM) into CHECKED; a full session is
    refused unless OVERRIDE (an organiser's decision) or the person already had it."""
    sessions = {session["id"]: session for session in data.session_rows(db)}
    had = data.choices_of(db, attendee_id) if attendee_id else {}
    for block_id in {session["block_id"] for session in sessions.values()}:
        raw = form.get(f"block-{block_id}", "")
        if not raw:
            continue
        session = sessions.get(parse_id(raw))
        if session is None or session["block_id"] != block_id:
            checked.problems.append(_("That session is not in this block."))
            continue
        places = places_of(session)
        taken = data.session_registered(db, session["id"], exclude=attendee_id)
        if places is not None and taken >= places and not override and had.get(block_id) != session["id"]:
            checked.problems.append(_("%(session)s is full (%(places)s places).", session=session["title"], places=places))
            checked.full.append(session)
            continue
        checked.choices[block_id] = session["id"]
    return checked


def duplicates(values, *, exclude=None):
    """Attendees who may be the same person as VALUES: same e-mail, or same name and organisation."""
    return data.possible_duplicates(get_db(), email=values["email"], name=values["name"],
                                    organisation=values["organisation"], exclude=exclude)


def add(form, *, actor, override=False):
    """Add the attendee of FORM with their choices and a badge; returns (id or None, Checked).

    The places are checked and the attendee written in one transaction, so two desks cannot
    both take a session's last place.
    """
    db = get_db()
    checked = check_details(form)
    with immediate(db):
        check_choices(db, form, checked, override=override)
        if checked.problems:
            return None, checked
        attendee_id = data.insert_attendee(db, checked.values)
        data.replace_choices(db, attendee_id, checked.choices)
        badge = data.give_badge(db, attendee_id)
        audit.record(db, actor, "attendee.add", f"{attendee_id} {checked.values['name']} badge {badge['short_code']}")
    return attendee_id, checked


def edit(attendee_id, form, *, actor):
    """Save the details of FORM for ATTENDEE_ID; returns Checked (with problems, nothing saved)."""
    db = get_db()
    checked = check_details(form)
    if checked.problems:
        return checked
    with immediate(db):
        before = data.attendee_row(db, attendee_id)
        data.update_attendee(db, attendee_id, checked.values)
        changed = [f"{key}: {before[key]!r} -> {value!r}" for key, value in checked.values.items()
                   if key != "search_text" and before[key] != value]
        audit.record(db, actor, "attendee.edit", f"{attendee_id} " + "; ".join(changed))
    return checked


def change_choices(attendee_id, form, *, actor, override=False):
    """Make the sessions chosen in FORM ATTENDEE_ID's choices; returns Checked (problems: nothing saved)."""
    db = get_db()
    checked = Checked()
    with immediate(db):
        check_choices(db, form, checked, attendee_id=attendee_id, override=override)
        if checked.problems:
            return checked
        before = data.choices_of(db, attendee_id)
        data.replace_choices(db, attendee_id, checked.choices)
        audit.record(db, actor, "attendee.sessions",
                     f"{attendee_id} {sorted(checked.choices.items())}{' override' if override else ''}")
        # A place given up goes to the first person waiting for it, in this same transaction.
        waiting.promote(db, set(before.values()) - set(checked.choices.values()), actor=actor)
    return checked


def set_status(attendee_id, status, *, actor):
    """Cancel (STATUS 'cancelled') or reinstate ('registered') ATTENDEE_ID."""
    db = get_db()
    with immediate(db):
        data.set_status(db, attendee_id, status)
        audit.record(db, actor, "attendee.cancel" if status == "cancelled" else "attendee.reinstate", str(attendee_id))
        if status == "cancelled":
            registration_data.remove_attendee_waiting(db, attendee_id)
            waiting.promote(db, data.choices_of(db, attendee_id).values(), actor=actor)


def mask_email(email):
    """'jan@example.org' -> 'j***@example.org': enough to tell two namesakes apart at the desk."""
    if not email or "@" not in email:
        return ""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def form_context(db, form=None, *, chosen=None):
    """What the attendee form shows: the sessions per block and what was typed or chosen."""
    blocks = {}
    for session in data.sessions_for_choice(db):
        blocks.setdefault(session["block_id"], {"id": session["block_id"], "name": session["block_name"],
                                                "starts_at": session["starts_at"], "sessions": []})
        blocks[session["block_id"]]["sessions"].append(dict(session, places=places_of(session)))
    if chosen is None and form is not None:
        chosen = chosen_in(form)
    return {"blocks": list(blocks.values()), "form": form or {}, "chosen": chosen or {}}


def chosen_in(form):
    """{block_id: session_id} as FORM's `block-<id>` fields chose them."""
    chosen = {parse_id(key[6:]): parse_id(value) for key, value in form.items() if key.startswith("block-")}
    return {block: session for block, session in chosen.items() if block is not None and session is not None}
