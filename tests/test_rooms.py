"""Host tablet, organiser wall, session page, room-door station and the room parts of the API."""

import re
from pathlib import Path

import pytest
from conftest import make_station, station_client

from kiosk.data import scans

ROOT = Path(__file__).resolve().parent.parent


def room_id(db, name):
    return db.execute("SELECT id FROM rooms WHERE name = ?", [name]).fetchone()[0]


def make_running(db, block="Ochtendsessies"):
    """Stretch BLOCK over the whole (real) day, so views that read the clock find its sessions running."""
    db.execute("UPDATE blocks SET starts_at = '00:00', ends_at = '23:59' WHERE name = ?", [block])


def badge_of(db, attendee_id):
    return db.execute(
        "SELECT code FROM badges WHERE attendee_id = ? AND replaced_at IS NULL", [attendee_id]
    ).fetchone()[0]


def registered_for(db, title, count=1, offset=0):
    rows = db.execute(
        """SELECT choices.attendee_id FROM choices JOIN sessions ON sessions.id = choices.session_id
           JOIN attendees ON attendees.id = choices.attendee_id
           WHERE sessions.title = ? AND attendees.status = 'registered' ORDER BY choices.attendee_id LIMIT ? OFFSET ?""",
        [title, count, offset],
    ).fetchall()
    return [row[0] for row in rows]


def not_registered_for(db, title, count=1):
    rows = db.execute(
        """SELECT id FROM attendees WHERE status = 'registered' AND id NOT IN (
             SELECT attendee_id FROM choices JOIN sessions ON sessions.id = choices.session_id WHERE sessions.title = ?)
           ORDER BY id LIMIT ?""",
        [title, count],
    ).fetchall()
    return [row[0] for row in rows]


def version_in(html):
    return re.search(r'\?v=([^"&]+)"', html).group(1)


def fill(db, name, count):
    """COUNT people without a badge into room NAME (quicker than scanning badges)."""
    for _ in range(count):
        scans.count_anonymous(db, room_id(db, name), +1)


def test_host_page_is_a_page_and_its_live_part_a_fragment(host_client, demo_db):
    trouwzaal = room_id(demo_db, "Trouwzaal")
    page = host_client.get(f"/rooms/{trouwzaal}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and 'id="room-live"' in html and "+1" in html and 'name="code"' in html
    assert "HX-Request" in page.headers["Vary"]
    fragment = host_client.get(f"/rooms/{trouwzaal}", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and text.strip().startswith('<section id="room-live"')


def test_an_unchanged_room_answers_204_and_a_changed_one_renders(host_client, demo_db):
    trouwzaal = room_id(demo_db, "Trouwzaal")
    html = host_client.get(f"/rooms/{trouwzaal}", headers={"HX-Request": "true"}).get_data(as_text=True)
    version = version_in(html)
    assert host_client.get(f"/rooms/{trouwzaal}?v={version}", headers={"HX-Request": "true"}).status_code == 204
    # A plain GET with a version is still the page (a bookmark, a reload).
    assert host_client.get(f"/rooms/{trouwzaal}?v={version}").status_code == 200
    host_client.post(f"/rooms/{trouwzaal}/count", data={"delta": "1"})
    changed = host_client.get(f"/rooms/{trouwzaal}?v={version}", headers={"HX-Request": "true"})
    assert changed.status_code == 200 and version_in(changed.get_data(as_text=True)) != version


def test_plus_and_minus_one_are_recorded_as_anonymous_scans(host_client, demo_db):
    trouwzaal = room_id(demo_db, "Trouwzaal")
    response = host_client.post(f"/rooms/{trouwzaal}/count", data={"delta": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/rooms/{trouwzaal}")
    fragment = host_client.post(f"/rooms/{trouwzaal}/count", data={"delta": "1"}, headers={"HX-Request": "true"})
    assert '<span class="inside">2</span>' in fragment.get_data(as_text=True)
    host_client.post(f"/rooms/{trouwzaal}/count", data={"delta": "-1"})
    assert demo_db.execute("SELECT inside, anonymous FROM occupancy WHERE room_id = ?", [trouwzaal]).fetchone() == (1, 1)
    rows = demo_db.execute("SELECT direction, user_id IS NOT NULL FROM scans WHERE kind = 'anonymous' ORDER BY id").fetchall()
    assert rows == [("in", 1), ("in", 1), ("out", 1)]
    assert host_client.post(f"/rooms/{trouwzaal}/count", data={"delta": "5"}).status_code == 400


def test_host_empties_the_room(host_client, demo_db):
    trouwzaal = room_id(demo_db, "Trouwzaal")
    for _ in range(3):
        host_client.post(f"/rooms/{trouwzaal}/count", data={"delta": "1"})
    response = host_client.post(f"/rooms/{trouwzaal}/clear")
    assert response.status_code == 303
    assert demo_db.execute("SELECT inside FROM occupancy WHERE room_id = ?", [trouwzaal]).fetchone()[0] == 0
    assert demo_db.execute(
        "SELECT count(*) FROM scans WHERE kind = 'clear' AND room_id = ? AND user_id IS NOT NULL", [trouwzaal]
    ).fetchone()[0] == 1


def test_host_scans_at_the_door_full_then_lets_in_anyway(host_client, demo_db):
    make_running(demo_db)
    room = room_id(demo_db, "Burgemeesterskamer")
    fill(demo_db, "Burgemeesterskamer", 20)
    person = registered_for(demo_db, "Lobbyistenoverleg")[0]
    answer = host_client.post(f"/rooms/{room}/scan", data={"code": badge_of(demo_db, person)}, headers={"HX-Request": "true"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'data-outcome="full"' in html
    assert "is full" in html and "Places left at" in html
    assert 'name="override" value="1"' in html
    assert 'hx-swap-oob="true"' in html  # the big number updates with the answer
    let_in = host_client.post(f"/rooms/{room}/scan", data={"attendee_id": person, "override": "1"}, headers={"HX-Request": "true"})
    assert 'data-outcome="checked_in"' in let_in.get_data(as_text=True)
    assert demo_db.execute("SELECT override, user_id IS NOT NULL FROM scans WHERE attendee_id = ? ORDER BY id DESC", [person]).fetchone() == (1, 1)
    # Without htmx: a 303 to the host page, which shows the answer.
    other = registered_for(demo_db, "Lobbyistenoverleg", offset=1)[0]
    response = host_client.post(f"/rooms/{room}/scan", data={"code": badge_of(demo_db, other)})
    assert response.status_code == 303
    page = host_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-outcome="full"' in page


def test_alerts_at_90_percent_and_full_name_a_session_with_places(host_client, demo_db):
    make_running(demo_db)
    room = room_id(demo_db, "Trouwzaal")  # capacity 80
    fill(demo_db, "Trouwzaal", 72)
    html = host_client.get(f"/rooms/{room}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-alert="90"' in html
    assert "Send people to" in html and "Raadzaal" in html  # the Raadzaal (200) is empty
    fill(demo_db, "Trouwzaal", 8)
    html = host_client.get(f"/rooms/{room}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-alert="full"' in html and "level-full" in html
    wall = host_client.get("/rooms/wall", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-alert="full"' in wall


def test_an_alerting_room_changes_with_its_alternative_not_with_every_scan(host_client, demo_db):
    """Its tablets re-render when the session it sends people to fills up, not after every scan anywhere."""
    make_running(demo_db)
    room = room_id(demo_db, "Trouwzaal")
    fill(demo_db, "Trouwzaal", 72)
    html = host_client.get(f"/rooms/{room}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Raadzaal (200 places left)" in html
    version = version_in(html)
    fill(demo_db, "Burgemeesterskamer", 1)  # elsewhere, and not the alternative
    assert host_client.get(f"/rooms/{room}?v={version}", headers={"HX-Request": "true"}).status_code == 204
    fill(demo_db, "Raadzaal", 1)  # into the alternative: its places left change
    changed = host_client.get(f"/rooms/{room}?v={version}", headers={"HX-Request": "true"})
    assert changed.status_code == 200 and "Raadzaal (199 places left)" in changed.get_data(as_text=True)


def test_wall_is_a_page_and_a_fragment_with_every_room(organiser_client, demo_db):
    page = organiser_client.get("/rooms/wall")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and 'id="wall-rooms"' in html
    names = [row[0] for row in demo_db.execute("SELECT name FROM rooms")]
    assert all(name in html for name in names)
    fragment = organiser_client.get("/rooms/wall", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.strip().startswith('<div id="wall-rooms"')
    version = version_in(fragment)
    assert organiser_client.get(f"/rooms/wall?v={version}", headers={"HX-Request": "true"}).status_code == 204


def test_wall_groups_the_running_block(host_client, demo_db):
    make_running(demo_db)
    html = host_client.get("/rooms/wall").get_data(as_text=True)
    assert "Now: Ochtendsessies" in html
    assert html.index("Sociale Pijler") < html.index("Other rooms")


def test_rooms_index_links_host_pages(host_client, demo_db):
    html = host_client.get("/rooms/").get_data(as_text=True)
    assert f'href="/rooms/{room_id(demo_db, "Trouwzaal")}"' in html and 'href="/rooms/wall"' in html
    assert host_client.get("/rooms/", headers={"HX-Request": "true"}).get_data(as_text=True).strip().startswith('<div id="room-list"')


def test_session_page_lists_who_is_inside_and_who_has_not_come(demo_app, host_client, demo_db):
    make_running(demo_db)
    client, _station, _token = station_client(demo_app, demo_db, "Door Trouwzaal", mode="room", room_name="Trouwzaal")
    came = registered_for(demo_db, "Sociale Pijler")[0]
    walk_in = not_registered_for(demo_db, "Sociale Pijler")[0]
    for person in (came, walk_in):
        assert client.post("/kiosk/scan", data={"code": badge_of(demo_db, person)}).status_code == 303
    session = demo_db.execute("SELECT id FROM sessions WHERE title = 'Sociale Pijler'").fetchone()[0]
    page = host_client.get(f"/rooms/sessions/{session}")
    html = page.get_data(as_text=True)
    name = lambda person: demo_db.execute("SELECT name FROM attendees WHERE id = ?", [person]).fetchone()[0]  # noqa: E731
    inside, missing = html.split("Registered, not here")
    assert name(came) in inside and name(walk_in) in inside and "not registered" in inside
    assert name(came) not in missing
    assert name(registered_for(demo_db, "Sociale Pijler", offset=1)[0]) in missing
    fragment = host_client.get(f"/rooms/sessions/{session}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.strip().startswith('<div id="session-people"')
    assert host_client.get("/rooms/sessions/99999").status_code == 404


def test_room_station_page_polls_its_door_counts_and_counts_its_own_room(demo_app, demo_db):
    client, station, _token = station_client(demo_app, demo_db, "Door Trouwzaal", mode="room", room_name="Trouwzaal")
    page = client.get("/kiosk").get_data(as_text=True)
    assert 'id="door-counts"' in page and "/rooms/door" in page and "+1" in page
    assert 'name="direction"' not in page  # no exit scan at this room
    fragment = client.get("/rooms/door", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.strip().startswith('<div id="door-counts"')
    assert client.get(f"/rooms/door?v={version_in(html)}", headers={"HX-Request": "true"}).status_code == 204
    assert client.post("/rooms/door/count", data={"delta": "1"}).status_code == 303
    assert demo_db.execute("SELECT inside FROM occupancy WHERE room_id = ?", [station["room_id"]]).fetchone()[0] == 1
    assert demo_db.execute("SELECT station_id FROM scans WHERE kind = 'anonymous'").fetchone()[0] == station["id"]
    # A room station is no host: it reaches only its own door.
    assert client.get(f"/rooms/{station['room_id']}").status_code == 403
    assert client.post(f"/rooms/{room_id(demo_db, 'Raadzaal')}/count", data={"delta": "1"}).status_code == 403


def test_room_with_exit_scan_shows_the_direction(demo_app, demo_db):
    demo_db.execute("UPDATE rooms SET has_exit_scan = 1 WHERE name = 'Trouwzaal'")
    client, _station, _token = station_client(demo_app, demo_db, "Door Trouwzaal", mode="room", room_name="Trouwzaal")
    assert 'name="direction"' in client.get("/kiosk").get_data(as_text=True)


def test_entrance_stations_have_no_door(demo_app, demo_db):
    client, _station, _token = station_client(demo_app, demo_db, "Entrance 1")
    assert client.get("/rooms/door").status_code == 403


def test_pages_need_a_host(demo_app, demo_db):
    client = demo_app.test_client()
    response = client.get(f"/rooms/{room_id(demo_db, 'Trouwzaal')}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(f"/rooms/{room_id(demo_db, 'Trouwzaal')}/count", data={"delta": "1"}).status_code == 302


def api_scan(client, token, code, **extra):
    return client.post("/api/v1/scans", json={"code": code, **extra}, headers={"Authorization": f"Bearer {token}"})


def test_api_room_scan_moves_warns_refuses_and_counts(demo_app, demo_db):
    make_running(demo_db)
    client = demo_app.test_client()
    _door1, token_small, _s = make_station(demo_db, "Door BK", mode="room", room_name="Burgemeesterskamer")
    _door2, token_raad, _s = make_station(demo_db, "Door Raadzaal", mode="room", room_name="Raadzaal")
    registered = registered_for(demo_db, "Lobbyistenoverleg")[0]
    walk_in = not_registered_for(demo_db, "Lobbyistenoverleg")[0]
    answer = api_scan(client, token_small, badge_of(demo_db, registered)).get_json()
    assert answer["outcome"] == "checked_in" and "warning" not in answer
    assert answer["room"] == {"name": "Burgemeesterskamer", "capacity": 20, "inside": 1, "places_left": 19, "percent": 5, "level": "ok"}
    answer = api_scan(client, token_small, badge_of(demo_db, walk_in)).get_json()
    assert answer["outcome"] == "checked_in" and answer["warning"] == "not_registered"
    # Answers come in the station's language, here the event's: Dutch.
    assert "niet aangemeld voor deze sessie" in answer["message"] and "18" in answer["message"]
    # Moving on to the Raadzaal takes the walk-in out of the Burgemeesterskamer.
    moved = api_scan(client, token_raad, badge_of(demo_db, walk_in)).get_json()
    assert moved["outcome"] == "checked_in" and moved["room"]["inside"] == 1
    rooms = {room["name"]: room for room in client.get("/api/v1/rooms", headers={"Authorization": f"Bearer {token_small}"}).get_json()["rooms"]}
    assert rooms["Burgemeesterskamer"]["inside"] == 1 and rooms["Raadzaal"]["inside"] == 1
    fill(demo_db, "Burgemeesterskamer", 19)
    full = api_scan(client, token_small, badge_of(demo_db, registered_for(demo_db, "Lobbyistenoverleg", offset=1)[0])).get_json()
    assert full["outcome"] == "full" and full["room"]["places_left"] == 0
    assert full["alternative"]["room"] == "Raadzaal"


def test_api_rooms_answers_the_documented_form(organiser_client, demo_db):
    body = organiser_client.get("/api/v1/rooms").get_json()
    assert set(body) >= {"rooms"}
    for room in body["rooms"]:
        assert {"name", "capacity", "inside", "places_left"} <= set(room)
        assert room["places_left"] == max(room["capacity"] - room["inside"], 0)


TEMPLATES = [*ROOT.glob("templates/rooms/*.html"), ROOT / "templates/checkin/room.html", ROOT / "templates/checkin/_door_counts.html"]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: path.name)
def test_templates_hold_under_the_strict_csp(path):
    text = path.read_text()
    assert " style=" not in text and "<style" not in text
    assert not re.search(r"<script(?![^>]*\bsrc=)", text)
    assert not re.search(r"\bhx-on|\bonclick=|\bjs:", text)
    assert not re.search(r"hx-trigger=\"[^\"]*\[", text)  # trigger filters need eval
