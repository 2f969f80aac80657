"""Page-or-fragment rendering: one decision, made in one place."""

import json
from datetime import date

from flask import g, jsonify, make_response, render_template
from flask_babel import format_date, get_locale
from htmx_flask import request

from kiosk.data.event import get_event, local_time, logo_version
from kiosk.db import get_db
from kiosk.outcomes import Outcome
from kiosk.web.catalogue import request_translations


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


def N_(message):
    """Marks MESSAGE for the catalogues (pybabel extracts N_); translated where it is shown."""
    return message


def outcome_label(outcome):
    """A scan outcome in words, in the request's language."""
    label = OUTCOME_LABELS.get(outcome)
    return outcome if label is None else request_translations().ugettext(label)


OUTCOME_LABELS = {
    Outcome.CHECKED_IN: N_("checked in"), Outcome.ALREADY: N_("already checked in"), Outcome.UNKNOWN: N_("unknown code"),
    Outcome.REPLACED: N_("replaced badge"), Outcome.CANCELLED: N_("cancelled registration"), Outcome.FULL: N_("room full"),
    Outcome.CHECKED_OUT: N_("checked out"), Outcome.NOT_INSIDE: N_("was not inside"), Outcome.UNDONE: N_("undone"),
    Outcome.COUNTED: N_("counted without badge"), Outcome.CLEARED: N_("room emptied"),
}
# Only the label asked for is translated (the registration page shows one per session; translating
# all four each time was a quarter of its rendering).
KIND_LABELS = {"plenary": N_("plenary"), "session": N_("session"), "walk": N_("walk"), "break": N_("break")}


def kind_label(kind):
    """A session kind in words, in the request's language."""
    label = KIND_LABELS.get(kind)
    return kind if label is None else request_translations().ugettext(label)


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
