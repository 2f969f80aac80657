"""In Chromium: a host tablet and the organiser wall follow room-door scans live, alert at 90%, recover offline."""

import json
import time
import urllib.request

import pytest
from conftest import HOST, ORGANISER, make_station, page_login

from kiosk.db import connect

pytestmark = pytest.mark.browser

LIVE_WITHIN = 1.0  # seconds from a scan's answer to both screens showing it


@pytest.fixture
def door(live_server):
    """A room-door station at the Burgemeesterskamer (20 places), with the morning block running all day."""
    database = connect(live_server.database_path)
    try:
        database.execute("UPDATE blocks SET starts_at = '00:00', ends_at = '23:59' WHERE name = 'Ochtendsessies'")
        station, token, _secret = make_station(database, "Door BK", mode="room", room_name="Burgemeesterskamer")
        codes = [row[0] for row in database.execute(
            "SELECT code FROM badges JOIN attendees ON attendees.id = badges.attendee_id "
            "WHERE badges.replaced_at IS NULL AND attendees.status = 'registered' ORDER BY badges.id LIMIT 25")]
    finally:
        database.close()
    yield {"room_id": station["room_id"], "token": token, "codes": codes}
    live_server.stop()


def scan(live_server, door, code):
    request = urllib.request.Request(
        live_server.url + "/api/v1/scans", data=json.dumps({"code": code}).encode(), method="POST",
        headers={"Authorization": f"Bearer {door['token']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def open_page(browser, live_server, account, path, errors):
    context = browser.new_context()
    page = context.new_page()
    page_login(page, live_server.url, *account)
    # Listen from here on: the pages under test are ours, the one after login is not.
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + path)
    return context, page


def shown(page, selector):
    return page.locator(selector).inner_text().strip()


def wait_for_text(page, selector, text, deadline):
    """Poll what the page shows until it reads TEXT or the DEADLINE (monotonic) passes; returns the time seen."""
    while True:
        if shown(page, selector) == text:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} shows {shown(page, selector)!r}, not {text!r}, after the deadline")
        time.sleep(0.02)


def test_host_page_and_wall_follow_door_scans_within_a_second(browser, live_server, door):
    errors = []
    host_context, host = open_page(browser, live_server, HOST, f"/rooms/{door['room_id']}", errors)
    wall_context, wall = open_page(browser, live_server, ORGANISER, "/rooms/wall", errors)
    room_on_wall = f".wall-room[data-room='{door['room_id']}'] .inside"
    try:
        assert shown(host, "#room-live .inside") == "0"
        assert shown(wall, room_on_wall) == "0"
        lags = []
        for count, code in enumerate(door["codes"][:3], start=1):
            answer = scan(live_server, door, code)
            answered = time.monotonic()
            assert answer["outcome"] == "checked_in" and answer["room"]["inside"] == count
            seen_host = wait_for_text(host, "#room-live .inside", str(count), answered + LIVE_WITHIN)
            seen_wall = wait_for_text(wall, room_on_wall, str(count), answered + LIVE_WITHIN)
            lags.append(max(seen_host, seen_wall) - answered)
        assert max(lags) <= LIVE_WITHIN, lags
        # The latest person in is named on the host tablet.
        assert host.locator(".latest-in li").count() == 3

        # Up to 18 of 20 places: both screens alert once, naming a session with places left.
        for code in door["codes"][3:18]:
            scan(live_server, door, code)
        answered = time.monotonic()
        host.locator("#alert-banner").wait_for(state="visible", timeout=LIVE_WITHIN * 1000 + 500)
        wall.locator("#alert-banner").wait_for(state="visible", timeout=max(0, answered + LIVE_WITHIN + 0.5 - time.monotonic()) * 1000)
        for page in (host, wall):
            text = page.locator("#alert-banner").inner_text()
            assert "90%" in text and "Send people to" in text and "Raadzaal" in text
        assert "level-busy" in host.locator("#room-live").get_attribute("class")
        host.click("[data-alert-dismiss]")
        assert host.locator("#alert-banner").is_hidden()
        # Once: a reload in the same tab does not alert again for the same level.
        host.reload()
        host.wait_for_timeout(800)
        assert host.locator("#alert-banner").is_hidden()

        # Full: a new level, a new alert; the door refuses and names the alternative.
        for code in door["codes"][18:20]:
            scan(live_server, door, code)
        refused = scan(live_server, door, door["codes"][20])
        assert refused["outcome"] == "full" and refused["alternative"]["places_left"] > 0
        host.locator("#alert-banner").wait_for(state="visible", timeout=1500)
        assert "is full" in host.locator("#alert-banner").inner_text()
        assert shown(host, "#room-live .level-text") == "Full"
        assert "level-full" in host.locator("#room-live").get_attribute("class")
        # Alerts are kept per tab in sessionStorage.
        keys = host.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('kiosk-alert:'))")
        assert len(keys) == 2
    finally:
        host_context.close()
        wall_context.close()
    assert not [error for error in errors if "Content Security Policy" in error or "Refused" in error], errors


def test_the_host_page_recovers_after_the_network_drops(browser, live_server, door):
    errors = []
    context, host = open_page(browser, live_server, HOST, f"/rooms/{door['room_id']}", errors)
    try:
        context.set_offline(True)
        status = host.locator("#live-status")
        status.wait_for(state="visible", timeout=5000)
        scan(live_server, door, door["codes"][0])
        host.wait_for_timeout(700)
        assert shown(host, "#room-live .inside") == "0"  # offline: nothing new arrives
        context.set_offline(False)
        back = time.monotonic()
        wait_for_text(host, "#room-live .inside", "1", back + LIVE_WITHIN + 0.5)
        status.wait_for(state="hidden", timeout=1500)
    finally:
        context.close()


def test_plus_one_on_the_host_page_updates_without_reload(browser, live_server, door):
    errors = []
    context, host = open_page(browser, live_server, HOST, f"/rooms/{door['room_id']}", errors)
    try:
        host.click("form:has(input[name=delta][value='1']) button")
        wait_for_text(host, "#room-live .inside", "1", time.monotonic() + 2)
        host.click("form:has(input[name=delta][value='-1']) button")
        wait_for_text(host, "#room-live .inside", "0", time.monotonic() + 2)
        host.fill("#host-scan-code", door["codes"][0])
        host.press("#host-scan-code", "Enter")
        host.locator("#scan-answer[data-outcome='checked_in']").wait_for(timeout=3000)
        wait_for_text(host, "#room-live .inside", "1", time.monotonic() + 2)
        assert host.input_value("#host-scan-code") == ""
    finally:
        context.close()
    assert not [error for error in errors if "Content Security Policy" in error or "Refused" in error], errors


def test_a_live_page_whose_login_ended_goes_to_the_login_form(browser, live_server, door):
    """Logged out elsewhere (another tab, `kiosk user logout`): the polling room page shows the
    login form as a whole page, not swapped into the room's card."""
    from kiosk.data import accounts

    errors = []
    context, page = open_page(browser, live_server, HOST, f"/rooms/{door['room_id']}", errors)
    page.wait_for_selector("#room-live")
    database = connect(live_server.database_path)
    try:
        accounts.end_logins_of(database, HOST[0], actor="test")
    finally:
        database.close()
    page.wait_for_url(f"{live_server.url}/login?next=/rooms/{door['room_id']}", timeout=5000)
    assert page.locator("input[name=password]").count() == 1
    assert page.locator("#room-live").count() == 0
    page_login_form = page.locator("form:has(input[name=email])")
    page_login_form.locator("input[name=email]").fill(HOST[0])
    page_login_form.locator("input[name=password]").fill(HOST[1])
    page_login_form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/rooms/{door['room_id']}")  # back where the host was
    page.wait_for_selector("#room-live")
    context.close()
