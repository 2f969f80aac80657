"""The organiser API's attendee rules: checking a body, duplicates, session choices by name, the badge."""

from kiosk.data import api_attendees as data
from kiosk.data.audit import record
from kiosk.data.badges import issue_badge
from kiosk.db import immediate
from kiosk.imports.attendees import EMAIL_RE
from kiosk.imports.names import split_name
from kiosk.text import search_text

TEXT_FIELDS = {"name": 200, "email": 200, "organisation": 200, "role": 200, "registration_id": 100}
STATUSES = ("registered", "cancelled")
MAX_SESSIONS = 50


class Refused(ValueError):
    """A request the API answers with STATUS and {"error": CODE, "message", "field", **EXTRA}."""

    def __init__(self, status, code, field, message, **extra):
        super().__init__(message)
        self.status, self.code, self.field, self.extra = status, code, field, extra

    def answer(self):
        return {"error": self.code, "message": str(self), "field": self.field, **self.extra}


def invalid(field, message):
    return Refused(400, "invalid", field, message)


def clean(body, *, partial):
    """The fields of a POST (or, with PARTIAL, a PATCH) body: (columns, {block: session or None})."""
    if not isinstance(body, dict):
        raise Refused(400, "malformed_json", None, "the body must be a JSON object")
    values = {}
    for field, limit in TEXT_FIELDS.items():
        if field not in body:
            continue
        value = body[field]
        if value is None and field != "name":
            values[field] = None if field in ("email", "registration_id") else ""
            continue
        if not isinstance(value, str):
            raise invalid(field, f"'{field}' must be a string")
        value = " ".join(value.split()) if field != "registration_id" else value.strip()
        if len(value) > limit:
            raise invalid(field, f"'{field}' must have at most {limit} characters")
        values[field] = value if value or field not in ("email", "registration_id") else None
    if not partial and not values.get("name"):
        raise invalid("name", "'name' is required and must not be empty")
    if partial and "name" in values and not values["name"]:
        raise invalid("name", "'name' must not be empty")
    if values.get("email") and not EMAIL_RE.match(values["email"]):
        raise invalid("email", "'email' is not an e-mail address")
    if "status" in body:
        if body["status"] not in STATUSES:
            raise invalid("status", "'status' must be 'registered' or 'cancelled'")
        values["status"] = body["status"]
    sessions = body.get("sessions", {})
    if sessions is None:
        sessions = {}
    if not isinstance(sessions, dict) or len(sessions) > MAX_SESSIONS:
        raise invalid("sessions", "'sessions' must be an object of block name to session title")
    for block, title in sessions.items():
        if not isinstance(title, str) and title is not None:
            raise invalid(f"sessions.{block}", f"'sessions.{block}' must be a session title (a string) or null")
    if "name" in values:
        first, prefix, last = split_name(values["name"])
        values.update(first_name=first, name_prefix=prefix, last_name=last)
    return values, sessions


def _choose(db, attendee_id, sessions):
    """Set ATTENDEE_ID's choices from {block name: session title or None}; raises Refused."""
    for block, title in sessions.items():
        if title is None:
            block_id = data.block_id(db, block)
            if block_id is None:
                raise invalid(f"sessions.{block}", f"'sessions.{block}': there is no time block named '{block}'")
            data.set_choice(db, attendee_id, block_id, None)
            continue
        session = data.find_session(db, block, title)
        if session is None:
            raise invalid(f"sessions.{block}", f"'sessions.{block}': there is no time block named '{block}'")
        if not session:
            raise invalid(f"sessions.{block}", f"'sessions.{block}': there is no session '{title}' in '{block}'")
        data.set_choice(db, attendee_id, session["block_id"], None)
        limit = session["place_limit"]
        if limit is not None and data.chosen_count(db, session["id"]) >= limit:
            raise Refused(409, "full", f"sessions.{block}", f"'sessions.{block}': '{title}' has no places left")
        data.set_choice(db, attendee_id, session["block_id"], session["id"])


def _duplicate(db, values, exclude_id=None):
    found = data.find_duplicate(db, registration_id=values.get("registration_id"), email=values.get("email"),
                                exclude_id=exclude_id)
    if found:
        field, existing = found
        raise Refused(409, "duplicate", field, f"an attendee with this {field.replace('_', ' ')} exists already",
                      existing_id=existing)


def create(db, body, *, actor):
    """Add the attendee BODY describes, with their session choices and a badge; raises Refused."""
    values, sessions = clean(body, partial=False)
    values.setdefault("status", "registered")
    for field in ("organisation", "role"):
        values[field] = values.get(field) or ""
    values["search_text"] = search_text(values["name"], values["organisation"], values.get("email"))
    with immediate(db):
        _duplicate(db, values)
        attendee_id = data.insert_attendee(db, values)
        _choose(db, attendee_id, sessions)
        issue_badge(db, attendee_id)
        record(db, actor, "add attendee (api)", f"{attendee_id}: {values['name']}")
    return data.get_attendee(db, attendee_id)


def update(db, attendee_id, body, *, actor):
    """Change the attendee ATTENDEE_ID as BODY says; None when there is no such attendee; raises Refused."""
    values, sessions = clean(body, partial=True)
    with immediate(db):
        old = data.attendee_row(db, attendee_id)
        if old is None:
            return None
        _duplicate(db, values, exclude_id=attendee_id)
        merged = dict(old, **values)
        values["search_text"] = search_text(merged["name"], merged["organisation"] or "", merged["email"])
        for field in ("organisation", "role"):
            if field in values and values[field] is None:
                values[field] = ""
        data.update_attendee(db, attendee_id, values)
        _choose(db, attendee_id, sessions)
        changed = sorted(set(values) - {"search_text", "first_name", "name_prefix", "last_name"} | ({"sessions"} if sessions else set()))
        record(db, actor, "edit attendee (api)", f"{attendee_id}: {', '.join(changed)}")
    return data.get_attendee(db, attendee_id)
