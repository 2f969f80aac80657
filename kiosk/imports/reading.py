"""Reading the files organisers have: CSV in any of Excel's encodings and delimiters, and XLSX workbooks."""

import csv
import os
import re

import charset_normalizer

from flask_babel import gettext as _

from kiosk.imports import xlsx
from kiosk.imports.report import ImportRejected


# Encodings a CSV may come in when it is not UTF-8, in the order of how likely they are: Excel on
# Windows saves Windows-1252, Excel on a Mac MacRoman, "Unicode text" UTF-16.
CSV_ENCODINGS = ["cp1252", "mac_roman", "utf_16_le", "utf_16_be", "iso8859_15"]
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # in text, a sign it was not read right
WORD_WITH_ACCENTS_RE = re.compile(r"\S*[^\x00-\x7f]\S*")
ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
LIKELY_ENCODINGS = {"utf-8", "utf-8-sig", "utf-16", "utf_16_le", "utf_16_be", "cp1252", "ascii"}


class Table:
    """A file's header and its non-blank rows, each with the line number it starts on.

    Also what the reader skipped (line, reason, cells): 'blank', 'hidden', 'struck'; the sheet
    read and every sheet of a workbook; the encoding of a CSV file.
    """

    def __init__(self, header, rows, header_line=1, *, skipped=None, sheet=None, sheets=(), encoding=None):
        self.header = header
        self.rows = rows  # [(line, [cell, ...]), ...]
        self.header_line = header_line
        self.skipped = skipped if skipped is not None else []
        self.sheet, self.sheets, self.encoding = sheet, list(sheets), encoding

    @property
    def unlikely_encoding(self):
        """True when the file read well only in an encoding organisers' files seldom have (MacRoman, ...)."""
        return self.encoding is not None and self.encoding not in LIKELY_ENCODINGS


def read_table(source, filename=None, sheet=None):
    """Read a CSV or XLSX file (a path or a binary file object) into a Table, or raise ImportRejected.

    SHEET names the worksheet of a workbook to read; by default its attendees' sheet or its first.
    """
    data, filename = _read_bytes(source, filename)
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise ImportRejected([_("the file is empty")])
    extension = os.path.splitext(filename or "")[1].lower()
    if data.startswith(b"PK\x03\x04"):
        table = _read_xlsx(data, sheet)
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
    """The bytes of SOURCE (bytes, a path or a file object) and the file name to judge them by."""
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
    """DATA as text and its encoding: UTF-16 with a byte order mark, UTF-8 (with or without one), else detected."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    else:
        if b"\x00" not in data:
            try:
                return data.decode("utf-8-sig"), "utf-8"
            except UnicodeDecodeError:
                pass
        guess = charset_normalizer.from_bytes(data, cp_isolation=CSV_ENCODINGS).best()
        if guess is not None and _reads_as_text(str(guess), guess.encoding):
            return str(guess), guess.encoding
        if b"\x00" in data:
            raise ImportRejected([_("the file is not a text (CSV) file: upload a CSV or XLSX file")])
        try:
            # Excel on Windows in Dutch saves "CSV (gescheiden door lijstscheidingsteken)" in Windows-1252.
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    raise ImportRejected([_("the file's characters cannot be read: save it as CSV UTF-8 or as .xlsx")])


def _reads_as_text(text, encoding):
    """Whether TEXT, decoded as ENCODING, reads as text: no control characters, and in an unlikely
    encoding every accented letter beside a plain one, as in names ('Zoë', not 'Åçê')."""
    if CONTROL_RE.search(text[:4096]):
        return False
    if encoding in LIKELY_ENCODINGS:
        return True
    return all(ASCII_LETTER_RE.search(run) for run in WORD_WITH_ACCENTS_RE.findall(text[:100_000]))


def _read_csv(data):
    """A CSV file as a Table, its delimiter taken from a 'sep=' line or guessed from the first line."""
    text, encoding = _decode(data)
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
    rows, blank = [], []
    previous = 0
    try:
        for cells in reader:
            line = start_line + previous
            previous = reader.line_num
            # Cells are stripped where they are read: stripping all of them here costs a second per 50,000 rows.
            if not "".join(cells).strip():
                if header is not None and len(blank) < 100_000:
                    blank.append((line, "blank", []))
                continue
            if header is None:
                header, header_line = [c.strip() for c in cells], line
            else:
                rows.append((line, cells))
    except csv.Error as error:
        raise ImportRejected(
            [_("line %(line)s: the CSV cannot be read (%(error)s)", line=start_line + previous, error=error)]
        ) from None
    last = rows[-1][0] if rows else 0
    return Table(header or [], rows, header_line, skipped=[b for b in blank if b[0] < last], encoding=encoding)


def _count_outside_quotes(line, delimiter):
    """How often DELIMITER occurs in LINE outside double quotes."""
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _read_xlsx(data, sheet=None):
    """A worksheet of an XLSX workbook as a Table, read as a stream within limits (kiosk.imports.xlsx)."""
    read = xlsx.read_rows(data, sheet)
    header, header_line, rows = None, 1, []
    for line, values in read.rows:
        if header is None:
            header, header_line = values, line
        else:
            rows.append((line, values))
    skipped = [entry for entry in read.skipped if entry[0] > header_line]
    lines = [line for line, _cells in rows]
    # Blank rows between attendees: a gap in the line numbers that no skipped row explains.
    explained = {line for line, _reason, _cells in skipped}
    for before, after in zip(lines, lines[1:]):
        if after - before > 1 and len(skipped) < 100_000:
            skipped.extend((line, "blank", []) for line in range(before + 1, min(after, before + 1000))
                           if line not in explained)
    skipped.sort(key=lambda entry: entry[0])
    return Table(header or [], rows, header_line, skipped=skipped, sheet=read.sheet, sheets=read.sheets)
