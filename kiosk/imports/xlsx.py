"""Reading the first worksheet of an XLSX workbook as a stream, within limits checked as it goes.

A workbook is a zip of XML parts. Nothing here holds a whole part in memory: each part is
decompressed in chunks and fed to expat, whose callbacks (kiosk.imports.sheet) keep only the
cell being read, so a file padded with whitespace, a value far to the right or a zip bomb is
refused before it costs memory (tests/test_import_limits.py). What an accepted workbook costs
is its rows, which the import then checks like a CSV file's (kiosk.imports.sheet.MAX_ROWS).
"""

import io
import posixpath
import zipfile
from xml.parsers import expat

from flask_babel import gettext as _
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

from kiosk.imports.report import ImportRejected
from kiosk.imports.sheet import MAIN_NS, SEP, SharedStrings, SheetReader, TooBig

MAX_RATIO = 100  # a part that expands more than this is a zip bomb, not a spreadsheet ...
RATIO_FLOOR = 1024 * 1024  # ... once it unpacks to more than this (tiny parts compress as they like)
MAX_UNCOMPRESSED = 256 * 1024 * 1024  # bytes of XML, all parts together
MAX_TOKEN_BYTES = 1024 * 1024  # one tag with its attributes: expat holds a tag until it ends
CHUNK = 64 * 1024

REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def read_rows(data):
    """The rows with a value of the first worksheet in DATA (XLSX bytes): [(line, [text, ...]), ...].

    Raises ImportRejected with a clear message for a damaged workbook or one past a limit.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportRejected([_("the file is not a readable XLSX workbook (%(error)s)", error=type(error).__name__)]) from None
    with archive:
        _check_stated_sizes(archive)
        try:
            return _Workbook(archive).first_sheet_rows()
        except TooBig as too_big:
            raise ImportRejected([str(too_big)]) from None
        except ImportRejected:
            raise
        except Exception as error:  # zipfile, expat and a damaged part's values raise many kinds
            raise ImportRejected([
                _("the workbook's first sheet cannot be read (%(error)s)", error=f"{type(error).__name__}: {error}")
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

    def first_sheet_rows(self):
        sheet, epoch = self._first_sheet()
        if sheet is None:
            raise ImportRejected([_("the workbook has no worksheets")])
        shared = SharedStrings()
        self._parse(self._part("/sharedStrings"), shared)
        dates, timedeltas = self._date_styles()
        reader = SheetReader(shared.strings, dates, timedeltas, epoch)
        self._parse(sheet, reader)
        return reader.rows

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

    def _first_sheet(self):
        """The part name of the first worksheet (chart sheets are not read), or None; and the date system."""
        sheet_tag, properties_tag = f"{MAIN_NS}{SEP}sheet", f"{MAIN_NS}{SEP}workbookPr"
        collector = _Collector(sheet_tag, properties_tag)
        self._parse(self.workbook if self.workbook in self.names else None, collector)
        epoch = CALENDAR_WINDOWS_1900
        sheet = None
        for tag, attrs in zip(collector.tags_found, collector.found):
            if tag == properties_tag and attrs.get("date1904") in ("1", "true"):
                epoch = CALENDAR_MAC_1904
            kind, target = self.related.get(attrs.get(f"{DOC_REL_NS}{SEP}id"), ("", ""))
            if sheet is None and tag == sheet_tag and kind.endswith("/worksheet") and target in self.names:
                sheet = target
        return sheet, epoch

    def _date_styles(self):
        """The cell styles (s="...") whose number format shows a date or time, and those showing a duration."""
        styles = _Styles()
        self._parse(self._part("/styles"), styles)
        dates, timedeltas = set(), set()
        for index, format_id in enumerate(styles.xf_formats):
            code = styles.formats.get(format_id) or BUILTIN_FORMATS.get(format_id)
            if code and is_date_format(code):
                dates.add(str(index))
                if is_timedelta_format(code):
                    timedeltas.add(str(index))
        return frozenset(dates), frozenset(timedeltas)


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
    """The number format of each cell style (cellXfs), to tell dates and times from numbers."""

    XF, CELL_XFS, NUM_FMT = f"{MAIN_NS}{SEP}xf", f"{MAIN_NS}{SEP}cellXfs", f"{MAIN_NS}{SEP}numFmt"

    def __init__(self):
        self.formats, self.xf_formats, self.in_cell_xfs = {}, [], False

    def start(self, tag, attrs):
        if tag == self.NUM_FMT and len(self.formats) < 10_000:
            self.formats[_number(attrs.get("numFmtId"))] = attrs.get("formatCode", "")
        elif tag == self.CELL_XFS:
            self.in_cell_xfs = True
        elif tag == self.XF and self.in_cell_xfs and len(self.xf_formats) < 100_000:
            self.xf_formats.append(_number(attrs.get("numFmtId")))

    def end(self, tag):
        if tag == self.CELL_XFS:
            self.in_cell_xfs = False

    def text(self, data):
        pass


def _number(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return -1
