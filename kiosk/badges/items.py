"""What one badge shows, in millimetres from its top-left: texts, the accent line, the QR."""

from dataclasses import dataclass

from kiosk.badges.fitting import ASCENT, LEADING, SVG_FONTS, block_height, fit_text, unit_width
from kiosk.badges.layouts import ACCENT, INK
from kiosk.badges.qr import QR, module_size, qr_runs


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
class Line:
    """A straight line in mm from the badge's top-left."""

    kind = "line"
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    color: str


def _text_items(text, box):
    """TEXT fitted into BOX as Text lines (none for empty text)."""
    if not text or not text.strip():
        return []
    fitted = fit_text(text, box)
    n = len(fitted.lines)
    block = block_height(fitted.size, n)
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
                 unit_width(short, font) * layout.code_size, INK)
        )
    return items
