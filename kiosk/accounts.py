"""Logging in and out, and who may open which page."""

from flask import Blueprint, current_app, flash, g, has_request_context, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user

from kiosk.data import accounts as data
from kiosk.db import get_db
from kiosk.extensions import login_manager
from kiosk.security import limiter_hit, safe_next_url

bp = Blueprint("accounts", __name__)

ROLES = ("public", "station", "host", "organiser")


class User(UserMixin):
    """A signed-in user, known by the token of this login (see data.start_login)."""

    def __init__(self, row, login_token):
        self.id = row["id"]
        self.email = row["email"]
        self.role = row["role"]
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
    row = data.user_for_login(get_db(), login_token)
    return User(row, login_token) if row else None


def allow(*roles):
    """Mark a view as open to ROLES; views without a mark are for organisers only (see security.gate)."""
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
    request (the scan API's fast path, api.ScanFastPath) nobody is signed in either.
    """
    if not has_request_context() or not request.cookies or not current_user.is_authenticated:
        return None
    return current_user


def signed_in_user_id():
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
    return roles


def actor_name():
    """Who is acting, for the audit and print logs."""
    user = signed_in_user()
    if user:
        return user.email
    if g.get("station"):
        return f"station:{g.station['name']}"
    return "anonymous"


@bp.get("/login")
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.overview"))
    return render_template("accounts/login.html", next=request.args.get("next", ""))


@bp.post("/login")
@public
def login_post():
    email = request.form.get("email", "")
    if limiter_hit("login", request.remote_addr, limit=current_app.config.get("LOGIN_LIMIT", (10, 300))):
        flash(_("Too many attempts. Wait a few minutes and try again."), "error")
        return render_template("accounts/login.html", next=request.form.get("next", ""), email=email), 429
    user = data.authenticate(get_db(), email, request.form.get("password", ""))
    if user is None:
        flash(_("E-mail or password is not right."), "error")
        return render_template("accounts/login.html", next=request.form.get("next", ""), email=email), 200
    if current_user.is_authenticated:  # logging in again in this browser replaces its login
        data.end_login(get_db(), current_user.login_token)
    session.clear()
    login_user(User(user, data.start_login(get_db(), user["id"])))
    target = safe_next_url(request.form.get("next")) or url_for(
        "admin.overview" if user["role"] == "organiser" else "rooms.index"
    )
    return redirect(target, code=303)


@bp.post("/logout")
@allow("host", "organiser")
def logout():
    data.end_login(get_db(), current_user.login_token)
    logout_user()
    session.clear()
    return redirect(url_for("accounts.login"), code=303)


@bp.post("/language")
@public
def set_language():
    language = request.form.get("language")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
    return redirect(safe_next_url(request.form.get("next")) or url_for("accounts.login"), code=303)

