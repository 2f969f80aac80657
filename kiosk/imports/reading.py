"""Reading the files organisers have: CSV in any of Excel's encodings and delimiters, and XLSX workbooks."""

import csv
import io
import os
import re
from datetime import date, datetime, time

from flask_babel import gettext as _

from kiosk.imports.report import ImportRejected


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
    """DATA as text: UTF-16 with a byte order mark, UTF-8 (with or without one), else Windows-1252."""
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
    """A CSV file as a Table, its delimiter taken from a 'sep=' line or guessed from the first line."""
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
    """How often DELIMITER occurs in LINE outside double quotes."""
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _read_xlsx(data):
    """The first worksheet of an XLSX workbook as a Table."""
    # Loaded when a workbook arrives, not at start-up: openpyxl takes a while to import.
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
    """A worksheet cell as the text a CSV export would hold: whole numbers without .0, times as 09:30."""
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
