"""Badge layouts in millimetres: page and badge sizes, text boxes, and badges per sheet."""

import math
from dataclasses import dataclass, field

INK = "#111111"
GREY = "#555555"
ACCENT = "#0f5c6e"
DESK_LAYOUT = "label-62"  # what the desk and the kiosk print one badge on


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


def sheets(badges, layout):
    """BADGES split into pages for LAYOUT: a list of [(x, y, badge), ...] with slot positions in mm."""
    slots = layout.slots()
    pages = []
    for start in range(0, len(badges), layout.per_sheet):
        chunk = badges[start : start + layout.per_sheet]
        pages.append([(x, y, badge) for (x, y), badge in zip(slots, chunk)])
    return pages
