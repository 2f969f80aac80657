"""The JSON API: its exact forms are relied on by scanner apps and integrations.

Every API outcome and error (401, 400, 413, 429) is asked twice: as a scanner app sends it (no
cookie, answered by the fast path of `kiosk serve`) and with a cookie (through Flask to the
view), with the same answers. Only a cookie-less scan takes the fast path; it sends the security
headers (HSTS over HTTPS), leaves a chunked body to Flask, logs an unexpected error and answers
500, and counts the per-client guess limit by the caller's address. Scans that arrive while a
batch is written go together in the next one, never two recorded at once; a scan that fails is
rolled back to its savepoint while the rest of its batch is recorded; a failed commit answers 500
for its scans and keeps the refusals; a batch broken past its own handlers still answers and
hands the lead on; other requests run two at a time and never hold up a scan or a paired
tablet's ping and scan. A body is read whole before a request takes a place (a large one into a
temporary file), one cut short is passed on as far as it came, and one of no stated length or
over the limit is left to werkzeug.
"""

import pytest

from kiosk.serving import install
from tests.conftest import make_station

# How a station's scan call reaches the API: as a scanner app sends it to `kiosk serve` (no
# cookie: kiosk.serving's fast path), with a cookie (through the admission gate to the view),
# and to create_app() alone (plain Flask, as `flask run` serves it). All answer alike.
PATHS = ["scanner app", "with a cookie", "plain Flask"]


@pytest.fixture(params=PATHS)
def api(request, demo_app, demo_db):
    """A station's scan call, made once along each of PATHS."""
    station, token, _secret = make_station(demo_db, "Scanner app")
    if request.param != "plain Flask":
        install(demo_app)
    client = demo_app.test_client()
    if request.param == "with a cookie":
        client.set_cookie("kiosk_lang", "nl")

    def scan(body=None, *, raw=None, token_=token, content_type="application/json"):
        headers = {"Authorization": f"Bearer {token_}"} if token_ else {}
        if raw is not None:
            return client.post("/api/v1/scans", data=raw, headers=headers, content_type=content_type)
        return client.post("/api/v1/scans", json=body, headers=headers)

    scan.client = client
    scan.token = token
    return scan


def badge_code(db, offset=0, status="registered"):
    return db.execute(
        """SELECT badges.code FROM badges JOIN attendees ON attendees.id = badges.attendee_id
           WHERE badges.replaced_at IS NULL AND attendees.status = ? ORDER BY attendees.id LIMIT 1 OFFSET ?""",
        [status, offset],
    ).fetchone()[0]


def test_check_in_then_already(api, demo_db):
    code = badge_code(demo_db)
    first = api({"code": code})
    assert first.status_code == 200
    body = first.get_json()
    assert body["outcome"] == "checked_in"
    assert set(body["attendee"]) >= {"name", "organisation"}
    assert body["message"]
    second = api({"code": code}).get_json()
    assert second["outcome"] == "already"
    assert second["attendee"] == body["attendee"]


def test_garbage_is_an_unknown_code(api):
    body = api({"code": "'; DROP TABLE attendees; --"}).get_json()
    assert body["outcome"] == "unknown"
    assert body["attendee"] is None


def test_cancelled_badge(api, demo_db):
    body = api({"code": badge_code(demo_db, status="cancelled")}).get_json()
    assert body["outcome"] == "cancelled"


def test_scan_id_makes_retries_idempotent(api, demo_db):
    code = badge_code(demo_db, 3)
    first = api({"code": code, "scan_id": "tablet-7-0001"}).get_json()
    retry = api({"code": code, "scan_id": "tablet-7-0001"}).get_json()
    assert first["outcome"] == retry["outcome"] == "checked_in"
    assert retry["replayed"] is True
    assert demo_db.execute("SELECT count(*) FROM scans WHERE outcome = 'checked_in'").fetchone()[0] == 1


def test_direction_out(api, demo_db):
    code = badge_code(demo_db, 4)
    api({"code": code})
    assert api({"code": code, "direction": "out"}).get_json()["outcome"] == "checked_out"


def test_message_in_the_station_language(demo_app, demo_db):
    _station, token, _ = make_station(demo_db, "English desk", language="en")
    client = demo_app.test_client()
    body = client.post("/api/v1/scans", json={"code": "nonsense"}, headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["message"].startswith("Unknown code")


@pytest.mark.parametrize("token", [None, "kst_not-a-real-token"])
def test_missing_or_wrong_token_is_401(api, token):
    response = api({"code": "x"}, token_=token)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00", b"[1, 2]", b'"just a string"', b""])
def test_malformed_json_is_400(api, raw):
    response = api(raw=raw)
    assert response.status_code == 400


@pytest.mark.parametrize("body", [{"code": 12}, {"code": None}, {}, {"code": "x", "direction": "sideways"}, {"code": "x", "scan_id": 5}])
def test_invalid_fields_are_400(api, body):
    assert api(body).status_code == 400


def test_oversized_body_is_413(api):
    response = api(raw=b'{"code": "' + b"A" * 100_000 + b'"}')
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"


def test_guessing_codes_is_429(demo_app, api):
    demo_app.config["SCAN_GUESS_LIMIT"] = (5, 60)
    statuses = [api({"code": f"K1-GUESS{n}"}).status_code for n in range(8)]
    assert statuses[:5] == [200] * 5
    assert statuses[-1] == 429


def test_every_path_sends_the_security_headers(api, demo_db):
    response = api({"code": badge_code(demo_db, 5)})
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers
    secure = api.client.post(
        "/api/v1/scans", json={"code": "x"}, headers={"Authorization": f"Bearer {api.token}"}, base_url="https://kiosk.test"
    )
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_rooms_with_a_station_token(api):
    response = api.client.get("/api/v1/rooms", headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 200
    rooms = response.get_json()["rooms"]
    assert rooms and set(rooms[0]) >= {"name", "capacity", "inside", "places_left"}


def test_rooms_with_an_organiser_session(organiser_client):
    assert organiser_client.get("/api/v1/rooms").status_code == 200


def test_rooms_anonymous_is_401(demo_app):
    assert demo_app.test_client().get("/api/v1/rooms").status_code == 401


def test_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/scans", "/rooms"} <= set(document["paths"])
