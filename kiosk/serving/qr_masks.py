"""Faster badge QR codes: qrcode's choice of mask made with bit operations on one symbol.

What it buys: qrcode tries all eight masks by building eight whole symbols for every code;
a badge code always fits version 1, so here the masks are tried on one symbol with bit
operations instead, with the same result. Badge PDFs of many attendees (an organiser's
download, the print view) are made in less time: benchmarks/bench_badges.py shows it, run
with and without --public-qr.

It reads qrcode internals (qrcode.main.precomputed_qr_blanks, QRCode.setup_type_info), so
qrcode is pinned and tests/test_badge_pdf.py checks every matrix against qrcode's own.
"""

import functools
import re

import qrcode
import qrcode.constants
import qrcode.exceptions
import qrcode.main
from qrcode import util

from kiosk.badges import qr as badge_qr


def install():
    """Make badge QR codes with fast_qr_lines from now on (the same matrices as qrcode's)."""
    badge_qr.use_lines_maker(fast_qr_lines)


def fast_qr_lines(code):
    """CODE's QR with its quiet zone as strings of '1' (dark) and '0', one per row: badge_qr.qr_lines, faster."""
    qr = qrcode.QRCode(version=1, error_correction=qrcode.constants.ERROR_CORRECT_M, border=badge_qr.QUIET_ZONE, mask_pattern=0)
    qr.add_data(code)
    try:
        qr.make(fit=False)
    except qrcode.exceptions.DataOverflowError:
        return badge_qr.qr_lines(code)
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
    quiet = "0" * badge_qr.QUIET_ZONE
    lines = [
        quiet + format(((base[i] ^ flips[best][i]) & ~format_bits[i]) | format_values[best][i], f"0{n}b")[::-1] + quiet
        for i in range(n)
    ]
    empty = ["0" * (n + 2 * badge_qr.QUIET_ZONE)] * badge_qr.QUIET_ZONE
    return empty + lines + empty


@functools.cache
def _version1_masks():
    """Version 1 by rows of bits: where format information goes, its value per mask, and what each mask flips from mask 0."""
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
