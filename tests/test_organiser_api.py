"""The organiser API: personal API tokens, the event and attendees (list, add, read, change).

Tokens are made on the page or with `kiosk token add`, stored as SHA-256 and revocable. Station
tokens get 403 from the organiser API, and an organiser token cannot scan (401 on the fast path
of `kiosk serve`, 403 through Flask). Every endpoint answers bad input with a 400 naming the
field, a duplicate registration id or e-mail with a 409 and the existing attendee's id. A new
attendee gets a badge that checks in at the entrance.
"""

import hashlib
import re

import pytest

from conftest import ORGANISER, login, make_station
from kiosk.data import tokens
from kiosk.serving import install


@pytest.fixture
def token(demo_db):
    return tokens.add_token(demo_db, "Power Automate", actor="test")[1]


@pytest.fixture
def api(demo_app, token):
    client = demo_app.test_client()

    def call(method, path, body=None, *, token_=token, **kwargs):
        headers = {"Authorization": f"Bearer {token_}"} if token_ else {}
        return client.open("/api/v1" + path, method=method, json=body, headers=headers, **kwargs)

    return call


def test_event_is_what_kiosk_event_show_prints(api, runner, demo_app):
    answer = api("GET", "/event")
    assert answer.status_code == 200
    event = answer.get_json()
    shown = demo_app.test_cli_runner().invoke(args=["event", "show"])
    import json

    printed = json.loads(shown.output)
    assert {key: event[key] for key in printed} == printed
    assert event["name"] == "Tweede ambtelijke netwerkdag G40" and event["timezone"] == "Europe/Amsterdam"


def test_list_filters_search_and_pages(api, demo_db):
    everyone = api("GET", "/attendees?limit=500").get_json()
    assert everyone["total"] == demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0]
    first = everyone["attendees"][0]
    assert set(first) >= {"id", "name", "email", "organisation", "role", "registration_id", "status", "badge_code",
                          "short_code", "checked_in_at", "sessions"}
    short = demo_db.execute("SELECT short_code, attendee_id FROM badges WHERE replaced_at IS NULL LIMIT 1").fetchone()
    by_code = api("GET", f"/attendees?search={short[0]}").get_json()
    assert short[1] in [a["id"] for a in by_code["attendees"]]
    by_code_plain = api("GET", f"/attendees?search={short[0].replace('-', '').lower()}").get_json()
    assert short[1] in [a["id"] for a in by_code_plain["attendees"]]
    organisation = first["organisation"]
    same = api("GET", f"/attendees?organisation={organisation}&status=registered&arrived=false").get_json()
    assert same["total"] >= 1 and all(a["organisation"] == organisation and a["status"] == "registered"
                                      and a["checked_in_at"] is None for a in same["attendees"])
    page = api("GET", "/attendees?limit=2&offset=1").get_json()
    assert [a["id"] for a in page["attendees"]] == [a["id"] for a in everyone["attendees"][1:3]]
    assert api("GET", "/attendees?arrived=true").get_json()["total"] == 0
    for bad, field in (("limit=0", "limit"), ("limit=x", "limit"), ("offset=-1", "offset"), ("arrived=yes", "arrived"),
                       ("status=gone", "status")):
        answer = api("GET", f"/attendees?{bad}")
        assert answer.status_code == 400 and answer.get_json()["field"] == field


def test_add_an_attendee_with_sessions_and_a_badge_that_checks_in(api, demo_app, demo_db):
    answer = api("POST", "/attendees", {
        "name": "Fatima el Amrani", "email": "fatima@example.org", "organisation": "Gemeente Zaanstad",
        "role": "beleidsadviseur", "registration_id": "FORM-1",
        "sessions": {"Ochtendsessies": "Sociale Pijler", "lunch": "lunch"},
    })
    assert answer.status_code == 201, answer.get_json()
    attendee = answer.get_json()
    assert attendee["name"] == "Fatima el Amrani" and attendee["status"] == "registered"
    assert attendee["sessions"] == {"Ochtendsessies": "Sociale Pijler", "Lunch": "Lunch"}
    assert re.match(r"^K1-", attendee["badge_code"]) and attendee["short_code"]
    assert api("GET", f"/attendees/{attendee['id']}").get_json() == attendee
    assert api("GET", "/attendees?search=fatima amrani").get_json()["attendees"][0]["id"] == attendee["id"]
    _, station_token, _ = make_station(demo_db, "Entrance API")
    scan = demo_app.test_client().post("/api/v1/scans", json={"code": attendee["badge_code"]},
                                       headers={"Authorization": f"Bearer {station_token}"}).get_json()
    assert scan["outcome"] == "checked_in" and scan["attendee"]["name"] == "Fatima el Amrani"
    assert api("GET", f"/attendees/{attendee['id']}").get_json()["checked_in_at"]
    assert api("GET", "/attendees?arrived=true").get_json()["total"] == 1
    actor = demo_db.execute("SELECT actor FROM audit_log WHERE action = 'add attendee (api)'").fetchone()[0]
    assert actor == "token:Power Automate (test)"


def test_duplicates_are_409_with_the_existing_id(api):
    first = api("POST", "/attendees", {"name": "Een", "email": "dubbel@example.org", "registration_id": "R-9"}).get_json()
    same_id = api("POST", "/attendees", {"name": "Twee", "registration_id": "R-9"})
    assert same_id.status_code == 409
    assert same_id.get_json() | {"message": ""} == {"error": "duplicate", "field": "registration_id",
                                                    "existing_id": first["id"], "message": ""}
    same_email = api("POST", "/attendees", {"name": "Drie", "email": "DUBBEL@example.org"})
    assert same_email.status_code == 409 and same_email.get_json()["existing_id"] == first["id"]
    other = api("POST", "/attendees", {"name": "Vier", "email": "vier@example.org"}).get_json()
    clash = api("PATCH", f"/attendees/{other['id']}", {"email": "dubbel@example.org"})
    assert clash.status_code == 409 and clash.get_json()["existing_id"] == first["id"]


def test_change_cancel_and_reinstate(api, demo_db):
    attendee = api("POST", "/attendees", {"name": "Jan de Vries", "sessions": {"Lunch": "Lunch"}}).get_json()
    changed = api("PATCH", f"/attendees/{attendee['id']}", {"name": "Jan de Vries-Bakker", "organisation": "Gemeente Ede",
                                                            "sessions": {"Lunch": None, "Ochtendsessies": "Europa"}})
    assert changed.status_code == 400 and changed.get_json()["field"] == "sessions.Ochtendsessies"
    changed = api("PATCH", f"/attendees/{attendee['id']}", {"name": "Jan de Vries-Bakker", "organisation": "Gemeente Ede",
                                                            "sessions": {"Lunch": None, "Middagsessies": "Europa"}})
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["name"], body["organisation"], body["sessions"]) == ("Jan de Vries-Bakker", "Gemeente Ede",
                                                                      {"Middagsessies": "Europa"})
    assert api("GET", "/attendees?search=vries-bakker ede").get_json()["total"] == 1
    assert api("PATCH", f"/attendees/{attendee['id']}", {"status": "cancelled"}).get_json()["status"] == "cancelled"
    assert api("GET", f"/attendees?status=cancelled&search=vries").get_json()["total"] == 1
    assert api("PATCH", f"/attendees/{attendee['id']}", {"status": "registered"}).get_json()["status"] == "registered"
    assert api("PATCH", "/attendees/999999", {"name": "x"}).status_code == 404
    assert api("GET", "/attendees/999999").status_code == 404


def test_a_full_walk_is_409(api, demo_db):
    demo_db.execute("UPDATE sessions SET place_limit = 0 WHERE title = 'Stadswandeling Monet'")
    answer = api("POST", "/attendees", {"name": "Te laat", "sessions": {"Lunch": "Stadswandeling Monet"}})
    assert answer.status_code == 409 and answer.get_json()["error"] == "full"
    assert api("GET", "/attendees?search=te laat").get_json()["total"] == 0  # nothing of it was kept


@pytest.mark.parametrize("body, field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": 7}, "name"), ({"name": "x" * 201}, "name"),
    ({"name": "A", "email": "not-an-address"}, "email"), ({"name": "A", "email": 5}, "email"),
    ({"name": "A", "sessions": []}, "sessions"), ({"name": "A", "sessions": {"Geen blok": "x"}}, "sessions.Geen blok"),
    ({"name": "A", "sessions": {"Lunch": "Geen sessie"}}, "sessions.Lunch"), ({"name": "A", "sessions": {"Lunch": 3}}, "sessions.Lunch"),
    ({"name": "A", "status": "gone"}, "status"), ({"name": "A", "registration_id": ["x"]}, "registration_id"),
])
def test_bad_input_is_400_naming_the_field(api, body, field):
    answer = api("POST", "/attendees", body)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["field"] == field and field.split(".")[0] in answer.get_json()["message"]


def test_malformed_bodies_are_400(api):
    for raw in (b"not json", b"[1, 2]", b"\xff\xfe", b"null"):
        answer = api("POST", "/attendees", data=raw, content_type="application/json")
        assert answer.status_code == 400 and answer.get_json()["error"] == "malformed_json"
    attendee = api("POST", "/attendees", {"name": "Patch"}).get_json()
    assert api("PATCH", f"/attendees/{attendee['id']}", data=b"{", content_type="application/json").status_code == 400
    assert api("PATCH", f"/attendees/{attendee['id']}", {"name": None}).status_code == 400


ENDPOINTS = [("GET", "/event"), ("GET", "/attendees"), ("POST", "/attendees"), ("GET", "/attendees/1"),
             ("PATCH", "/attendees/1")]


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_station_tokens_get_403_and_no_token_401(api, demo_db, method, path):
    _, station_token, _ = make_station(demo_db, "Not an organiser")
    assert api(method, path, {"name": "x"}, token_=station_token).status_code == 403
    assert api(method, path, {"name": "x"}, token_=None).status_code == 401
    assert api(method, path, {"name": "x"}, token_="kot_not-a-token").status_code == 401


def test_an_organiser_session_is_not_an_api_token(demo_app):
    client = demo_app.test_client()
    login(client, *ORGANISER)
    assert client.post("/api/v1/attendees", json={"name": "Via cookie"}).status_code == 403


@pytest.mark.parametrize("served", [False, True], ids=["plain Flask", "kiosk serve fast path"])
def test_an_organiser_token_cannot_scan(demo_app, demo_db, token, served):
    if served:
        install(demo_app)
    code = demo_db.execute("SELECT code FROM badges WHERE replaced_at IS NULL LIMIT 1").fetchone()[0]
    answer = demo_app.test_client().post("/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code in (401, 403)
    assert demo_db.execute("SELECT count(*) FROM scans").fetchone()[0] == 0
    # Nor open a station's or an organiser's pages.
    for path in ("/kiosk", "/admin/attendees", "/api/v1/rooms"):
        assert demo_app.test_client().get(path, headers={"Authorization": f"Bearer {token}"}).status_code in (302, 401, 403)


def test_tokens_are_hashed_revocable_and_made_by_cli_or_page(demo_app, demo_db):
    runner = demo_app.test_cli_runner()
    made = runner.invoke(args=["token", "add", "CRM"])
    assert made.exit_code == 0
    token = re.search(r"^token: (\S+)$", made.output, re.M).group(1)
    assert demo_db.execute("SELECT count(*) FROM api_tokens WHERE token_hash = ?",
                           [hashlib.sha256(token.encode()).hexdigest()]).fetchone()[0] == 1
    headers = {"Authorization": f"Bearer {token}"}
    assert demo_app.test_client().get("/api/v1/event", headers=headers).status_code == 200
    assert runner.invoke(args=["token", "add", "CRM"]).exit_code == 1  # names are unique among active tokens
    assert runner.invoke(args=["token", "revoke", "CRM"]).exit_code == 0
    assert demo_app.test_client().get("/api/v1/event", headers=headers).status_code == 401
    assert runner.invoke(args=["token", "revoke", "CRM"]).exit_code == 1

    organiser = demo_app.test_client()
    login(organiser, *ORGANISER)
    page = organiser.post("/admin/tokens", data={"name": "Forms"})
    assert page.status_code == 200
    shown = re.search(r'id="api-token">([^<]+)<', page.get_data(as_text=True)).group(1)
    assert demo_app.test_client().get("/api/v1/event", headers={"Authorization": f"Bearer {shown}"}).status_code == 200
    listing = organiser.get("/admin/tokens").get_data(as_text=True)
    assert "Forms" in listing and shown not in listing
    token_id = demo_db.execute("SELECT id FROM api_tokens WHERE name = 'Forms'").fetchone()[0]
    assert organiser.post(f"/admin/tokens/{token_id}/revoke").status_code == 303
    assert demo_app.test_client().get("/api/v1/event", headers={"Authorization": f"Bearer {shown}"}).status_code == 401
    actions = [row[0] for row in demo_db.execute("SELECT action FROM audit_log WHERE action LIKE '%api token'")]
    assert actions == ["add api token", "revoke api token", "add api token", "revoke api token"]


def test_no_event_is_404(app, runner):
    from kiosk.db import connect

    db = connect(app.config["DATABASE"])
    token = tokens.add_token(db, "Early", actor="test")[1]
    answer = app.test_client().get("/api/v1/event", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404
    db.close()


def test_the_report_opens_to_an_organiser_token_and_session_but_not_a_station(api, demo_app, demo_db):
    answer = api("GET", "/report")
    assert answer.status_code == 200
    assert {"sessions", "organisations", "arrivals", "rooms"} <= set(answer.get_json())
    _, station_token, _ = make_station(demo_db, "Not an organiser either")
    assert api("GET", "/report", token_=station_token).status_code == 403
    assert api("GET", "/report", token_=None).status_code == 401
    client = demo_app.test_client()
    login(client, *ORGANISER)
    by_session = client.get("/api/v1/report").get_json()
    assert {key: by_session[key] for key in ("sessions", "organisations", "arrivals", "rooms")} == \
        {key: answer.get_json()[key] for key in ("sessions", "organisations", "arrivals", "rooms")}
