"""Attendees from a file: each row checked, matched to the person it updates, and written in one go.

A row matches an attendee on registration id, else on e-mail (case-insensitive), else (only
for rows that have neither) on name and organisation. Only the columns the file has are updated.
"""

import functools
import json
import re

from flask_babel import gettext as _

from kiosk.data import imports as data
from kiosk.db import now_utc
from kiosk.imports.columns import ATTENDEE_HEADERS, cells_of, column_list, map_columns, skip_title_rows, targets_of
from kiosk.imports.names import split_name
from kiosk.imports.report import PREVIEW_ROWS, ImportRejected
from kiosk.text import display_name, fold, search_text

STATUSES = {
    "": "registered", "registered": "registered", "aangemeld": "registered", "ingeschreven": "registered",
    "bevestigd": "registered", "confirmed": "registered", "attending": "registered", "actief": "registered",
    "cancelled": "cancelled", "canceled": "cancelled", "geannuleerd": "cancelled", "afgemeld": "cancelled",
    "afgezegd": "cancelled", "uitgeschreven": "cancelled",
}
EMAIL_RE = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]{2,}$")
NAME_FIELDS = ("first_name", "name_prefix", "last_name", "name")

# Statuses, session titles and organisations repeat on row after row of a file.
_fold_repeated = functools.lru_cache(maxsize=4096)(fold)


def apply_attendees(db, table, *, dry_run=False):
    """Check TABLE against the database and write it; the caller holds the transaction."""
    blocks = data.blocks(db)
    table = skip_title_rows(table, ATTENDEE_HEADERS, [("name",), ("first_name", "last_name")])
    columns = map_columns(table.header, ATTENDEE_HEADERS, blocks)
    fields = set(columns.values())
    if "name" not in fields and "first_name" not in fields and "last_name" not in fields:
        raise ImportRejected([_(
            "line %(line)s: there is no name column (Naam/Name, or Voornaam/First name and Achternaam/Last name); "
            "the columns are: %(columns)s",
            line=table.header_line, columns=column_list(table.header),
        )])
    if not table.rows:
        raise ImportRejected([_("the file has a header on line %(line)s but no attendees", line=table.header_line)])
    block_columns = sorted(int(f[6:]) for f in fields if f.startswith("block:"))
    rows = _RowChecks(db, columns, blocks, block_columns).check(table.rows)
    return _write(db, rows, fields, block_columns, dry_run)


class _RowChecks:
    """Every row of a file read into an attendee, or ImportRejected with every problem found."""

    def __init__(self, db, columns, blocks, block_columns):
        fields = set(columns.values())
        self.targets, self.extras = targets_of(columns)
        self.has_email, self.has_reg, self.has_status = "email" in fields, "registration_id" in fields, "status" in fields
        self.has_parts = "first_name" in fields or "last_name" in fields
        self.text_fields = [field for field in ("organisation", "role") if field in fields]
        self.block_names = {b["id"]: b["name"] for b in blocks}
        self.block_keys = [(block_id, f"block:{block_id}") for block_id in block_columns]
        self.sessions = {(s["block_id"], _fold_repeated(s["title"])): s["id"] for s in data.sessions(db)}
        self.problems = []
        self.seen_ids, self.seen_emails, self.seen_names = {}, {}, {}

    def check(self, table_rows):
        """The rows as attendee dicts; raises ImportRejected when any has a problem."""
        rows = []
        problems = self.problems
        for line, cells in table_rows:
            record, extra = cells_of(cells, self.targets, self.extras)
            row = self.names(line, record)
            if self.has_email:
                row["email"] = self.email(line, record["email"])
            if self.has_reg:
                row["registration_id"] = self.registration_id(line, record["registration_id"])
            for field in self.text_fields:
                row[field] = " ".join(record[field].split())
            if self.has_status:
                row["status"] = self.status(line, record["status"])
            if not row.get("email") and not row.get("registration_id") and row["name"]:
                self.unique_name(line, row)
            row["choices"] = self.choices(line, record) if self.block_keys else {}
            row["extra"] = extra
            rows.append(row)
        if problems:
            raise ImportRejected(problems)
        return rows

    def names(self, line, record):
        """The row's name and its parts, from the parts the file has or else split from the full name."""
        row = {"line": line}
        has_parts = self.has_parts
        first = " ".join(record.get("first_name", "").split()) if has_parts else ""
        prefix = " ".join(record.get("name_prefix", "").split()) if has_parts else ""
        last = " ".join(record.get("last_name", "").split()) if has_parts else ""
        full = " ".join(record.get("name", "").split())
        if not (first or last) and full:
            first, prefix, last = split_name(full)
            row["split"] = True
        name = display_name(first, prefix, last) or full
        if not name:
            self.problems.append(_("line %(line)s: name is missing", line=line))
        row.update(first_name=first, name_prefix=prefix, last_name=last, name=name)
        return row

    def email(self, line, cell):
        """The row's e-mail address or None, after checking its form and that no other row has it."""
        email = cell.strip().strip("<>").removeprefix("mailto:").strip()
        if email and not EMAIL_RE.match(email):
            self.problems.append(_("line %(line)s: e-mail '%(email)s' is not a valid address", line=line, email=email))
        elif email:
            key = email.casefold()
            if key in self.seen_emails:
                self.problems.append(_(
                    "line %(line)s: e-mail '%(email)s' is also on line %(other_line)s",
                    line=line, email=email, other_line=self.seen_emails[key],
                ))
            else:
                self.seen_emails[key] = line
        return email or None

    def registration_id(self, line, cell):
        """The row's registration id or None, after checking that no other row has it."""
        reg = cell.strip()
        if reg in self.seen_ids:
            self.problems.append(_(
                "line %(line)s: registration id '%(id)s' is also on line %(other_line)s",
                line=line, id=reg, other_line=self.seen_ids[reg],
            ))
        elif reg:
            self.seen_ids[reg] = line
        return reg or None

    def status(self, line, cell):
        """'registered' or 'cancelled', from the Dutch or English word in the cell."""
        status = STATUSES.get(_fold_repeated(cell))
        if status is None:
            self.problems.append(_(
                "line %(line)s: status '%(status)s' is not one of registered, cancelled "
                "(aangemeld, geannuleerd, afgemeld)",
                line=line, status=cell.strip(),
            ))
        return status or "registered"

    def unique_name(self, line, row):
        """Check that no other row without e-mail or registration id has this name and organisation."""
        key = (fold(row["name"]), _fold_repeated(row.get("organisation", "")))
        if key in self.seen_names:
            self.problems.append(_(
                "line %(line)s: '%(name)s' is also on line %(other_line)s, and neither has an e-mail "
                "or registration id to tell them apart",
                line=line, name=row["name"], other_line=self.seen_names[key],
            ))
        else:
            self.seen_names[key] = line

    def choices(self, line, record):
        """{block id: session id or None} for the row's block columns, each title checked against its block."""
        choices = {}
        for block_id, key in self.block_keys:
            title = record[key].strip()
            if title:
                session_id = self.sessions.get((block_id, _fold_repeated(title)))
                if session_id is None:
                    self.problems.append(_(
                        "line %(line)s: session '%(session)s' is not in block '%(block)s'",
                        line=line, session=title, block=self.block_names[block_id],
                    ))
                choices[block_id] = session_id
            else:
                choices[block_id] = None
        return choices



def _write(db, rows, fields, block_columns, dry_run):
    """Match ROWS to the attendees they update, count and preview every change, and write unless DRY_RUN."""
    existing = _match(db, rows)
    current_choices = data.choices(db) if block_columns else {}
    now = now_utc()
    report = {"kind": "attendees", "added": 0, "updated": 0, "unchanged": 0, "cancelled": 0,
              "total": len(rows), "badges": 0, "dry_run": dry_run, "preview": [], "changes": []}
    new, updated, choices_removed, choices_added = [], [], [], []
    next_id = data.next_attendee_id(db)
    for row in rows:
        old = existing.get(row.get("id"))
        if old is None:
            values, action = _new_values(row), "added"
            row["id"] = next_id
            next_id += 1
            new.append((row["id"], values))
        else:
            values = _updated_values(row, old, fields)
            changed = any(values[k] != old[k] for k in values)
            if changed:
                updated.append((row["id"], values))
            if old["status"] != "cancelled" and values["status"] == "cancelled":
                action = "cancelled"
            else:
                action = "updated" if changed else None
        values["search_text"] = search_text(values["name"], values["organisation"], values["email"])
        choice_changed = False
        for block_id, session_id in row["choices"].items():
            before = current_choices.get((row["id"], block_id))
            if before != session_id:
                choice_changed = True
                if before is not None:
                    choices_removed.append((row["id"], block_id))
                if session_id is not None:
                    choices_added.append((row["id"], block_id, session_id))
        if action is None:
            action = "updated" if choice_changed else "unchanged"
        _count(report, row["line"], action, values)
    if not dry_run:
        report["badges"] = data.write_attendees(
            db, new=new, updated=updated, choices_removed=choices_removed, choices_added=choices_added,
            badged=[row["id"] for row in rows], now=now,
        )
    return report


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
            by_name.setdefault((fold(a["name"]), _fold_repeated(a["organisation"])), []).append(a["id"])
    # Registration ids first, so an e-mail match cannot take a person another row names by id.
    claimed = {}
    for row in rows:
        attendee_id = by_reg.get(row.get("registration_id")) if row.get("registration_id") else None
        if attendee_id is not None:
            row["id"] = attendee_id
            claimed[attendee_id] = row["line"]
    for row in rows:
        if "id" in row:
            continue
        if row.get("email"):
            candidates = by_email.get(row["email"].casefold(), [])
        elif not row.get("registration_id"):
            candidates = by_name.get((fold(row["name"]), _fold_repeated(row.get("organisation", ""))), [])
        else:
            candidates = []
        for candidate in candidates:
            # A person with another registration id is another registration, unless the file lost that id.
            if candidate not in claimed:
                row["id"] = candidate
                claimed[candidate] = row["line"]
                break
    return existing


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
