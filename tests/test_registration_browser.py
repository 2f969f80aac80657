"""Registration in real Chromium: the page in Dutch, a full session shown as full, the places left updated
while the page is open when someone else registers (htmx poll), and the form working with JavaScript off;
the waiting list page of someone without a registration, leaving it with JavaScript off."""

import pytest
from playwright.sync_api import expect

from conftest import personal_pages
from kiosk.db import connect
from test_accessibility import axe_source, run_axe

pytestmark = pytest.mark.browser


def test_the_register_page_in_dutch_with_live_places_and_without_javascript(live_server, browser):
    db = connect(live_server.database_path)
    db.execute("UPDATE event SET registration_open = 1")
    taken = db.execute("""SELECT count(*) FROM choices JOIN attendees ON attendees.id = choices.attendee_id
                          WHERE session_id = 8 AND status = 'registered'""").fetchone()[0]
    db.execute("UPDATE sessions SET place_limit = ? WHERE id = 8", [taken + 2])
    db.close()
    watching = browser.new_context(locale="nl-NL").new_page()
    watching.goto(f"{live_server.url}/register")
    expect(watching.locator("h1")).to_contain_text("Aanmelden voor")
    expect(watching.locator("#places-7")).to_have_text("Vol: kies deze om op de wachtlijst te komen")
    expect(watching.locator("#places-8")).to_have_text("nog 2 plaatsen over")

    # Someone else registers, in a browser without JavaScript: a plain form post and a redirect.
    plain = browser.new_context(locale="nl-NL", java_script_enabled=False).new_page()
    plain.goto(f"{live_server.url}/register")
    plain.fill("input[name=name]", "Noor Zonder Script")
    plain.fill("input[name=email]", "noor@example.org")
    plain.fill("input[name=organisation]", "Gemeente Zaanstad")
    plain.check("input[name=block-3][value='8']")
    plain.check("input[name=consent]")
    plain.get_by_role("button", name="Aanmelden", exact=True).click()
    plain.wait_for_url(f"{live_server.url}/register/done")
    expect(plain.locator("h1")).to_have_text("Dank je wel")

    # The open page sees the place go without a reload.
    expect(watching.locator("#places-8")).to_have_text("nog 1 plaats over", timeout=15000)
    db = connect(live_server.database_path)
    assert db.execute("SELECT count(*) FROM outbox WHERE recipient = 'noor@example.org'").fetchone()[0] == 1
    db.close()


def test_someone_only_on_a_waiting_list_sees_it_in_dutch_and_leaves_it_without_javascript(live_server, browser):
    db = connect(live_server.database_path)
    attendee = db.execute("SELECT min(id) FROM attendees WHERE status = 'registered'").fetchone()[0]
    _me, waiting = personal_pages(db, attendee, name="Wim Wachter")
    db.close()
    # With JavaScript: the page as a person sees it, and axe finds nothing on it (bypass_csp: axe is the
    # test's own inline script; the app's CSP stays as it is).
    context = browser.new_context(locale="nl-NL", bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}{waiting}")
    expect(page.locator("h1")).to_have_text("Je wachtlijsten")
    expect(page.locator("#waiting-heading + ul li")).to_contain_text("Stadswandeling MAAK Centrum")
    expect(page.locator("#waiting-heading + ul li")).to_contain_text("nummer 1 in de rij")
    expect(page.get_by_text("je hebt een plaats gekregen")).to_be_visible()
    assert run_axe(page, axe_source()) == []
    context.close()
    # Without JavaScript: the button is a plain form post, answered with a redirect to the same page.
    plain = browser.new_context(locale="nl-NL", java_script_enabled=False).new_page()
    plain.goto(f"{live_server.url}{waiting}")
    plain.get_by_role("button", name="Van de wachtlijst voor Stadswandeling MAAK Centrum af").click()
    plain.wait_for_url(f"{live_server.url}{waiting}")
    expect(plain.locator(".flash-success")).to_have_text("Je staat niet meer op de wachtlijst.")
    expect(plain.locator("#waiting-none")).to_be_visible()
    db = connect(live_server.database_path)
    assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'waiting.leave'").fetchone()[0] == 1
    db.close()
