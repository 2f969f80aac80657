"""Staff pages: invite, disable and reset organiser and host accounts; personal API tokens."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kiosk.accounts.access import actor_name, organiser_required, public, signed_in_user_id
from kiosk.data import events as events_data
from kiosk.data import staff as data
from kiosk.data import tokens
from kiosk.data.accounts import AccountError
from kiosk.db import get_db
from kiosk.stations.links import public_url
from kiosk.web.ids import id_field
from kiosk.web.rendering import render

bp = Blueprint("staff", __name__)


def password_url(secret):
    """The one-time link an invited (or reset) account opens to set its password."""
    return f"{public_url()}/account/{secret}"


@bp.get("/admin/staff")
@organiser_required
def index():
    """Every account with its role and last login, and the form to invite one."""
    db = get_db()
    return render("staff/index.html", users=data.list_staff(db), me=signed_in_user_id(), events=events_data.list_events(db))


@bp.post("/admin/staff")
@organiser_required
def invite():
    """Invite an organiser or host: a one-time link to set a password, shown once to pass on."""
    try:
        user, secret = data.invite(get_db(), request.form.get("email", ""), request.form.get("role", "host"),
                                   actor=actor_name())
    except AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("staff.index"), code=303)
    # The link is shown once, on this response, and never stored in the clear.
    return render_template("staff/link.html", user=user, link=password_url(secret), invited=True)


@bp.post("/admin/staff/<int:user_id>/reset")
@organiser_required
def reset(user_id):
    """A new one-time link for an account to set a new password."""
    db = get_db()
    secret = data.reset_link(db, user_id, actor=actor_name())
    if secret is None:
        flash(_("This account is disabled or gone."), "error")
        return redirect(url_for("staff.index"), code=303)
    return render_template("staff/link.html", user=data.get_staff(db, user_id), link=password_url(secret), invited=False)


@bp.post("/admin/staff/<int:user_id>/disable")
@organiser_required
def disable(user_id):
    """Disable an account: its logins end at once and it cannot log in again until enabled."""
    db = get_db()
    user = data.get_staff(db, user_id)
    if user is None:
        abort(404)
    if user_id == signed_in_user_id():
        flash(_("You cannot disable your own account."), "error")
    elif user["role"] == "organiser" and data.active_organisers(db) <= 1:
        flash(_("Kiosk needs at least one organiser who can log in."), "error")
    else:
        data.set_disabled(db, user_id, True, actor=actor_name())
        flash(_("%(email)s is disabled and logged out everywhere.", email=user["email"]), "success")
    return redirect(url_for("staff.index"), code=303)


@bp.post("/admin/staff/<int:user_id>/enable")
@organiser_required
def enable(user_id):
    """Enable a disabled account again."""
    db = get_db()
    if not data.set_disabled(db, user_id, False, actor=actor_name()):
        abort(404)
    flash(_("The account can log in again."), "success")
    return redirect(url_for("staff.index"), code=303)


@bp.get("/account/<secret>")
@public
def password(secret):
    """The page an invited or reset account opens to set its password; 404 once used or expired."""
    user = data.link_user(get_db(), secret)
    if user is None:
        abort(404)
    return render("staff/password.html", user=user, secret=secret, error=None)


@bp.post("/account/<secret>")
@public
def password_post(secret):
    """Set the password with the one-time link, then on to the login form."""
    db = get_db()
    form = request.form
    try:
        if form.get("password", "") != form.get("password2", ""):
            raise AccountError(_("The two passwords are not the same."))
        user = data.set_password_by_link(db, secret, form.get("password", ""))
    except AccountError as error:
        user = data.link_user(db, secret)
        if user is None:
            abort(404)
        return render("staff/password.html", user=user, secret=secret, error=error, status=400)
    if user is None:
        abort(404)
    flash(_("Your password is set. Log in with it."), "success")
    return redirect(url_for("accounts.login"), code=303)


@bp.get("/admin/tokens")
@organiser_required
def api_tokens():
    """Personal API tokens for integrations, and the form to make one."""
    return render("staff/tokens.html", tokens=tokens.list_tokens(get_db()))


@bp.post("/admin/tokens")
@organiser_required
def add_api_token():
    """Make an API token; it is shown once."""
    try:
        row, token = tokens.add_token(get_db(), request.form.get("name", ""), actor=actor_name())
    except AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("staff.api_tokens"), code=303)
    return render_template("staff/token_created.html", row=row, token=token)


@bp.post("/admin/tokens/<int:token_id>/revoke")
@organiser_required
def revoke_api_token(token_id):
    """Revoke an API token: it stops working at once."""
    if tokens.revoke_token(get_db(), token_id, actor=actor_name()):
        flash(_("The token is revoked."), "success")
    return redirect(url_for("staff.api_tokens"), code=303)


@bp.post("/admin/staff/<int:user_id>/event")
@organiser_required
def move(user_id):
    """Make a host work for another event."""
    event_id = id_field(request.form, "event_id")
    if event_id is None or not events_data.move_host(get_db(), user_id, event_id, actor=actor_name()):
        flash(_("This host cannot move to that event."), "error")
    else:
        flash(_("The host works for %(name)s now.", name=events_data.get(get_db(), event_id)["name"]), "success")
    return redirect(url_for("staff.index"), code=303)
