"""QR codes for badges: the module matrix, its dark runs, and their SVG and PDF paths."""

import functools
import io
import math
import re
from dataclasses import dataclass

import qrcode
import qrcode.constants
from markupsafe import Markup

MIN_MODULE_MM = 0.5
MODULE_STEP_MM = 0.05
QUIET_ZONE = 4

_DARK = re.compile(r"1+")


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


def qr_lines(code):
    """CODE's QR (error correction M) with its quiet zone as strings of '1' (dark) and '0', one per row."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    qr.add_data(code)
    qr.make(fit=True)
    return ["".join("1" if dark else "0" for dark in row) for row in qr.get_matrix()]


_make_lines = qr_lines


def use_lines_maker(maker):
    """Make every QR with MAKER, a drop-in for qr_lines that gives the same rows (kiosk.serving.qr_masks)."""
    global _make_lines
    _make_lines = maker
    qr_runs.cache_clear()


@functools.lru_cache(maxsize=4096)
def qr_runs(code):
    """The QR of CODE (error correction M, 4-module quiet zone) as (modules, dark horizontal runs)."""
    lines = _make_lines(code)
    runs = tuple(
        (r, run.start(), run.end() - run.start()) for r, line in enumerate(lines) for run in _DARK.finditer(line)
    )
    return len(lines), runs


def module_size(area, modules):
    """The module size for MODULES modules in AREA mm: floored to 0.05 mm, never under 0.5 mm."""
    size = math.floor(round(area / modules / MODULE_STEP_MM, 6)) * MODULE_STEP_MM
    size = round(size, 3)
    if size < MIN_MODULE_MM:
        raise ValueError(f"a QR of {modules} modules needs {modules * MIN_MODULE_MM} mm; the layout gives {area} mm")
    return size


def inline_svg(code, css_class="qr-code"):
    """CODE's QR as an inline SVG (quiet zone included) that scales to its box."""
    modules, runs = qr_runs(code)
    qr = QR(0, 0, 1, modules, runs)
    return Markup(
        f'<svg class="{css_class}" viewBox="0 0 {modules} {modules}" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" shape-rendering="crispEdges"><title>{Markup.escape(code)}</title>'
        f'<rect width="{modules}" height="{modules}" fill="#fff"/><path fill="#000" d="{qr.svg_path()}"/></svg>'
    )


def qr_png(code, box_size=8):
    """CODE's QR as PNG bytes (error correction M, 4-module quiet zone), as a badge carries it: for e-mail."""
    # Imported here: only a ticket mail needs a bitmap, and PIL is slow to import for every scan worker.
    from qrcode.image.pil import PilImage

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE, box_size=box_size,
                       image_factory=PilImage)
    qr.add_data(code)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().save(out, format="PNG")
    return out.getvalue()
