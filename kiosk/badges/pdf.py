"""Badge PDFs: sheets of badges with embedded DejaVu fonts and vector QR codes."""

import io

from reportlab import rl_config
from reportlab.lib.colors import HexColor
from reportlab.pdfgen import canvas as pdf_canvas

from kiosk.badges.fitting import register_fonts
from kiosk.badges.items import Line, Text, badge_items
from kiosk.badges.layouts import get_layout, sheets
from kiosk.badges.qr import QR

MM = 72 / 25.4
# Binary (Flate only) streams instead of reportlab's ASCII85 default: smaller files, and
# without reportlab's C accelerator much faster to write (benchmarks/bench_badges.py).
# Nothing needs a 7-bit-clean PDF, and only badge PDFs use reportlab in this app.
rl_config.useA85 = 0
CROP_MARK_WIDTH = 0.2  # mm


def render_pdf(badges, layout_name, *, event_name):
    """A PDF of BADGES (dicts with name, organisation, role, code, short_code) on LAYOUT_NAME's pages."""
    layout = get_layout(layout_name)
    register_fonts()
    out = io.BytesIO()
    page_height = layout.page_height * MM
    c = pdf_canvas.Canvas(out, pagesize=(layout.page_width * MM, page_height), pageCompression=1)
    c.setTitle(f"{event_name} – badges ({layout.name})" if event_name else f"Badges ({layout.name})")
    c.setCreator("Kiosk")
    c.setAuthor("Kiosk")
    colours = {}

    def colour(hex_value):
        if hex_value not in colours:
            colours[hex_value] = HexColor(hex_value)
        return colours[hex_value]

    for page in sheets(badges, layout):
        for x, y, badge in page:
            _draw_badge(c, badge_items(layout, badge, event_name), x, y, page_height, colour)
        marks = layout.crop_mark_lines()
        if marks:
            c.setStrokeColor(colour("#000000"))
            c.setLineWidth(CROP_MARK_WIDTH * MM)
            for x1, y1, x2, y2 in marks:
                c.line(x1 * MM, page_height - y1 * MM, x2 * MM, page_height - y2 * MM)
        c.showPage()
    if not badges:
        c.showPage()
    c.save()
    return out.getvalue()


def _draw_badge(c, items, left, top, page_height, colour):
    """Draw one badge's ITEMS with its top-left corner at (LEFT, TOP) mm on the page."""
    for item in items:
        if isinstance(item, Text):
            c.setFillColor(colour(item.color))
            c.setFont(item.font, item.size * MM)
            x = (left + item.x) * MM
            y = page_height - (top + item.y) * MM
            if item.anchor == "middle":
                c.drawCentredString(x, y, item.text)
            else:
                c.drawString(x, y, item.text)
        elif isinstance(item, QR):
            _draw_qr(c, item, left, top, page_height, colour)
        elif isinstance(item, Line):
            c.setStrokeColor(colour(item.color))
            c.setLineWidth(item.width * MM)
            c.line(
                (left + item.x1) * MM, page_height - (top + item.y1) * MM,
                (left + item.x2) * MM, page_height - (top + item.y2) * MM,
            )


def _draw_qr(c, qr, left, top, page_height, colour):
    """The QR as one filled path of rectangles, one per horizontal run of dark modules."""
    m = qr.module * MM
    x0 = (left + qr.x) * MM
    y0 = page_height - (top + qr.y) * MM
    # Module units under a flipping transform keep the path short (whole numbers) and
    # fast to write; 1,000 badges hold over 100,000 rectangles.
    c.addLiteral(f"q {m:.5f} 0 0 {-m:.5f} {x0:.4f} {y0:.4f} cm 0 g\n{qr.pdf_path()}\nf Q")
