"""In a browser: a fresh install from its set-up link to a walk-in checked in at the entrance.

`kiosk serve` on an empty database prints the one-time link; Chromium opens it, creates the
first organiser and the event; the program is imported (`kiosk import program`); an API token
is made on its page; one attendee is added through the organiser API; their badge's print view
shows them; a station made on the stations page scans the badge: checked in, with their name.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT, LiveServer

pytestmark = pytest.mark.browser

PROGRAM = "Blok;Begin;Einde;Sessie;Soort;Zaal;Capaciteit;Plaatsen;Verzamelpunt;Omschrijving\r\n" \
          "Ochtend;09:30;12:00;Opening;plenair;Raadzaal;200;;;\r\n"


def call(url, token, body=None, method="GET"):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def set_up_through_the_link(browser, live):
    """Read the one-time link `kiosk serve` printed, make the first organiser and the event with it;
    returns the organiser's page and the (now spent) link."""
    link = None
    for _ in range(50):
        found = re.search(r"(http://127\.0\.0\.1:\d+/setup/\S+)", live.output())
        if found:
            link = found.group(1)
            break
        time.sleep(0.1)
    assert link, live.output()
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(link)
    page.fill("input[name=email]", "organiser@gemeente.example")
    page.fill("input[name=password]", "een goed wachtwoord")
    page.fill("input[name=password2]", "een goed wachtwoord")
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/setup/event$"))
    page.fill("input[name=name]", "Netwerkdag 2027")
    page.fill("input[name=date]", "2027-03-11")
    page.fill("input[name=venue]", "Stadhuis Zaanstad")
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/$"))
    return page, link


def test_fresh_install_to_a_checked_in_walk_in(tmp_path, browser):
    database, instance = tmp_path / "fresh.db", tmp_path / "instance"
    live = LiveServer(database, instance)
    try:
        page, link = set_up_through_the_link(browser, live)
        assert "Netwerkdag 2027" in page.title()
        # The link is spent.
        assert browser.new_page().goto(link).status == 404

        program = tmp_path / "program.csv"
        program.write_text(PROGRAM, encoding="utf-8")
        environment = dict(os.environ, KIOSK_DB=str(database), KIOSK_INSTANCE=str(instance))
        imported = subprocess.run([sys.executable, "-m", "kiosk.cli", "import", "program", str(program)], env=environment,
                                  cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert imported.returncode == 0, imported.stderr

        page.goto(live.url + "/admin/tokens")
        page.fill("input[name=name]", "Aanmeldformulier")
        page.click("button[type=submit].primary")
        token = page.text_content("#api-token").strip()
        status, attendee = call(live.url + "/api/v1/attendees", token,
                                {"name": "Wendy Walk-in", "organisation": "Gemeente Ede", "sessions": {"Ochtend": "Opening"}},
                                method="POST")
        assert status == 201 and attendee["sessions"] == {"Ochtend": "Opening"}

        page.goto(f"{live.url}/badges/print?layout=a6&attendee={attendee['id']}")
        assert page.locator("svg.badge text", has_text="Wendy Walk-in").count() == 1
        assert page.locator("svg.badge text", has_text=attendee["short_code"]).count() == 1

        page.goto(live.url + "/admin/stations")
        page.fill("input[name=name]", "Entrance 1")
        page.click("form[action='/admin/stations'] button[type=submit]")
        station_token = page.text_content("#station-token").strip()
        status, scan = call(live.url + "/api/v1/scans", station_token, {"code": attendee["badge_code"]}, method="POST")
        assert status == 200 and scan["outcome"] == "checked_in" and scan["attendee"]["name"] == "Wendy Walk-in"
        assert call(f"{live.url}/api/v1/attendees/{attendee['id']}", token)[1]["checked_in_at"]
    finally:
        live.stop()


def _create_station(page, base, name, *, staffed=False):
    """Make an entrance station on the stations page; its one-time pairing link."""
    page.goto(base + "/admin/stations")
    form = page.locator("form[action='/admin/stations']")
    form.locator("input[name=name]").fill(name)
    if staffed:
        form.locator("input[name=staffed]").check()
    form.locator("select[name=language]").select_option("en")
    form.locator("button[type=submit]").click()
    return page.get_attribute("#pairing-link", "href")


def _pair(browser, link):
    """A fresh context (a tablet) paired through LINK, on its kiosk page."""
    tablet = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900}).new_page()
    tablet.goto(link)
    tablet.click("button[type=submit].primary")
    tablet.wait_for_selector("#kiosk[data-ready='1']", state="attached")
    return tablet


def test_fresh_install_program_in_the_pages_walk_in_at_the_desk_welcomed_with_their_program(tmp_path, browser):
    """Issue 16's whole first day, in the browser only: set-up link, first organiser, the event, the
    program built in the pages, a walk-in added at the staffed desk with their badge printed, and the
    entrance's green welcome with their program."""
    live = LiveServer(tmp_path / "fresh.db", tmp_path / "instance")
    try:
        page, _link = set_up_through_the_link(browser, live)

        page.goto(live.url + "/admin/program")
        room = page.locator("form[action$='/admin/program/rooms']")
        room.locator("input[name=name]").fill("Raadzaal")
        room.locator("input[name=capacity]").fill("120")
        room.locator("button[type=submit]").click()
        page.wait_for_selector(".flash-success")
        block = page.locator("form[action$='/admin/program/blocks']")
        block.locator("input[name=name]").fill("Ochtend")
        block.locator("input[name=starts_at]").fill("09:30")
        block.locator("input[name=ends_at]").fill("12:00")
        block.locator("button[type=submit]").click()
        page.wait_for_selector(".flash-success")
        session = page.locator("form[action$='/admin/program/sessions']")
        session.locator("input[name=title]").fill("Opening door de burgemeester")
        session.locator("select[name=block_id]").select_option(label="Ochtend (09:30–12:00)")
        session.locator("select[name=room_id]").select_option(label="Raadzaal (120)")
        session.locator("button[type=submit]").click()
        page.wait_for_selector(".flash-success")

        desk = _pair(browser, _create_station(page, live.url, "Registration desk", staffed=True))
        entrance = _pair(browser, _create_station(page, live.url, "Entrance 1"))

        desk.click("a:has-text('Add a walk-in')")
        desk.fill("input[name=first_name]", "Wendy")
        desk.fill("input[name=last_name]", "Binnenloop")
        desk.fill("input[name=organisation]", "Gemeente Ede")
        choice = desk.locator("label", has_text="Ochtend").locator("select")
        choice.select_option(label=choice.locator("option", has_text="Opening door de burgemeester").first.inner_text().strip())
        desk.click("button:has-text('Add walk-in')")
        desk.wait_for_selector("h1:has-text('Wendy Binnenloop is added')")
        short = desk.inner_text("strong.code").strip()
        desk.click("button:has-text('Print badge')")
        desk.wait_for_selector("body.print-view")
        assert short in desk.content()

        entrance.fill("#scan-code", short)
        entrance.press("#scan-code", "Enter")
        entrance.wait_for_selector("#scan-result[data-outcome='checked_in']", timeout=10000)
        answer = entrance.inner_text("#scan-result")
        assert "Welcome, Wendy Binnenloop" in answer
        assert "Opening door de burgemeester" in answer and "Raadzaal" in answer
        assert entrance.locator("#scan-result.tone-ok").count() == 1
    finally:
        live.stop()
