"""Stations: created by organisers, paired once, limited to their own kiosk pages, revocable."""

import re

import pytest

from kiosk.data import accounts
from tests.conftest import ORGANISER, login, make_station, station_client


def test_organiser_creates_a_station_and_sees_its_pairing_link(organiser_client):
    response = organiser_client.post("/admin/stations", data={"name": "Ingang 1", "mode": "entrance"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = re.search(r'id="pairing-link">([^<]+)<', page).group(1)
    assert link.startswith("http://kiosk.test/pair/")
    assert re.search(r'id="station-token">kst_[\w-]{40,}<', page)
    assert "<svg" in page  # the pairing QR


def test_pairing_link_works_once(demo_app, demo_db):
    station, token, secret = make_station(demo_db, "Ingang 1")
    device = demo_app.test_client()
    assert device.get(f"/pair/{secret}").status_code == 200
    response = device.post(f"/pair/{secret}")
    assert response.status_code == 303
    assert response.location == "/kiosk"
    cookie = device.get_cookie("kiosk_station")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert device.get("/kiosk").status_code == 200

    second = demo_app.test_client()
    assert second.post(f"/pair/{secret}").status_code == 404
    assert second.get("/kiosk").status_code == 302


def test_a_paired_station_cannot_open_organiser_pages(demo_app, demo_db):
    device, station, token = station_client(demo_app, demo_db)
    for path in ("/", "/admin/attendees", "/admin/stations", "/admin/program", "/rooms/", "/badges/", "/admin/import", "/rooms/wall"):
        assert device.get(path).status_code == 403, path


def test_an_unpaired_browser_sees_only_login(demo_app):
    browser = demo_app.test_client()
    for path in ("/", "/kiosk", "/admin/attendees", "/rooms/"):
        response = browser.get(path)
        assert response.status_code == 302 and response.location.startswith("/login"), path


def test_revoking_a_station_stops_its_cookie_and_token(demo_app, demo_db):
    device, station, token = station_client(demo_app, demo_db)
    assert device.get("/kiosk").status_code == 200
    assert accounts.revoke_station(demo_db, station["id"], actor="test")
    assert device.get("/kiosk").status_code == 302
    response = demo_app.test_client().post("/api/v1/scans", json={"code": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_tokens_are_stored_hashed(demo_db):
    station, token, secret = make_station(demo_db, "Ingang 2")
    dump = "\n".join(demo_db.iterdump())
    assert token not in dump and secret not in dump
    assert accounts.station_for_token(demo_db, token)["id"] == station["id"]


def test_room_station_needs_a_room(demo_db):
    import pytest

    with pytest.raises(accounts.AccountError):
        accounts.add_station(demo_db, "Deur", mode="room", room_name="No such room")


@pytest.mark.parametrize("public, warned", [("http://127.0.0.1:5000", True), ("http://localhost:8080", True),
                                            ("http://kiosk.test", False), ("https://192.168.1.20:8443", False)])
def test_the_stations_page_warns_when_tablets_cannot_reach_the_pairing_links(demo_app, public, warned):
    """Defect 12: `./dev run` serves on 127.0.0.1 and its pairing QR codes point there."""
    demo_app.config["PUBLIC_URL"] = public
    client = demo_app.test_client()
    login(client, *ORGANISER)
    html = client.get("/admin/stations").get_data(as_text=True)
    assert ("Tablets cannot open these pairing links yet" in html) == warned
    if warned:
        assert f"./dev run --host 0.0.0.0 --port {public.rsplit(':', 1)[1]}" in html


def test_how_long_an_answer_stays_is_a_station_setting(organiser_client, demo_db, demo_app):
    """WCAG 2.2.1: the organiser gives a station more time to read; the kiosk page carries it."""
    organiser_client.post("/admin/stations", data={"name": "Slow readers", "mode": "entrance", "result_seconds": "15"})
    station = demo_db.execute("SELECT id, result_seconds FROM stations WHERE name = 'Slow readers'").fetchone()
    assert station[1] == 15
    organiser_client.post("/admin/stations", data={"name": "Default time", "mode": "entrance", "result_seconds": ""})
    assert demo_db.execute("SELECT result_seconds FROM stations WHERE name = 'Default time'").fetchone()[0] is None
    client, _station, _token = station_client(demo_app, demo_db, "Quick one", result_seconds=4)
    assert 'data-result-seconds="4"' in client.get("/kiosk").get_data(as_text=True)
