"""The kiosk views: every scan answer, undo, idempotent retries, self-service limits and the no-JavaScript path."""

import re
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.checkin.messages import with_message
from kiosk.checkin.service import Result
from kiosk.data import scans as scans_data
from kiosk.data.badges import issue_badge, short_form
from kiosk.db import connect
from kiosk.outcomes import Outcome
from tests.conftest import make_station, station_client

HX = {"HX-Request": "true"}


def badge_of(db, offset=0, status="registered"):
    """(attendee id, name, organisation, code) of a demo attendee with a current badge."""
    return db.execute(
        """SELECT attendees.id, attendees.name, attendees.organisation, badges.code
           FROM badges JOIN attendees ON attendees.id = badges.attendee_id
           WHERE badges.replaced_at IS NULL AND attendees.status = ? ORDER BY attendees.id LIMIT 1 OFFSET ?""",
        [status, offset],
    ).fetchone()


def text(response):
    """The visible words of an HTML response, tags removed, whitespace collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<template.*?</template>", " ", body, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split()).replace("&#39;", "'")


def result_of(response):
    """The data-outcome of the #scan-result in a response."""
    found = re.search(r'id="scan-result"[^>]*data-outcome="([a-z_]+)"', response.get_data(as_text=True))
    return found.group(1) if found else None


@pytest.fixture
def desk(demo_app, demo_db):
    client, station, _token = station_client(demo_app, demo_db, "Desk", staffed=True, language="en")
    return client, station


@pytest.fixture
def self_service(demo_app, demo_db):
    client, station, _token = station_client(demo_app, demo_db, "Entrance", language="en")
    return client, station


def scan(client, code, scan_id=None, **extra):
    return client.post("/kiosk/scan", data={"code": code, "scan_id": scan_id or uuid.uuid4().hex, **extra}, headers=HX)


def test_kiosk_page_is_the_whole_page_for_a_paired_station(self_service):
    client, _station = self_service
    page = client.get("/kiosk")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="kiosk"' in html and 'data-station="' in html and "js/scanner.js" in html
    assert 'id="camera-hint"' in html and 'id="connection-status"' in html and "css/kiosk-screen.css" in html
    assert 'data-outcome="idle"' in html
    assert "<script>" not in html and " style=" not in html  # the CSP allows neither


def test_kiosk_needs_a_station(demo_app):
    response = demo_app.test_client().get("/kiosk")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_checked_in_shows_welcome_name_organisation_and_program(self_service, demo_db):
    client, _station = self_service
    _id, name, organisation, code = badge_of(demo_db)
    response = scan(client, code)
    assert response.status_code == 200
    assert result_of(response) == "checked_in"
    words = text(response)
    assert f"Welcome, {name}" in words and organisation in words
    assert "Your program today" in words and "Burgerzaal" in words and "09:30" in words
    assert "<html" not in response.get_data(as_text=True)  # a fragment for htmx
    assert 'class="scan-result tone-ok"' in response.get_data(as_text=True)


def test_second_scan_is_already_with_the_time(self_service, demo_db):
    client, _station = self_service
    _id, name, _org, code = badge_of(demo_db, 1)
    assert result_of(scan(client, code)) == "checked_in"
    response = scan(client, code)
    assert result_of(response) == "already"
    assert re.search(rf"{re.escape(name)} is already checked in at \d\d:\d\d", text(response))
    assert "tone-warn" in response.get_data(as_text=True)


def test_unknown_code_is_red_with_what_to_do(self_service):
    client, _station = self_service
    response = scan(client, "K1-" + "A" * 17)
    assert result_of(response) == "unknown"
    assert "tone-bad" in response.get_data(as_text=True)
    assert "registration desk" in text(response)


def test_replaced_badge(self_service, demo_db):
    client, _station = self_service
    attendee_id, _name, _org, old_code = badge_of(demo_db, 2)
    new = issue_badge(demo_db, attendee_id)
    response = scan(client, old_code)
    assert result_of(response) == "replaced"
    assert "replaced by a newer badge" in text(response)
    assert result_of(scan(client, new["code"])) == "checked_in"


def test_cancelled_registration(self_service, demo_db):
    client, _station = self_service
    _id, name, _org, code = badge_of(demo_db, 0, status="cancelled")
    response = scan(client, code)
    assert result_of(response) == "cancelled"
    assert "cancelled" in text(response) and name not in text(response)


def test_short_code_typed_at_the_desk(desk, demo_db):
    client, _station = desk
    _id, name, _org, code = badge_of(demo_db, 3)
    response = scan(client, short_form(code).lower())
    assert result_of(response) == "checked_in" and name in text(response)


def test_same_scan_id_twice_is_one_check_in_with_the_same_answer(self_service, demo_db):
    client, station = self_service
    attendee_id, name, _org, code = badge_of(demo_db, 4)
    scan_id = str(uuid.uuid4())
    first = scan(client, code, scan_id)
    again = scan(client, code, scan_id)
    assert result_of(first) == result_of(again) == "checked_in"
    assert f"Welcome, {name}" in text(again)
    rows = demo_db.execute(
        "SELECT count(*) FROM scans WHERE attendee_id = ? AND kind = 'scan' AND station_id = ?", [attendee_id, station["id"]]
    ).fetchone()[0]
    assert rows == 1
    assert result_of(scan(client, code)) == "already"  # a new scan id is a new scan


def test_undo_from_the_desk_result(desk, demo_db):
    client, _station = desk
    attendee_id, name, _org, code = badge_of(demo_db, 5)
    response = scan(client, code)
    scan_id = int(re.search(r'data-scan-id="(\d+)"', response.get_data(as_text=True)).group(1))
    assert f'action="/kiosk/undo/{scan_id}"' in response.get_data(as_text=True)
    undone = client.post(f"/kiosk/undo/{scan_id}", headers=HX)
    assert undone.status_code == 200 and result_of(undone) == "undone" and name in text(undone)
    undo_rows = demo_db.execute("SELECT kind, undoes FROM scans WHERE undoes = ?", [scan_id]).fetchall()
    assert undo_rows == [("undo", scan_id)]
    assert demo_db.execute("SELECT 1 FROM presence WHERE attendee_id = ?", [attendee_id]).fetchone() is None
    assert result_of(scan(client, code)) == "checked_in"


def test_undo_without_javascript_redirects(desk, demo_db):
    client, _station = desk
    _id, _name, _org, code = badge_of(demo_db, 6)
    scan_id = int(re.search(r'data-scan-id="(\d+)"', scan(client, code).get_data(as_text=True)).group(1))
    response = client.post(f"/kiosk/undo/{scan_id}")
    assert response.status_code == 303 and response.headers["Location"].endswith("/kiosk")


def test_self_service_offers_no_undo_and_cannot_undo(self_service, demo_db):
    client, _station = self_service
    _id, _name, _org, code = badge_of(demo_db, 7)
    response = scan(client, code)
    assert "/kiosk/undo/" not in response.get_data(as_text=True)
    scan_id = int(re.search(r'data-scan-id="(\d+)"', response.get_data(as_text=True)).group(1))
    assert client.post(f"/kiosk/undo/{scan_id}", headers=HX).status_code == 403


def test_self_service_cannot_search_or_check_in_by_attendee(self_service, demo_db):
    client, _station = self_service
    attendee_id, name, _org, _code = badge_of(demo_db, 8)
    assert client.get("/kiosk/search?q=a", headers=HX).status_code == 403
    assert client.post("/kiosk/scan", data={"attendee_id": attendee_id}, headers=HX).status_code == 403
    assert demo_db.execute("SELECT 1 FROM presence WHERE attendee_id = ?", [attendee_id]).fetchone() is None
    page = client.get("/kiosk").get_data(as_text=True)
    assert 'id="desk-search"' not in page and name not in page


def test_desk_search_finds_by_name_and_short_code_and_checks_in_by_hand(desk, demo_db):
    client, _station = desk
    attendee_id, name, organisation, code = badge_of(demo_db, 9)
    page = client.get("/kiosk").get_data(as_text=True)
    assert 'id="desk-search"' in page
    found = client.get("/kiosk/search", query_string={"q": name.split()[-1]}, headers=HX)
    assert found.status_code == 200 and name in text(found) and "<html" not in found.get_data(as_text=True)
    by_code = client.get("/kiosk/search", query_string={"q": short_form(code)}, headers=HX)
    assert name in text(by_code)
    full_page = client.get("/kiosk/search", query_string={"q": name.split()[-1]})
    assert "<html" in full_page.get_data(as_text=True)  # a plain GET is the whole page
    response = client.post("/kiosk/scan", data={"attendee_id": attendee_id}, headers=HX)
    assert result_of(response) == "checked_in" and f"Welcome, {name}" in text(response)


def test_plain_post_redirects_to_the_result(self_service, demo_db):
    client, _station = self_service
    _id, name, _org, code = badge_of(demo_db, 10)
    response = client.post("/kiosk/scan", data={"code": code})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.search(r"/kiosk\?result=\d+$", location)
    page = client.get(location)
    assert page.status_code == 200 and f"Welcome, {name}" in text(page)
    assert result_of(page) == "checked_in"
    assert 'http-equiv="refresh"' in page.get_data(as_text=True)  # clears itself without JavaScript


def test_result_of_another_station_is_not_shown(demo_app, demo_db):
    first, _s, _t = station_client(demo_app, demo_db, "One", language="en")
    second, _s2, _t2 = station_client(demo_app, demo_db, "Two", language="en")
    _id, name, _org, code = badge_of(demo_db, 11)
    location = first.post("/kiosk/scan", data={"code": code}).headers["Location"]
    assert name not in text(second.get(location))


def test_ping_is_cheap_and_needs_a_station(self_service, demo_app):
    client, _station = self_service
    assert client.get("/kiosk/ping").status_code == 204
    assert demo_app.test_client().get("/kiosk/ping").status_code in (302, 303)


def test_print_on_arrival_badge_only_for_own_fresh_check_in(demo_app, demo_db):
    client, station, _token = station_client(demo_app, demo_db, "Printer desk", print_on_arrival=True, language="en")
    plain, _s, _t = station_client(demo_app, demo_db, "No printer", language="en")
    attendee_id, name, _org, code = badge_of(demo_db, 12)
    response = scan(client, code)
    html = response.get_data(as_text=True)
    scan_id = int(re.search(r'data-scan-id="(\d+)"', html).group(1))
    assert f'data-print-url="/kiosk/badge/{scan_id}"' in html
    badge = client.get(f"/kiosk/badge/{scan_id}")
    assert badge.status_code == 200 and name in badge.get_data(as_text=True)
    assert demo_db.execute("SELECT count(*) FROM badge_prints").fetchone()[0] == 0  # GET never writes
    assert client.post(f"/kiosk/badge/{scan_id}/printed").status_code == 204
    assert demo_db.execute(
        """SELECT layout, printed_by FROM badge_prints JOIN badges ON badges.id = badge_prints.badge_id
           WHERE badges.attendee_id = ?""", [attendee_id]).fetchall() == [("label-62", "station:Printer desk")]
    assert plain.get(f"/kiosk/badge/{scan_id}").status_code == 404  # not its scan
    already = scan(client, code).get_data(as_text=True)
    assert "data-print-url" not in already
    old = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="milliseconds")
    demo_db.execute("UPDATE scans SET created_at = ? WHERE id = ?", [old, scan_id])
    assert client.get(f"/kiosk/badge/{scan_id}").status_code == 404  # too long ago


def test_no_print_url_without_print_on_arrival(self_service, demo_db):
    client, _station = self_service
    _id, _name, _org, code = badge_of(demo_db, 13)
    html = scan(client, code).get_data(as_text=True)
    assert "data-print-url" not in html
    scan_id = int(re.search(r'data-scan-id="(\d+)"', html).group(1))
    assert client.get(f"/kiosk/badge/{scan_id}").status_code == 404


def test_many_concurrent_scans_of_one_badge_check_in_once(demo_app, demo_db):
    station, _token, _secret = make_station(demo_db, "Race", language="en")
    attendee_id, _name, _org, code = badge_of(demo_db, 14)
    path = demo_app.config["DATABASE"]
    threads = 32
    barrier = threading.Barrier(threads)
    outcomes, errors = [], []

    def worker():
        db = connect(path)
        try:
            barrier.wait()
            outcomes.append(scans_data.record_scan(db, station=station, code=code, client_scan_id=uuid.uuid4().hex)["outcome"])
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            db.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not errors
    assert sorted(outcomes) == ["already"] * (threads - 1) + ["checked_in"]
    assert demo_db.execute("SELECT count(*) FROM presence WHERE attendee_id = ?", [attendee_id]).fetchone()[0] == 1
    assert demo_db.execute(
        "SELECT count(*) FROM scans WHERE attendee_id = ? AND outcome = 'checked_in'", [attendee_id]
    ).fetchone()[0] == 1


def test_room_door_lets_a_refused_person_in_anyway(demo_app, demo_db):
    room = demo_db.execute("SELECT id, capacity FROM rooms WHERE name = 'Burgemeesterskamer'").fetchone()
    for _ in range(room[1]):
        scans_data.count_anonymous(demo_db, room[0], +1)
    door, station, _token = station_client(demo_app, demo_db, "Door", mode="room", room_id=room[0], language="en")
    refused = scan(door, badge_of(demo_db, 2)[3])
    assert result_of(refused) == "full"
    page = refused.get_data(as_text=True)
    refused_id = re.search(r'name="override_scan" value="(\d+)"', page).group(1)
    assert "attendee_id" not in page  # a door never picks people by id

    let_in = door.post("/kiosk/scan", data={"override_scan": refused_id}, headers=HX)
    assert result_of(let_in) == "checked_in"
    row = demo_db.execute("SELECT override, outcome FROM scans ORDER BY id DESC LIMIT 1").fetchone()
    assert row == (1, "checked_in")
    assert demo_db.execute("SELECT inside FROM occupancy WHERE room_id = ?", [room[0]]).fetchone()[0] == room[1] + 1


def test_override_needs_the_doors_own_full_answer(demo_app, demo_db):
    door, station, _token = station_client(demo_app, demo_db, "Door", mode="room", room_name="Raadzaal")
    other, _station, _token = station_client(demo_app, demo_db, "Entrance 2")
    checked_in = scan(other, badge_of(demo_db, 3)[3])
    scan_id = re.search(r'data-scan-id="(\d+)"', checked_in.get_data(as_text=True)).group(1)
    # Not a 'full' answer, and not this door's: refused either way.
    assert door.post("/kiosk/scan", data={"override_scan": scan_id}, headers=HX).status_code == 403
    assert other.post("/kiosk/scan", data={"override_scan": scan_id}, headers=HX).status_code == 403


def test_kiosk_screen_speaks_the_language_of_its_answers(demo_app, demo_db):
    # No language of its own: the event's (Dutch), even in an English browser.
    client, _station, _token = station_client(demo_app, demo_db, "Ingang")
    page = client.get("/kiosk", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nl">' in page
    answer = scan(client, badge_of(demo_db, 6)[3])
    assert "Welkom" in text(answer) and "Ingecheckt" in text(answer)


def test_a_message_comes_on_a_new_result_and_a_stored_answer_reads_back(app):
    """with_message gives a new Result and leaves the one it was given as it was."""
    with app.test_request_context():
        result = Result.from_answer({"outcome": "unknown", "attendee": None, "left_room_id": None, "scan_id": 7})
        said = with_message(result, None)
    assert result.outcome is Outcome.UNKNOWN and result.message == "" and result.scan_id == 7
    assert said.message and said.scan_id == 7 and said.outcome is Outcome.UNKNOWN


def test_the_desk_is_never_sent_to_the_desk_and_self_service_hears_it_once(demo_app, demo_db):
    """Defect 7: a staffed desk reads no 'go to the registration desk'; self-service reads it once."""
    desk, _station, _token = station_client(demo_app, demo_db, "Desk for wording", staffed=True, language="en")
    kiosk, _station, _token = station_client(demo_app, demo_db, "Self-service for wording", language="en")
    cancelled = demo_db.execute(
        """SELECT badges.code FROM badges JOIN attendees ON attendees.id = badges.attendee_id
           WHERE attendees.status = 'cancelled' AND badges.replaced_at IS NULL LIMIT 1""").fetchone()
    codes = ["K1-" + "A" * 17] + ([cancelled[0]] if cancelled else [])
    for code in codes:
        answer = desk.post("/kiosk/scan", data={"code": code}, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "registration desk" not in answer, answer
        answer = kiosk.post("/kiosk/scan", data={"code": code}, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert answer.count("registration desk") == 1, answer
    assert "registration desk" not in desk.get("/kiosk").get_data(as_text=True)
