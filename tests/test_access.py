"""Access: every route in the app, tried by everyone who might knock, against a table of who may enter.

Every route in app.url_map (every endpoint and method) is requested by anonymous, a self-service
kiosk, a staffed desk, a room door, a host and an organiser, and compared with EXPECTED, a table
of who may reach it; a new route fails the test until someone adds it there. A door station
scans only into its own room, a station sees and undoes only its own scans, a revoked station is
locked out at once.
"""

import json

import pytest
from flask import url_for

from conftest import HOST, ORGANISER, login, make_station
from kiosk.data import accounts

ANONYMOUS, KIOSK, DESK, DOOR, HOST_ROLE, ORGANISER_ROLE = "anonymous", "kiosk", "desk", "door", "host", "organiser"
# Organiser last: some of its requests change what the others would see (a revoked station).
REQUESTERS = (ANONYMOUS, KIOSK, DOOR, DESK, HOST_ROLE, ORGANISER_ROLE)
EVERYONE = frozenset(REQUESTERS)
STATIONS = frozenset({KIOSK, DESK, DOOR})  # self-service entrance, staffed desk, room door
STAFF = frozenset({HOST_ROLE, ORGANISER_ROLE})
ORGANISERS = frozenset({ORGANISER_ROLE})

# Who may reach each endpoint. A new route fails the test below until it is added here:
# deciding who may open it is part of adding it.
EXPECTED = {
    "static": EVERYONE,
    "accounts.login": EVERYONE,
    "accounts.login_post": EVERYONE,
    "accounts.set_language": EVERYONE,
    "accounts.logout": STAFF,
    "admin.overview": ORGANISERS,
    "admin.attendees": ORGANISERS,
    "admin.attendee": ORGANISERS,
    "admin.program": ORGANISERS,
    "stations.index": ORGANISERS,
    "stations.create": ORGANISERS,
    "stations.new_pairing": ORGANISERS,
    "stations.revoke": ORGANISERS,
    "stations.pair": EVERYONE,  # the one-time secret in the URL is the key
    "stations.pair_post": EVERYONE,
    "checkin.kiosk": STATIONS,
    "checkin.ping": STATIONS,
    "checkin.scan": STATIONS,
    "checkin.search": frozenset({DESK}),  # self-service screens never list people
    "checkin.undo": frozenset({DESK}) | STAFF,  # a desk only its own scans
    "checkin.badge": STATIONS,  # its own arrivals only (404 otherwise)
    "checkin.badge_printed": STATIONS,
    "api.create_scan": STATIONS,
    "api.rooms": STATIONS | STAFF,
    "api.openapi": EVERYONE,
    "rooms.index": STAFF,
    "rooms.wall": STAFF,
    "rooms.room": STAFF,
    "rooms.count": STAFF,
    "rooms.clear": STAFF,
    "rooms.scan": STAFF,
    "rooms.session": STAFF,
    "rooms.door": frozenset({DOOR}),  # a door station, its own room only
    "rooms.door_count": frozenset({DOOR}),
    "badges.index": ORGANISERS,
    "badges.print_view": ORGANISERS,
    "badges.mark_printed": ORGANISERS,
    "badges.issue_missing": ORGANISERS,
    "badges.pdf": ORGANISERS,
    "badges.reprint": ORGANISERS,
    "badges.reissue": ORGANISERS,
    "imports.upload": ORGANISERS,
    "imports.preview": ORGANISERS,
    "imports.commit": ORGANISERS,
    "imports.example": ORGANISERS,
    "exports.attendees": ORGANISERS,
    "stations.edit": ORGANISERS,
    "stations.update": ORGANISERS,
    "event.settings": ORGANISERS,
    "event.save": ORGANISERS,
    "event.upload_logo": ORGANISERS,
    "event.remove_logo": ORGANISERS,
    "event.logo": STATIONS | STAFF,  # 404 until a logo is uploaded; the gate lets them through
    "event.events": ORGANISERS,
    "stations.move": ORGANISERS,
    "staff.move": ORGANISERS,
    "event.add": ORGANISERS,
    "event.work": ORGANISERS,
    "event.archive": ORGANISERS,  # without archived=1 it reopens: the event stays writable for the rest
    "setup.start": EVERYONE,  # the one-time secret in the URL is the key (404 without it)
    "setup.claim": EVERYONE,
    "setup.event": ORGANISERS,
    "setup.event_post": ORGANISERS,
    "staff.index": ORGANISERS,
    "staff.invite": ORGANISERS,
    "staff.reset": ORGANISERS,
    "staff.disable": ORGANISERS,
    "staff.enable": ORGANISERS,
    "staff.password": EVERYONE,  # the one-time secret in the URL is the key
    "staff.password_post": EVERYONE,
    "staff.api_tokens": ORGANISERS,
    "staff.add_api_token": ORGANISERS,
    "staff.revoke_api_token": ORGANISERS,
    # The organiser API opens to an organiser's API token only (tests/test_organiser_api.py):
    # no station, and no browser session either (its blueprint is CSRF-exempt).
    "organiser_api.event": frozenset(),
    "organiser_api.attendees": frozenset(),
    "organiser_api.create_attendee": frozenset(),
    "organiser_api.attendee": frozenset(),
    "organiser_api.update_attendee": frozenset(),
    "people.new": ORGANISERS,
    "people.add": ORGANISERS,
    "people.edit": ORGANISERS,
    "people.save": ORGANISERS,
    "people.sessions": ORGANISERS,
    "people.status": ORGANISERS,
    "people.scan": ORGANISERS,
    "program.add_room": ORGANISERS,
    "program.room": ORGANISERS,
    "program.save_room": ORGANISERS,
    "program.remove_room": ORGANISERS,
    "program.add_block": ORGANISERS,
    "program.block": ORGANISERS,
    "program.save_block": ORGANISERS,
    "program.remove_block": ORGANISERS,
    "program.add_session": ORGANISERS,
    "program.session": ORGANISERS,
    "program.save_session": ORGANISERS,
    "program.remove_session": ORGANISERS,
    "checkin.walk_in": frozenset({DESK}),  # the staffed desk adds walk-ins; self-service screens never
    "checkin.walk_in_post": frozenset({DESK}),
    "checkin.walk_in_added": frozenset({DESK}),  # and only with the signed link of its own walk-in (404 otherwise)
    "checkin.walk_in_badge": frozenset({DESK}),
    "reports.report": ORGANISERS,
    "reports.xlsx": ORGANISERS,
    "reports.table_csv": ORGANISERS,
    # And an organiser's API token (tests/test_reports.py).
    "api.report": ORGANISERS,
    # The public registration page and a registrant's own page (the token in the URL is the key;
    # 404 without a valid one, but the gate lets everyone through).
    "registration.register": EVERYONE,
    "registration.register_post": EVERYONE,
    "registration.places": EVERYONE,
    "registration.done": EVERYONE,
    "registration.privacy": EVERYONE,
    "registration.me": EVERYONE,
    "registration.me_sessions": EVERYONE,
    "registration.me_cancel": EVERYONE,
    "registration.me_leave_waiting": EVERYONE,
    "registration.my_waiting": EVERYONE,  # someone only on a waiting list: their link's token is the key
    "registration.my_waiting_leave": EVERYONE,
    "registration.waiting_lists": ORGANISERS,
    "registration.waiting_move": ORGANISERS,
    "registration.waiting_promote": ORGANISERS,
    "registration.waiting_remove": ORGANISERS,
    "registration.save_settings": ORGANISERS,
    "mail.index": ORGANISERS,
    "mail.resend": ORGANISERS,
    "mail.send_unsent": ORGANISERS,
    "mail.tickets": ORGANISERS,
    "mail.send_tickets": ORGANISERS,
    "mail.send_ticket": ORGANISERS,
}


@pytest.fixture
def world(demo_app, demo_db):
    """Stations of each kind, logged-in staff, and a value for every URL argument."""
    door_room = demo_db.execute("SELECT id FROM rooms WHERE name = 'Raadzaal'").fetchone()[0]
    tokens = {
        KIOSK: make_station(demo_db, "Self-service 1")[1],
        DESK: make_station(demo_db, "Desk 1", staffed=True)[1],
        DOOR: make_station(demo_db, "Raadzaal door", mode="room", room_id=door_room)[1],
    }
    spare = make_station(demo_db, "Spare")[0]
    code = demo_db.execute("SELECT code FROM badges WHERE replaced_at IS NULL ORDER BY id LIMIT 1").fetchone()[0]
    desk_scan = demo_app.test_client().post(
        "/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {tokens[DESK]}"}
    ).get_json()["scan_id"]
    sessions = {}
    for role, account in ((HOST_ROLE, HOST), (ORGANISER_ROLE, ORGANISER)):
        client = demo_app.test_client()
        assert login(client, *account).status_code == 303
        sessions[role] = client.get_cookie("session").value
    arguments = {
        "attendee_id": 1,
        "station_id": spare["id"],
        "scan_id": desk_scan,
        "room_id": door_room,
        "session_id": demo_db.execute("SELECT min(id) FROM sessions").fetchone()[0],
        "block_id": demo_db.execute("SELECT min(id) FROM blocks").fetchone()[0],
        "secret": "not-a-pairing-secret",
        "user_id": demo_db.execute("SELECT id FROM users WHERE email = ?", [HOST[0]]).fetchone()[0],
        "token_id": 1,
        "filename": "favicon.svg",
        "kind": "attendees",
        "table": "sessions",
        "token": "not-a-registration-token",
        "entry_id": 1,
        "message_id": 1,
        "event_id": 1,
    }
    return {"app": demo_app, "tokens": tokens, "sessions": sessions, "arguments": arguments, "door_room": door_room}


def requester(world, who):
    """A fresh test client acting as WHO (a client per request, so a cookie set by one sticks nowhere)."""
    client = world["app"].test_client()
    headers = {}
    if who in world["tokens"]:
        headers["Authorization"] = f"Bearer {world['tokens'][who]}"
    if who in world["sessions"]:
        client.set_cookie("session", world["sessions"][who])
    return client, headers


def routes(app, arguments):
    """(endpoint, method, url) for every rule in the app's URL map."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            values = {name: arguments[name] for name in rule.arguments}
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url_for(rule.endpoint, **values)))
    return found


def refused(response):
    """True when the gate (or the view) turned the requester away."""
    if response.status_code in (401, 403):
        return True
    return response.status_code in (302, 303) and response.headers.get("Location", "").startswith("/login?next=")


def test_every_route_admits_exactly_who_it_should(world):
    app = world["app"]
    # Logging out ends the login the shared cookie carries, so that route goes last.
    table = sorted(routes(app, world["arguments"]), key=lambda route: route[0] == "accounts.logout")
    endpoints = {endpoint for endpoint, _method, _url in table}
    assert endpoints - set(EXPECTED) == set(), "new routes: decide who may reach them in EXPECTED"
    assert set(EXPECTED) - endpoints == set(), "EXPECTED lists routes the app no longer has"

    wrong, tried = [], 0
    for who in REQUESTERS:
        for endpoint, method, url in table:
            client, headers = requester(world, who)
            response = client.open(url, method=method, headers=headers)
            response.close()
            tried += 1
            assert response.status_code < 500, (who, method, url, response.status_code)
            admitted = not refused(response)
            if admitted != (who in EXPECTED[endpoint]):
                wrong.append(f"{who} {method} {url}: {response.status_code} {'admitted' if admitted else 'refused'}")
    assert wrong == []
    print(f"\naccess: {len(endpoints)} endpoints, {len(table)} routes (endpoint x method), "
          f"{len(REQUESTERS)} requesters, {tried} requests")


def test_anonymous_gets_the_login_page_or_401_never_content(world):
    app = world["app"]
    for endpoint, method, url in routes(app, world["arguments"]):
        if ANONYMOUS in EXPECTED[endpoint]:
            continue
        response = app.test_client().open(url, method=method)
        response.close()
        if url.startswith("/api/"):
            assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
        else:
            assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_a_door_station_scans_into_its_own_room_only(world, demo_db):
    app, door = world["app"], world["door_room"]
    other = demo_db.execute("SELECT id FROM rooms WHERE id != ? ORDER BY id LIMIT 1", [door]).fetchone()[0]
    code = demo_db.execute("SELECT code FROM badges WHERE replaced_at IS NULL ORDER BY id DESC LIMIT 1").fetchone()[0]
    client, headers = requester(world, DOOR)
    # Whatever the body claims, the room comes from the station's token.
    answer = client.post(
        "/api/v1/scans", json={"code": code, "room_id": other, "room": "Burgerzaal"}, headers=headers
    ).get_json()
    assert answer["outcome"] == "checked_in"
    assert demo_db.execute("SELECT room_id FROM scans WHERE id = ?", [answer["scan_id"]]).fetchone()[0] == door
    assert client.post(f"/rooms/{other}/count", data={"delta": 1}, headers=headers).status_code in (302, 403)
    assert client.post(f"/rooms/{other}/clear", headers=headers).status_code in (302, 403)
    assert demo_db.execute(  # the schedule's own clears have neither station nor user
        "SELECT count(*) FROM scans WHERE room_id = ? AND (station_id IS NOT NULL OR user_id IS NOT NULL)", [other]
    ).fetchone()[0] == 0


def test_a_station_sees_and_undoes_only_its_own_scans(world, demo_db):
    app = world["app"]
    desk_scan = world["arguments"]["scan_id"]
    name = demo_db.execute(
        "SELECT attendees.name FROM scans JOIN attendees ON attendees.id = scans.attendee_id WHERE scans.id = ?",
        [desk_scan],
    ).fetchone()[0]
    kiosk, kiosk_headers = requester(world, KIOSK)
    page = kiosk.get(f"/kiosk?result={desk_scan}", headers=kiosk_headers)
    assert page.status_code == 200 and name not in page.get_data(as_text=True)
    assert kiosk.get(f"/kiosk/badge/{desk_scan}", headers=kiosk_headers).status_code in (403, 404)
    # Another staffed desk may undo, but not this desk's scan.
    other_desk = make_station(demo_db, "Desk 2", staffed=True)[1]
    response = app.test_client().post(f"/kiosk/undo/{desk_scan}", headers={"Authorization": f"Bearer {other_desk}"})
    assert response.status_code == 403
    assert demo_db.execute("SELECT count(*) FROM scans WHERE undoes = ?", [desk_scan]).fetchone()[0] == 0
    desk, desk_headers = requester(world, DESK)
    assert desk.post(f"/kiosk/undo/{desk_scan}", headers=desk_headers).status_code == 303
    assert demo_db.execute("SELECT count(*) FROM scans WHERE undoes = ?", [desk_scan]).fetchone()[0] == 1


def test_a_revoked_station_is_locked_out_at_once(world, demo_db):
    app = world["app"]
    client, headers = requester(world, KIOSK)
    assert client.get("/kiosk", headers=headers).status_code == 200
    organiser, organiser_headers = requester(world, ORGANISER_ROLE)
    station_id = demo_db.execute("SELECT id FROM stations WHERE name = 'Self-service 1'").fetchone()[0]
    assert organiser.post(f"/admin/stations/{station_id}/revoke").status_code == 303
    assert client.get("/kiosk", headers=headers).status_code == 302
    answer = app.test_client().post("/api/v1/scans", json={"code": "x"}, headers=headers)
    assert answer.status_code == 401
    assert json.loads(answer.data)["error"] == "unauthorized"


def test_a_revoked_kiosk_page_learns_it_is_unpaired(demo_app, demo_db):
    """Defect 6: its next scan and ping say 'no longer paired', not 'something went wrong' and 'Online'."""
    station, _token, secret = make_station(demo_db, "Soon revoked")
    client = demo_app.test_client()
    assert client.post(f"/pair/{secret}").status_code == 303
    assert client.get("/kiosk/ping", headers={"HX-Request": "true"}).status_code == 204
    accounts.revoke_station(demo_db, station["id"], actor="test")
    for response in (client.post("/kiosk/scan", data={"code": "ABCD-EFGH"}, headers={"HX-Request": "true"}),
                     client.get("/kiosk/ping", headers={"HX-Request": "true"})):
        assert response.status_code == 401
        assert response.headers["Kiosk-Unpaired"] == "1"
        assert "no longer paired" in response.get_data(as_text=True)
    assert client.get("/kiosk").status_code == 302  # the page itself goes to the login form, as before
