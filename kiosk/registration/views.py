"""Registration pages: the public sign-up form, its live places, the personal page, and the waiting lists."""

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from kiosk.accounts.access import actor_name, organiser_required, public
from kiosk.accounts.limits import client_key
from kiosk.badges.qr import inline_svg
from kiosk.data import attendees as attendees_data
from kiosk.data import people as people_data
from kiosk.data import registration as data
from kiosk.data.badges import current_badge
from kiosk.db import get_db
from kiosk.people.service import change_choices, chosen_in
from kiosk.registration import service, waiting
from kiosk.web.ids import parse_id
from kiosk.web.rendering import render, wants_fragment

bp = Blueprint("registration", __name__)
HONEYPOT = "website"  # hidden from people; a form that fills it in is a robot's


def _language():
    return str(get_locale() or "nl")


def _page(*, form=None, problems=(), answer=None, status=200):
    db = get_db()
    return render("registration/register.html", offer=service.offer(db), form=form or {}, problems=list(problems),
                  answer=answer, chosen=chosen_in(form or {}), organisations=data.organisation_names(db), status=status)


@bp.get("/register")
@public
def register():
    """The public registration page: the event, its program, the form with the places left."""
    return _page()


@bp.post("/register")
@public
def register_post():
    """A sign-up: registered (303 to the thank-you page), the waiting list offered, or the form's problems."""
    form = request.form
    if form.get(HONEYPOT):
        return redirect(url_for("registration.done"), 303)  # told nothing, given nothing
    # The rate limit is counted in the registration's own transaction: one write lock per post.
    answer = service.register(form, language=_language(), client=client_key(), limit=current_app.config["REGISTER_LIMIT"])
    if answer.status == "limited":
        return _page(form=form, problems=[_("Too many registrations from this address. Try again later.")], status=429)
    if answer.status in ("registered", "waiting"):
        return redirect(url_for("registration.done", waiting="1" if answer.status == "waiting" else None), 303)
    status = 400 if answer.status == "problems" else 200
    return _page(form=form, problems=answer.problems, answer=answer, status=status)


@bp.get("/register/places")
@public
def places():
    """The places left per session and whether registration is open, for the page's poll (out-of-band swaps).

    Opened as a page (no htmx), it is the registration page itself: one page, one address.
    """
    if not wants_fragment():
        return redirect(url_for("registration.register"), code=303)
    return render("registration/register.html", "registration/_places.html", offer=service.offer(get_db()),
                  form={}, problems=[], answer=None, chosen={}, organisations=[])


@bp.get("/register/done")
@public
def done():
    """After a sign-up: the ticket is on its way by e-mail."""
    return render("registration/done.html", waiting=request.args.get("waiting") == "1")


@bp.get("/register/privacy")
@public
def privacy():
    """The privacy statement the organisers wrote."""
    return render("registration/privacy.html", settings=data.settings(get_db()) or {})


def _owner_or_404(token):
    person = service.owner(token)
    if person is None:
        abort(404)
    return person


@bp.get("/register/me/<token>")
@public
def me(token):
    """The personal page of a registration: program, QR, changing sessions, cancelling. The link is the key."""
    person = _owner_or_404(token)
    db = get_db()
    badge = current_badge(db, person["id"]) if person["status"] == "registered" else None
    return render("registration/me.html", person=person, token=token, badge=badge,
                  qr=inline_svg(badge["code"]) if badge else None,
                  program=attendees_data.personal_program(db, person["id"]), offer=service.offer(db),
                  chosen=people_data.choices_of(db, person["id"]), waiting=data.waiting_of(db, person["id"]))


@bp.post("/register/me/<token>/sessions")
@public
def me_sessions(token):
    """The registrant changes their sessions, within the places left."""
    person = _owner_or_404(token)
    if person["status"] != "registered":
        abort(404)
    checked = change_choices(person["id"], request.form, actor=f"registrant {person['id']}")
    for problem in checked.problems:
        flash(problem, "error")
    if not checked.problems:
        flash(_("Your sessions are changed."), "success")
    return redirect(url_for("registration.me", token=token), 303)


@bp.post("/register/me/<token>/cancel")
@public
def me_cancel(token):
    """The registrant cancels; their places go to the waiting lists at once."""
    person = _owner_or_404(token)
    if person["status"] == "registered" and request.form.get("confirm") == "yes":
        service.cancel(person["id"])
        flash(_("Your registration is cancelled."), "success")
    elif person["status"] == "registered":
        flash(_("Tick the box to confirm that you cancel."), "error")
    return redirect(url_for("registration.me", token=token), 303)


@bp.post("/register/me/<token>/waiting")
@public
def me_leave_waiting(token):
    """The registrant leaves one of their waiting lists (the form's `entry`)."""
    person = _owner_or_404(token)
    _left(waiting.leave(parse_id(request.form.get("entry")), get_db(), attendee_id=person["id"],
                        actor=f"registrant {person['id']}"))
    return redirect(url_for("registration.me", token=token), 303)


@bp.get("/register/waiting/<token>")
@public
def my_waiting(token):
    """The page a waiting list e-mail links to, for someone without a registration: their lists, to leave."""
    link = _waiting_link_or_404(token)
    return render("registration/my_waiting.html", token=token, entries=data.entries_of_link(get_db(), link["id"]))


@bp.post("/register/waiting/<token>/leave")
@public
def my_waiting_leave(token):
    """Someone without a registration leaves one of their waiting lists (the form's `entry`)."""
    link = _waiting_link_or_404(token)
    _left(waiting.leave(parse_id(request.form.get("entry")), get_db(), link_id=link["id"],
                        actor=f"waiting list link {link['id']}"))
    return redirect(url_for("registration.my_waiting", token=token), 303)


def _waiting_link_or_404(token):
    link = service.waiting_owner(token)
    if link is None:
        abort(404)
    return link


def _left(done):
    if done:
        flash(_("You are off the waiting list."), "success")
    else:
        flash(_("You are not on that waiting list (any more)."), "warning")


@bp.get("/admin/waiting")
@organiser_required
def waiting_lists():
    """Every session's waiting list, in order, with the places left."""
    db = get_db()
    sessions = {}
    for entry in data.waiting_lists(db):
        sessions.setdefault(entry["session_id"], {"id": entry["session_id"], "title": entry["title"],
                                                  "block_name": entry["block_name"], "entries": []})["entries"].append(entry)
    for session in sessions.values():
        session["left"] = waiting.places_left(db, session["id"])
    return render("registration/waiting.html", sessions=list(sessions.values()))


@bp.post("/admin/waiting/<int:entry_id>/move")
@organiser_required
def waiting_move(entry_id):
    """Move someone up or down a waiting list."""
    direction = "up" if request.form.get("direction") == "up" else "down"
    waiting.move(entry_id, direction, get_db(), actor=actor_name())
    return redirect(url_for("registration.waiting_lists"), 303)


@bp.post("/admin/waiting/<int:entry_id>/promote")
@organiser_required
def waiting_promote(entry_id):
    """Give someone on a waiting list their place by hand (also when the session is full)."""
    if waiting.promote_by_hand(entry_id, get_db(), actor=actor_name()):
        flash(_("The place is given; the e-mail is in the outbox."), "success")
    return redirect(url_for("registration.waiting_lists"), 303)


@bp.post("/admin/waiting/<int:entry_id>/remove")
@organiser_required
def waiting_remove(entry_id):
    """Take someone off a waiting list."""
    if waiting.remove(entry_id, get_db(), actor=actor_name()):
        flash(_("Taken off the waiting list."), "success")
    return redirect(url_for("registration.waiting_lists"), 303)


@bp.post("/admin/event/registration")
@organiser_required
def save_settings():
    """Open or close registration, its closing time, the consent and privacy texts."""
    problems = service.save_settings(request.form, actor=actor_name())
    for problem in problems:
        flash(problem, "error")
    if not problems:
        flash(_("The registration settings are saved."), "success")
    return redirect(url_for("event.settings") + "#registration", 303)
