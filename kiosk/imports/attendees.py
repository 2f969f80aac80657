"""Attendees from a file: each row checked, matched to the person it updates, and written in one go.

A row matches an attendee on registration id, else on e-mail (case-insensitive) and name, else on
e-mail alone when that e-mail is one person's, else (only for rows that have neither) on name and
organisation. An attendee with another registration id than the row's is another registration,
never matched by e-mail. Only the columns the file has are updated.
"""

import collections
import functools
import json

from flask_babel import gettext as _

from kiosk.data import import_steps as steps
from kiosk.data import imports as data
from kiosk.db import now_utc
from kiosk.imports.columns import ATTENDEE_HEADERS, column_list, skip_title_rows
from kiosk.imports.memory import release_gradually
from kiosk.imports.preview import describe
from kiosk.imports.recognise import recognise, signature
from kiosk.imports.report import PREVIEW_ROWS, ImportRejected
from kiosk.imports.rows import EMAIL_RE, RowChecks, fold_repeated
from kiosk.text import fold, search_text

__all__ = ["EMAIL_RE", "apply_attendees", "plan_attendees"]  # EMAIL_RE: people and the API check e-mail the same way

NAME_FIELDS = ("first_name", "name_prefix", "last_name", "name")
SAMPLE_ROWS = 50  # the rows recognition looks at, and the preview shows a few values of


def apply_attendees(db, table, *, dry_run=False):
    """Check TABLE against the database and write it; the caller holds the transaction."""
    report, plan = plan_attendees(db, table, dry_run=dry_run)
    if not dry_run:
        steps.write_in_steps(db, plan)  # inside the caller's transaction: one transaction
    return report


def plan_attendees(db, table, *, dry_run=False, overrides=None):
    """Check TABLE against the database: the report, and the plan steps.write_in_steps writes.

    OVERRIDES: {column index: target}, the organiser's mapping (kiosk.imports.recognise). Reads
    only; raises ImportRejected with every problem found.
    """
    blocks, sessions = data.blocks(db), list(data.sessions(db))
    table = skip_title_rows(table, ATTENDEE_HEADERS, [("name",), ("first_name", "last_name")])
    key = signature(table.header)
    samples = [cells for _line, cells in table.rows[:SAMPLE_ROWS]]
    mapping = recognise(table.header, samples, blocks, sessions, data.remembered_mapping(db, key), overrides)
    fields = mapping.fields()
    checks = RowChecks(table.header, mapping.targets, blocks, sessions)
    if not fields & {"name", "first_name", "last_name"}:
        raise ImportRejected([_(
            "line %(line)s: there is no name column (Naam/Name, or Voornaam/First name and Achternaam/Last name); "
            "the columns are: %(columns)s",
            line=table.header_line, columns=column_list(table.header),
        )], describe(table, mapping, checks, blocks, samples))
    if not table.rows:
        raise ImportRejected([_("the file has a header on line %(line)s but no attendees", line=table.header_line)])
    rows = checks.check(table.rows)
    if checks.problems:
        raise ImportRejected(checks.problems, describe(table, mapping, checks, blocks, samples))
    block_columns = sorted(int(f[6:]) for f in fields if f.startswith("block:"))
    try:
        report, plan = _plan(db, rows, fields, block_columns, dry_run)
    finally:
        release_gradually(rows)
    report.update(describe(table, mapping, checks, blocks, samples))
    plan["mapping"] = (key, mapping.by_header(table.header)) if overrides else None
    return report, plan


def _plan(db, rows, fields, block_columns, dry_run):
    """Match ROWS to the attendees they update, count and preview every change; the report and the plan."""
    plan = {"fingerprint": steps.fingerprint(db), "new": [], "updated": [], "old": [],
            "choices_removed": [], "choices_added": [], "badges": []}
    existing = _match(db, rows)
    current_choices = data.choices(db) if block_columns else {}
    now = now_utc()
    report = {"kind": "attendees", "added": 0, "updated": 0, "unchanged": 0, "cancelled": 0,
              "total": len(rows), "badges": 0, "dry_run": dry_run, "preview": [], "changes": []}
    next_id = data.next_attendee_id(db)
    for row in rows:
        old = existing.get(row.get("id"))
        if old is None:
            values, action = _new_values(row), "added"
            row["id"] = next_id
            next_id += 1
        else:
            values = _updated_values(row, old, fields)
            changed = any(values[k] != old[k] for k in values)
            if old["status"] != "cancelled" and values["status"] == "cancelled":
                action = "cancelled"
            else:
                action = "updated" if changed else None
        values["search_text"] = search_text(values["name"], values["organisation"], values["email"])
        if old is None:
            plan["new"].append(_attendee_row(row["id"], values, now, now))
        elif changed:
            plan["updated"].append(_attendee_row(row["id"], values, old["created_at"], now))
            plan["old"].append(tuple(old[column] for column in steps.ATTENDEE_COLUMNS))
        choice_changed = False
        for block_id, session_id in row["choices"].items():
            before = current_choices.get((row["id"], block_id))
            if before != session_id:
                choice_changed = True
                if before is not None:
                    plan["choices_removed"].append((row["id"], block_id, before))
                if session_id is not None:
                    plan["choices_added"].append((row["id"], block_id, session_id))
        if action is None:
            action = "updated" if choice_changed else "unchanged"
        _count(report, row["line"], action, values)
    if not dry_run:
        holders = steps.current_badge_holders(db)
        plan["badges"] = steps.badge_records(db, [row["id"] for row in rows if row["id"] not in holders], now)
        report["badges"] = len(plan["badges"])
    release_gradually(existing, current_choices)
    return report, plan


def _attendee_row(attendee_id, values, created_at, updated_at):
    """An attendee's row as a tuple in steps.ATTENDEE_COLUMNS order."""
    return (
        attendee_id, values["registration_id"], values["first_name"], values["name_prefix"], values["last_name"],
        values["name"], values["email"], values["organisation"], values["role"], values["status"], values["extra"],
        values["search_text"], created_at, updated_at,
    )


def _match(db, rows):
    """Set row['id'] on each of ROWS that matches an attendee; returns the attendees by id."""
    existing, by_reg, by_email, by_name = {}, {}, {}, {}
    for a in data.attendees(db):
        existing[a["id"]] = a
        if a["registration_id"]:
            by_reg[a["registration_id"]] = a["id"]
        if a["email"]:
            by_email.setdefault(a["email"].casefold(), []).append(a["id"])
    if any(not row.get("email") and not row.get("registration_id") for row in rows):
        for a in existing.values():
            by_name.setdefault((fold(a["name"]), fold_repeated(a["organisation"])), []).append(a["id"])
    # Registration ids first, so an e-mail match cannot take a person another row names by id.
    claimed = set()
    for row in rows:
        attendee_id = by_reg.get(row.get("registration_id")) if row.get("registration_id") else None
        if attendee_id is not None:
            row["id"] = attendee_id
            claimed.add(attendee_id)
    # E-mail and name next, for every row before any row matches on e-mail alone: one e-mail may be on
    # several people (tickets bought by one person for others), each of whom must find their own.
    emailed = [row for row in rows if "id" not in row and row.get("email")]
    for row in emailed:
        name = fold(row["name"])
        _claim(row, by_email.get(row["email"].casefold(), ()), existing, claimed,
               lambda candidate: fold(candidate["name"]) == name)
    # E-mail alone (a person whose name is spelled differently now) only where the e-mail is one person's.
    in_file = collections.Counter(row["email"].casefold() for row in rows if row.get("email"))
    for row in emailed:
        candidates = by_email.get(row["email"].casefold(), ())
        if "id" not in row and in_file[row["email"].casefold()] == 1 and len(candidates) == 1:
            _claim(row, candidates, existing, claimed, lambda candidate: True)
    for row in rows:
        if "id" not in row and not row.get("email") and not row.get("registration_id"):
            key = (fold(row["name"]), fold_repeated(row.get("organisation", "")))
            _claim(row, by_name.get(key, ()), existing, claimed, lambda candidate: True)
    return existing


def _claim(row, candidates, existing, claimed, fits):
    """Match ROW to the first of CANDIDATES (attendee ids) not claimed by another row that FITS it."""
    for attendee_id in candidates:
        candidate = existing[attendee_id]
        # Another registration id is another registration, unless the file lost that id.
        other_registration = row.get("registration_id") and candidate["registration_id"] not in (
            None, "", row["registration_id"])
        if attendee_id not in claimed and not other_registration and fits(candidate):
            row["id"] = attendee_id
            claimed.add(attendee_id)
            return


def _new_values(row):
    """The columns of a new attendee from ROW."""
    return {
        "first_name": row["first_name"], "name_prefix": row["name_prefix"], "last_name": row["last_name"],
        "name": row["name"], "email": row.get("email"), "organisation": row.get("organisation", ""),
        "role": row.get("role", ""), "status": row.get("status", "registered"),
        "registration_id": row.get("registration_id"),
        "extra": _extra_json(tuple((k, v) for k, v in row["extra"].items() if v)),
    }


def _updated_values(row, old, fields):
    """The columns of attendee OLD after ROW: the file's FIELDS from the row, the others as they were."""
    # A full name that did not change keeps the parts it had (they may come from a file with parts).
    same_name = row.get("split") and row["name"] == old["name"]
    values = {field: old[field] if same_name else row[field] for field in NAME_FIELDS}
    for field in ("email", "organisation", "role", "status"):
        values[field] = row[field] if field in fields else old[field]
    values["registration_id"] = row.get("registration_id") or old["registration_id"]
    old_extra = json.loads(old["extra"] or "{}")
    extra = dict(old_extra)
    for key, value in row["extra"].items():
        if value:
            extra[key] = value
        else:
            extra.pop(key, None)
    # Compared as objects: another writer may have formatted the JSON differently.
    values["extra"] = old["extra"] if extra == old_extra else json.dumps(extra, ensure_ascii=False)
    return values


def _count(report, line, action, values):
    """Count ACTION in REPORT, and show the row in the preview and the changes while they have room."""
    report[action] += 1
    preview, changes = report["preview"], report["changes"]
    if len(preview) < PREVIEW_ROWS or (action != "unchanged" and len(changes) < PREVIEW_ROWS):
        shown = {
            "line": line, "action": action, "name": values["name"],
            "organisation": values["organisation"], "email": values["email"] or "",
            "registration_id": values["registration_id"] or "", "status": values["status"],
        }
        if len(preview) < PREVIEW_ROWS:
            preview.append(shown)
        if action != "unchanged" and len(changes) < PREVIEW_ROWS:
            changes.append(shown)


@functools.lru_cache(maxsize=1024)
def _extra_json(items):
    """The extra columns of a new attendee as JSON; rows often have the same few."""
    return json.dumps(dict(items), ensure_ascii=False) if items else "{}"
