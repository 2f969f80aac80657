"""What the preview shows of an attendee file beside its changes: each column's use, the sheet, the rows
skipped and why, and every row that needs a look, grouped by what is the matter."""

from flask_babel import gettext as _

from kiosk.imports.sheet import column_letters

SAMPLE_VALUES = 3
NON_ASCII_NAMES = 40


def _warning_texts():
    """The sentence above each kind of warning's rows."""
    return {
        "same_person": _("The same person (same e-mail and name) is on several rows: only the last row is imported."),
        "shared_email": _("One e-mail address is on the rows of different people (tickets bought by one person "
                          "for others): each row is imported as its own attendee, matched on registration id, "
                          "or on e-mail and name when the file has none."),
        "unknown_session": _("Session choices that are not a session of their time block: these people are "
                             "imported without that choice (a choice they already had in that block stays). "
                             "Correct the file, or add the session to the program, and import it again."),
        "marked_cancelled": _("Rows marked in a cancellation column: imported as cancelled."),
        "name_columns_differ": _("The full name column differs from the first and last name columns: "
                                 "the name is made from the first and last name."),
        "garbled": _("Names with characters that look garbled (a file saved in another encoding?): check them."),
    }


def _skip_reasons():
    return {
        "title": _("title row above the header"), "blank": _("blank row"), "hidden": _("hidden row"),
        "struck": _("struck through"), "totals": _("totals or footer row"),
    }


def describe(table, mapping, checks, blocks, samples):
    """The preview's part of the report: plain values only, so it crosses from the import's child process."""
    reasons = _skip_reasons()
    skipped = [
        {"line": line, "reason": reasons[reason],
         "text": text if isinstance(text, str) else " ".join(cell for cell in text if cell)[:80]}
        for line, reason, text in sorted(table.skipped + checks.skipped, key=lambda entry: entry[0])
    ]
    texts = _warning_texts()
    warnings = [
        {"kind": kind, "text": texts[kind], "rows": [{"line": line, "detail": detail} for line, detail in rows]}
        for kind, rows in checks.warnings.items()
    ]
    return {
        "header_line": table.header_line, "sheet": table.sheet, "sheets": table.sheets,
        "encoding": table.encoding, "source": mapping.source,
        "columns": _columns(table.header, mapping.targets, samples),
        "targets": [["block:%d" % b["id"], b["name"]] for b in blocks],
        "notes": _notes(table.header, mapping.notes, blocks),
        "skipped": skipped, "warnings": warnings,
        "non_ascii_names": _non_ascii_names(table, checks) if table.unlikely_encoding else [],
    }


def _columns(header, targets, samples):
    columns = []
    for index, title in enumerate(header):
        values = []
        for cells in samples:
            value = cells[index].strip() if index < len(cells) else ""
            if value and value not in values:
                values.append(value[:60])
            if len(values) == SAMPLE_VALUES:
                break
        columns.append({"index": index, "letter": column_letters(index), "header": title or "",
                        "samples": values, "target": targets[index]})
    return columns


def _notes(header, notes, blocks):
    field_words = {"email": _("an e-mail address"), "organisation": _("an organisation"), "role": _("a role"),
                   "name": _("a name")}
    texts = []
    for note in notes:
        if note == "buyer_names":
            texts.append(_("This file has only the buyer's name and e-mail, not each attendee's: the names "
                           "imported are the buyers'. Export the attendees (an attendee summary) if you can."))
        elif note == "buyer_email":
            texts.append(_("This file has no attendee e-mail: the buyer's e-mail address is used."))
        elif note.startswith("looks_like:"):
            _kind, index, field = note.split(":")
            texts.append(_("Column '%(column)s' looks like %(what)s but is kept as an extra field: choose what it "
                           "is below if it should be used.", column=header[int(index)], what=field_words[field]))
        elif note.startswith("looks_like_session:"):
            _kind, index, block_id = note.split(":")
            block = next((b["name"] for b in blocks if str(b["id"]) == block_id), block_id)
            texts.append(_("Column '%(column)s' looks like the session chosen in %(block)s but is kept as an extra "
                           "field: choose what it is below if it should be used.", column=header[int(index)],
                           block=block))
    return texts


def _non_ascii_names(table, checks):
    """Names with letters beyond ASCII, for a look when the file only read well in an unlikely encoding."""
    names = []
    index = checks.single.get("name", checks.single.get("last_name"))
    for _line, cells in table.rows:
        if index is None or len(names) >= NON_ASCII_NAMES:
            break
        text = " ".join(cells[i].strip() for i in _name_columns(checks) if i < len(cells))
        if not text.isascii():
            names.append(text)
    return names


def _name_columns(checks):
    return [checks.single[field] for field in ("first_name", "name_prefix", "last_name", "name") if field in checks.single]
