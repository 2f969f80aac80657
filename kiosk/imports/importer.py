"""Import attendees and the program from the CSV and XLSX files organisers really have.

Both imports are all or nothing: the file is read and checked completely, every
problem is collected with its line number (line 1 is the header), and only a file
without problems is written, in one BEGIN IMMEDIATE transaction.

A re-import of an updated export updates people instead of duplicating them: a row
matches an attendee on registration id, else on e-mail (case-insensitive), else
(only for rows that have neither) on name and organisation. Only the columns the
file has are updated. People missing from a re-import are NOT cancelled: an export
filtered differently would otherwise cancel half the event. Cancel them with a
Status column instead.
"""

import contextlib
import csv
import functools
import gc
import io
import json
import os
import re
import secrets
from datetime import date, datetime, time

from flask_babel import gettext as _

from kiosk.data.badges import ALPHABET, CODE_PREFIX, RANDOM_LENGTH, short_form
from kiosk.db import immediate, indexes_rebuilt_after, now_utc
from kiosk.text import display_name, fold

PREVIEW_ROWS = 20
BULK_ROWS = 5000  # new attendees from which the secondary indexes are rebuilt, not updated

ATTENDEE_HEADERS = {
    "name": ["naam", "name", "volledige naam", "full name", "naam deelnemer", "deelnemer", "attendee", "attendee name"],
    "first_name": ["voornaam", "first name", "firstname", "given name", "roepnaam"],
    "name_prefix": ["tussenvoegsel", "tussenvoegsels", "voorvoegsel", "prefix", "name prefix"],
    "last_name": ["achternaam", "last name", "lastname", "surname", "family name", "familienaam"],
    "email": ["e-mail", "e-mailadres", "email", "emailadres", "email address", "e-mail address", "mail", "mailadres"],
    "organisation": ["organisatie", "gemeente", "organisation", "organization", "company", "bedrijf", "instelling"],
    "role": ["functie", "rol", "role", "function", "job title", "functietitel"],
    "registration_id": [
        "registratienummer", "registratie-id", "registratie id", "registration id", "registration number",
        "registration", "ticket", "ticketnummer", "ticket number", "ticket id", "order", "ordernummer",
        "order number", "order id", "bestelnummer",
    ],
    "status": ["status"],
}

PROGRAM_HEADERS = {
    "block": ["blok", "block", "tijdblok", "time block", "dagdeel"],
    "starts_at": ["begin", "start", "starttijd", "start time", "begintijd", "van", "from"],
    "ends_at": ["einde", "end", "eindtijd", "end time", "tot", "to"],
    "title": ["sessie", "session", "titel", "title", "onderdeel", "programmaonderdeel", "naam", "name"],
    "kind": ["soort", "kind", "type"],
    "room": ["zaal", "room", "ruimte", "locatie", "location"],
    "capacity": ["capaciteit", "capacity", "zaalcapaciteit", "room capacity"],
    "place_limit": ["plaatsen", "places", "place limit", "maximum", "max", "max deelnemers", "max attendees", "aantal plaatsen"],
    "meeting_point": ["verzamelpunt", "meeting point", "verzamelplaats", "startpunt"],
    "description": ["omschrijving", "description", "toelichting", "beschrijving"],
    "room_location": ["verdieping", "floor", "zaallocatie", "room location"],
}

STATUSES = {
    "": "registered", "registered": "registered", "aangemeld": "registered", "ingeschreven": "registered",
    "bevestigd": "registered", "confirmed": "registered", "attending": "registered", "actief": "registered",
    "cancelled": "cancelled", "canceled": "cancelled", "geannuleerd": "cancelled", "afgemeld": "cancelled",
    "afgezegd": "cancelled", "uitgeschreven": "cancelled",
}

KINDS = {
    "": "session", "session": "session", "sessie": "session", "workshop": "session", "themagroep": "session",
    "plenary": "plenary", "plenair": "plenary", "plenaire sessie": "plenary", "plenum": "plenary",
    "walk": "walk", "wandeling": "walk", "excursie": "walk", "tour": "walk", "rondleiding": "walk",
    "break": "break", "pauze": "break", "lunch": "break", "borrel": "break",
}

# Longest first, so 'van der' wins over 'van'.
NAME_PREFIXES = sorted(
    (tuple(p.split()) for p in [
        "van", "de", "der", "den", "het", "'t", "te", "ten", "ter", "van der", "van den", "van de", "van het",
        "van 't", "van ter", "van den", "in 't", "in het", "in de", "in den", "op de", "op den", "op het", "op 't",
        "uit de", "uit den", "uit het", "aan de", "aan den", "aan het", "bij de", "bij den", "onder de", "over de",
        "voor de", "voor den", "von", "von der", "von dem", "vom", "zu", "la", "le", "les", "du", "des", "d'", "l'",
        "de la", "de le", "de l'", "del", "della", "dos", "das", "da",
    ]),
    key=len,
    reverse=True,
)
_PREFIXES_BY_FIRST_WORD = {}
for _prefix in NAME_PREFIXES:
    _PREFIXES_BY_FIRST_WORD.setdefault(_prefix[0], []).append(_prefix)
# Particles that belong to a surname without being a Dutch tussenvoegsel: 'El Amrani'.
SURNAME_PARTICLES = {"el", "al", "ben", "bin", "abu", "ibn", "mac", "mc", "o'", "st.", "saint"}

EMAIL_RE = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]{2,}$")
TIME_RE = re.compile(r"^(\d{1,2})[:.hu](\d{2})(?::\d{2})?$")


def _fold(text):
    """kiosk.text.fold, fast: ASCII directly, other text word by word through a cache (names repeat)."""
    if text.isascii():
        return " ".join(text.lower().split())
    return " ".join(" ".join(_fold_word(word) for word in text.split()).split())


@functools.lru_cache(maxsize=65536)
def _fold_word(word):
    return word.lower() if word.isascii() else fold(word)


_fold_short = functools.lru_cache(maxsize=4096)(_fold)  # statuses, session titles, organisations repeat


def _search_text(name, organisation="", email=""):
    """kiosk.text.search_text through the fast fold."""
    return _fold(" ".join(part for part in (name, organisation, email or "") if part))


class ImportRejected(Exception):
    """The file was not imported; .problems lists every reason, with line numbers where there are."""

    def __init__(self, problems):
        self.problems = list(problems) if not isinstance(problems, str) else [problems]
        super().__init__(self.describe())

    def describe(self):
        """'import rejected: N problems' followed by one problem per line."""
        count = len(self.problems)
        head = f"import rejected: {count} problem{'' if count == 1 else 's'}"
        return "\n".join([head] + self.problems)


def summary_line(report):
    """One line for the CLI, the audit log and the preview page."""
    verb = "checked (dry run)" if report.get("dry_run") else "imported"
    if report.get("kind") == "program":
        parts = [
            f"{what} {report[what]['added']} added, {report[what]['updated']} updated, {report[what]['unchanged']} unchanged"
            for what in ("sessions", "rooms", "blocks")
        ]
        return f"program {verb}: " + "; ".join(parts)
    return (
        f"attendees {verb}: {report['added']} added, {report['updated']} updated, "
        f"{report['unchanged']} unchanged, {report['cancelled']} cancelled"
    )


# Reading files


class Table:
    """A file's header and its non-blank rows, each with the line number it starts on."""

    def __init__(self, header, rows, header_line=1):
        self.header = header
        self.rows = rows  # [(line, [cell, ...]), ...]
        self.header_line = header_line


def read_table(source, filename=None):
    """Read a CSV or XLSX file (a path or a binary file object) into a Table, or raise ImportRejected."""
    data, filename = _read_bytes(source, filename)
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise ImportRejected([_("the file is empty")])
    extension = os.path.splitext(filename or "")[1].lower()
    if data.startswith(b"PK\x03\x04"):
        table = _read_xlsx(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRejected(
            [_("this is an old Excel .xls file or a password-protected workbook: save it as .xlsx or CSV without a password")]
        )
    elif extension in (".xlsx", ".xlsm"):
        raise ImportRejected([_("the file is named .xlsx but is not an Excel workbook")])
    elif extension in ("", ".csv", ".txt", ".tsv"):
        table = _read_csv(data)
    else:
        raise ImportRejected([_("cannot read %(extension)s files: upload a CSV or XLSX file", extension=extension)])
    if not table.header:
        raise ImportRejected([_("the file has no header row")])
    return table


def _read_bytes(source, filename):
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), filename
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            return f.read(), filename or os.fspath(source)
    data = source.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    return data, filename or getattr(source, "filename", None) or getattr(source, "name", None)


def _decode(data):
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        if b"\x00" in data:
            raise ImportRejected([_("the file is not a text (CSV) file: upload a CSV or XLSX file")])
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        try:
            # Excel on Windows in Dutch saves "CSV (gescheiden door lijstscheidingsteken)" in Windows-1252.
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise ImportRejected([_("the file's characters cannot be read: save it as CSV UTF-8 or as .xlsx")])


def _read_csv(data):
    text = _decode(data)
    lines = text.splitlines(keepends=True)
    start_line = 1
    delimiter = None
    # Excel writes and honours a 'sep=;' first line.
    if lines and re.fullmatch(r"sep=(.)\s*", lines[0]):
        delimiter = lines[0][4]
        lines = lines[1:]
        start_line = 2
    if delimiter is None:
        first = next((line for line in lines if line.strip()), "")
        counts = {d: _count_outside_quotes(first, d) for d in (";", ",", "\t")}
        delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    header = None
    header_line = start_line
    rows = []
    previous = 0
    try:
        for cells in reader:
            line = start_line + previous
            previous = reader.line_num
            # Cells are stripped where they are read: stripping all of them here costs a second per 50,000 rows.
            if not "".join(cells).strip():
                continue
            if header is None:
                header, header_line = [c.strip() for c in cells], line
            else:
                rows.append((line, cells))
    except csv.Error as error:
        raise ImportRejected(
            [_("line %(line)s: the CSV cannot be read (%(error)s)", line=start_line + previous, error=error)]
        ) from None
    return Table(header or [], rows, header_line)


def _count_outside_quotes(line, delimiter):
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _read_xlsx(data):
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise ImportRejected([_("the file is not a readable XLSX workbook (%(error)s)", error=type(error).__name__)]) from None
    except Exception as error:  # openpyxl raises its own exception types for broken parts
        raise ImportRejected([_("the file is not a readable XLSX workbook (%(error)s)", error=error)]) from None
    try:
        if not workbook.worksheets:
            raise ImportRejected([_("the workbook has no worksheets")])
        sheet = workbook.worksheets[0]
        # Some exporters write a wrong <dimension>; without a reset, columns would be cut off.
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        header, header_line, rows = None, 1, []
        # After reset_dimensions, read-only sheets yield an empty row for every blank row, so counting is exact.
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = [_cell_text(value) for value in cells]
            if not any(values):
                continue
            if header is None:
                header, header_line = values, line
            else:
                rows.append((line, values))
    except ImportRejected:
        raise
    except Exception as error:  # a damaged sheet only shows while reading it
        raise ImportRejected([
            _("the workbook's first sheet cannot be read (%(error)s)", error=f"{type(error).__name__}: {error}")
        ]) from None
    finally:
        workbook.close()
    return Table(header or [], rows, header_line)


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        if value.date() in (date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1)):
            return value.strftime("%H:%M")
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _column_list(header):
    """The header's column names for a problem message: 'Naam, E-mail', or 'none'."""
    return ", ".join(h for h in header if h) or _("none")


def _header_key(text):
    return re.sub(r"[\s\-_.:/]+", "", fold((text or "").replace("\ufeff", "")))


def _map_columns(header, known, blocks=None):
    """Column index -> field name, 'block:<id>' or 'extra:<header>'; a field's first column wins."""
    lookup = {_header_key(alias): field for field, aliases in known.items() for alias in aliases}
    block_lookup = {_header_key(b["name"]): b for b in (blocks or [])}
    columns, used, extra_names = {}, set(), set()
    for index, title in enumerate(header):
        key = _header_key(title)
        field = lookup.get(key)
        if field and field not in used:
            columns[index] = field
            used.add(field)
        elif key in block_lookup and f"block:{block_lookup[key]['id']}" not in used:
            columns[index] = f"block:{block_lookup[key]['id']}"
            used.add(columns[index])
        else:
            name = (title or "").strip() or f"column {index + 1}"
            while name in extra_names:
                name += "'"
            extra_names.add(name)
            columns[index] = "extra:" + name
    return columns


def _skip_title_rows(table, known, needed, look=10):
    """TABLE with its header moved down past title rows ('Deelnemerslijst 13 april') when the first row is not one."""
    def is_header(cells):
        fields = set(_map_columns(cells, known).values())
        return any(all(field in fields for field in group) for group in needed)

    if is_header(table.header):
        return table
    for position, (line, cells) in enumerate(table.rows[:look]):
        if is_header(cells):
            return Table(cells, table.rows[position + 1:], line)
    return table


def _cells(row_cells, columns):
    """One row as {field: text} and {unknown header: stripped text}; COLUMNS comes from _map_columns."""
    targets = list(columns.values())
    extras = [target for target in targets if target[:6] == "extra:"]
    return _cells_fast(row_cells, targets, extras)


def _cells_fast(row_cells, targets, extras):
    width, expected = len(row_cells), len(targets)
    if width < expected:
        row_cells = row_cells + [""] * (expected - width)
    record = dict(zip(targets, row_cells))  # extra:… keys stay in too; nothing reads them from here
    extra = {target[6:]: record[target].strip() for target in extras}
    # Cells beyond the header are data nobody named; keep them rather than lose them.
    for index in range(expected, width):
        if row_cells[index].strip():
            extra[f"column {index + 1}"] = row_cells[index].strip()
    return record, extra


# Names


def split_name(full_name):
    """'Jan Willem van der Berg' -> ('Jan Willem', 'van der', 'Berg'); 'Berg, Jan van der' works too."""
    text = " ".join((full_name or "").split())
    if "," in text:
        last, _, rest = (part.strip() for part in text.partition(","))
        first, prefix, _ = _split_first_prefix(rest.split())
        if last and first:
            return first, prefix, last
        text = " ".join(part for part in (rest, last) if part)
    tokens = text.split()
    if len(tokens) <= 1:
        return text, "", ""
    lowered = [t.lower() for t in tokens]
    for start in range(1, len(tokens) - 1):
        for candidate in _PREFIXES_BY_FIRST_WORD.get(lowered[start], ()):
            end = start + len(candidate)
            if end < len(tokens) and tuple(lowered[start:end]) == candidate:
                return " ".join(tokens[:start]), " ".join(tokens[start:end]), " ".join(tokens[end:])
    last_start = len(tokens) - 1
    while last_start > 1 and tokens[last_start - 1].lower() in SURNAME_PARTICLES:
        last_start -= 1
    return " ".join(tokens[:last_start]), "", " ".join(tokens[last_start:])


def _split_first_prefix(tokens):
    """'Jan van der' (the part after the comma) -> ('Jan', 'van der', '')."""
    for start in range(1, len(tokens)):
        for candidate in NAME_PREFIXES:
            if tuple(t.lower() for t in tokens[start:]) == candidate:
                return " ".join(tokens[:start]), " ".join(tokens[start:]), ""
    return " ".join(tokens), "", ""


# Transactions


class _Snapshot:
    """A read transaction for a dry run: consistent reads, nothing written, always rolled back."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN")
        return self.db

    def __exit__(self, *exc):
        if self.db.conn.in_transaction:
            self.db.execute("ROLLBACK")
        return False


@contextlib.contextmanager
def _transaction(db, dry_run):
    """A rolled-back snapshot for a dry run, else BEGIN IMMEDIATE with foreign-key checks paused.

    Every id the import writes was read inside this same write-locked transaction (or made
    by it), and it deletes nothing with children, so the checks could not fail; skipping
    them halves the time for the hundreds of thousands of choice rows of a big import.
    """
    if dry_run:
        with _Snapshot(db):
            yield db
        return
    enforced = db.execute("PRAGMA foreign_keys").fetchone()[0]
    if enforced:
        db.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction, so before BEGIN
    try:
        with immediate(db):
            yield db
    finally:
        if enforced:
            db.execute("PRAGMA foreign_keys = ON")


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic GC: a big import makes objects that are not cycles, and it would rescan them all often."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def record_audit(db, actor, action, detail):
    """Write an audit line for an import."""
    from kiosk.data.audit import record

    record(db, actor, action, detail)


# Attendees


def import_attendees(db, path_or_file, *, filename=None, dry_run=False):
    """Import or update attendees from a CSV/XLSX file, all or nothing; returns the report.

    The report has 'added', 'updated', 'unchanged', 'cancelled' (existing people newly
    set to cancelled; new rows that arrive cancelled count as added), 'total', 'badges'
    (badges issued), 'preview' (the first rows with their action) and 'changes' (the
    first rows that are not unchanged). People missing from
    the file are left as they are: they are not cancelled automatically.
    """
    with _gc_paused():
        table = read_table(path_or_file, filename)
        with _transaction(db, dry_run):
            return apply_attendees(db, table, dry_run=dry_run)


def _insert_attendees(db, new_rows, now):
    """Insert the new attendees of an import in one executemany."""
    if not new_rows:
        return
    db.conn.executemany(
        "INSERT INTO attendees (id, registration_id, first_name, name_prefix, last_name, name, email, "
        "organisation, role, status, extra, search_text, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (row["id"], v["registration_id"], v["first_name"], v["name_prefix"], v["last_name"], v["name"],
             v["email"], v["organisation"], v["role"], v["status"], v["extra"], v["search_text"], now, now)
            for row in new_rows for v in (row["values"],)
        ),
    )


def apply_attendees(db, table, *, dry_run=False):
    """Check TABLE against the database and write it; the caller holds the transaction."""
    blocks = list(db.query("SELECT id, name FROM blocks"))
    block_names = {b["id"]: b["name"] for b in blocks}
    table = _skip_title_rows(table, ATTENDEE_HEADERS, [("name",), ("first_name", "last_name")])
    columns = _map_columns(table.header, ATTENDEE_HEADERS, blocks)
    fields = set(columns.values())
    problems = []
    line1 = table.header_line
    if "name" not in fields and "first_name" not in fields and "last_name" not in fields:
        raise ImportRejected([_(
            "line %(line)s: there is no name column (Naam/Name, or Voornaam/First name and Achternaam/Last name); "
            "the columns are: %(columns)s",
            line=line1, columns=_column_list(table.header),
        )])
    if not table.rows:
        raise ImportRejected([_("the file has a header on line %(line)s but no attendees", line=line1)])

    sessions = {}
    for s in db.query("SELECT id, block_id, title FROM sessions"):
        sessions[(s["block_id"], _fold_short(s["title"]))] = s["id"]
    block_columns = sorted(int(f[6:]) for f in fields if f.startswith("block:"))
    block_keys = [(block_id, f"block:{block_id}") for block_id in block_columns]
    has_email, has_reg, has_status = "email" in fields, "registration_id" in fields, "status" in fields
    has_parts = "first_name" in fields or "last_name" in fields
    text_fields = [field for field in ("organisation", "role") if field in fields]

    rows = []
    seen_ids, seen_emails, seen_names = {}, {}, {}
    targets = list(columns.values())
    extras = [target for target in targets if target[:6] == "extra:"]
    for line, cells in table.rows:
        record, extra = _cells_fast(cells, targets, extras)
        row = {"line": line}
        first = " ".join(record.get("first_name", "").split()) if has_parts else ""
        prefix = " ".join(record.get("name_prefix", "").split()) if has_parts else ""
        last = " ".join(record.get("last_name", "").split()) if has_parts else ""
        full = " ".join(record.get("name", "").split())
        split = not (first or last) and bool(full)
        if split:
            first, prefix, last = split_name(full)
            row["split"] = True
        name = display_name(first, prefix, last) or full
        if not name:
            problems.append(_("line %(line)s: name is missing", line=line))
        row.update(first_name=first, name_prefix=prefix, last_name=last, name=name)
        if has_email:
            email = record["email"].strip().strip("<>").removeprefix("mailto:").strip()
            if email and not EMAIL_RE.match(email):
                problems.append(_("line %(line)s: e-mail '%(email)s' is not a valid address", line=line, email=email))
            elif email:
                key = email.casefold()
                if key in seen_emails:
                    problems.append(_(
                        "line %(line)s: e-mail '%(email)s' is also on line %(other_line)s",
                        line=line, email=email, other_line=seen_emails[key],
                    ))
                else:
                    seen_emails[key] = line
            row["email"] = email or None
        if has_reg:
            reg = record["registration_id"].strip()
            if reg in seen_ids:
                problems.append(_(
                    "line %(line)s: registration id '%(id)s' is also on line %(other_line)s",
                    line=line, id=reg, other_line=seen_ids[reg],
                ))
            elif reg:
                seen_ids[reg] = line
            row["registration_id"] = reg or None
        for field in text_fields:
            row[field] = " ".join(record[field].split())
        if has_status:
            status = STATUSES.get(_fold_short(record["status"]))
            if status is None:
                problems.append(_(
                    "line %(line)s: status '%(status)s' is not one of registered, cancelled "
                    "(aangemeld, geannuleerd, afgemeld)",
                    line=line, status=record["status"].strip(),
                ))
            row["status"] = status or "registered"
        if not row.get("email") and not row.get("registration_id") and name:
            key = (_fold(name), _fold_short(row.get("organisation", "")))
            if key in seen_names:
                problems.append(_(
                    "line %(line)s: '%(name)s' is also on line %(other_line)s, and neither has an e-mail "
                    "or registration id to tell them apart",
                    line=line, name=name, other_line=seen_names[key],
                ))
            else:
                seen_names[key] = line
        choices = {}
        for block_id, key in block_keys:
            title = record[key].strip()
            if title:
                session_id = sessions.get((block_id, _fold_short(title)))
                if session_id is None:
                    problems.append(_(
                        "line %(line)s: session '%(session)s' is not in block '%(block)s'",
                        line=line, session=title, block=block_names[block_id],
                    ))
                choices[block_id] = session_id
            else:
                choices[block_id] = None
        row["choices"] = choices
        row["extra"] = extra
        rows.append(row)
    if problems:
        raise ImportRejected(problems)

    return _write_attendees(db, rows, fields, block_columns, dry_run)


def _write_attendees(db, rows, fields, block_columns, dry_run):
    existing = {}
    by_reg, by_email, by_name = {}, {}, {}
    for a in db.query(
        "SELECT id, registration_id, first_name, name_prefix, last_name, name, email, organisation, role, "
        "status, extra FROM attendees ORDER BY id"
    ):
        existing[a["id"]] = a
        if a["registration_id"]:
            by_reg[a["registration_id"]] = a["id"]
        if a["email"]:
            by_email.setdefault(a["email"].casefold(), []).append(a["id"])
    if any(not row.get("email") and not row.get("registration_id") for row in rows):
        for a in existing.values():
            by_name.setdefault((_fold(a["name"]), _fold_short(a["organisation"])), []).append(a["id"])
    current_choices = {}
    if block_columns:
        for attendee_id, block_id, session_id in db.execute(
            "SELECT attendee_id, block_id, session_id FROM choices"
        ).fetchall():
            current_choices[(attendee_id, block_id)] = session_id

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
            candidates = by_name.get((_fold(row["name"]), _fold_short(row.get("organisation", ""))), [])
        else:
            candidates = []
        for candidate in candidates:
            # A person with another registration id is another registration, unless the file lost that id.
            if candidate not in claimed:
                row["id"] = candidate
                claimed[candidate] = row["line"]
                break

    now = now_utc()
    report = {"kind": "attendees", "added": 0, "updated": 0, "unchanged": 0, "cancelled": 0,
              "total": len(rows), "badges": 0, "dry_run": dry_run, "preview": [], "changes": []}
    new_rows, updates, choice_deletes, choice_inserts = [], [], [], []
    next_id = (db.execute("SELECT max(id) FROM attendees").fetchone()[0] or 0) + 1
    simple = ("first_name", "name_prefix", "last_name", "name")
    for row in rows:
        old = existing.get(row.get("id"))
        if old is None:
            values = {
                "first_name": row["first_name"], "name_prefix": row["name_prefix"], "last_name": row["last_name"],
                "name": row["name"], "email": row.get("email"), "organisation": row.get("organisation", ""),
                "role": row.get("role", ""), "status": row.get("status", "registered"),
                "registration_id": row.get("registration_id"),
                "extra": _extra_json(tuple((k, v) for k, v in row["extra"].items() if v)),
            }
            row["id"] = next_id
            next_id += 1
            new_rows.append(row)
            action = "added"
        else:
            # A full name that did not change keeps the parts it had (they may come from a file with parts).
            same_name = row.get("split") and row["name"] == old["name"]
            values = {field: old[field] if same_name else row[field] for field in simple}
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
            changed = any(values[k] != old[k] for k in values)
            if changed:
                updates.append(row)
            if old["status"] != "cancelled" and values["status"] == "cancelled":
                action = "cancelled"
            elif changed:
                action = "updated"
            else:
                action = None
        values["search_text"] = _search_text(values["name"], values["organisation"], values["email"])
        choice_changed = False
        for block_id, session_id in row["choices"].items():
            before = current_choices.get((row["id"], block_id))
            if before != session_id:
                choice_changed = True
                if before is not None:
                    choice_deletes.append((row["id"], block_id))
                if session_id is not None:
                    choice_inserts.append((row["id"], block_id, session_id))
        if action is None:
            action = "updated" if choice_changed else "unchanged"
        report[action] += 1
        if len(report["preview"]) < PREVIEW_ROWS or (action != "unchanged" and len(report["changes"]) < PREVIEW_ROWS):
            shown = {
                "line": row["line"], "action": action, "name": values["name"],
                "organisation": values["organisation"], "email": values["email"] or "",
                "registration_id": values["registration_id"] or "", "status": values["status"],
            }
            if len(report["preview"]) < PREVIEW_ROWS:
                report["preview"].append(shown)
            if action != "unchanged" and len(report["changes"]) < PREVIEW_ROWS:
                report["changes"].append(shown)
        row["values"] = values

    if dry_run:
        return report

    # A big first import loads faster with the secondary indexes built once at the end.
    with contextlib.ExitStack() as bulk:
        if len(new_rows) > BULK_ROWS:
            for table in ("attendees", "choices", "badges"):
                bulk.enter_context(indexes_rebuilt_after(db, table))
        _write_rows(db, new_rows, updates, choice_deletes, choice_inserts, now)
        with_badge = {r[0] for r in db.execute("SELECT DISTINCT attendee_id FROM badges WHERE replaced_at IS NULL")}
        report["badges"] = issue_badges(db, [row["id"] for row in rows if row["id"] not in with_badge], now=now)
    return report


def _write_rows(db, new_rows, updates, choice_deletes, choice_inserts, now):
    """Insert and update the attendees and their choices of an import."""
    _insert_attendees(db, new_rows, now)
    if updates:
        # Registration ids move between people only through NULL, so the UNIQUE index never trips midway.
        db.conn.executemany(
            "UPDATE attendees SET registration_id = NULL WHERE id = ?",
            ((row["id"],) for row in updates),
        )
        db.conn.executemany(
            "UPDATE attendees SET registration_id = ?, first_name = ?, name_prefix = ?, last_name = ?, name = ?, "
            "email = ?, organisation = ?, role = ?, status = ?, extra = ?, search_text = ?, updated_at = ? "
            "WHERE id = ?",
            (
                (u["registration_id"], u["first_name"], u["name_prefix"], u["last_name"], u["name"], u["email"],
                 u["organisation"], u["role"], u["status"], u["extra"], u["search_text"], now, row["id"])
                for row in updates for u in (row["values"],)
            ),
        )
    if choice_deletes:
        db.conn.executemany("DELETE FROM choices WHERE attendee_id = ? AND block_id = ?", choice_deletes)
    if choice_inserts:
        db.conn.executemany(
            "INSERT INTO choices (attendee_id, block_id, session_id) VALUES (?, ?, ?)", choice_inserts
        )


def _upsert(db, table, values, old, counts, dry_run):
    """Insert VALUES, or update the OLD row when they differ; counts the action; returns the id."""
    if old is None:
        counts["added"] += 1
        return None if dry_run else db[table].insert(values).last_pk
    changed = any(values[k] != old[k] for k in values)
    counts["updated" if changed else "unchanged"] += 1
    if changed and not dry_run:
        db[table].update(old["id"], values)
    return old["id"]


@functools.lru_cache(maxsize=1024)
def _extra_json(items):
    return json.dumps(dict(items), ensure_ascii=False) if items else "{}"


def issue_badges(db, attendee_ids, *, now=None):
    """Give each of ATTENDEE_IDS (none of whom has a current badge) a new badge in one go; returns the count."""
    if not attendee_ids:
        return 0
    now = now or now_utc()
    codes, shorts = set(), set()
    for code, short in db.execute("SELECT code, short_code FROM badges"):
        codes.add(code)
        shorts.add(short)
    records = []
    fresh = []
    for attendee_id in attendee_ids:
        while True:
            if not fresh:
                fresh = _new_codes(len(attendee_ids) - len(records) + 8)
            code = fresh.pop()
            short = short_form(code)
            if code not in codes and short not in shorts:
                break
        codes.add(code)
        shorts.add(short)
        records.append((attendee_id, code, short, now))
    db.conn.executemany(
        "INSERT INTO badges (attendee_id, code, short_code, issued_at) VALUES (?, ?, ?, ?)", records
    )
    return len(records)


# Bytes 0..239 map evenly onto the 30 letters; 240..255 are dropped so every letter stays equally likely.
_UNBIASED = 256 - 256 % len(ALPHABET)
_BYTE_TO_LETTER = bytes(ord(ALPHABET[b % len(ALPHABET)]) if b < _UNBIASED else 0 for b in range(256))
_REJECTED = bytes(range(_UNBIASED, 256))


def _new_codes(count):
    """COUNT codes like kiosk.data.badges.new_code, from one urandom call: bulk imports issue thousands."""
    letters = b""
    needed = count * RANDOM_LENGTH
    while len(letters) < needed:
        raw = secrets.token_bytes((needed - len(letters)) * 9 // 8 + 32)
        letters += raw.translate(_BYTE_TO_LETTER, _REJECTED)
    text = letters[:needed].decode("ascii")
    return [CODE_PREFIX + text[i:i + RANDOM_LENGTH] for i in range(0, needed, RANDOM_LENGTH)]


# Program


def import_program(db, path_or_file, *, filename=None, dry_run=False):
    """Import or update rooms, time blocks and sessions from a CSV/XLSX file, all or nothing; returns the report.

    Rooms match by name, blocks by name and sessions by block and title (all ignoring
    case and accents). Sessions missing from the file are kept: attendees may have chosen them.
    """
    with _gc_paused():
        table = read_table(path_or_file, filename)
        with _transaction(db, dry_run):
            return apply_program(db, table, dry_run=dry_run)


def _parse_time(text):
    match = TIME_RE.match(text.strip())
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


def _parse_count(text):
    text = text.strip()
    if not text:
        return None, True
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None, False
    if value < 0 or not value.is_integer():
        return None, False
    return int(value), True


def apply_program(db, table, *, dry_run=False):
    """Check the program TABLE against the database and write it; the caller holds the transaction."""
    table = _skip_title_rows(table, PROGRAM_HEADERS, [("block", "title")])
    columns = _map_columns(table.header, PROGRAM_HEADERS)
    fields = set(columns.values())
    line1 = table.header_line
    # Whole sentences, one per case, so a translation can word each its own way.
    columns_found = _column_list(table.header)
    if "block" not in fields and "title" not in fields:
        raise ImportRejected([_(
            "line %(line)s: there is no Blok/Block or Sessie/Session column; the columns are: %(columns)s",
            line=line1, columns=columns_found,
        )])
    if "block" not in fields:
        raise ImportRejected([_(
            "line %(line)s: there is no Blok/Block column; the columns are: %(columns)s", line=line1, columns=columns_found
        )])
    if "title" not in fields:
        raise ImportRejected([_(
            "line %(line)s: there is no Sessie/Session column; the columns are: %(columns)s",
            line=line1, columns=columns_found,
        )])
    if not table.rows:
        raise ImportRejected([_("the file has a header on line %(line)s but no sessions", line=line1)])

    rooms = {fold(r["name"]): r for r in db.query("SELECT * FROM rooms")}
    blocks = {fold(b["name"]): b for b in db.query("SELECT * FROM blocks")}
    sessions = {(s["block_id"], fold(s["title"])): s for s in db.query("SELECT * FROM sessions")}
    problems = []
    new_rooms, new_blocks, items = {}, {}, []
    seen_sessions, room_use = {}, {}
    for line, cells in table.rows:
        record, _extra = _cells(cells, columns)
        block_name = " ".join(record["block"].split())
        title = " ".join(record["title"].split())
        if not block_name:
            problems.append(_("line %(line)s: block is missing", line=line))
        if not title:
            problems.append(_("line %(line)s: session title is missing", line=line))
        kind = KINDS.get(fold(record.get("kind", "")))
        if kind is None:
            problems.append(_(
                "line %(line)s: kind '%(kind)s' is not one of plenary, session, walk, break "
                "(plenair, sessie, wandeling, pauze)",
                line=line, kind=record["kind"].strip(),
            ))
        times = {}
        for field in ("starts_at", "ends_at"):
            raw = record.get(field, "").strip()
            if raw:
                times[field] = _parse_time(raw)
                if times[field] is None and field == "starts_at":
                    problems.append(_("line %(line)s: start time '%(time)s' is not a time like 09:30", line=line, time=raw))
                elif times[field] is None:
                    problems.append(_("line %(line)s: end time '%(time)s' is not a time like 09:30", line=line, time=raw))
        if times.get("starts_at") and times.get("ends_at") and times["ends_at"] <= times["starts_at"]:
            problems.append(_(
                "line %(line)s: block ends at %(end)s, not after it starts at %(start)s",
                line=line, end=times["ends_at"], start=times["starts_at"],
            ))
        if block_name:
            key = fold(block_name)
            block = new_blocks.setdefault(key, {"name": block_name, "line": line})
            for field, value in times.items():
                if value is None:
                    continue
                if field in block and block[field][0] != value:
                    known = {"line": line, "block": block_name, "first": block[field][0],
                             "first_line": block[field][1], "time": value}
                    if field == "starts_at":
                        problems.append(_(
                            "line %(line)s: block '%(block)s' starts at %(first)s on line %(first_line)s "
                            "but at %(time)s here", **known,
                        ))
                    else:
                        problems.append(_(
                            "line %(line)s: block '%(block)s' ends at %(first)s on line %(first_line)s "
                            "but at %(time)s here", **known,
                        ))
                block.setdefault(field, (value, line))
        room_name = " ".join(record.get("room", "").split())
        capacity, ok = _parse_count(record.get("capacity", ""))
        if not ok:
            problems.append(_(
                "line %(line)s: capacity '%(capacity)s' is not a whole number", line=line, capacity=record["capacity"].strip()
            ))
        if room_name:
            room = new_rooms.setdefault(fold(room_name), {"name": room_name, "line": line})
            if capacity is not None:
                if "capacity" in room and room["capacity"][0] != capacity:
                    problems.append(_(
                        "line %(line)s: room '%(room)s' has capacity %(first)s on line %(first_line)s "
                        "but %(capacity)s here",
                        line=line, room=room_name, first=room["capacity"][0], first_line=room["capacity"][1],
                        capacity=capacity,
                    ))
                room.setdefault("capacity", (capacity, line))
            location = " ".join(record.get("room_location", "").split())
            if location:
                room.setdefault("location", location)
        elif capacity is not None:
            problems.append(_("line %(line)s: a capacity is given but no room", line=line))
        place_limit, ok = _parse_count(record.get("place_limit", ""))
        if not ok:
            problems.append(_(
                "line %(line)s: place limit '%(limit)s' is not a whole number",
                line=line, limit=record["place_limit"].strip(),
            ))
        if block_name and title:
            key = (fold(block_name), fold(title))
            if key in seen_sessions:
                problems.append(_(
                    "line %(line)s: session '%(session)s' in block '%(block)s' is also on line %(other_line)s",
                    line=line, session=title, block=block_name, other_line=seen_sessions[key],
                ))
            seen_sessions[key] = line
            if room_name and kind in ("session", "plenary"):
                use = (fold(block_name), fold(room_name))
                if use in room_use:
                    other_title, other_line = room_use[use]
                    problems.append(_(
                        "line %(line)s: room '%(room)s' already holds '%(session)s' (line %(other_line)s) "
                        "in block '%(block)s'",
                        line=line, room=room_name, session=other_title, other_line=other_line, block=block_name,
                    ))
                else:
                    room_use[use] = (title, line)
        items.append({
            "line": line, "block": fold(block_name), "title": title, "kind": kind or "session",
            "room": fold(room_name) if room_name else None,
            "meeting_point": " ".join(record.get("meeting_point", "").split()) or None,
            "place_limit": place_limit, "description": record.get("description", "").strip(),
        })
    for key, room in new_rooms.items():
        if key not in rooms and "capacity" not in room:
            problems.append(_("line %(line)s: room '%(room)s' is new and needs a capacity", line=room["line"], room=room["name"]))
    for key, block in new_blocks.items():
        if key not in blocks and not ("starts_at" in block and "ends_at" in block):
            problems.append(_(
                "line %(line)s: block '%(block)s' is new and needs a start and an end time",
                line=block["line"], block=block["name"],
            ))
    if problems:
        raise ImportRejected(problems)

    report = {"kind": "program", "dry_run": dry_run, "preview": [],
              **{what: {"added": 0, "updated": 0, "unchanged": 0} for what in ("sessions", "rooms", "blocks")}}
    room_ids = {}
    for key, room in new_rooms.items():
        old = rooms.get(key)
        values = {"name": room["name"]}
        values["capacity"] = room["capacity"][0] if "capacity" in room else old["capacity"]
        values["location"] = room.get("location", old["location"] if old else "")
        room_ids[key] = _upsert(db, "rooms", values, old, report["rooms"], dry_run)
    block_ids = {}
    for key, block in new_blocks.items():
        old = blocks.get(key)
        values = {"name": block["name"]}
        for field in ("starts_at", "ends_at"):
            values[field] = block[field][0] if field in block else old[field]
        block_ids[key] = _upsert(db, "blocks", values, old, report["blocks"], dry_run)
    for item in items:
        block_id = block_ids[item["block"]]
        values = {
            "block_id": block_id, "title": item["title"], "kind": item["kind"],
            "room_id": room_ids[item["room"]] if item["room"] else None,
            "meeting_point": item["meeting_point"] if "meeting_point" in fields else None,
            "place_limit": item["place_limit"] if "place_limit" in fields else None,
            "description": item["description"],
        }
        old = sessions.get((block_id, fold(item["title"]))) if block_id is not None else None
        if old is None:
            action = "added"
            if not dry_run:
                db["sessions"].insert(values)
        else:
            for field, column in (("meeting_point", "meeting_point"), ("place_limit", "place_limit"),
                                  ("description", "description"), ("kind", "kind"), ("room", "room_id")):
                if field not in fields:
                    values[column] = old[column]
            changed = any(values[k] != old[k] for k in values)
            action = "updated" if changed else "unchanged"
            if changed and not dry_run:
                db["sessions"].update(old["id"], values)
        report["sessions"][action] += 1
        if len(report["preview"]) < PREVIEW_ROWS:
            report["preview"].append({
                "line": item["line"], "action": action, "block": new_blocks[item["block"]]["name"],
                "title": item["title"], "kind": item["kind"],
                "room": new_rooms[item["room"]]["name"] if item["room"] else "",
                "place_limit": item["place_limit"],
            })
    if not dry_run:
        # Every room needs its occupancy counter row; rooms made here have none yet.
        db.execute("INSERT OR IGNORE INTO occupancy (room_id, inside, anonymous) SELECT id, 0, 0 FROM rooms")
    return report
