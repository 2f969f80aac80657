"""The organiser API: the event and its attendees, for integrations with a personal API token."""

import json

from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from kiosk.accounts.access import actor_name, allow
from kiosk.api import attendees as service
from kiosk.api.views import http_error_answer
from kiosk.data import api_attendees as data
from kiosk.data.event import event_summary
from kiosk.db import get_db
from kiosk.extensions import csrf
from kiosk.web.rendering import json_response

bp = Blueprint("organiser_api", __name__, url_prefix="/api/v1")
# Only a bearer token (the "api" role) opens these views, never a cookie, so there is nothing to forge.
csrf.exempt(bp)

MAX_BODY = 64 * 1024
MAX_LIMIT = 500
api_token_required = allow("api")


@bp.errorhandler(HTTPException)
def http_error(exc):
    """Every HTTP error of the organiser API as a JSON answer."""
    return json_response(exc.code, http_error_answer(exc))


def refused(exc):
    return json_response(exc.status, exc.answer())


@bp.get("/event")
@api_token_required
def event():
    """The event: name, dates, venue, time zone and language."""
    summary = event_summary(get_db())
    if summary is None:
        return json_response(404, {"error": "not_found", "message": "no event has been set up yet"})
    return json_response(200, summary)


@bp.get("/attendees")
@api_token_required
def attendees():
    """Attendees matching the filters, a page at a time, with how many match in all."""
    try:
        filters = _list_filters(request.args)
    except service.Refused as exc:
        return refused(exc)
    rows, total = data.list_attendees(get_db(), **filters)
    return json_response(200, {"attendees": rows, "total": total})


def _list_filters(args):
    """The list's filters from the query string ARGS; raises service.Refused naming a bad one."""
    filters = {"search": args.get("search", "")[:200], "organisation": args.get("organisation") or None}
    status = args.get("status") or None
    if status is not None and status not in service.STATUSES:
        raise service.invalid("status", "'status' must be 'registered' or 'cancelled'")
    filters["status"] = status
    arrived = args.get("arrived")
    if arrived not in (None, "", "true", "false"):
        raise service.invalid("arrived", "'arrived' must be 'true' or 'false'")
    filters["arrived"] = None if not arrived else arrived == "true"
    for name, default, low, high in (("limit", 100, 1, MAX_LIMIT), ("offset", 0, 0, 10**9)):
        text = args.get(name)
        try:
            value = default if text in (None, "") else int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise service.invalid(name, f"'{name}' must be a whole number from {low} to {high}")
        filters[name] = value
    return filters


def _body():
    """The request's JSON body, or None when it is not JSON."""
    request.max_content_length = MAX_BODY
    try:
        return json.loads(request.get_data(cache=True).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


@bp.post("/attendees")
@api_token_required
def create_attendee():
    """Add an attendee (a registration from a form, a CRM), with session choices and a badge."""
    try:
        return json_response(201, service.create(get_db(), _body(), actor=actor_name()))
    except service.Refused as exc:
        return refused(exc)


@bp.get("/attendees/<int:attendee_id>")
@api_token_required
def attendee(attendee_id):
    """One attendee."""
    found = data.get_attendee(get_db(), attendee_id)
    if found is None:
        return json_response(404, {"error": "not_found", "message": "no attendee with this id"})
    return json_response(200, found)


@bp.patch("/attendees/<int:attendee_id>")
@api_token_required
def update_attendee(attendee_id):
    """Change an attendee's fields, session choices or status (registered or cancelled)."""
    try:
        changed = service.update(get_db(), attendee_id, _body(), actor=actor_name())
    except service.Refused as exc:
        return refused(exc)
    if changed is None:
        return json_response(404, {"error": "not_found", "message": "no attendee with this id"})
    return json_response(200, changed)
