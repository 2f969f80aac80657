"""Badge layouts in millimetres, shared by the PDF and the browser print view."""

import functools
import math
import re
from dataclasses import dataclass, field

import qrcode
import qrcode.constants
import qrcode.exceptions
import qrcode.main
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from kiosk import ROOT

FONT_DIR = ROOT / "static" / "vendor" / "fonts"
FONT_FILES = {
    "DejaVuSans": "DejaVuSans.ttf",
    "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "DejaVuSansCondensed": "DejaVuSansCondensed.ttf",
    "DejaVuSansCondensed-Bold": "DejaVuSansCondensed-Bold.ttf",
}
# What the print view's @font-face rules (static/css/print.css) call the same files.
SVG_FONTS = {
    "DejaVuSans": ("Kiosk Sans", "400"),
    "DejaVuSans-Bold": ("Kiosk Sans", "700"),
    "DejaVuSansCondensed": ("Kiosk Sans Condensed", "400"),
    "DejaVuSansCondensed-Bold": ("Kiosk Sans Condensed", "700"),
}
# DejaVu Sans reaches these fractions of the font size above and below the baseline
# with accents (Ğ, Å) and descenders (Ç, g); boxes are sized with them so nothing is cut.
ASCENT = 0.93
DESCENT = 0.24
LEADING = 1.1

MIN_MODULE_MM = 0.5
MODULE_STEP_MM = 0.05
QUIET_ZONE = 4
INK = "#111111"
GREY = "#555555"
ACCENT = "#0f5c6e"


class FontsMissing(RuntimeError):
    """The DejaVu fonts are not in static/vendor/fonts."""


@functools.cache
def register_fonts():
    """Register the DejaVu TrueType fonts with reportlab (once per process)."""
    missing = [name for name in FONT_FILES.values() if not (FONT_DIR / name).is_file()]
    if missing:
        raise FontsMissing(
            f"badge fonts missing in {FONT_DIR} ({', '.join(missing)}): run ./dev setup to install them"
        )
    for name, filename in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    return True


@functools.lru_cache(maxsize=65536)
def _unit_width(text, font):
    """Width of TEXT at size 1 in FONT, in the unit of the size."""
    register_fonts()
    return pdfmetrics.stringWidth(text, font, 1)


@dataclass(frozen=True)
class TextBox:
    """Where one line-wrapped, shrink-to-fit text goes on a badge."""

    x: float
    y: float
    width: float
    height: float
    max_size: float  # font size in mm
    min_size: float
    fonts: tuple = ("DejaVuSans",)
    max_lines: int = 1
    align: str = "middle"  # SVG text-anchor: start or middle
    valign: str = "top"  # top or center
    color: str = INK


@dataclass(frozen=True)
class Layout:
    """A badge format: page and badge sizes in mm; badges per sheet follow from them."""

    name: str
    description: str
    page_width: float
    page_height: float
    badge_width: float
    badge_height: float
    min_margin: float
    gap: float
    crop_marks: bool
    event: TextBox
    name_box: TextBox
    organisation: TextBox
    role: TextBox
    qr_area: tuple  # x, y, size: the square the QR (with its quiet zone) must fit in
    code_baseline: float  # the short code sits centred under the QR
    code_size: float
    rule: tuple = ()  # x1, y1, x2, y2 of the accent line under the event name
    extra: dict = field(default_factory=dict)

    @property
    def columns(self):
        return int((self.page_width - 2 * self.min_margin + self.gap) // (self.badge_width + self.gap))

    @property
    def rows(self):
        return int((self.page_height - 2 * self.min_margin + self.gap) // (self.badge_height + self.gap))

    @property
    def per_sheet(self):
        return self.columns * self.rows

    @property
    def margin_x(self):
        return (self.page_width - self.columns * self.badge_width - (self.columns - 1) * self.gap) / 2

    @property
    def margin_y(self):
        return (self.page_height - self.rows * self.badge_height - (self.rows - 1) * self.gap) / 2

    def slots(self):
        """Top-left corners (mm, from the page's top-left) of the badges on one sheet, row by row."""
        return [
            (self.margin_x + c * (self.badge_width + self.gap), self.margin_y + r * (self.badge_height + self.gap))
            for r in range(self.rows)
            for c in range(self.columns)
        ]

    def crop_mark_lines(self, offset=1.0, length=5.0):
        """Short cut guides in the page margins where the sheet is cut, as (x1, y1, x2, y2) in mm."""
        if not self.crop_marks:
            return []
        xs, ys = set(), set()
        for x, y in self.slots():
            xs.update((round(x, 3), round(x + self.badge_width, 3)))
            ys.update((round(y, 3), round(y + self.badge_height, 3)))
        top, bottom = self.margin_y, self.page_height - self.margin_y
        left, right = self.margin_x, self.page_width - self.margin_x
        len_y = min(length, self.margin_y - offset - 1)
        len_x = min(length, self.margin_x - offset - 1)
        lines = []
        for x in sorted(xs):
            lines.append((x, top - offset, x, top - offset - len_y))
            lines.append((x, bottom + offset, x, bottom + offset + len_y))
        for y in sorted(ys):
            lines.append((left - offset, y, left - offset - len_x, y))
            lines.append((right + offset, y, right + offset + len_x, y))
        return lines

    def sheets(self, count):
        """How many pages COUNT badges take."""
        return math.ceil(count / self.per_sheet) if count else 0


LAYOUTS = {
    # A6 lanyard holders take inserts up to 105 x 148 mm; 98 x 138 leaves the margins
    # office printers need for the crop marks, and still fills the holder.
    "a6": Layout(
        name="a6",
        description="A6 lanyard badge, 4 per A4 sheet, cut along the crop marks",
        page_width=210,
        page_height=297,
        badge_width=98,
        badge_height=138,
        min_margin=5,
        gap=0,
        crop_marks=True,
        event=TextBox(8, 8, 82, 8, 4.5, 2.5, ("DejaVuSans", "DejaVuSansCondensed"), color=GREY),
        rule=(8, 19, 90, 19),
        name_box=TextBox(8, 23, 82, 33, 11, 3.5, ("DejaVuSans-Bold", "DejaVuSansCondensed-Bold"), 2, valign="center"),
        organisation=TextBox(8, 58, 82, 14, 5.5, 2.5, ("DejaVuSans", "DejaVuSansCondensed"), 2),
        role=TextBox(8, 73, 82, 7, 4.2, 2.2, ("DejaVuSans", "DejaVuSansCondensed"), color=GREY),
        qr_area=(25, 81, 48),
        code_baseline=132.5,
        code_size=4.2,
    ),
    # The usual EU badge sheet: 2 x 5 micro-perforated 80 x 50 mm inserts.
    "card-80x50": Layout(
        name="card-80x50",
        description="80 × 50 mm name badge, 10 per A4 sheet",
        page_width=210,
        page_height=297,
        badge_width=80,
        badge_height=50,
        min_margin=10,
        gap=0,
        crop_marks=True,
        event=TextBox(5, 4.5, 46, 4.5, 2.8, 1.8, ("DejaVuSans", "DejaVuSansCondensed"), align="start", color=GREY),
        rule=(5, 10.5, 51, 10.5),
        name_box=TextBox(5, 12.5, 46, 17, 7, 2.5, ("DejaVuSans-Bold", "DejaVuSansCondensed-Bold"), 2, align="start", valign="center"),
        organisation=TextBox(5, 31, 46, 8.5, 3.6, 2, ("DejaVuSans", "DejaVuSansCondensed"), 2, align="start"),
        role=TextBox(5, 40.5, 46, 5, 3, 1.8, ("DejaVuSans", "DejaVuSansCondensed"), align="start", color=GREY),
        qr_area=(52, 5, 25),
        code_baseline=33.5,
        code_size=2.6,
    ),
    # Brother QL 62 mm continuous roll: the printer prints about 59 mm of the width.
    "label-62": Layout(
        name="label-62",
        description="62 × 100 mm label for Brother QL printers at the desk",
        page_width=62,
        page_height=100,
        badge_width=62,
        badge_height=100,
        min_margin=0,
        gap=0,
        crop_marks=False,
        event=TextBox(5, 4, 52, 5.5, 3.4, 2, ("DejaVuSans", "DejaVuSansCondensed"), color=GREY),
        rule=(5, 12, 57, 12),
        name_box=TextBox(5, 15, 52, 24, 8.5, 2.8, ("DejaVuSans-Bold", "DejaVuSansCondensed-Bold"), 2, valign="center"),
        organisation=TextBox(5, 40.5, 52, 10.5, 4.2, 2.2, ("DejaVuSans", "DejaVuSansCondensed"), 2),
        role=TextBox(5, 51.5, 52, 5.5, 3.4, 2, ("DejaVuSans", "DejaVuSansCondensed"), color=GREY),
        qr_area=(15.5, 58, 31),
        code_baseline=94,
        code_size=3.4,
    ),
}


def get_layout(name):
    """The layout called NAME; KeyError names the known ones."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown badge layout {name!r}; choose one of {', '.join(LAYOUTS)}") from None


@dataclass(frozen=True)
class Fitted:
    """A text fitted into its box: font, size (mm), lines and their widths (mm)."""

    font: str
    size: float
    lines: tuple
    widths: tuple


# Dutch (and Flemish, German, French) name prefixes: "Wietske van der Linden" may break before
# "van", never inside "van der Linden".
NAME_PREFIXES = frozenset(
    "van von de der den het ten ter te in op aan bij uit vd v/d 't 's d' la le da di du dos del des".split()
)


def _inside_prefix(first):
    """True when FIRST (the text before a break) ends in a name prefix after another word."""
    words = first.split()
    return len(words) > 1 and re.split(r"[-‐]", words[-1])[-1].lower() in NAME_PREFIXES


def _break_options(text):
    """Every way to cut TEXT into two lines: after a space (dropped) or after a hyphen (kept).

    A break right after a name prefix ("van", "der") is no option: the prefix stays with the
    surname, so the name breaks before it.
    """
    options = []
    for i, char in enumerate(text):
        if char == " ":
            first, second = text[:i].rstrip(), text[i + 1 :].lstrip()
            if _inside_prefix(first):
                continue
        elif char in "-‐" and 0 < i < len(text) - 1:
            first, second = text[: i + 1], text[i + 1 :].lstrip()
        else:
            continue
        if first and second:
            options.append((first, second))
    return options


def _best_lines(text, font, lines):
    """TEXT on LINES lines with the narrowest widest line, with unit widths."""
    if lines == 1 or not text:
        return (text,), (_unit_width(text, font),)
    best = None
    for first, second in _break_options(text):
        widths = (_unit_width(first, font), _unit_width(second, font))
        if best is None or max(widths) < max(best[1]):
            best = ((first, second), widths)
    return best


def _block_height(size, lines):
    """Height of LINES lines at SIZE, from the top of the highest accent to the lowest descender."""
    return size * (ASCENT + DESCENT) + (lines - 1) * size * LEADING


def fit_text(text, box):
    """Fit TEXT into BOX: one line at the largest size, else two lines, else shrink; never wider than the box."""
    text = " ".join((text or "").split())
    fonts = box.fonts
    step = 0.25
    one_line = (1,)
    all_lines = tuple(range(1, box.max_lines + 1))
    keep = max(box.min_size, box.max_size * 0.8)
    # Prefer, in order: one line in the regular face shrunk a little; two lines in it;
    # then the condensed face (for long names), one line before two, down to the minimum.
    passes = [(fonts[0], one_line, keep), (fonts[0], all_lines, keep)]
    passes += [(font, all_lines, box.min_size) for font in fonts[1:]] or [(fonts[0], all_lines, box.min_size)]
    candidates = {}
    for font, line_counts, bottom in passes:
        for n in line_counts:
            if (font, n) not in candidates:
                candidates[(font, n)] = _best_lines(text, font, n)
        size = box.max_size
        while size >= bottom - 1e-9:
            for n in line_counts:
                option = candidates[(font, n)]
                if option is None:
                    continue
                lines, unit_widths = option
                if max(unit_widths) * size <= box.width and _block_height(size, n) <= box.height:
                    return Fitted(font, size, lines, tuple(w * size for w in unit_widths))
            size = round(size - step, 4)
    # Nothing fits at the smallest size: shrink further until the widest line fits.
    font = fonts[-1]
    n = max(n for (f, n), option in candidates.items() if f == font and option)
    lines, unit_widths = candidates[(font, n)]
    size = box.min_size
    if max(unit_widths) * size > box.width:
        size = box.width / max(unit_widths)
    while _block_height(size, n) > box.height:
        size *= 0.95
    return Fitted(font, size, lines, tuple(w * size for w in unit_widths))


@dataclass(frozen=True)
class Text:
    """One line of text: baseline at (x, y) in mm from the badge's top-left."""

    kind = "text"

    x: float
    y: float
    size: float
    font: str
    anchor: str
    text: str
    width: float
    color: str

    @property
    def svg_family(self):
        return SVG_FONTS[self.font][0]

    @property
    def svg_weight(self):
        return SVG_FONTS[self.font][1]


@dataclass(frozen=True)
class QR:
    """A QR code: top-left at (x, y) in mm, square modules of MODULE mm, dark runs per row."""

    kind = "qr"

    x: float
    y: float
    module: float
    modules: int  # including the quiet zone
    runs: tuple  # (row, first column, length)

    @property
    def size(self):
        return self.module * self.modules

    def svg_path(self):
        """The dark modules as one SVG path in module units, one rectangle per horizontal run."""
        return _svg_path(self.runs)

    def pdf_path(self):
        """The dark modules as PDF path operators in module units (row 0 at the top)."""
        return _pdf_path(self.runs)


@functools.lru_cache(maxsize=4096)
def _svg_path(runs):
    return "".join(f"M{c} {r}h{n}v1h-{n}z" for r, c, n in runs)


@functools.lru_cache(maxsize=4096)
def _pdf_path(runs):
    return " ".join(f"{c} {r} {n} 1 re" for r, c, n in runs)


@dataclass(frozen=True)
class Line:
    """A straight line in mm from the badge's top-left."""

    kind = "line"
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    color: str


@functools.lru_cache(maxsize=4096)
def qr_runs(code):
    """The QR of CODE (error correction M, 4-module quiet zone) as (modules, dark horizontal runs)."""
    lines = _qr_lines(code)
    runs = tuple(
        (r, run.start(), run.end() - run.start()) for r, line in enumerate(lines) for run in _DARK.finditer(line)
    )
    return len(lines), runs


def qr_matrix(code):
    """CODE's QR module matrix with its quiet zone, exactly as qrcode makes it with fit=True."""
    return [[c == "1" for c in line] for line in _qr_lines(code)]


def _qr_lines(code):
    """CODE's QR with its quiet zone as strings of '1' (dark) and '0', one per row.

    qrcode tries all eight masks by building eight whole symbols, about 3.5 ms a code; a
    badge code always fits version 1, so the masks are tried here on one symbol with bit
    operations instead (same result, checked by the tests), a few times faster.
    """
    qr = qrcode.QRCode(version=1, error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE, mask_pattern=0)
    qr.add_data(code)
    try:
        qr.make(fit=False)
    except qrcode.exceptions.DataOverflowError:
        slow = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
        slow.add_data(code)
        slow.make(fit=True)
        return ["".join("1" if dark else "0" for dark in row) for row in slow.get_matrix()]
    n, format_bits, format_values, flips = _version1_masks()
    full = (1 << n) - 1
    # Bit j of a row is column j.
    base = [int("".join("1" if dark else "0" for dark in reversed(row)), 2) for row in qr.modules]
    best, best_penalty = 0, None
    for mask in range(8):
        # Format information counts as light while masks are compared, as in qrcode.
        rows = [(base[i] ^ flips[mask][i]) & ~format_bits[i] & full for i in range(n)]
        penalty = _penalty(rows, n)
        if best_penalty is None or penalty < best_penalty:
            best, best_penalty = mask, penalty
    quiet = "0" * QUIET_ZONE
    lines = [
        quiet + format(((base[i] ^ flips[best][i]) & ~format_bits[i]) | format_values[best][i], f"0{n}b")[::-1] + quiet
        for i in range(n)
    ]
    empty = ["0" * (n + 2 * QUIET_ZONE)] * QUIET_ZONE
    return empty + lines + empty


@functools.cache
def _version1_masks():
    """Version 1 by rows of bits: where format information goes, its value per mask, and what each mask flips from mask 0."""
    from qrcode import util

    probe = qrcode.QRCode(version=1, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=0)
    probe.add_data("K1-")
    probe.make(fit=False)
    n = probe.modules_count
    blank = qrcode.main.precomputed_qr_blanks[1]
    to_bits = lambda grid: [sum(1 << j for j in range(n) if grid[i][j]) for i in range(n)]  # noqa: E731
    probe.modules = [[None] * n for _ in range(n)]
    probe.setup_type_info(True, 0)
    fmt = [[probe.modules[i][j] is not None for j in range(n)] for i in range(n)]
    values = []
    for k in range(8):
        probe.modules = [[False] * n for _ in range(n)]
        probe.setup_type_info(False, k)
        values.append(to_bits(probe.modules))
    data = [[blank[i][j] is None and not fmt[i][j] for j in range(n)] for i in range(n)]
    masks = [util.mask_func(k) for k in range(8)]
    flips = [
        to_bits([[data[i][j] and masks[0](i, j) != masks[k](i, j) for j in range(n)] for i in range(n)])
        for k in range(8)
    ]
    return n, to_bits(fmt), values, flips


_DARK = re.compile(r"1+")
_RUNS = re.compile(r"0{5,}|1{5,}")


def _penalty(rows, n):
    """The QR mask penalty (ISO 18004 rules 1-4, as qrcode scores it) of a matrix given as row bits."""
    lines = [format(row, f"0{n}b") for row in rows]
    # Rows and columns in one string, kept apart by a character no pattern contains.
    text = " ".join(lines + ["".join(column) for column in zip(*lines)])
    runs = _RUNS.findall(text)
    # Neither finder-like pattern overlaps itself, so a plain count finds every occurrence.
    penalty = sum(map(len, runs)) - 2 * len(runs) + 40 * (text.count("10111010000") + text.count("00001011101"))
    full = (1 << n) - 1
    for a, b in zip(rows, rows[1:]):
        dark = a & b & (a >> 1) & (b >> 1)
        na, nb = ~a & full, ~b & full
        light = na & nb & (na >> 1) & (nb >> 1)
        penalty += 3 * (dark.bit_count() + light.bit_count())
    dark_count = sum(row.bit_count() for row in rows)
    penalty += 10 * int(abs(dark_count / (n * n) * 100 - 50) / 5)
    return penalty


def module_size(area, modules):
    """The module size for MODULES modules in AREA mm: floored to 0.05 mm, never under 0.5 mm."""
    size = math.floor(round(area / modules / MODULE_STEP_MM, 6)) * MODULE_STEP_MM
    size = round(size, 3)
    if size < MIN_MODULE_MM:
        raise ValueError(f"a QR of {modules} modules needs {modules * MIN_MODULE_MM} mm; the layout gives {area} mm")
    return size


def _text_items(text, box):
    """TEXT fitted into BOX as Text lines (none for empty text)."""
    if not text or not text.strip():
        return []
    fitted = fit_text(text, box)
    n = len(fitted.lines)
    block = _block_height(fitted.size, n)
    top = box.y + (box.height - block) / 2 if box.valign == "center" else box.y
    x = box.x + box.width / 2 if box.align == "middle" else box.x
    return [
        Text(x, top + fitted.size * ASCENT + i * fitted.size * LEADING, fitted.size, fitted.font, box.align, line, width, box.color)
        for i, (line, width) in enumerate(zip(fitted.lines, fitted.widths))
    ]


def badge_items(layout, badge, event_name):
    """What to draw on one badge, in mm from its top-left: texts, the accent line, the QR."""
    items = []
    items += _text_items(event_name, layout.event)
    if layout.rule:
        items.append(Line(*layout.rule, 0.35, ACCENT))
    items += _text_items(badge.get("name", ""), layout.name_box)
    items += _text_items(badge.get("organisation", ""), layout.organisation)
    items += _text_items(badge.get("role", ""), layout.role)
    modules, runs = qr_runs(badge["code"])
    ax, ay, area = layout.qr_area
    module = module_size(area, modules)
    size = module * modules
    qr = QR(ax + (area - size) / 2, ay + (area - size) / 2, module, modules, runs)
    items.append(qr)
    short = badge.get("short_code") or ""
    if short:
        font = "DejaVuSans-Bold"
        items.append(
            Text(qr.x + size / 2, layout.code_baseline, layout.code_size, font, "middle", short,
                 _unit_width(short, font) * layout.code_size, INK)
        )
    return items


def sheets(badges, layout):
    """BADGES split into pages for LAYOUT: a list of [(x, y, badge), ...] with slot positions in mm."""
    slots = layout.slots()
    pages = []
    for start in range(0, len(badges), layout.per_sheet):
        chunk = badges[start : start + layout.per_sheet]
        pages.append([(x, y, badge) for (x, y), badge in zip(slots, chunk)])
    return pages
