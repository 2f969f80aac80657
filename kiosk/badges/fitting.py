"""Text on badges: the DejaVu fonts, their widths, and fitting a text into its box."""

import functools
import re
from dataclasses import dataclass

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from kiosk.config import site_folder

FONT_DIR = site_folder("static") / "vendor" / "fonts"
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
SIZE_STEP = 0.25  # mm: how much a text shrinks per try


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
def unit_width(text, font):
    """Width of TEXT at size 1 in FONT, in the unit of the size."""
    register_fonts()
    return pdfmetrics.stringWidth(text, font, 1)


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
        return (text,), (unit_width(text, font),)
    best = None
    for first, second in _break_options(text):
        widths = (unit_width(first, font), unit_width(second, font))
        if best is None or max(widths) < max(best[1]):
            best = ((first, second), widths)
    return best


def block_height(size, lines):
    """Height of LINES lines at SIZE, from the top of the highest accent to the lowest descender."""
    return size * (ASCENT + DESCENT) + (lines - 1) * size * LEADING


def fit_text(text, box):
    """Fit TEXT into BOX (a layouts.TextBox): one line at the largest size, else two lines,
    else shrink; never wider than the box."""
    text = " ".join((text or "").split())
    fonts = box.fonts
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
        fitted = _largest_fit(box, font, line_counts, bottom, candidates)
        if fitted:
            return fitted
    return _squeezed(box, candidates)


def _largest_fit(box, font, line_counts, bottom, candidates):
    """The largest size from BOX's maximum down to BOTTOM at which FONT fits in one of LINE_COUNTS lines, or None."""
    size = box.max_size
    while size >= bottom - 1e-9:
        for n in line_counts:
            option = candidates[(font, n)]
            if option is None:
                continue
            lines, unit_widths = option
            if max(unit_widths) * size <= box.width and block_height(size, n) <= box.height:
                return Fitted(font, size, lines, tuple(w * size for w in unit_widths))
        size = round(size - SIZE_STEP, 4)
    return None


def _squeezed(box, candidates):
    """Nothing fits at the smallest size: the last font on most lines, shrunk until the widest line fits."""
    font = box.fonts[-1]
    n = max(n for (f, n), option in candidates.items() if f == font and option)
    lines, unit_widths = candidates[(font, n)]
    size = box.min_size
    if max(unit_widths) * size > box.width:
        size = box.width / max(unit_widths)
    while block_height(size, n) > box.height:
        size *= 0.95
    return Fitted(font, size, lines, tuple(w * size for w in unit_widths))
