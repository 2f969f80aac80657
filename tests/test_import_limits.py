"""Booby-trapped imports: hostile workbooks are refused clearly and cheaply, big uploads stay bounded.

Each workbook here is made by the test with zipfile; each is uploaded to the preview page, and
the server process (this one: the test client runs the app in it) may grow by less than 200 MB.
"""

import io
import re
import zipfile

import pytest

from kiosk.imports import xlsx
from test_importer import dump, upload, xlsx_bytes, import_client  # noqa: F401  (a fixture)

RSS_BUDGET_KB = 200 * 1024
# Werkzeug's test client spools a body over 500 KB to a temporary file that it never closes.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
</Relationships>"""
SHEET_START = b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_END = b"</sheetData></worksheet>"


def workbook(sheet_chunks):
    """An XLSX file whose only sheet's XML is the byte strings SHEET_CHUNKS yields, streamed into the zip."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for chunk in sheet_chunks:
                sheet.write(chunk)
    return out.getvalue()


def row(line, *texts):
    cells = "".join(
        f'<c r="{chr(65 + column)}{line}" t="inlineStr"><is><t>{text}</t></is></c>' for column, text in enumerate(texts)
    )
    return f'<row r="{line}">{cells}</row>'.encode()


def padded_with_whitespace():
    """About 1 MB: a header and one attendee, then 1 GB of spaces and newlines inside the sheet's XML."""
    def chunks():
        yield SHEET_START + row(1, "Naam", "E-mail") + row(2, "Jan", "jan@example.org")
        pad = b" " * (1024 * 1024 - 1) + b"\n"
        for _ in range(1024):
            yield pad
        yield SHEET_END
    return workbook(chunks())


def one_cell_in_column_xfd():
    """A small workbook (openpyxl's own) with a header and one value in the sheet's last column, XFD."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Naam", "E-mail"])
    book.active.append(["Jan", "jan@example.org"])
    book.active["XFD2"] = "far right"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb():
    """A sheet of 400 MB that is nothing but empty rows: a few hundred kilobytes zipped."""
    def chunks():
        yield SHEET_START + row(1, "Naam", "E-mail")
        empty = b"<row/>" * (1024 * 1024 // 6)
        for _ in range(400):
            yield empty
        yield SHEET_END
    return workbook(chunks())


def a_million_rows():
    """1,000,000 attendees: a big workbook that is a real one, just too long."""
    def chunks():
        yield SHEET_START + row(1, "Naam", "E-mail")
        for start in range(2, 1_000_002, 10_000):
            yield b"".join(row(n, f"Jan {n}", f"jan{n}@example.org") for n in range(start, start + 10_000))
        yield SHEET_END
    return workbook(chunks())


def status_kb(field):
    with open("/proc/self/status") as status:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.M).group(1))


def reset_peak_rss():
    """Start VmHWM (the peak RSS) afresh at the current RSS, where the kernel allows it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def growth_kb(action):
    """How far this process's RSS rose above where it was while ACTION ran (its peak, where the kernel tells)."""
    before = status_kb("VmRSS")
    peak_known = reset_peak_rss()
    result = action()
    after = status_kb("VmHWM") if peak_known else status_kb("VmRSS")
    return result, after - before


@pytest.mark.parametrize("make, message", [
    (padded_with_whitespace, "the workbook is refused: its part xl/worksheets/sheet1.xml unpacks to"),
    (one_cell_in_column_xfd, "cell XFD2 is in column 16384; the importer reads at most 1000 columns"),
    (zip_bomb, "the workbook is refused: its part xl/worksheets/sheet1.xml unpacks to"),
    pytest.param(a_million_rows, "the workbook has more than 200000 rows; split it into smaller files",
                 marks=pytest.mark.slow),
])
def test_hostile_workbooks_are_refused_clearly_without_growing_the_server(import_client, demo_db, make, message):
    data = make()
    assert len(data) < 20 * 1024 * 1024  # each passes the upload limit
    before = dump(demo_db)
    page, grown = growth_kb(lambda: upload(import_client, "attendees", "deelnemers.xlsx", data))
    assert page.status_code == 200
    assert message in page.text and 'name="token"' not in page.text
    assert grown < RSS_BUDGET_KB, f"the server grew by {grown // 1024} MB"
    assert dump(demo_db) == before


@pytest.mark.slow
def test_a_bomb_whose_zip_states_false_sizes_is_refused_while_it_is_read(demo_app, import_client, monkeypatch):
    # The stated sizes are checked first; the sizes really read are checked as reading goes.
    demo_app.config["IMPORT_IN_CHILD"] = False  # the monkeypatch reaches this process only
    monkeypatch.setattr(xlsx, "_check_stated_sizes", lambda archive: None)
    for make, message in [
        (padded_with_whitespace, "the workbook is refused: its part xl/worksheets/sheet1.xml unpacks to"),
        (zip_bomb, "the sheet has more than 1048576 rows, more than Excel allows"),
    ]:
        page, grown = growth_kb(lambda: upload(import_client, "attendees", "deelnemers.xlsx", make()))
        assert message in page.text
        assert grown < RSS_BUDGET_KB, f"the server grew by {grown // 1024} MB"


def rows_199_999():
    """199,999 attendees with an organisation and a role: the most rows an accepted workbook holds."""
    def chunks():
        yield SHEET_START + row(1, "Naam", "E-mail", "Organisatie", "Functie")
        for start in range(2, 200_001, 10_000):
            yield b"".join(
                row(n, f"Persoon {n}", f"p{n}@example.org", f"Gemeente {n % 300}", "beleidsmedewerker")
                for n in range(start, min(start + 10_000, 200_001))
            )
        yield SHEET_END
    return workbook(chunks())


@pytest.mark.slow
def test_a_199999_row_workbook_previews_and_commits_without_growing_the_server(demo_app, import_client, demo_db):
    data = rows_199_999()
    assert len(data) < 20 * 1024 * 1024
    page, grown_preview = growth_kb(lambda: upload(import_client, "attendees", "groot.xlsx", data))
    assert "199999 attendees in the file" in page.text, page.text[:2000]
    token = re.search(r'name="token" value="([0-9a-f]+)"', page.text).group(1)
    done, grown_commit = growth_kb(lambda: import_client.post(
        "/admin/import/commit", data={"token": token, "kind": "attendees", "filename": "groot.xlsx"}))
    assert done.status_code == 303
    assert demo_db.execute("SELECT count(*) FROM attendees WHERE organisation = 'Gemeente 7'").fetchone()[0] > 600
    print(f"server RSS growth: preview {grown_preview // 1024} MB, commit {grown_commit // 1024} MB")
    assert grown_preview < RSS_BUDGET_KB, f"the preview grew the server by {grown_preview // 1024} MB"
    assert grown_commit < RSS_BUDGET_KB, f"the commit grew the server by {grown_commit // 1024} MB"


def test_an_import_past_its_memory_cap_is_refused_as_too_large(demo_app, import_client, demo_db):
    demo_app.config["IMPORT_MEMORY_MB"] = 150  # the child starts in about 70 MB; 150,000 rows need more than the rest
    before = dump(demo_db)
    data = "Naam;E-mail\n" + "".join(f"Persoon {n};p{n}@example.org\n" for n in range(150_000))
    page = upload(import_client, "attendees", "deelnemers.csv", data.encode())
    assert "the file is too large to import" in page.text
    assert 'name="token"' not in page.text and dump(demo_db) == before


def test_a_cell_longer_than_excel_allows_is_refused(import_client):
    data = workbook([SHEET_START, row(1, "Naam"), row(2, "x" * 40_000), SHEET_END])
    page = upload(import_client, "attendees", "deelnemers.xlsx", data)
    assert "a cell of the workbook holds more than 32767 characters" in page.text


def test_a_workbook_with_inline_strings_and_no_shared_strings_imports(import_client):
    data = workbook([SHEET_START, row(1, "Naam", "E-mail"), row(3, "Noëlle de Wit", "noelle@leiden.nl"), SHEET_END])
    page = upload(import_client, "attendees", "deelnemers.xlsx", data)
    assert "Noëlle de Wit" in page.text and 'name="token"' in page.text


def test_ordinary_workbooks_still_read_the_same(import_client):
    page = upload(import_client, "program", "programma.xlsx", xlsx_bytes([
        ["Blok", "Sessie", "Zaal", "Capaciteit"], ["Middagsessies", "Europa", "Burgemeesterskamer", 20.0],
    ]))
    assert "Europa" in page.text and 'name="token"' in page.text
