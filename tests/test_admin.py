"""Organiser pages: overview, attendee search, attendee detail, program."""

import pytest

from kiosk.data import attendees
from kiosk.data.event import create_event, get_event, local_time, update_event
from kiosk.db import connect, migrate
from kiosk.text import fold


def test_overview_shows_arrivals(organiser_client):
    page = organiser_client.get("/").get_data(as_text=True)
    assert "Zaanstad" in page
    assert 'id="arrivals"' in page


def test_overview_fragment_for_htmx(organiser_client):
    response = organiser_client.get("/", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="arrivals"')
    assert "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("query", ["zoe", "ZOË", "Zoë"])
def test_search_ignores_case_and_diacritics(demo_db, query):
    found = attendees.search(demo_db, query)
    assert any(row["name"].startswith("Zoë") for row in found)
    assert all("zoe" in fold(" ".join((row["name"], row["organisation"], row["email"] or ""))) for row in found)


def test_search_by_organisation_and_several_words(demo_db):
    found = attendees.search(demo_db, "van zaanstad")
    assert found
    assert all("Zaanstad" in row["organisation"] for row in found)


def test_search_with_like_wildcards_is_literal(demo_db):
    assert attendees.search(demo_db, "%") == []
    assert attendees.search(demo_db, "_") == []


def test_attendee_list_page_and_fragment(organiser_client):
    page = organiser_client.get("/admin/attendees?q=berg")
    assert page.status_code == 200 and b"<html" in page.data
    fragment = organiser_client.get("/admin/attendees?q=berg", headers={"HX-Request": "true"})
    assert fragment.data.lstrip().startswith(b'<div id="attendee-rows"')


def test_attendee_detail(organiser_client, demo_db):
    attendee_id = demo_db.execute("SELECT id FROM attendees LIMIT 1").fetchone()[0]
    page = organiser_client.get(f"/admin/attendees/{attendee_id}").get_data(as_text=True)
    assert "Scan history" in page or "Scangeschiedenis" in page
    assert organiser_client.get("/admin/attendees/999999").status_code == 404


def test_program_page_lists_blocks_and_full_sessions(organiser_client):
    page = organiser_client.get("/admin/program", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Stadswandeling Monet" in page
    assert "Full" in page or "Vol" in page


def test_names_with_html_are_escaped(organiser_client, demo_db):
    demo_db.execute("UPDATE attendees SET name = '<script>alert(1)</script>', search_text = 'xss' WHERE id = 1")
    page = organiser_client.get("/admin/attendees?q=xss").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_one_event_is_created_then_changed_with_its_time_zone(tmp_path):
    db = connect(tmp_path / "k.db")
    migrate(db)
    assert get_event(db) is None
    assert create_event(db, {"name": "Netwerkdag", "date": "2026-06-12", "venue": "Zaanstad"}, actor="test")
    assert not create_event(db, {"name": "Another", "date": "2026-06-12"}, actor="test")
    assert update_event(db, {"name": "G40 Netwerkdag", "date": "2026-06-13", "venue": "", "timezone": "Europe/London",
                             "language": "en"}, actor="test")
    assert db.execute("SELECT count(*) FROM event").fetchone()[0] == 1
    event = get_event(db)
    assert (event["name"], event["date"], event["venue"], event["language"]) == ("G40 Netwerkdag", "2026-06-13", "", "en")
    assert local_time(event, "2026-06-13T08:12:00+00:00") == "09:12"


def test_the_export_speaks_one_language_headers_statuses_and_file_name(organiser_client):
    """Defect 10: Dutch headers came with English statuses and an English file name."""
    response = organiser_client.get("/admin/exports/attendees.csv", headers={"Accept-Language": "nl"})
    text = response.get_data(as_text=True)
    assert 'filename="deelnemers.csv"' in response.headers["Content-Disposition"]
    assert ";aangemeld;" in text and ";registered;" not in text
    english = organiser_client.get("/admin/exports/attendees.csv", headers={"Accept-Language": "en"})
    assert 'filename="attendees.csv"' in english.headers["Content-Disposition"]
    assert ";registered;" in english.get_data(as_text=True)
