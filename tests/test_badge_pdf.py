"""Badge PDFs: page sizes, every QR decodes once, names render verbatim; the printing data layer."""

import pypdfium2
import pytest
import zxingcpp

import qrcode
import qrcode.constants

from kiosk.badges import qr as badge_qr
from kiosk.badges.fitting import fit_text
from kiosk.badges.items import Text, badge_items
from kiosk.badges.layouts import LAYOUTS
from kiosk.badges.pdf import render_pdf
from kiosk.badges.qr import MIN_MODULE_MM, QR, QUIET_ZONE, qr_runs
from kiosk.data import printing
from kiosk.data.badges import current_badge, issue_badge, new_code, short_form
from kiosk.db import connect, migrate, now_utc
from kiosk.serving import qr_masks

PT_PER_MM = 72 / 25.4
LONG_NAME = "Maria Magdalena Theodora van den Boogaard-Oppenheimer-Schimmelpenninck"
NAMES = [
    ("Zoë Çelik", "Gemeente Zaanstad", "Beleidsadviseur"),
    ("Ğülşen Øberg", "Straße & Söhne", "Spreker"),
    (LONG_NAME, "Ministerie van Binnenlandse Zaken en Koninkrijksrelaties", "Senior adviseur"),
    ("<script>alert(1)</script>", "<b>Org</b>", "&amp;"),
    ("Jan de Vries", "", ""),
    ("Ana", "X", "Y"),
]


def make_badges(count):
    badges = []
    for i in range(count):
        name, organisation, role = NAMES[i % len(NAMES)]
        code = new_code()
        badges.append({"name": name, "organisation": organisation, "role": role, "code": code, "short_code": short_form(code)})
    return badges


def decode_pages(pdf_bytes, dpi=200):
    """Every QR text on every page, and the page sizes in points."""
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    found, sizes, texts = [], [], []
    for page in pdf:
        sizes.append(page.get_size())
        image = page.render(scale=dpi / 72).to_pil()
        found += [result.text for result in zxingcpp.read_barcodes(image)]
        texts.append(page.get_textpage().get_text_range())
    return found, sizes, texts


@pytest.mark.parametrize(
    ("layout", "count", "pages"),
    [("a6", 6, 2), ("card-80x50", 12, 2), ("label-62", 3, 3)],
)
def test_every_code_decodes_once_and_pages_have_the_layout_size(layout, count, pages):
    badges = make_badges(count)
    pdf = render_pdf(badges, layout, event_name="G40 Netwerkdag — Zaanstad")
    found, sizes, _texts = decode_pages(pdf)
    assert sorted(found) == sorted(b["code"] for b in badges)
    assert len(sizes) == pages
    spec = LAYOUTS[layout]
    for width, height in sizes:
        assert width == pytest.approx(spec.page_width * PT_PER_MM, abs=0.5)
        assert height == pytest.approx(spec.page_height * PT_PER_MM, abs=0.5)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_names_with_diacritics_long_names_and_markup_render_verbatim(layout):
    badges = make_badges(len(NAMES))
    pdf = render_pdf(badges, layout, event_name="Netwerkdag")
    _found, _sizes, texts = decode_pages(pdf, dpi=72)
    text = " ".join(" ".join(page.split()) for page in texts)
    for name in ("Zoë Çelik", "Ğülşen Øberg", "Straße & Söhne", "<script>alert(1)</script>", "<b>Org</b>", "&amp;"):
        assert name in text
    # The long name wraps to two lines, split at a space or after a hyphen (pdfium reads a hyphen
    # that ends a line as U+FFFE and joins the lines).
    joined = text.replace("- ", "-").replace("\ufffe", "-")
    assert LONG_NAME in joined


def test_layout_sizes_and_badges_per_sheet():
    assert (LAYOUTS["a6"].columns, LAYOUTS["a6"].rows) == (2, 2)
    assert (LAYOUTS["card-80x50"].columns, LAYOUTS["card-80x50"].rows) == (2, 5)
    assert (LAYOUTS["label-62"].columns, LAYOUTS["label-62"].rows) == (1, 1)
    assert (LAYOUTS["card-80x50"].badge_width, LAYOUTS["card-80x50"].badge_height) == (80, 50)
    assert LAYOUTS["label-62"].page_width == 62
    for layout in LAYOUTS.values():
        if layout.crop_marks:
            assert layout.crop_mark_lines()


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("name", [n for n, _o, _r in NAMES] + ["W" * 60, "Ö"])
def test_every_text_stays_inside_the_badge(layout, name):
    spec = LAYOUTS[layout]
    code = new_code()
    items = badge_items(spec, {"name": name, "organisation": "Ørsted " * 12, "role": "Ç" * 80, "code": code, "short_code": short_form(code)}, "Event " * 20)
    for item in items:
        if isinstance(item, Text):
            left = item.x - item.width / 2 if item.anchor == "middle" else item.x
            assert left >= 3 - 1e-6 and left + item.width <= spec.badge_width - 3 + 1e-6, item
            assert item.y <= spec.badge_height - 3
        if isinstance(item, QR):
            assert item.module >= MIN_MODULE_MM
            assert item.x >= 0 and item.x + item.size <= spec.badge_width
    qr = next(item for item in items if isinstance(item, QR))
    # The quiet zone is part of the matrix: no dark run starts within 4 modules of an edge.
    assert min(c for _r, c, _n in qr.runs) == QUIET_ZONE
    assert min(r for r, _c, _n in qr.runs) == QUIET_ZONE


def test_long_name_wraps_to_two_lines_before_shrinking():
    box = LAYOUTS["a6"].name_box
    short = fit_text("Jan de Vries", box)
    assert len(short.lines) == 1 and short.size == box.max_size
    two = fit_text("Bartholomeus Vanderstraeten-Oosterhuis", box)
    assert len(two.lines) == 2
    long = fit_text(LONG_NAME, box)
    assert len(long.lines) == 2 and long.size < box.max_size
    assert max(long.widths) <= box.width



@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("name", ["Wietske van der Linden", "Geertje van der Linden", "Iris uit den Bogaard",
                                  "Anna de Vries-van Dam", "Maria Magdalena van den Heuvel-ter Horst"])
def test_a_name_never_breaks_inside_its_prefix(layout, name):
    """Defect 9: "Wietske van / der Linden" never; the break comes before "van" (the badge and the PDF share it)."""
    fitted = fit_text(name, LAYOUTS[layout].name_box)
    if len(fitted.lines) == 2:
        last = fitted.lines[0].split()[-1].split("-")[-1].lower()
        assert last not in {"van", "der", "den", "de", "uit", "ter"}, fitted.lines

@pytest.fixture
def db(tmp_path):
    database = connect(tmp_path / "k.db")
    migrate(database)
    database["event"].insert({"id": 1, "name": "Netwerkdag", "date": "2026-06-11"})
    yield database
    database.close()


def add_attendee(db, name, organisation="", status="registered", last_name=""):
    now = now_utc()
    attendee_id = db["attendees"].insert(
        {"name": name, "last_name": last_name or name.split()[-1], "organisation": organisation,
         "status": status, "created_at": now, "updated_at": now}
    ).last_pk
    issue_badge(db, attendee_id)
    return attendee_id


def test_selection_print_log_and_status(db):
    zoe = add_attendee(db, "Zoë Çelik", "Zaanstad")
    jan = add_attendee(db, "Jan de Vries", "Utrecht")
    gone = add_attendee(db, "Piet Weg", "Zaanstad", status="cancelled")
    assert [b["attendee_id"] for b in printing.select_badges(db)] == [zoe, jan]  # Çelik before Vries
    assert [b["attendee_id"] for b in printing.select_badges(db, organisation="Zaanstad")] == [zoe]
    assert [b["attendee_id"] for b in printing.select_badges(db, attendee_ids=[gone])] == [gone]

    printing.record_prints(db, [printing.select_badges(db, attendee_ids=[zoe])[0]["badge_id"]], layout="a6", printed_by="me")
    assert [b["attendee_id"] for b in printing.select_badges(db, not_printed=True)] == [jan]
    assert printing.reprints(printing.select_badges(db)) == printing.select_badges(db, attendee_ids=[zoe])
    assert printing.counts(db) == {"attendees": 2, "badges": 2, "printed": 1, "not_printed": 1, "without_badge": 0}
    status = printing.badge_status(db, zoe)
    assert (status["print_count"], status["last_layout"], status["replaced_codes"]) == (1, "a6", 0)
    assert printing.badge_status_map(db, [zoe, jan]) == {
        zoe: {"printed": True, "print_count": 1, "has_badge": True},
        jan: {"printed": False, "print_count": 0, "has_badge": True},
    }


def test_reissued_badge_prints_the_new_code(db):
    zoe = add_attendee(db, "Zoë Çelik", "Zaanstad")
    old = current_badge(db, zoe)
    printing.record_prints(db, [old["id"]], layout="a6", printed_by="me")
    new = printing.reissue(db, zoe, actor="me")
    assert current_badge(db, zoe)["code"] == new["code"] != old["code"]
    status = printing.badge_status(db, zoe)
    assert (status["print_count"], status["replaced_codes"]) == (0, 1)
    assert db.execute("SELECT action FROM audit_log").fetchall() == [("badge.reissue",)]
    badges = printing.select_badges(db, attendee_ids=[zoe])
    found, _sizes, _texts = decode_pages(render_pdf(badges, "label-62", event_name="Netwerkdag"))
    assert found == [new["code"]]


def test_missing_badges_are_listed_and_issued(db):
    now = now_utc()
    bare = db["attendees"].insert({"name": "Zonder Badge", "created_at": now, "updated_at": now}).last_pk
    assert printing.missing_badges(db) == [bare]
    assert printing.issue_missing(db, [bare], actor="me") == 1
    assert printing.missing_badges(db) == []


def test_qr_runs_draw_exactly_the_matrix_qrcode_makes():
    for code in [new_code() for _ in range(50)] + ["K1-AAAAAAAAAAAAAAAAA", "https://example.org/a-longer-text"]:
        reference = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
        reference.add_data(code)
        reference.make(fit=True)
        modules, runs = qr_runs(code)
        drawn = [[False] * modules for _ in range(modules)]
        for row, first, length in runs:
            drawn[row][first : first + length] = [True] * length
        assert drawn == reference.get_matrix(), code


def test_the_fast_mask_choice_of_kiosk_serve_still_matches_qrcode():
    """kiosk.serving.qr_masks reads qrcode internals: this fails when a qrcode release changes them."""
    import qrcode.main

    assert hasattr(qrcode.main, "precomputed_qr_blanks") and hasattr(qrcode.QRCode, "setup_type_info"), (
        "qrcode changed the internals kiosk.serving.qr_masks uses: fix it or drop it, then pin qrcode again"
    )
    for code in [new_code() for _ in range(200)] + ["K1-AAAAAAAAAAAAAAAAA", "https://example.org/a-longer-text"]:
        reference = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
        reference.add_data(code)
        reference.make(fit=True)
        matrix = [[c == "1" for c in line] for line in qr_masks.fast_qr_lines(code)]
        assert matrix == reference.get_matrix(), f"qrcode now makes another matrix for {code}"


def test_installing_the_fast_masks_keeps_the_badges_qr():
    code = new_code()
    public = qr_runs(code)
    qr_masks.install()
    try:
        assert qr_runs(code) == public
    finally:
        badge_qr.use_lines_maker(badge_qr.qr_lines)
