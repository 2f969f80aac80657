"""Every row of an attendee file read into an attendee by its columns' targets, with its problems and warnings.

Problems reject the file (with their line numbers); warnings let it through but are listed in
the preview, every row of them: the same person twice (the last row counts), one e-mail on
several people's rows (each is imported), a session choice that is not a session of its block
(the person is imported without it), a cancellation mark, a name that looks garbled.
"""

import functools
import re

from flask_babel import gettext as _

from kiosk.imports.names import split_name
from kiosk.imports.sheet import column_letters
from kiosk.text import display_name, fold

STATUSES = {
    "": "registered", "registered": "registered", "aangemeld": "registered", "ingeschreven": "registered",
    "bevestigd": "registered", "confirmed": "registered", "attending": "registered", "actief": "registered",
    "paid": "registered", "betaald": "registered", "completed": "registered", "complete": "registered",
    "pending": "registered", "in afwachting": "registered", "checked in": "registered", "ingecheckt": "registered",
    "approved": "registered", "goedgekeurd": "registered", "unpaid": "registered", "awaiting payment": "registered",
    "cancelled": "cancelled", "canceled": "cancelled", "geannuleerd": "cancelled", "afgemeld": "cancelled",
    "afgezegd": "cancelled", "uitgeschreven": "cancelled", "not attending": "cancelled", "refunded": "cancelled",
    "terugbetaald": "cancelled", "withdrawn": "cancelled", "teruggetrokken": "cancelled", "rejected": "cancelled",
    "afgewezen": "cancelled", "expired": "cancelled", "verlopen": "cancelled", "deleted": "cancelled",
}
NOT_MARKED = {"", "0", "nee", "no", "n", "false", "onwaar", "-"}
EMAIL_RE = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]{2,}$")
TOTALS_RE = re.compile(r"(sub)?tota+l|aantal|som\b|sum\b|count\b|gemiddeld|average")
GARBLED_RE = re.compile("[ÃÂ][\u0080-\u00bf]|â€|Ã©|Ã«|ï¿½|\ufffd")
# How columns of one field combine: name parts and ids join, the others take the first cell with a value.
JOINERS = {"first_name": " ", "name_prefix": " ", "last_name": " ", "name": " ", "registration_id": "-"}

# Statuses, session titles and organisations repeat on row after row of a file.
fold_repeated = functools.lru_cache(maxsize=4096)(fold)


class RowChecks:
    """Rows read by a Mapping's targets; .problems, .warnings {kind: [(line, detail)]} and .skipped (totals)."""

    def __init__(self, header, targets, blocks, sessions):
        self.header, self.width = header, len(header)
        self.single, self.multi, self.extras = {}, {}, []
        extra_names = set()
        for index, target in enumerate(targets):
            if target == "extra":
                name = (header[index] or "").strip() or f"column {index + 1}"
                while name in extra_names:
                    name += "'"
                extra_names.add(name)
                self.extras.append((index, name))
            elif target != "ignore":
                self.multi.setdefault(target, []).append(index)
        for target in [t for t, indexes in self.multi.items() if len(indexes) == 1]:
            self.single[target] = self.multi.pop(target)[0]
        fields = set(self.single) | set(self.multi)
        self.has_email, self.has_reg, self.has_status = "email" in fields, "registration_id" in fields, "status" in fields
        self.has_cancelled = "cancelled" in fields
        self.has_parts = bool({"first_name", "last_name"} & fields)
        self.text_fields = [field for field in ("organisation", "role") if field in fields]
        self.block_names = {b["id"]: b["name"] for b in blocks}
        self.block_keys = sorted((int(t[6:]), t) for t in fields if t.startswith("block:"))
        self.sessions, self.block_titles = {}, {}
        for session in sessions:
            self.sessions[(session["block_id"], fold_repeated(session["title"]))] = session["id"]
            self.block_titles.setdefault(session["block_id"], []).append(session["title"])  # titles may hold commas
        self.problems, self.warnings, self.skipped, self.dropped = [], {}, [], set()
        self.seen_ids, self.seen_emails, self.seen_people, self.seen_names = {}, {}, {}, {}

    def warn(self, kind, line, detail=""):
        self.warnings.setdefault(kind, []).append((line, detail))

    def record(self, cells):
        """{target: text} of one row's cells, and {extra header: text}."""
        width = len(cells)
        if width < self.width:
            cells = cells + [""] * (self.width - width)
        record = {target: cells[index] for target, index in self.single.items()}
        for target, indexes in self.multi.items():
            values = [cells[index].strip() for index in indexes if cells[index].strip()]
            joiner = JOINERS.get(target)
            record[target] = joiner.join(values) if joiner else (values[0] if values else "")
        extra = {name: cells[index].strip() for index, name in self.extras}
        for index in range(self.width, width):  # cells beyond the header: data nobody named, kept
            if cells[index].strip():
                extra[f"column {index + 1}"] = cells[index].strip()
        return record, extra

    def check(self, table_rows):
        """The rows as attendee dicts (problems in .problems); the earlier row of a person twice left out."""
        rows = []
        for line, cells in table_rows:
            record, extra = self.record(cells)
            if self.is_totals(record, cells):
                self.skipped.append((line, "totals", " ".join(c.strip() for c in cells if c.strip())[:80]))
                continue
            row = self.names(line, record)
            row["position"] = len(rows)
            if self.has_reg:
                row["registration_id"] = self.registration_id(line, record["registration_id"])
            if self.has_email:
                row["email"] = self.email(line, record["email"], row)
            for field in self.text_fields:
                row[field] = " ".join(record[field].split())
            if self.has_status:
                row["status"] = self.status(line, record["status"])
            if self.has_cancelled and fold_repeated(record["cancelled"].strip()) not in NOT_MARKED:
                row["status"] = "cancelled"
                self.warn("marked_cancelled", line, record["cancelled"].strip())
            if not row.get("email") and not row.get("registration_id") and row["name"]:
                self.unique_name(line, row)
            row["choices"] = self.choices(line, record, cells) if self.block_keys else {}
            row["extra"] = extra
            rows.append(row)
        if self.dropped:
            rows = [row for row in rows if row["position"] not in self.dropped]
        return rows

    def is_totals(self, record, cells):
        """A totals or footer row ('Totaal aanmeldingen 23'): no e-mail, and its first text says so."""
        if self.has_email and record["email"].strip():
            return False
        first = next((cell for cell in cells if cell.strip()), "")
        return bool(first) and TOTALS_RE.match(fold_repeated(first.strip())) is not None

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
        elif full and (first or last) and fold(full) != fold(name):
            self.warn("name_columns_differ", line, f"{full} / {name}")
        if GARBLED_RE.search(name):
            self.warn("garbled", line, name)
        row.update(first_name=first, name_prefix=prefix, last_name=last, name=name)
        return row

    def email(self, line, cell, row):
        """The row's e-mail address or None, after checking its form and the rows before with it.

        The same e-mail and name on an earlier row is the same person sending the form again: the
        last row counts (unless both rows have a registration id: two tickets). The same e-mail with
        another name is another person (tickets bought by one person for others): both are imported.
        """
        email = cell.strip().strip("<>").removeprefix("mailto:").strip()
        if email and not EMAIL_RE.match(email):
            self.problems.append(_("line %(line)s: e-mail '%(email)s' is not a valid address", line=line, email=email))
        elif email:
            key = email.casefold()
            person = (key, fold(row["name"]))
            seen = self.seen_people.get(person)
            if seen is not None and not (row.get("registration_id") and seen[2]):
                self.dropped.add(seen[1])
                self.warn("same_person", line, _("also on line %(line)s", line=seen[0]))
            elif key in self.seen_emails:
                self.warn("shared_email", line, _("%(email)s, also on line %(line)s", email=email,
                                                  line=self.seen_emails[key]))
            self.seen_emails.setdefault(key, line)
            self.seen_people[person] = (line, row["position"], row.get("registration_id"))
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
        status = STATUSES.get(fold_repeated(cell.strip()))
        if status is None:
            self.problems.append(_(
                "line %(line)s: status '%(status)s' is not one of registered, cancelled "
                "(aangemeld, geannuleerd, afgemeld)",
                line=line, status=cell.strip(),
            ))
        return status or "registered"

    def unique_name(self, line, row):
        """Check that no other row without e-mail or registration id has this name and organisation."""
        key = (fold(row["name"]), fold_repeated(row.get("organisation", "")))
        if key in self.seen_names:
            self.problems.append(_(
                "line %(line)s: '%(name)s' is also on line %(other_line)s, and neither has an e-mail "
                "or registration id to tell them apart",
                line=line, name=row["name"], other_line=self.seen_names[key],
            ))
        else:
            self.seen_names[key] = line

    def choices(self, line, record, cells):
        """{block id: session id or None} for the row's block columns; a title that is not a session of its
        block is left out (a choice made before stays) with a warning naming the column and the block's sessions."""
        choices = {}
        for block_id, key in self.block_keys:
            title = record[key].strip()
            if not title:
                choices[block_id] = None
                continue
            session_id = self.sessions.get((block_id, fold_repeated(title)))
            if session_id is not None:
                choices[block_id] = session_id
                continue
            index = self.single.get(key)
            if index is None:  # several columns for one block: the first with a value gave the title
                index = next(i for i in self.multi[key] if i < len(cells) and cells[i].strip())
            self.warn("unknown_session", line, _(
                "column %(column)s (%(header)s): '%(session)s'; the sessions of %(block)s are: %(sessions)s",
                column=column_letters(index), header=(self.header[index] or "").strip(), session=title,
                block=self.block_names[block_id], sessions=" · ".join(self.block_titles.get(block_id, [])) or "-",
            ))
        return choices
