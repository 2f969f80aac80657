"""A worksheet's XML, event by event, into rows of cell text, within the limits of what a sheet may hold.

The callbacks are expat's (kiosk.imports.xlsx feeds them): only the cell being read is kept
apart from the rows, so no part of a workbook costs more memory than the rows it yields.
"""

import bisect
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from openpyxl.utils.datetime import from_ISO8601, from_excel

MAX_ROWS = 200_000  # rows with something in them
EXCEL_ROWS = 1_048_576  # rows of any kind, blank ones too: Excel's own limit
MAX_COLUMNS = 1_000  # the last column with a value, counted from A
MAX_CELLS = 4_000_000  # cells kept, counting the blanks before a row's last value
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_SHARED_STRINGS = 1_000_000
MAX_MERGES = 10_000  # merged ranges read from one sheet

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SEP = "|"  # expat's separator between a namespace and a local name


class TooBig(Exception):
    """A limit was passed; the message (translated) says which."""


def _cell_too_long():
    return TooBig(_("a cell of the workbook holds more than %(max)s characters", max=MAX_CELL_CHARS))


def _too_many_cells():
    return TooBig(_("the workbook has more than %(max)s cells; split it into smaller files", max=MAX_CELLS))


def column_letters(index):
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(reference):
    """'XFD12' -> 16383; None when the reference has no letters."""
    index = 0
    for char in reference:
        if "A" <= char <= "Z":
            index = index * 26 + ord(char) - 64
        else:
            break
    return index - 1 if index else None


class SheetReader:
    """The rows of one worksheet: (line, [text, ...]) for every row with a value.

    Hidden rows and rows whose every value is struck through go to .skipped as (line, reason,
    cells) instead; merged ranges are kept in .merges ('A5:A8') for fill_merged.
    """

    ROW, CELL, V, T, IS = (f"{MAIN_NS}{SEP}{name}" for name in ("row", "c", "v", "t", "is"))
    MERGE = f"{MAIN_NS}{SEP}mergeCell"

    def __init__(self, shared, styles, epoch):
        self.shared, self.epoch = shared, epoch
        self.dates, self.timedeltas = styles.dates, styles.timedeltas
        self.struck_styles, self.zero_pad = styles.struck, styles.zero_pad
        self.rows, self.skipped, self.merges, self.cells_kept, self.cells_seen = [], [], [], 0, 0
        self.line, self.cells, self.column, self.hidden, self.struck, self.values = 0, [], -1, False, 0, 0
        self.kind, self.style, self.parts, self.size, self.collecting, self.in_inline = "n", None, [], 0, False, False

    def start(self, tag, attrs):
        if tag == self.CELL:
            self.cells_seen += 1
            if self.cells_seen > MAX_CELLS:
                raise _too_many_cells()
            reference = attrs.get("r")
            column = _column_index(reference) if reference else None
            self.column = self.column + 1 if column is None else column
            self.kind, self.style, self.parts, self.size = attrs.get("t", "n"), attrs.get("s"), [], 0
        elif tag == self.V:
            self.collecting = True
        elif tag == self.IS:
            self.in_inline = True
        elif tag == self.MERGE and len(self.merges) < MAX_MERGES:
            self.merges.append(attrs.get("ref", ""))
        elif tag == self.T and self.in_inline:
            self.collecting = True
        elif tag == self.ROW:
            number = attrs.get("r")
            self.line = int(number) if number and number.isdigit() and len(number) < 8 else self.line + 1
            self.cells, self.column, self.struck, self.values = [], -1, 0, 0
            self.hidden = attrs.get("hidden") in ("1", "true")
            if self.line > EXCEL_ROWS:
                raise TooBig(_("the sheet has more than %(max)s rows, more than Excel allows", max=EXCEL_ROWS))

    def text(self, data):
        if self.collecting:
            self.size += len(data)
            if self.size > MAX_CELL_CHARS:
                raise _cell_too_long()
            self.parts.append(data)

    def end(self, tag):
        if tag == self.V or tag == self.T:
            self.collecting = False
        elif tag == self.IS:
            self.in_inline = False
        elif tag == self.CELL:
            text = self._value()
            if text:
                self._keep(text)
        elif tag == self.ROW:
            self._end_row()

    def _keep(self, text):
        column = self.column
        if column >= MAX_COLUMNS:
            raise TooBig(_(
                "cell %(cell)s is in column %(column)s; the importer reads at most %(max)s columns",
                cell=f"{column_letters(column)}{self.line}", column=column + 1, max=MAX_COLUMNS,
            ))
        cells = self.cells
        if column >= len(cells):
            cells.extend([""] * (column - len(cells) + 1))
        cells[column] = text
        self.values += 1
        if self.style in self.struck_styles:
            self.struck += 1

    def _end_row(self):
        if not self.cells:
            return
        if len(self.rows) + len(self.skipped) >= MAX_ROWS:
            raise TooBig(_("the workbook has more than %(max)s rows; split it into smaller files", max=MAX_ROWS))
        self.cells_kept += len(self.cells)
        if self.cells_kept > MAX_CELLS:
            raise _too_many_cells()
        if self.hidden:
            self.skipped.append((self.line, "hidden", self.cells))
        elif self.struck == self.values:
            self.skipped.append((self.line, "struck", self.cells))
        else:
            self.rows.append((self.line, self.cells))
        self.cells = []

    def _value(self):
        """The cell just read as text, the way openpyxl's read-only reader and cell_text would make it."""
        raw = "".join(self.parts)
        kind = self.kind
        if kind == "inlineStr" or kind == "str":
            return raw.strip()
        if not raw:
            return ""
        if kind == "s":
            return self.shared[int(raw)].strip()
        if kind == "n":
            number = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
            if self.style in self.dates:
                try:
                    return cell_text(from_excel(number, self.epoch, timedelta=self.style in self.timedeltas))
                except (OverflowError, ValueError):
                    return "#VALUE!"
            width = self.zero_pad.get(self.style)
            if width and isinstance(number, int):
                return str(number).zfill(width)  # a code formatted "000000000": its leading zeros are part of it
            return cell_text(number)
        if kind == "b":
            return "1" if int(raw) else "0"
        if kind == "d":
            return cell_text(from_ISO8601(raw))
        return raw.strip()


def fill_merged(rows, merges):
    """Give every cell of a vertically merged range (MERGES: 'A5:A8') in ROWS the value of its first cell."""
    lines = [line for line, _cells in rows]  # in sheet order, so sorted
    budget = MAX_CELLS  # ranges may overlap: the filling as a whole is bounded
    for reference in merges:
        first, _, last = reference.partition(":")
        top, left = _cell_position(first)
        bottom, right = _cell_position(last)
        if None in (top, left, bottom, right) or bottom <= top:
            continue
        start = bisect.bisect_left(lines, top)
        if start == len(lines) or lines[start] != top:
            continue
        source = rows[start][1]
        values = [(column, source[column]) for column in range(left, min(right + 1, len(source))) if source[column]]
        for position in range(start + 1, bisect.bisect_right(lines, bottom)):
            cells = rows[position][1]
            budget -= len(values) + 1
            if budget < 0:
                raise _too_many_cells()
            for column, value in values:
                if column >= len(cells):
                    cells.extend([""] * (column - len(cells) + 1))
                if not cells[column]:
                    cells[column] = value


def _cell_position(reference):
    """'B12' -> (12, 1); (None, None) when it is not a cell reference."""
    column = _column_index(reference)
    digits = reference.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if column is None or not digits.isdigit() or len(digits) > 7:
        return None, None
    return int(digits), column


class SharedStrings:
    """The <si> entries of sharedStrings.xml: their <t> text (phonetic runs left out)."""

    T, SI, RPH = f"{MAIN_NS}{SEP}t", f"{MAIN_NS}{SEP}si", f"{MAIN_NS}{SEP}rPh"

    def __init__(self):
        self.strings, self.parts, self.size, self.in_t, self.in_rph = [], [], 0, False, False

    def start(self, tag, attrs):
        if tag == self.T:
            self.in_t = not self.in_rph
        elif tag == self.RPH:
            self.in_rph = True

    def end(self, tag):
        if tag == self.T:
            self.in_t = False
        elif tag == self.RPH:
            self.in_rph = False
        elif tag == self.SI:
            if len(self.strings) >= MAX_SHARED_STRINGS:
                raise TooBig(_("the workbook holds more than %(max)s different texts", max=MAX_SHARED_STRINGS))
            self.strings.append("".join(self.parts))
            self.parts, self.size = [], 0

    def text(self, data):
        if self.in_t:
            self.size += len(data)
            if self.size > MAX_CELL_CHARS:
                raise _cell_too_long()
            self.parts.append(data)


def cell_text(value):
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
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()
