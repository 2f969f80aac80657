"""Reading one worksheet of an XLSX workbook as a stream, within limits checked as it goes.

A workbook is a zip of XML parts. Nothing here holds a whole part in memory: each part is
decompressed in chunks and fed to expat, whose callbacks (kiosk.imports.sheet) keep only the
cell being read, so a file padded with whitespace, a value far to the right or a zip bomb is
refused before it costs memory (tests/test_import_limits.py). What an accepted workbook costs
is its rows, which the import then checks like a CSV file's (kiosk.imports.sheet.MAX_ROWS).
"""

import io
import posixpath
import re
import zipfile
from types import SimpleNamespace
from xml.parsers import expat

from flask_babel import gettext as _
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

from kiosk.imports.report import ImportRejected
from kiosk.imports.sheet import MAIN_NS, SEP, SharedStrings, SheetReader, TooBig, fill_merged
from kiosk.text import fold

MAX_RATIO = 100  # a part that expands more than this is a zip bomb, not a spreadsheet ...
RATIO_FLOOR = 1024 * 1024  # ... once it unpacks to more than this (tiny parts compress as they like)
MAX_UNCOMPRESSED = 256 * 1024 * 1024  # bytes of XML, all parts together
MAX_TOKEN_BYTES = 1024 * 1024  # one tag with its attributes: expat holds a tag until it ends
CHUNK = 64 * 1024
ZERO_PAD_RE = re.compile(r"0{2,15}")  # a number format such as "000000000": a code with its leading zeros

REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# The sheet an export keeps its attendees on, when the workbook has several: pretix's order data
# workbook has "Orders" (the buyers) first and "Order positions" (the attendees) second.
ATTENDEE_SHEETS = ("order positions", "bestelposities", "bestellingsposities", "posities", "attendees",
                   "deelnemers", "registrations", "aanmeldingen", "inschrijvingen", "registraties")


class SheetData:
    """What was read of one worksheet: its rows, the rows skipped (line, reason, cells), its name and all names."""

    def __init__(self, rows, skipped, sheet, sheets):
        self.rows, self.skipped, self.sheet, self.sheets = rows, skipped, sheet, sheets


def read_rows(data, sheet=None):
    """The worksheet named SHEET of DATA (XLSX bytes), else the attendees' sheet or the first, as SheetData.

    Its rows are those with a value, (line, [text, ...]); hidden and struck-through rows are
    skipped, and vertically merged cells filled down. Raises ImportRejected with a clear
    message for a damaged workbook or one past a limit.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportRejected([_("the file is not a readable XLSX workbook (%(error)s)", error=type(error).__name__)]) from None
    with archive:
        _check_stated_sizes(archive)
        try:
            return _Workbook(archive).sheet_rows(sheet)
        except TooBig as too_big:
            raise ImportRejected([str(too_big)]) from None
        except ImportRejected:
            raise
        except Exception as error:  # zipfile, expat and a damaged part's values raise many kinds
            raise ImportRejected([
                _("the workbook's sheet cannot be read (%(error)s)", error=f"{type(error).__name__}: {error}")
            ]) from None


def _ratio_refused(name, ratio):
    return ImportRejected([_(
        "the workbook is refused: its part %(part)s unpacks to %(ratio)s times its size (at most %(max)s), "
        "which a spreadsheet does not do",
        part=name, ratio=ratio, max=MAX_RATIO,
    )])


def _too_big():
    return TooBig(_(
        "the workbook is too big: it unpacks to more than %(max)s MB; split it or save it as CSV",
        max=MAX_UNCOMPRESSED // (1024 * 1024),
    ))


def _check_stated_sizes(archive):
    """Refuse a zip whose parts, by the sizes it states, expand too far; reading checks the real sizes too."""
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _ratio_refused(info.filename, info.file_size // max(info.compress_size, 1))
    if total > MAX_UNCOMPRESSED:
        raise ImportRejected([str(_too_big())])


class _Workbook:
    """The parts of a workbook that say which sheet is first, its shared strings and its date styles."""

    def __init__(self, archive):
        self.archive, self.names, self.unpacked = archive, set(archive.namelist()), 0
        office = [t for kind, t in self._relationships("_rels/.rels", "").values() if kind.endswith("/officeDocument")]
        self.workbook = office[0] if office else "xl/workbook.xml"
        base, leaf = posixpath.split(self.workbook)
        self.related = self._relationships(posixpath.join(base, "_rels", leaf + ".rels"), base)

    def sheet_rows(self, wanted):
        sheets, epoch = self._sheets()
        if not sheets:
            raise ImportRejected([_("the workbook has no worksheets")])
        names = [name for name, _part in sheets]
        by_name = {fold(name).strip(): (name, part) for name, part in sheets}
        if wanted is not None and fold(wanted).strip() not in by_name:
            raise ImportRejected([_(
                "the workbook has no sheet named '%(sheet)s'; its sheets are: %(sheets)s",
                sheet=wanted, sheets=", ".join(names),
            )])
        preferred = [by_name[key] for key in ATTENDEE_SHEETS if key in by_name]
        name, part = by_name[fold(wanted).strip()] if wanted is not None else (preferred or sheets)[0]
        shared = SharedStrings()
        self._parse(self._part("/sharedStrings"), shared)
        reader = SheetReader(shared.strings, self._styles(), epoch)
        self._parse(part, reader)
        fill_merged(reader.rows, reader.merges)
        return SheetData(reader.rows, reader.skipped, name, names)

    def _parse(self, name, handler):
        """Feed part NAME (if there is one) through expat to HANDLER's start, end and text."""
        if not name:
            return
        info = self.archive.getinfo(name)
        parser = expat.ParserCreate(namespace_separator=SEP)
        parser.StartElementHandler, parser.EndElementHandler = handler.start, handler.end
        parser.CharacterDataHandler = handler.text
        fed = 0
        with self.archive.open(info) as part:
            while chunk := part.read(CHUNK):
                fed += len(chunk)
                self.unpacked += len(chunk)
                if fed > RATIO_FLOOR and fed > MAX_RATIO * max(info.compress_size, 1):
                    raise _ratio_refused(name, fed // max(info.compress_size, 1))
                if self.unpacked > MAX_UNCOMPRESSED:
                    raise _too_big()
                parser.Parse(chunk, False)
                if fed - parser.CurrentByteIndex > MAX_TOKEN_BYTES:
                    raise TooBig(_("the workbook holds an XML tag of more than 1 MB, which a spreadsheet does not"))
            parser.Parse(b"", True)

    def _relationships(self, name, base):
        """{id: (type, part name)} from the relationships part NAME, its targets relative to BASE."""
        collector = _Collector(f"{REL_NS}{SEP}Relationship")
        self._parse(name if name in self.names else None, collector)
        found = {}
        for attrs in collector.found:
            target = attrs.get("Target", "")
            target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            found[attrs.get("Id")] = (attrs.get("Type", ""), target)
        return found

    def _part(self, type_suffix):
        return next((t for kind, t in self.related.values() if kind.endswith(type_suffix) and t in self.names), None)

    def _sheets(self):
        """[(name, part name)] of the worksheets in order (chart sheets are not read); and the date system."""
        sheet_tag, properties_tag = f"{MAIN_NS}{SEP}sheet", f"{MAIN_NS}{SEP}workbookPr"
        collector = _Collector(sheet_tag, properties_tag)
        self._parse(self.workbook if self.workbook in self.names else None, collector)
        epoch = CALENDAR_WINDOWS_1900
        sheets = []
        for tag, attrs in zip(collector.tags_found, collector.found):
            if tag == properties_tag and attrs.get("date1904") in ("1", "true"):
                epoch = CALENDAR_MAC_1904
            kind, target = self.related.get(attrs.get(f"{DOC_REL_NS}{SEP}id"), ("", ""))
            if tag == sheet_tag and kind.endswith("/worksheet") and target in self.names:
                sheets.append((attrs.get("name") or target, target))
        return sheets, epoch

    def _styles(self):
        """Which cell styles (s="...") show a date, a duration, struck-through text, or a number as a zero-padded code."""
        styles = _Styles()
        self._parse(self._part("/styles"), styles)
        dates, timedeltas, struck, zero_pad = set(), set(), set(), {}
        for index, (format_id, font_id) in enumerate(styles.xfs):
            code = styles.formats.get(format_id) or BUILTIN_FORMATS.get(format_id)
            if code and is_date_format(code):
                dates.add(str(index))
                if is_timedelta_format(code):
                    timedeltas.add(str(index))
            elif code and ZERO_PAD_RE.fullmatch(code):
                zero_pad[str(index)] = len(code)
            if 0 <= font_id < len(styles.fonts) and styles.fonts[font_id]:
                struck.add(str(index))
        return SimpleNamespace(dates=frozenset(dates), timedeltas=frozenset(timedeltas), struck=frozenset(struck),
                               zero_pad=zero_pad)


class _Collector:
    """The attributes of every element named one of TAGS (a bounded number of them)."""

    def __init__(self, *tags):
        self.tags, self.tags_found, self.found = tags, [], []

    def start(self, tag, attrs):
        if tag in self.tags and len(self.found) < 10_000:
            self.tags_found.append(tag)
            self.found.append(attrs)

    def end(self, tag):
        pass

    def text(self, data):
        pass


class _Styles:
    """Each cell style's (cellXfs) number format and font, and which fonts strike through."""

    XF, CELL_XFS, NUM_FMT = f"{MAIN_NS}{SEP}xf", f"{MAIN_NS}{SEP}cellXfs", f"{MAIN_NS}{SEP}numFmt"
    FONTS, FONT, STRIKE = f"{MAIN_NS}{SEP}fonts", f"{MAIN_NS}{SEP}font", f"{MAIN_NS}{SEP}strike"

    def __init__(self):
        self.formats, self.xfs, self.fonts, self.in_cell_xfs, self.in_fonts = {}, [], [], False, False

    def start(self, tag, attrs):
        if tag == self.NUM_FMT and len(self.formats) < 10_000:
            self.formats[_number(attrs.get("numFmtId"))] = attrs.get("formatCode", "")
        elif tag == self.CELL_XFS:
            self.in_cell_xfs = True
        elif tag == self.XF and self.in_cell_xfs and len(self.xfs) < 100_000:
            self.xfs.append((_number(attrs.get("numFmtId")), _number(attrs.get("fontId"))))
        elif tag == self.FONTS:
            self.in_fonts = True
        elif tag == self.FONT and self.in_fonts and len(self.fonts) < 100_000:
            self.fonts.append(False)
        elif tag == self.STRIKE and self.in_fonts and self.fonts:
            self.fonts[-1] = attrs.get("val", "1") not in ("0", "false")

    def end(self, tag):
        if tag == self.CELL_XFS:
            self.in_cell_xfs = False
        elif tag == self.FONTS:
            self.in_fonts = False

    def text(self, data):
        pass


def _number(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return -1
