"""Organiser imports: upload attendees or the program, preview every change or problem, then confirm."""

import csv
import io
import os
import re
import secrets
import time
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from kiosk.accounts.access import organiser_required
from kiosk.data.rooms import list_blocks
from kiosk.db import get_db
from kiosk.imports import importer, worker

bp = Blueprint("imports", __name__, url_prefix="/admin/import")

KINDS = ("attendees", "program")
EXTENSIONS = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
MAP_FIELD_RE = re.compile(r"map-([0-9]{1,4})")  # the preview's select of what column N is for
MAX_COLUMNS = 1000
# Each preview keeps its upload (up to MAX_CONTENT_LENGTH) until it is confirmed. An upload
# nobody confirmed is removed after a day, and at most KEEP_PREVIEWS uploads of KEEP_BYTES
# together are kept: a new preview removes the oldest ones first.
KEEP_SECONDS = 24 * 3600
KEEP_PREVIEWS = 10
KEEP_BYTES = 100 * 1024 * 1024


def _run(kind, path, filename, dry_run, options=None):
    """Import the file at PATH, in a child process with a memory cap (kiosk.imports.worker) unless set otherwise."""
    job = {"kind": kind, "path": str(path), "filename": filename, "dry_run": dry_run, "options": options or {}}
    if current_app.config["IMPORT_IN_CHILD"]:
        return worker.run(current_app, job, str(get_locale() or "nl"))
    return worker.work(job)


def _upload_dir():
    path = Path(current_app.config["IMPORT_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stored(token, kind):
    """The uploaded file kept between preview and commit, or None."""
    if not TOKEN_RE.match(token or "") or kind not in KINDS:
        return None
    for path in _upload_dir().glob(f"{token}-{kind}.*"):
        return path
    return None


def _make_room(size):
    """Remove uploads older than KEEP_SECONDS, then the oldest until one of SIZE bytes fits the bounds."""
    kept = []
    for path in _upload_dir().iterdir():
        try:
            kept.append((path.stat().st_mtime, path.stat().st_size, path))
        except OSError:
            pass
    kept.sort()
    cutoff = time.time() - KEEP_SECONDS
    total = sum(size for _mtime, size, _path in kept)
    while kept and (kept[0][0] < cutoff or len(kept) >= KEEP_PREVIEWS or total + size > KEEP_BYTES):
        _mtime, oldest_size, oldest = kept.pop(0)
        oldest.unlink(missing_ok=True)
        total -= oldest_size


@bp.get("")
@organiser_required
def upload():
    """The upload form: attendees or program, one CSV or XLSX file."""
    kind = request.args.get("kind", "attendees")
    return render_template("imports/upload.html", kind=kind if kind in KINDS else "attendees")


@bp.post("/preview")
@organiser_required
def preview():
    """Check the uploaded file without writing; show what would change and each column's use, or every problem.

    Posted again with the kept upload's token ("kept"), a sheet and the columns' uses (map-<column>),
    it checks the kept file with those choices.
    """
    kind = request.form.get("kind")
    if kind not in KINDS:
        abort(400)
    upload = request.files.get("file")
    token = request.form.get("kept")  # the upload kept from the preview before (the commit form's is "token")
    path = _stored(token, kind) if token and (upload is None or not upload.filename) else None
    if path is not None:
        filename = request.form.get("filename", "")
    elif upload is None or not upload.filename:
        flash(_("Choose a file to import."), "error")
        return redirect(url_for("imports.upload", kind=kind), code=303)
    else:
        filename = os.path.basename(upload.filename)
        _make_room(request.content_length or 0)
        token = secrets.token_hex(16)
        extension = os.path.splitext(filename)[1].lower()
        path = _upload_dir() / f"{token}-{kind}{extension if extension in EXTENSIONS else '.csv'}"
        upload.save(path)
    options = _options(request.form) if kind == "attendees" else {}
    try:
        report = _run(kind, path, filename, dry_run=True, options=options)
    except importer.ImportRejected as rejected:
        if rejected.preview is None:
            path.unlink(missing_ok=True)
        return render_template("imports/preview.html", kind=kind, filename=filename, problems=rejected.problems,
                               report=rejected.preview, token=token if rejected.preview else None,
                               options=options)
    return render_template(
        "imports/preview.html", kind=kind, filename=filename, report=report, token=token, options=options,
        summary=importer.summary_line(report),
    )


def _options(form):
    """The organiser's choices in FORM: {'sheet': name, 'mapping': {column: target}}, each only when made."""
    options = {}
    sheet = form.get("sheet", "").strip()
    if sheet:
        options["sheet"] = sheet[:200]
    mapping = {}
    for key, value in form.items():
        match = MAP_FIELD_RE.fullmatch(key)
        if match and len(mapping) < MAX_COLUMNS:
            mapping[int(match.group(1))] = value[:40]
    if mapping:
        options["mapping"] = mapping
    return options


@bp.post("/commit")
@organiser_required
def commit():
    """Import the previewed file for real, all or nothing, with the choices previewed, and log it."""
    kind = request.form.get("kind")
    path = _stored(request.form.get("token"), kind)
    filename = request.form.get("filename", "")
    if path is None:
        flash(_("That upload has expired or was already imported. Upload the file again."), "error")
        return redirect(url_for("imports.upload", kind=kind if kind in KINDS else "attendees"), code=303)
    options = _options(request.form) if kind == "attendees" else {}
    try:
        report = _run(kind, path, path.name, dry_run=False, options=options)
    except importer.ImportRejected as rejected:
        # The database changed since the preview (another import, a new block): show why.
        return render_template("imports/preview.html", kind=kind, filename=filename, problems=rejected.problems)
    finally:
        path.unlink(missing_ok=True)
    summary = importer.summary_line(report)
    importer.record_audit(get_db(), current_user.email, f"import {kind}", f"{filename}: {summary}")
    flash(_flash_message(kind, report), "ok")
    return redirect(url_for("admin.attendees" if kind == "attendees" else "admin.program"), code=303)


def _flash_message(kind, report):
    if kind == "attendees":
        return _(
            "Attendees imported: %(added)s new, %(updated)s updated, %(unchanged)s unchanged, %(cancelled)s cancelled.",
            added=report["added"], updated=report["updated"], unchanged=report["unchanged"],
            cancelled=report["cancelled"],
        )
    return _(
        "Program imported: %(sessions)s new sessions, %(updated)s updated; %(rooms)s new rooms, %(blocks)s new time blocks.",
        sessions=report["sessions"]["added"], updated=report["sessions"]["updated"],
        rooms=report["rooms"]["added"], blocks=report["blocks"]["added"],
    )


@bp.get("/example-<kind>.csv")
@organiser_required
def example(kind):
    """A CSV with the columns the importer knows (and the event's blocks), to fill in."""
    db = get_db()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    if kind == "program":
        writer.writerow(["Blok", "Begin", "Einde", "Sessie", "Soort", "Zaal", "Capaciteit", "Plaatsen",
                         "Verzamelpunt", "Omschrijving"])
        writer.writerow(["Ochtend", "09:30", "10:45", "Opening", "plenair", "Raadzaal", "200", "", "", ""])
        writer.writerow(["Lunch", "12:15", "13:30", "Stadswandeling", "wandeling", "", "", "25", "Hal", ""])
    elif kind == "attendees":
        blocks = [block["name"] for block in list_blocks(db)]
        writer.writerow(["Registratienummer", "Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres",
                         "Organisatie", "Functie", "Status", *blocks])
        writer.writerow(["1001", "Jan", "van der", "Berg", "jan.vanderberg@example.org", "Gemeente Zaanstad",
                         "lid themagroep", "aangemeld", *[""] * len(blocks)])
    else:
        abort(404)
    # Excel opens UTF-8 CSV correctly only with a BOM.
    body = io.BytesIO(out.getvalue().encode("utf-8-sig"))
    return send_file(body, mimetype="text/csv", as_attachment=True, download_name=f"{kind}.csv")
