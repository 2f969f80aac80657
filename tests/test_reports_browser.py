"""The report in a real browser: it renders with its charts, and its print view fits A4.

The demo event (today) with a morning of scans written through the data layer's record_scan at
exact times: ~300 arrivals from 08:30 to 10:00, the opening in the Burgerzaal, the morning
sessions. Printed to PDF by Chromium at A4 (page.pdf), the report takes at most MAX_PAGES pages
(the demo's 19 sessions and 45 organisations in tables), and no element is wider than the page.
"""

from datetime import datetime, timedelta

import pypdfium2
import pytest

from tests.conftest import ORGANISER, LiveServer, page_login
from kiosk.data.event import event_zone, get_event
from kiosk.data.scans import record_scan
from kiosk.db import connect

pytestmark = pytest.mark.browser
MAX_PAGES = 4
PRINT_WIDTH_PX = 703  # A4's 210 mm less report.css's 12 mm margins, at 96 px per inch


@pytest.fixture
def morning_server(tmp_path, demo_template):
    path = tmp_path / "report.db"
    path.write_bytes(demo_template.read_bytes())
    db = connect(path)
    event = get_event(db)
    start = datetime.fromisoformat(event["date"]).replace(hour=8, minute=30, tzinfo=event_zone(event))
    people = [row[0] for row in db.execute("SELECT id FROM attendees WHERE status = 'registered' ORDER BY id")][:300]
    rooms = dict(db.execute("SELECT name, id FROM rooms").fetchall())
    morning = dict(db.execute(
        """SELECT choices.attendee_id, sessions.room_id FROM choices JOIN blocks ON blocks.id = choices.block_id
           JOIN sessions ON sessions.id = choices.session_id WHERE blocks.name = 'Ochtendsessies'"""
    ).fetchall())
    for n, person in enumerate(people):
        record_scan(db, attendee_id=person, now=start + timedelta(seconds=18 * n))
    for n, person in enumerate(people):
        record_scan(db, room_id=rooms["Burgerzaal"], attendee_id=person, now=start + timedelta(minutes=40, seconds=12 * n))
    for n, person in enumerate(people):
        if morning.get(person):
            record_scan(db, room_id=morning[person], attendee_id=person, now=start + timedelta(hours=2, minutes=20, seconds=4 * n))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    server = LiveServer(path, tmp_path / "instance")
    yield server
    server.stop()


def test_the_report_renders_and_prints_on_a4(browser, morning_server, tmp_path):
    page = browser.new_page(locale="nl-NL")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page_login(page, morning_server.url, *ORGANISER)
    page.goto(morning_server.url + "/report")
    assert page.locator("h1").text_content().startswith("Rapport")
    assert page.locator("svg[role=img]").count() == 1 + page.locator(".room-figure").count() >= 11
    assert page.locator("svg.chart-arrivals rect.bar-arrivals").count() >= 18  # 90 minutes of arrivals
    assert page.locator(".room-figure.is-full").count() >= 1  # a morning room filled up
    # The sessions table sorts on the server, through plain links.
    page.locator("th a", has_text="Aanwezig").click()
    page.wait_for_url("**sort=attended**")
    assert page.locator("th[aria-sort]").count() == 1
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors

    page.emulate_media(media="print")
    page.set_viewport_size({"width": PRINT_WIDTH_PX, "height": 1000})
    widest = page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, ...[...document.querySelectorAll('body *')]"
        ".filter(e => e.getClientRects().length).map(e => Math.ceil(e.getBoundingClientRect().right)))"
    )
    offenders = page.evaluate(
        f"() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > {PRINT_WIDTH_PX})"
        ".slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + (e.textContent || '').slice(0, 40))"
    )
    assert widest <= PRINT_WIDTH_PX, (widest, offenders)
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    pages = len(pypdfium2.PdfDocument(str(pdf)))
    print(f"\nreport printed on A4: {pages} pages")
    assert 1 <= pages <= MAX_PAGES
