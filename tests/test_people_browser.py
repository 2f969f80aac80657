"""People and program in real Chromium: an organiser renames an attendee and the entrance welcomes the new
name, cancels them and the entrance says cancelled, the staffed desk lets them in with a reason and the
history shows who; an organiser builds a room, a block and a session in the pages and the session shows."""

import pytest

from kiosk.data import accounts
from kiosk.data import people as people_data
from kiosk.data.rooms import places_of
from kiosk.db import connect
from tests.conftest import ORGANISER, page_login

pytestmark = pytest.mark.browser


def _station(path, name, **options):
    db = connect(path)
    try:
        return accounts.add_station(db, name, mode="entrance", language="en", **options)[::2]
    finally:
        db.close()


def _paired(browser, base_url, secret):
    """A fresh browser context paired as a station through its one-time link, on /kiosk."""
    page = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base_url}/pair/{secret}")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base_url}/kiosk")
    page.wait_for_selector("#kiosk[data-ready='1']", state="attached")
    return page


def _scan(page, code, outcome):
    page.fill("#scan-code", code)
    page.press("#scan-code", "Enter")
    page.wait_for_selector(f"#scan-result[data-outcome='{outcome}']", timeout=10000)
    return page.inner_text("#scan-result")


def test_rename_cancel_and_desk_override_with_a_reason(browser, live_server):
    db = connect(live_server.database_path)
    attendee_id, code = db.execute(
        """SELECT attendees.id, badges.code FROM attendees JOIN badges ON badges.attendee_id = attendees.id
           WHERE attendees.status = 'registered' AND badges.replaced_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM presence WHERE presence.attendee_id = attendees.id)
           ORDER BY attendees.id LIMIT 1""").fetchone()
    db.close()
    _, entrance_secret = _station(live_server.database_path, "Entrance A")
    _, desk_secret = _station(live_server.database_path, "Registration desk", staffed=True)
    organiser = browser.new_context(locale="en-GB").new_page()
    page_login(organiser, live_server.url, *ORGANISER)

    organiser.goto(f"{live_server.url}/admin/attendees/{attendee_id}/edit")
    organiser.fill("input[name=first_name]", "Annemarie")
    organiser.fill("input[name=name_prefix]", "van")
    organiser.fill("input[name=last_name]", "Nieuwenhuis")
    organiser.click("button:has-text('Save details')")
    organiser.wait_for_url(f"{live_server.url}/admin/attendees/{attendee_id}")
    assert organiser.locator("h1").inner_text().strip() == "Annemarie van Nieuwenhuis"

    entrance = _paired(browser, live_server.url, entrance_secret)
    assert "Welcome, Annemarie van Nieuwenhuis" in _scan(entrance, code, "checked_in")

    # A mistaken check-in is undone from the history; then the registration is cancelled.
    organiser.reload()
    organiser.click("form[action*='/kiosk/undo/'] button")
    organiser.wait_for_url(f"{live_server.url}/admin/attendees/{attendee_id}")
    organiser.click("button:has-text('Cancel the registration')")
    organiser.wait_for_selector(".pill.bad:has-text('Cancelled')")
    entrance.click("#scan-result .result-dismiss")
    entrance.wait_for_selector("#scan-result[data-outcome='idle']")
    assert "cancelled" in _scan(entrance, code, "cancelled")

    desk = _paired(browser, live_server.url, desk_secret)
    answer = _scan(desk, code, "cancelled")
    assert "registration desk" not in answer
    desk.fill("#scan-result input[name=reason]", "Paid at the desk")
    desk.wait_for_timeout(7000)  # longer than an answer stays: typing keeps it open
    desk.click("#scan-result button:has-text('Let in anyway')")
    desk.wait_for_selector("#scan-result[data-outcome='checked_in']", timeout=10000)
    assert "Welcome, Annemarie van Nieuwenhuis" in desk.inner_text("#scan-result")

    organiser.reload()
    row = organiser.locator("tr", has_text="Paid at the desk")
    assert row.count() == 1
    assert "Registration desk" in row.locator(".scan-by").inner_text() and "let in anyway" in row.inner_text()


def test_program_built_in_the_pages_shows_where_sessions_show(browser, live_server):
    page = browser.new_context(locale="en-GB").new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page_login(page, live_server.url, *ORGANISER)
    page.goto(f"{live_server.url}/admin/program")
    room = page.locator("form[action$='/admin/program/rooms']")
    room.locator("input[name=name]").fill("Glazen Zaal")
    room.locator("input[name=capacity]").fill("40")
    room.locator("input[name=has_exit_scan]").check()
    room.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success:has-text('Room added.')")
    block = page.locator("form[action$='/admin/program/blocks']")
    block.locator("input[name=name]").fill("Avondprogramma")
    block.locator("input[name=starts_at]").fill("19:30")
    block.locator("input[name=ends_at]").fill("21:00")
    block.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success:has-text('Block added.')")
    session = page.locator("form[action$='/admin/program/sessions']")
    session.locator("input[name=title]").fill("Glas in lood")
    session.locator("select[name=block_id]").select_option(label="Avondprogramma (19:30–21:00)")
    session.locator("select[name=room_id]").select_option(label="Glazen Zaal (40)")
    session.locator("input[name=place_limit]").fill("25")
    session.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success:has-text('Session added.')")
    section = page.locator("section.card", has=page.locator("h2", has_text="Avondprogramma"))
    assert "Glas in lood" in section.inner_text() and "Glazen Zaal" in section.inner_text()
    # Where sessions show: the attendee form's choices and the list's session filter.
    page.goto(f"{live_server.url}/admin/attendees/new")
    assert page.locator("select option", has_text="Glas in lood").count() == 1
    page.goto(f"{live_server.url}/admin/attendees")
    page.locator("select[name=session]").select_option(label="Avondprogramma: Glas in lood")
    page.wait_for_selector("#attendee-count:has-text('0 attendees shown')")
    db = connect(live_server.database_path)
    assert db.execute("SELECT has_exit_scan, capacity FROM rooms WHERE name = 'Glazen Zaal'").fetchone() == (1, 40)
    db.close()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_the_desk_adds_a_walk_in_prints_the_badge_and_the_entrance_welcomes_them(browser, live_server):
    db = connect(live_server.database_path)
    free = [s for s in people_data.sessions_for_choice(db) if s["kind"] == "session"
            and (places_of(s) is None or places_of(s) > s["registered"])]
    block_name, session_title = free[0]["block_name"], free[0]["title"]
    db.close()
    _, desk_secret = _station(live_server.database_path, "Walk-in desk", staffed=True)
    _, entrance_secret = _station(live_server.database_path, "Entrance B")
    desk = _paired(browser, live_server.url, desk_secret)
    desk.click("a:has-text('Add a walk-in')")
    desk.fill("input[name=first_name]", "Wouter")
    desk.fill("input[name=last_name]", "Binnenloper")
    desk.fill("input[name=organisation]", "Waterschap Nergens")
    select = desk.locator("label", has_text=block_name).locator("select")
    select.select_option(label=select.locator("option", has_text=session_title).first.inner_text().strip())
    desk.click("button:has-text('Add walk-in')")
    desk.wait_for_selector("h1:has-text('Wouter Binnenloper is added')")
    short = desk.inner_text("strong.code").strip()
    desk.click("button:has-text('Print badge')")
    desk.wait_for_selector("body.print-view")
    assert short in desk.content()

    entrance = _paired(browser, live_server.url, entrance_secret)
    answer = _scan(entrance, short, "checked_in")
    assert "Welcome, Wouter Binnenloper" in answer and session_title in answer
    assert entrance.locator("#scan-result.tone-ok").count() == 1
