"""Page-or-fragment rendering: one decision, made in one place."""

import json
from datetime import date

from flask import g, jsonify, make_response, render_template
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from htmx_flask import request

from kiosk.data.event import get_event, local_time, logo_version
from kiosk.db import get_db
from kiosk.outcomes import Outcome


def wants_fragment():
    """True for an htmx request that swaps part of a page (not boosted, not a history restore)."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render(page_template, fragment_template=None, *, status=200, **context):
    """Render FRAGMENT for htmx requests and PAGE (which includes it) for the rest."""
    template = fragment_template if fragment_template and wants_fragment() else page_template
    return render_fragment(template, status=status, **context)


def render_fragment(template, *, status=200, **context):
    """Render TEMPLATE, marked as an answer that depends on HX-Request (a page or its fragment)."""
    response = make_response(render_template(template, **context), status)
    response.headers.add("Vary", "HX-Request")
    return response


def json_response(status, answer):
    """A JSON response: ANSWER with the HTTP STATUS."""
    response = jsonify(answer)
    response.status_code = status
    return response


def init_app(app):
    """Template helpers and filters for every template."""
    app.context_processor(template_helpers)
    app.jinja_env.filters["local_time"] = _local_time_filter
    app.jinja_env.filters["from_json"] = _from_json
    app.jinja_env.filters["format_event_date"] = _format_event_date


def _event():
    """The event of this request, read once."""
    if "event" not in g:
        g.event = get_event(get_db())
    return g.event


def template_helpers():
    """What every template can call: the language, the event and labels for outcomes and session kinds."""
    return {
        "current_language": lambda: str(get_locale() or "nl"),
        "event": _event,
        "event_name": lambda: (_event() or {}).get("name", "Kiosk"),
        "event_archived": lambda: bool((_event() or {}).get("archived_at")),
        "event_logo": lambda: logo_version(get_db()),
        "outcome_label": outcome_label,
        "Outcome": Outcome,
        "kind_label": kind_label,
    }


def outcome_label(outcome):
    """A scan outcome in words (only the one asked for is translated, as kind_label's)."""
    label = OUTCOME_LABELS.get(outcome)
    return outcome if label is None else str(label)


OUTCOME_LABELS = {
    Outcome.CHECKED_IN: _l("checked in"), Outcome.ALREADY: _l("already checked in"), Outcome.UNKNOWN: _l("unknown code"),
    Outcome.REPLACED: _l("replaced badge"), Outcome.CANCELLED: _l("cancelled registration"), Outcome.FULL: _l("room full"),
    Outcome.CHECKED_OUT: _l("checked out"), Outcome.NOT_INSIDE: _l("was not inside"), Outcome.UNDONE: _l("undone"),
    Outcome.COUNTED: _l("counted without badge"), Outcome.CLEARED: _l("room emptied"),
}


# Lazy: a label is translated when it is shown, only the one asked for (the registration page shows one
# per session; translating all four each time was a quarter of its rendering).
KIND_LABELS = {"plenary": _l("plenary"), "session": _l("session"), "walk": _l("walk"), "break": _l("break")}


def kind_label(kind):
    """A session kind in words."""
    label = KIND_LABELS.get(kind)
    return kind if label is None else str(label)


def _from_json(text):
    """The object in a JSON text column, {} when it holds none."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _format_event_date(iso_date):
    """An ISO date written out in the request's language, e.g. 'Friday 12 June 2026'."""
    try:
        return format_date(date.fromisoformat(iso_date), format="full")
    except (TypeError, ValueError):
        return iso_date or ""


def _local_time_filter(iso_utc):
    """'09:12' in the event's time zone for a stored UTC timestamp."""
    return local_time(_event(), iso_utc)
