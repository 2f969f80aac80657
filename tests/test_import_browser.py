"""An import in real Chromium against `kiosk serve`: an organiser uploads a Microsoft Forms export, tells the
preview what one column is for, confirms, and finds the organisation on the attendee's page."""

import io

import pytest
from openpyxl import Workbook

from kiosk.db import connect
from tests.conftest import ORGANISER, page_login

pytestmark = pytest.mark.browser


def forms_export():
    """Microsoft Forms (anyone can respond): ID, Start time, Completion time, Email ("anonymous"), Name (empty),
    then the questions; "Voor wie werk je?" names no organisation word, so Kiosk keeps it as an extra field."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Form1"
    sheet.append(["ID", "Start time", "Completion time", "Email", "Name", "Wat is je naam?", "Wat is je e-mailadres?",
                  "Voor wie werk je?"])
    sheet.append([1, "3/1/26 9:02", "3/1/26 9:04", "anonymous", None, "Hanneke Zwart", "hanneke@purmerend.nl",
                  "Gemeente Purmerend"])
    sheet.append([2, "3/1/26 9:10", "3/1/26 9:12", "anonymous", None, "Ruben Aydın", "ruben@vng.nl", "VNG"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_organiser_maps_a_column_in_the_preview_and_imports(browser, live_server, tmp_path):
    path = tmp_path / "Aanmelden.xlsx"
    path.write_bytes(forms_export())
    page = browser.new_context(locale="en-GB").new_page()
    page_login(page, live_server.url, *ORGANISER)
    page.goto(f"{live_server.url}/admin/import?kind=attendees")
    page.set_input_files("input[name=file]", str(path))
    page.click("button:has-text('Check the file')")
    page.wait_for_selector("select[name=map-7]", timeout=30000)
    assert page.input_value("select[name=map-5]") == "name" and page.input_value("select[name=map-6]") == "email"
    assert page.input_value("select[name=map-7]") == "extra"

    page.select_option("select[name=map-7]", "organisation")
    page.click("button:has-text('Check again with these choices')")
    page.wait_for_selector("button:has-text('Import')", timeout=30000)
    assert page.input_value("select[name=map-7]") == "organisation"
    assert "Gemeente Purmerend" in page.inner_text("main")
    page.click("button.primary:has-text('Import')")
    page.wait_for_url(f"{live_server.url}/admin/attendees*", timeout=30000)

    db = connect(live_server.database_path)
    (attendee_id,) = db.execute("SELECT id FROM attendees WHERE email = 'hanneke@purmerend.nl'").fetchone()
    db.close()
    page.goto(f"{live_server.url}/admin/attendees/{attendee_id}")
    text = page.inner_text("main")
    assert "Hanneke Zwart" in text and "Gemeente Purmerend" in text
