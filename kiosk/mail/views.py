"""The organiser's mail pages: the outbox (sent, waiting, failed, resend) and sending tickets."""

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from kiosk.accounts.access import actor_name, organiser_required
from kiosk.admin.views import list_filters
from kiosk.data import outbox as data
from kiosk.data import people as people_data
from kiosk.db import get_db
from kiosk.mail import outbox
from kiosk.web.ids import id_fields, parse_id
from kiosk.web.rendering import render

bp = Blueprint("mail", __name__)
PER_PAGE = 100


@bp.get("/admin/outbox")
@organiser_required
def index():
    """The outbox: every message with its state and the server's answer; whether a mail server is set."""
    db = get_db()
    status = request.args.get("status") if request.args.get("status") in data.STATUSES else None
    page = min(parse_id(request.args.get("page")) or 1, 100_000)
    rows = data.listing(db, status, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    return render("mail/outbox.html", rows=rows[:PER_PAGE], has_more=len(rows) > PER_PAGE, page=page, status=status,
                  counts=data.counts(db), configured=outbox.configured(), unsent=len(data.without_ticket(db)),
                  smtp_host=current_app.config.get("SMTP_HOST"))


@bp.post("/admin/outbox/<int:message_id>/resend")
@organiser_required
def resend(message_id):
    """Send a message again (the same message: a failed, uncertain or sent one)."""
    if outbox.resend(get_db(), message_id, actor=actor_name()):
        flash(_("The message waits to be sent again."), "success")
    else:
        flash(_("This message is already waiting to be sent."), "warning")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("mail.index"), 303)


def _same_site(url):
    return bool(url) and url.startswith(request.host_url)


@bp.post("/admin/outbox/unsent")
@organiser_required
def send_unsent():
    """A ticket for everyone registered with an e-mail address who never had one."""
    count = outbox.queue_unsent(get_db(), actor=actor_name())
    flash(ngettext("%(num)d ticket waits to be sent.", "%(num)d tickets wait to be sent.", count), "success")
    return redirect(url_for("mail.index"), 303)


@bp.get("/admin/tickets")
@organiser_required
def tickets():
    """Confirm sending tickets to the attendees selected in the list (or matching its filters)."""
    db = get_db()
    selected = id_fields(request.args, "attendee")
    if not selected and request.args.get("all") == "1":
        filters, _sort = list_filters(request.args)
        selected = [row["id"] for row in people_data.list_attendees(db, filters, limit=100_000)]
    wanted = data.with_email(db, selected)
    return render("mail/tickets.html", selected=len(selected), wanted=wanted,
                  unsent=len(data.without_ticket(db, wanted)))


@bp.post("/admin/tickets")
@organiser_required
def send_tickets():
    """Queue a ticket for each attendee of the confirmed selection (again for those who had one)."""
    ids = id_fields(request.form, "attendee")
    if request.form.get("only_unsent") == "1":
        ids = data.without_ticket(get_db(), ids)
    count = outbox.queue_tickets(get_db(), ids, actor=actor_name())
    flash(ngettext("%(num)d ticket waits to be sent.", "%(num)d tickets wait to be sent.", count), "success")
    return redirect(url_for("mail.index"), 303)


@bp.post("/admin/attendees/<int:attendee_id>/ticket")
@organiser_required
def send_ticket(attendee_id):
    """(Re)send one attendee their ticket, with a new personal link."""
    count = outbox.queue_tickets(get_db(), [attendee_id], actor=actor_name())
    if count:
        flash(_("The ticket waits to be sent."), "success")
    else:
        flash(_("No ticket: this attendee has no e-mail address or is cancelled."), "error")
    return redirect(url_for("admin.attendee", attendee_id=attendee_id), 303)
