"""Several events in real Chromium: an organiser makes a new event from the earlier one, works on it and back."""

import pytest

from tests.conftest import ORGANISER, page_login

pytestmark = pytest.mark.browser


def test_create_from_the_earlier_event_switch_and_see_the_right_lists(browser, live_server):
    page = browser.new_context(locale="en-GB").new_page()
    page_login(page, live_server.url, *ORGANISER)
    page.click("nav.mainnav a:has-text('Events')")
    page.wait_for_url(f"{live_server.url}/admin/events")
    page.fill("input[name=name]", "G40 voorjaar")
    page.fill("input[name=date]", "2030-05-01")
    page.select_option("select[name=copy_from]", label="the rooms, program and settings of Tweede ambtelijke netwerkdag G40")
    page.click("button:has-text('Create the event and work on it')")
    page.wait_for_url(f"{live_server.url}/admin/events")
    assert "The event is created; you are working on it." in page.inner_text(".flashes")
    assert "G40 voorjaar" in page.inner_text("header .event-name")
    assert "you are working on this event" in page.locator("tr", has_text="G40 voorjaar").inner_text()

    page.click("nav.mainnav a:has-text('Attendees')")
    assert page.inner_text("#attendee-count").startswith("0 attendees shown")  # nobody: people are never copied
    page.click("nav.mainnav a:has-text('Program')")
    assert page.locator("main", has_text="Burgerzaal").count() == 1  # the rooms and program are

    page.click("nav.mainnav a:has-text('Events')")
    page.click("button:has-text('Work on Tweede ambtelijke netwerkdag G40')")
    page.wait_for_url(f"{live_server.url}/admin/events")
    assert "Tweede ambtelijke netwerkdag G40" in page.inner_text("header .event-name")
    page.click("nav.mainnav a:has-text('Attendees')")
    assert page.locator("main tbody tr").count() >= 20 and not page.inner_text("#attendee-count").startswith("0 ")
