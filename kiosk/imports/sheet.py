"""A worksheet's XML, event by event, into rows of cell text, within the limits of what a sheet may hold.

The callbacks are expat's (kiosk.imports.xlsx feeds them): only the cell being read is kept
apart from the rows, so no part of a workbook costs more memory than the rows it yields.
"""

from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from openpyxl.utils.datetime import from_ISO8601, from_excel

MAX_ROWS = 200_000  # rows with something in them
EXCEL_ROWS = 1_048_576  # rows of any kind, blank ones too: Excel's own limit
MAX_COLUMNS = 1_000  # the last column with a value, counted from A
MAX_CELLS = 4_000_000  # cells kept, counting the blanks before a row's last value
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_SHARED_STRINGS = 1_000_000

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
    """The rows of one worksheet: (line, [text, ...]) for every row with a value."""

    ROW, CELL, V, T, IS = (f"{MAIN_NS}{SEP}{name}" for name in ("row", "c", "v", "t", "is"))

    def __init__(self, shared, dates, timedeltas, epoch):
        self.shared, self.dates, self.timedeltas, self.epoch = shared, dates, timedeltas, epoch
        self.rows, self.cells_kept, self.cells_seen = [], 0, 0
        self.line, self.cells, self.column = 0, [], -1
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
        elif tag == self.T and self.in_inline:
            self.collecting = True
        elif tag == self.ROW:
            number = attrs.get("r")
            self.line = int(number) if number and number.isdigit() and len(number) < 8 else self.line + 1
            self.cells, self.column = [], -1
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

    def _end_row(self):
        if not self.cells:
            return
        if len(self.rows) >= MAX_ROWS:
            raise TooBig(_("the workbook has more than %(max)s rows; split it into smaller files", max=MAX_ROWS))
        self.cells_kept += len(self.cells)
        if self.cells_kept > MAX_CELLS:
            raise _too_many_cells()
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
            return cell_text(number)
        if kind == "b":
            return "1" if int(raw) else "0"
        if kind == "d":
            return cell_text(from_ISO8601(raw))
        return raw.strip()


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
