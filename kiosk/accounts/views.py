"""Logging in and out, and choosing the language."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from kiosk.accounts.access import User, allow, public
from kiosk.accounts.limits import limiter_hit
from kiosk.data import accounts as data
from kiosk.db import get_db
from kiosk.web.security import safe_next_url

bp = Blueprint("accounts", __name__)


@bp.get("/login")
@public
def login():
    """The login form; a signed-in user goes to the overview."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.overview"))
    return render_template("accounts/login.html", next=request.args.get("next", ""))


@bp.post("/login")
@public
def login_post():
    """Sign in, limited per client address; then on to NEXT or the user's start page."""
    email = request.form.get("email", "")
    if limiter_hit("login", request.remote_addr, limit=current_app.config["LOGIN_LIMIT"]):
        flash(_("Too many attempts. Wait a few minutes and try again."), "error")
        return render_template("accounts/login.html", next=request.form.get("next", ""), email=email), 429
    user = data.authenticate(get_db(), email, request.form.get("password", ""))
    if user is None:
        flash(_("E-mail or password is not right."), "error")
        return render_template("accounts/login.html", next=request.form.get("next", ""), email=email), 200
    if current_user.is_authenticated:  # logging in again in this browser replaces its login
        data.end_login(get_db(), current_user.login_token)
    language = session.get("language")  # chosen on the login page: it outlives the fresh session
    session.clear()
    if language:
        session["language"] = language
    login_user(User(user, data.start_login(get_db(), user["id"])))
    target = safe_next_url(request.form.get("next")) or url_for(
        "admin.overview" if user["role"] == "organiser" else "rooms.index"
    )
    return redirect(target, code=303)


@bp.post("/logout")
@allow("host", "organiser")
def logout():
    """End this login on the server and in the browser."""
    data.end_login(get_db(), current_user.login_token)
    logout_user()
    session.clear()
    return redirect(url_for("accounts.login"), code=303)


@bp.post("/language")
@public
def set_language():
    """Remember the chosen language for this browser."""
    language = request.form.get("language")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
    return redirect(safe_next_url(request.form.get("next")) or url_for("accounts.login"), code=303)

