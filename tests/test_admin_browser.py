"""Organiser pages in a real browser: log in, search as you type, open an attendee."""

import re

import pytest

from tests.conftest import ORGANISER, page_login

pytestmark = pytest.mark.browser


def test_search_by_partial_name_with_diacritics_and_open_detail(browser, live_server):
    page = browser.new_page(locale="nl-NL")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page_login(page, live_server.url, *ORGANISER)
    page.goto(live_server.url + "/admin/attendees")
    # Type like a person: every keystroke triggers the live search (no submit).
    page.locator("#attendee-search").press_sequentially("noël", delay=60)
    rows = page.locator("#attendee-rows tbody tr a")
    page.wait_for_function(
        "() => { const names = [...document.querySelectorAll('#attendee-rows tbody tr a')];"
        " return names.length > 0 && names.every(a => a.textContent.includes('Noël')) }"
    )
    names = rows.all_text_contents()
    assert names and all("Noëlle" in name for name in names)
    assert re.search(r"q=no%C3%ABl", page.url)  # the search is in the address, so reload and back work
    first = names[0]
    rows.first.click()
    page.wait_for_url(re.compile(r"/admin/attendees/\d+$"))
    assert page.locator("h1").text_content().strip() == first
    assert page.locator("text=Programma").first.is_visible() or page.locator("text=Program").first.is_visible()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_program_in_dutch_and_english(browser, live_server):
    page = browser.new_page(locale="en-GB")
    page_login(page, live_server.url, *ORGANISER)
    page.goto(live_server.url + "/admin/program")
    assert page.locator("h1").text_content().strip() == "Program"
    page.click("button[value=nl]")
    page.wait_for_selector("html[lang=nl]")
    assert page.locator("h1").text_content().strip() == "Programma"
    assert page.locator("text=Stadswandeling Monet").first.is_visible()
