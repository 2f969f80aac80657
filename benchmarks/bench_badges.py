"""Benchmark: badge PDFs of 1,000 attendees per layout (target: under 5 s and 5 MB for A6)."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.badges.layouts import LAYOUTS  # noqa: E402
from kiosk.badges.pdf import render_pdf  # noqa: E402
from kiosk.badges.qr import qr_runs  # noqa: E402
from kiosk.data.badges import new_code, short_form  # noqa: E402
from kiosk.serving import qr_masks  # noqa: E402

NAMES = [
    ("Zoë Çelik", "Gemeente Zaanstad", "Beleidsadviseur"),
    ("Maria Magdalena Theodora van den Boogaard-Oppenheimer-Schimmelpenninck", "Ministerie van BZK", "Spreker"),
    ("Ğülşen Øberg", "Straße & Söhne GmbH", "Deelnemer"),
    ("Jan de Vries", "Provincie Noord-Holland", ""),
]


def main(count=1000, public_qr=False):
    """Render COUNT badges on every layout; print one line per layout.

    QR codes are made as `kiosk serve` makes them (kiosk.serving.qr_masks), or with
    qrcode's public API alone when PUBLIC_QR.
    """
    if not public_qr:
        qr_masks.install()
    badges = []
    for i in range(count):
        name, organisation, role = NAMES[i % len(NAMES)]
        code = new_code()
        badges.append({"name": f"{name} {i}", "organisation": organisation, "role": role, "code": code,
                       "short_code": short_form(code)})
    for layout in LAYOUTS:
        qr_runs.cache_clear()  # every layout pays for its QR codes, as a fresh process would
        start = time.perf_counter()
        pdf = render_pdf(badges, layout, event_name="G40 Netwerkdag Zaanstad")
        seconds = time.perf_counter() - start
        print(f"badges pdf {layout} {count}: {seconds:.2f} s, {len(pdf) / 1e6:.2f} MB")


if __name__ == "__main__":
    args = [arg for arg in sys.argv[1:] if arg != "--public-qr"]
    main(int(args[0]) if args else 1000, public_qr="--public-qr" in sys.argv[1:])
