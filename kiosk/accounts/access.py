"""Who may reach which route: roles, the signed-in user, the station of a token or cookie."""

from urllib.parse import urlsplit

from flask import abort, current_app, g, has_request_context, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user
from htmx_flask import make_response, request

from kiosk.data import accounts as data
from kiosk.data import events as events_data
from kiosk.data import tokens
from kiosk.db import get_db, use_event
from kiosk.extensions import login_manager
from kiosk.web.rendering import json_response

STATION_COOKIE = "kiosk_station"
PUBLIC_ENDPOINTS = {"static"}

# "api": an organiser's personal API token (kiosk.data.tokens); it opens the organiser API and nothing else.
ROLES = ("public", "station", "host", "organiser", "api")


class User(UserMixin):
    """A signed-in user, known by the token of this login (see data.start_login)."""

    def __init__(self, row, login_token):
        self.id = row["id"]
        self.email = row["email"]
        self.role = row["role"]
        self.event_id = row.get("event_id")  # a host's event, an organiser's chosen one; None: the current
        self.login_token = login_token

    def get_id(self):
        # What Flask-Login keeps in the session cookie: the login's token, not the user's id,
        # so that ending the login on the server (logout) also ends every copy of the cookie.
        return self.login_token

    @property
    def is_organiser(self):
        return self.role == "organiser"


@login_manager.user_loader
def load_user(login_token):
    """The user of a session cookie's login token, or None once that login ended.

    The request then works for the user's event (a station's page stays its station's).
    """
    db = get_db()
    row = data.user_for_login(db, login_token)
    if row and row["event_id"] is not None and not g.get("station"):
        use_event(db, row["event_id"])
    return User(row, login_token) if row else None


def allow(*roles):
    """Mark a view as open to ROLES; views without a mark are for organisers only (see gate)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(view):
        view.allowed_roles = frozenset(roles)
        return view

    return decorate


organiser_required = allow("organiser")
host_required = allow("host", "organiser")
station_required = allow("station")
public = allow("public")


def signed_in_user():
    """The logged-in user of this request, or None.

    A request without cookies (a scanner app with its bearer token) cannot carry a login, so it
    skips Flask-Login's session checks: they were a tenth of the scan API's time. Outside a
    request (the scan API's fast path under `kiosk serve`, kiosk.serving.fastpath) nobody is
    signed in either.
    """
    if not has_request_context() or not request.cookies or not current_user.is_authenticated:
        return None
    return current_user


def signed_in_user_id():
    """The id of the signed-in user, or None."""
    user = signed_in_user()
    return int(user.id) if user else None


def current_roles():
    """The roles of whoever makes this request: an organiser is also a host."""
    roles = {"public"}
    user = signed_in_user()
    if user:
        roles.add("host")
        if user.role == "organiser":
            roles.add("organiser")
    if g.get("station"):
        roles.add("station")
    if g.get("api_token"):
        roles.add("api")
    return roles


def actor_name():
    """Who is acting, for the audit and print logs."""
    user = signed_in_user()
    if user:
        return user.email
    if g.get("station"):
        return f"station:{g.station['name']}"
    if g.get("api_token"):
        return f"token:{g.api_token['name']} ({g.api_token['created_by']})"
    return "anonymous"


def load_station():
    """Put the station of the request's cookie or bearer token on g.station, or an organiser's
    API token (sent only as a bearer token) on g.api_token."""
    g.station = g.api_token = None
    token = bearer_token(request.headers.get("Authorization", ""))
    if tokens.is_api_token(token):
        g.api_token = tokens.token_owner(get_db(), token)
        return
    if token is None:
        token = request.cookies.get(STATION_COOKIE)
    if token:
        db = get_db()
        g.station = data.station_for_token(db, token)
        if g.station:
            use_event(db, g.station["event_id"])  # a station works for its event, whoever holds it


def bearer_token(header):
    """The token of an 'Authorization: Bearer TOKEN' header, or None when HEADER is not one."""
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def gate():
    """Refuse any route the requester's roles do not open; unmarked views are for organisers."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    view = current_app.view_functions.get(request.endpoint)
    allowed = getattr(view, "allowed_roles", frozenset({"organiser"}))
    if allowed & current_roles():
        return None
    known = signed_in_user() or g.station or g.api_token
    if request.path.startswith("/api/"):
        return api_refusal(401 if not known else 403)
    if known:
        abort(403)
    if "station" in allowed and request.cookies.get(STATION_COOKIE) and request.htmx:
        return unpaired_answer()
    if request.htmx:
        # A live page polling after its login ended (logged out in another tab, `kiosk user
        # logout`): a redirect would be followed and the login form swapped into the room's
        # card. HX-Redirect sends the whole page to the login form, and back here after it.
        return make_response("", 401, redirect=url_for("accounts.login", next=_page_url()))
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


UNPAIRED_HEADER = "Kiosk-Unpaired"


def unpaired_answer():
    """The answer to a device whose station cookie no longer opens anything (revoked, or unknown).

    Its kiosk page shows the sentence as a scan's answer and marks itself unpaired (static/js/offline.js)
    instead of "something went wrong" and a green "Online".
    """
    result = {"outcome": "unpaired", "attendee": None,
              "message": _("This device is no longer paired — ask an organiser.")}
    response = make_response(render_template("checkin/_scan_result.html", result=result, station=None), 401)
    response.headers[UNPAIRED_HEADER] = "1"
    return response


def _page_url():
    """The page an HTMX request came from (path and query), when it is on this site."""
    page = urlsplit(request.htmx.current_url or "")
    if page.netloc == request.host and page.path.startswith("/"):
        return page.path + (f"?{page.query}" if page.query else "")
    return request.path


# Scanner apps and scripts rely on this exact answer, for a 401 and a 403 alike: kept as it was.
API_REFUSAL = {"error": "unauthorized", "message": "a valid station token or an organiser session is needed"}


# The API's answer to a write to an archived event (the scan fast path's too).
API_ARCHIVED = {"error": "archived", "message": "this event is archived: it is read-only"}


def api_refusal(status):
    """The API's answer to a request without the right credentials."""
    return json_response(status, API_REFUSAL)


def home_url():
    """Where "back to the start" leads whoever asks: the overview, the rooms, the kiosk or the login."""
    roles = current_roles()
    if "organiser" in roles:
        return url_for("admin.overview")
    if "host" in roles:
        return url_for("rooms.index")
    if "station" in roles:
        return url_for("checkin.kiosk")
    return url_for("accounts.login")


# Writes an archived event still takes: logging in and out, the language, and the events page's own
# (working on another event, a new one, reopening it).
READ_ONLY_EXEMPT = {"accounts.login_post", "accounts.logout", "accounts.set_language", "event.work", "event.add",
                    "event.archive", "stations.pair_post"}


def read_only_gate():
    """Refuse every write to an archived event, with a clear message: its report and exports stay readable."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint in READ_ONLY_EXEMPT or request.endpoint is None:
        return None
    station = g.get("station")
    archived = station["event_archived_at"] if station else events_data.archived(get_db())
    if not archived:
        return None
    if request.path.startswith("/api/"):
        return json_response(409, API_ARCHIVED)
    abort(409, description=_("This event is archived: it is read-only."))


def init_app(app):
    """Load the station and apply the role gate (and an archived event's read-only one) before every request."""
    app.before_request(load_station)
    app.before_request(gate)
    app.before_request(read_only_gate)
    app.context_processor(lambda: {"home_url": home_url})
