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


def test_fresh_install_to_a_checked_in_walk_in(tmp_path, browser):
    database, instance = tmp_path / "fresh.db", tmp_path / "instance"
    live = LiveServer(database, instance)
    try:
        link = None
        for _ in range(50):
            found = re.search(r"(http://127\.0\.0\.1:\d+/setup/\S+)", live.output())
            if found:
                link = found.group(1)
                break
            time.sleep(0.1)
        assert link, live.output()
        page = browser.new_page(locale="en-GB")
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
