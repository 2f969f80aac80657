"""Badges: print views and PDFs on sheet and label layouts, the print log, reprints and reissues."""

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from kiosk.accounts.access import actor_name, organiser_required
from kiosk.badges import qr
from kiosk.badges.items import badge_items
from kiosk.badges.layouts import DESK_LAYOUT, LAYOUTS, sheets
from kiosk.badges.pdf import render_pdf
from kiosk.badges.service import badge_logo, event_name
from kiosk.data import attendees, printing
from kiosk.db import get_db
from kiosk.web.ids import id_fields, id_list
from kiosk.web.rendering import render, render_fragment, wants_fragment

bp = Blueprint("badges", __name__, url_prefix="/badges")

LAYOUT_LABELS = {
    "a6": _l("A6 lanyard badge — 4 per A4 sheet, cut along the crop marks"),
    "card-80x50": _l("80 × 50 mm name badge — 10 per A4 sheet"),
    "label-62": _l("62 × 100 mm label — Brother QL roll, one per label"),
}
PAPER = {"a6": _l("A4 paper"), "card-80x50": _l("A4 badge sheets (2 × 5, 80 × 50 mm)"), "label-62": _l("62 mm continuous roll")}


def _selection(values):
    """The badge choice in a query or form: layout, organisation, not printed, chosen attendees."""
    layout = values.get("layout") or "a6"
    if layout not in LAYOUTS:
        abort(400, _("Unknown layout."))
    organisation = values.get("organisation")
    ids = id_fields(values, "attendee")
    return {
        "layout": layout,
        "organisation": organisation if organisation else None,
        "not_printed": values.get("not_printed") in ("1", "on", "true"),
        "attendee_ids": ids,
    }


def _query(selection):
    """SELECTION as URL query arguments (the inverse of _selection)."""
    args = {"layout": selection["layout"]}
    if selection["organisation"]:
        args["organisation"] = selection["organisation"]
    if selection["not_printed"]:
        args["not_printed"] = "1"
    if selection["attendee_ids"]:
        args["attendee"] = selection["attendee_ids"]
    return args


def _select(db, selection):
    """The current badges a selection (from _selection) chooses."""
    return printing.select_badges(
        db,
        organisation=selection["organisation"],
        not_printed=selection["not_printed"],
        attendee_ids=selection["attendee_ids"] or None,
    )


def _confirmed():
    """True when the organiser already confirmed printing badges that were printed before."""
    return request.values.get("confirm_reprint") == "1"


bp.add_app_template_global(qr.inline_svg, "badge_qr_svg")


@bp.get("/")
@organiser_required
def index():
    """Choose a layout and which badges; open the print view or download the PDF."""
    db = get_db()
    selection = _selection(request.args)
    chosen = _select(db, selection)
    missing = printing.missing_badges(db, organisation=selection["organisation"], attendee_ids=selection["attendee_ids"] or None)
    return render(
        "badges/index.html",
        "badges/_selection.html",
        selection=selection,
        query=_query(selection),
        layouts=LAYOUTS,
        labels=LAYOUT_LABELS,
        organisations=printing.organisations(db),
        counts=printing.counts(db),
        chosen=chosen,
        reprints=printing.reprints(chosen),
        missing=missing,
    )


@bp.get("/print")
@organiser_required
def print_view():
    """The badges as sheets to print from the browser; asks first when some were printed before."""
    db = get_db()
    selection = _selection(request.args)
    chosen = _select(db, selection)
    reprints = printing.reprints(chosen)
    if reprints and not _confirmed():
        return _confirm_reprint(selection, chosen, reprints, "print")
    return print_page(db, chosen, selection["layout"], query=_query(selection), logged=False)


def _confirm_reprint(selection, chosen, reprints, action):
    """The page that lists badges printed before and asks whether to print them again."""
    return render_template(
        "badges/confirm_reprint.html",
        selection=selection,
        query=_query(selection),
        reprints=reprints,
        chosen=chosen,
        action=action,
        labels=LAYOUT_LABELS,
    )


def print_page(db, chosen, layout_name, *, query, logged):
    """The print view response for the badges CHOSEN (from select_badges); LOGGED says the print is already in the log."""
    layout = LAYOUTS[layout_name]
    name = event_name(db)
    logo = badge_logo(db)
    pages = [
        [(x, y, badge_items(layout, badge, name, logo)) for x, y, badge in page]
        for page in sheets(chosen, layout)
    ]
    response = make_response(
        render_template(
            "badges/print.html",
            layout=layout,
            label=LAYOUT_LABELS[layout_name],
            paper=PAPER[layout_name],
            pages=pages,
            chosen=chosen,
            crop_marks=layout.crop_mark_lines(),
            query=query,
            logged=logged,
            logo_version=logo and logo["updated_at"],
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/mark-printed")
@organiser_required
def mark_printed():
    """Log the badges of a print view as printed ('I printed these')."""
    db = get_db()
    layout = request.form.get("layout", "")
    if layout not in LAYOUTS:
        abort(400)
    # The badges that were on the page, one comma-separated field (a thousand fields would
    # hit form limits); a code reissued since then is no longer current and is left out.
    ids = id_list(request.form, "badges")
    chosen = printing.select_badges(db, badge_ids=ids) if ids else []
    if not chosen:
        flash(_("No badges to mark."), "error")
        return redirect(url_for("badges.index"), 303)
    reprints = printing.reprints(chosen)
    if reprints and not _confirmed():
        return render_template(
            "badges/confirm_reprint.html",
            selection={"layout": layout},
            reprints=reprints,
            chosen=chosen,
            action="mark",
            labels=LAYOUT_LABELS,
        )
    printing.record_prints(db, [b["badge_id"] for b in chosen], layout=layout, printed_by=actor_name())
    flash(ngettext("%(num)d badge marked as printed.", "%(num)d badges marked as printed.", len(chosen)), "success")
    return redirect(url_for("badges.index", layout=layout), 303)


@bp.post("/issue-missing")
@organiser_required
def issue_missing():
    """Give attendees in the selection who have no badge yet their first one."""
    db = get_db()
    selection = _selection(request.form)
    missing = printing.missing_badges(db, organisation=selection["organisation"], attendee_ids=selection["attendee_ids"] or None)
    issued = printing.issue_missing(db, missing, actor=actor_name())
    flash(ngettext("%(num)d badge issued.", "%(num)d badges issued.", issued), "success")
    return redirect(url_for("badges.index", **_query(selection)), 303)


@bp.post("/pdf")
@organiser_required
def pdf():
    """The selected badges as a PDF download; marks them printed and logs it."""
    db = get_db()
    selection = _selection(request.form)
    chosen = _select(db, selection)
    if not chosen:
        flash(_("No badges match this choice."), "error")
        return redirect(url_for("badges.index", **_query(selection)), 303)
    reprints = printing.reprints(chosen)
    if reprints and not _confirmed():
        return _confirm_reprint(selection, chosen, reprints, "pdf")
    data = render_pdf(chosen, selection["layout"], event_name=event_name(db), logo=badge_logo(db))
    printing.record_prints(db, [b["badge_id"] for b in chosen], layout=selection["layout"], printed_by=actor_name())
    return _pdf_response(data, f"badges-{selection['layout']}.pdf", attachment=True)


def _pdf_response(data, filename, *, attachment):
    """A PDF response: a download (ATTACHMENT) or shown in the browser's viewer to print."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/attendee/<int:attendee_id>/reprint")
@organiser_required
def reprint(attendee_id):
    """The desk: print one attendee's badge on a 62 mm label: the print view (marked printed by hand,
    as the bulk print view) or, with format=pdf, a PDF (logged at once, as every PDF download)."""
    db = get_db()
    if attendees.summary(db, attendee_id) is None:
        abort(404)
    printing.issue_missing(db, [attendee_id], actor=actor_name())
    chosen = printing.select_badges(db, attendee_ids=[attendee_id])
    reprints = printing.reprints(chosen)
    if reprints and not _confirmed():
        return render_template(
            "badges/confirm_reprint.html",
            selection={"layout": DESK_LAYOUT, "attendee_ids": [attendee_id]},
            reprints=reprints,
            chosen=chosen,
            action="reprint",
            output=request.form.get("format", "html"),
            attendee_id=attendee_id,
            labels=LAYOUT_LABELS,
        )
    if request.form.get("format") == "pdf":
        printing.record_prints(db, [b["badge_id"] for b in chosen], layout=DESK_LAYOUT, printed_by=actor_name())
        data = render_pdf(chosen, DESK_LAYOUT, event_name=event_name(db), logo=badge_logo(db))
        return _pdf_response(data, f"badge-{chosen[0]['short_code']}.pdf", attachment=False)
    return print_page(db, chosen, DESK_LAYOUT, query={"layout": DESK_LAYOUT, "attendee": [attendee_id]}, logged=False)


@bp.post("/attendee/<int:attendee_id>/reissue")
@organiser_required
def reissue(attendee_id):
    """Replace a lost or misprinted badge with a new code; the old code then answers 'replaced'."""
    db = get_db()
    person = attendees.summary(db, attendee_id)
    if person is None:
        abort(404)
    badge = printing.reissue(db, attendee_id, actor=actor_name())
    if wants_fragment():
        return render_fragment(
            "badges/_badge_status.html",
            attendee=person,
            badge_status=printing.badge_status(db, attendee_id),
            reissued=True,
        )
    flash(_("New badge issued: %(code)s. The old code now answers “replaced by a newer badge”.", code=badge["short_code"]), "success")
    return redirect(url_for("admin.attendee", attendee_id=attendee_id), 303)
