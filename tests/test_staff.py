"""Staff: organisers invite, disable, enable and reset accounts; last logins; station settings.

An invitation is an account without a password and a one-time link (stored hashed) to set one;
a reset is a new link that ends the account's logins once used. Disabling ends every login at
once and refuses new ones; an organiser cannot disable themselves or the last organiser. The
last login is recorded. A station's name, language, room and (for a door) whether it scans in
only or in and out are edited on the stations page, and the door page follows.
"""

import re

from conftest import HOST, ORGANISER, login, make_station


def link_secret(response):
    return re.search(r'id="password-link">[^<]*/account/([^<]+)<', response.get_data(as_text=True)).group(1)


def user_id(db, email):
    return db.execute("SELECT id FROM users WHERE email = ?", [email]).fetchone()[0]


def test_invite_then_set_a_password_once_then_log_in(organiser_client, demo_app, demo_db):
    invited = organiser_client.post("/admin/staff", data={"email": "nieuw@example.org", "role": "host"})
    assert invited.status_code == 200
    secret = link_secret(invited)
    listing = organiser_client.get("/admin/staff").get_data(as_text=True)
    assert "nieuw@example.org" in listing and "Invited" in listing and secret not in listing
    newcomer = demo_app.test_client()
    assert login(newcomer, "nieuw@example.org", "!").status_code == 200  # no password yet: no login
    assert newcomer.get(f"/account/{secret}").status_code == 200
    mismatch = newcomer.post(f"/account/{secret}", data={"password": "een lang wachtwoord", "password2": "iets anders"})
    assert mismatch.status_code == 400
    done = newcomer.post(f"/account/{secret}", data={"password": "een lang wachtwoord", "password2": "een lang wachtwoord"})
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert newcomer.get(f"/account/{secret}").status_code == 404  # used once
    assert login(newcomer, "nieuw@example.org", "een lang wachtwoord").status_code == 303
    assert newcomer.get("/rooms/").status_code == 200 and newcomer.get("/admin/staff").status_code == 403
    last = demo_db.execute("SELECT last_login_at FROM users WHERE email = 'nieuw@example.org'").fetchone()[0]
    assert last and last[:4] == "20" + last[2:4]
    assert "never" not in organiser_client.get("/admin/staff").get_data(as_text=True).split("nieuw@example.org")[1][:400]
    again = organiser_client.post("/admin/staff", data={"email": "NIEUW@example.org", "role": "host"}, follow_redirects=True)
    assert "exists already" in again.get_data(as_text=True)


def test_disable_ends_logins_and_enable_lets_them_back(organiser_client, host_client, demo_db):
    host = user_id(demo_db, HOST[0])
    assert host_client.get("/rooms/").status_code == 200
    assert organiser_client.post(f"/admin/staff/{host}/disable").status_code == 303
    assert host_client.get("/rooms/").status_code == 302  # logged out at once
    assert login(host_client, *HOST).status_code == 200  # and cannot log in again
    assert organiser_client.post(f"/admin/staff/{host}/reset", follow_redirects=True).status_code == 200
    assert demo_db.execute("SELECT count(*) FROM user_links WHERE user_id = ? AND used_at IS NULL", [host]).fetchone()[0] == 0
    assert organiser_client.post(f"/admin/staff/{host}/enable").status_code == 303
    assert login(host_client, *HOST).status_code == 303
    actions = [row[0] for row in demo_db.execute("SELECT action FROM audit_log WHERE actor = ? ORDER BY id", [ORGANISER[0]])]
    assert actions[-2:] == ["disable user", "enable user"]


def test_an_organiser_cannot_lock_everyone_out(organiser_client, demo_db):
    me = user_id(demo_db, ORGANISER[0])
    response = organiser_client.post(f"/admin/staff/{me}/disable", follow_redirects=True)
    assert "cannot disable your own account" in response.get_data(as_text=True)
    assert demo_db.execute("SELECT disabled_at FROM users WHERE id = ?", [me]).fetchone()[0] is None
    assert organiser_client.post("/admin/staff/999999/disable").status_code == 404


def test_a_reset_link_sets_a_new_password_and_ends_old_logins(organiser_client, host_client, demo_app, demo_db):
    host = user_id(demo_db, HOST[0])
    secret = link_secret(organiser_client.post(f"/admin/staff/{host}/reset"))
    assert host_client.get("/rooms/").status_code == 200  # the old login still works until the link is used
    stranger = demo_app.test_client()
    assert stranger.post(f"/account/{secret}", data={"password": "nieuw wachtwoord", "password2": "nieuw wachtwoord"}).status_code == 303
    assert host_client.get("/rooms/").status_code == 302
    assert login(stranger, HOST[0], HOST[1]).status_code == 200
    assert login(stranger, HOST[0], "nieuw wachtwoord").status_code == 303


def test_station_settings_are_edited_and_the_door_follows(organiser_client, demo_app, demo_db):
    room = demo_db.execute("SELECT id FROM rooms WHERE name = 'Raadzaal'").fetchone()[0]
    station, token, _ = make_station(demo_db, "Raadzaal door", mode="room", room_id=room)
    door = demo_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert 'value="out"' not in door.get("/kiosk", headers=headers).get_data(as_text=True)
    page = organiser_client.get(f"/admin/stations/{station['id']}")
    assert page.status_code == 200 and 'name="exit_scan"' in page.get_data(as_text=True)
    saved = organiser_client.post(f"/admin/stations/{station['id']}",
                                  data={"name": "Raadzaal deur A", "language": "en", "room_id": str(room), "exit_scan": "1"})
    assert saved.status_code == 303
    row = demo_db.execute("SELECT name, language FROM stations WHERE id = ?", [station["id"]]).fetchone()
    assert row == ("Raadzaal deur A", "en")
    assert demo_db.execute("SELECT has_exit_scan FROM rooms WHERE id = ?", [room]).fetchone()[0] == 1
    assert 'value="out"' in door.get("/kiosk", headers=headers).get_data(as_text=True)
    code = demo_db.execute("SELECT code FROM badges WHERE replaced_at IS NULL LIMIT 1").fetchone()[0]
    scans = [door.post("/api/v1/scans", json={"code": code, "direction": d}, headers=headers).get_json()["outcome"]
             for d in ("in", "out")]
    assert scans == ["checked_in", "checked_out"]
    organiser_client.post(f"/admin/stations/{station['id']}", data={"name": "Raadzaal deur A", "room_id": str(room), "exit_scan": "0"})
    assert demo_db.execute("SELECT has_exit_scan FROM rooms WHERE id = ?", [room]).fetchone()[0] == 0
    clash = make_station(demo_db, "Other")[0]
    refused = organiser_client.post(f"/admin/stations/{clash['id']}", data={"name": "Raadzaal deur A"}, follow_redirects=True)
    assert "exists already" in refused.get_data(as_text=True)
    assert demo_db.execute("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()[0] == "edit station"
