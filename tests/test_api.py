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

import contextlib
import io
import json
import logging
import sqlite3
import threading
import time

import pytest
from flask import request_started

from kiosk.api import views as api_module
from kiosk.api.views import read_body_first
from tests.conftest import make_station, station_client


@pytest.fixture(params=["scanner app", "with a cookie"])
def api(request, demo_app, demo_db):
    """A station's scan call, made twice over: as a scanner app sends it (no cookie: the fast
    path, api.ScanFastPath) and with a cookie (through Flask to the view). Both answer alike."""
    station, token, _secret = make_station(demo_db, "Scanner app")
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


def test_a_scanner_app_skips_flask_dispatch_and_a_cookie_does_not(demo_app, demo_db):
    _station, token, _ = make_station(demo_db, "Door 9")
    dispatched = []
    request_started.connect(lambda sender, **extra: dispatched.append(1), demo_app, weak=False)
    client = demo_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/scans", json={"code": "K1-NOPE"}, headers=headers).get_json()["outcome"] == "unknown"
    assert dispatched == []
    client.set_cookie("kiosk_lang", "nl")
    assert client.post("/api/v1/scans", json={"code": "K1-NOPE"}, headers=headers).get_json()["outcome"] == "unknown"
    assert dispatched == [1]


def test_scans_that_arrive_together_are_committed_together(demo_app, demo_db, monkeypatch):
    """While one batch is being written, the scans that arrive wait and then go in one
    transaction; no two scans of a worker are ever recorded side by side."""
    _station, token, _ = make_station(demo_db, "Door 11")
    codes = [badge_code(demo_db, 60 + n) for n in range(6)]
    fast_path = demo_app.wsgi_app
    first_scan_started, transactions, recording = threading.Event(), [], []
    real_record, real_immediate = api_module.record_station_scan, api_module.immediate

    def watched_record(station, **fields):
        assert not recording, "two scans recorded at once"
        recording.append(fields["code"])
        if fields["code"] == codes[0]:  # hold the first batch until the others are queued behind it
            first_scan_started.set()
            deadline = time.monotonic() + 10
            while len(fast_path.batches.waiting) < len(codes) - 1 and time.monotonic() < deadline:
                time.sleep(0.005)
        try:
            return real_record(station, **fields)
        finally:
            recording.pop()

    @contextlib.contextmanager
    def counted_immediate(db):
        with real_immediate(db):
            transactions.append(db.conn.in_transaction)
            yield db

    monkeypatch.setattr(api_module, "record_station_scan", watched_record)
    monkeypatch.setattr(api_module, "immediate", counted_immediate)
    answers = {}

    def scan(code):
        response = demo_app.test_client().post("/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {token}"})
        answers[code] = response.get_json()["outcome"]

    first = threading.Thread(target=scan, args=(codes[0],))
    first.start()
    assert first_scan_started.wait(10)
    others = [threading.Thread(target=scan, args=(code,)) for code in codes[1:]]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(20)
    assert answers == {code: "checked_in" for code in codes}
    assert transactions == [True, True]  # the first scan alone, then the five that waited
    assert not fast_path.batches.leading and not fast_path.batches.waiting
    recorded = demo_db.execute(
        f"SELECT count(*) FROM scans WHERE outcome = 'checked_in' AND code IN ({', '.join('?' * len(codes))})", codes
    ).fetchone()[0]
    assert recorded == len(codes)


def test_other_requests_run_two_at_a_time_and_never_hold_up_a_station(demo_app, demo_db, monkeypatch):
    _station, token, _ = make_station(demo_db, "Door 15")
    kiosk, _station, _token = station_client(demo_app, demo_db, "Door 16")
    fast_path = demo_app.wsgi_app
    release, inside, most = threading.Event(), [], []
    real_wsgi_app = fast_path.wsgi_app

    def pages_wait(environ, start_response):
        if not environ["PATH_INFO"].startswith("/page-"):
            return real_wsgi_app(environ, start_response)
        inside.append(environ["PATH_INFO"])
        most.append(len(inside))
        release.wait(30)
        inside.remove(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"page"]

    monkeypatch.setattr(fast_path, "wsgi_app", pages_wait)
    pages = [threading.Thread(target=demo_app.test_client().get, args=(f"/page-{n}",)) for n in range(4)]
    for thread in pages:
        thread.start()
    deadline = time.monotonic() + 10
    while len(inside) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # time for a third to get in, were it let in
    assert len(inside) == 2
    answers = []

    def door():  # a scanner app's scan, then a paired tablet's ping and scan, while both places are taken
        api_scan = demo_app.test_client().post("/api/v1/scans", json={"code": badge_code(demo_db, 90)}, headers={"Authorization": f"Bearer {token}"})
        answers.append(api_scan.get_json()["outcome"])
        answers.append(kiosk.get("/kiosk/ping").status_code)
        page = kiosk.post("/kiosk/scan", data={"code": badge_code(demo_db, 91)}, follow_redirects=True).get_data(as_text=True)
        answers.append("Welkom" in page)

    at_the_door = threading.Thread(target=door)
    at_the_door.start()
    at_the_door.join(10)
    held_up = at_the_door.is_alive()
    release.set()
    for thread in [at_the_door, *pages]:
        thread.join(10)
    assert not held_up and answers == ["checked_in", 204, True]
    assert max(most) == 2 and not inside


def test_a_broken_batch_still_answers_its_scans_and_hands_the_lead_on():
    batches, seen, raised = None, [], []
    scans = [api_module.PendingScan(None, str(n).encode(), "127.0.0.1") for n in range(4)]

    def answer_batch(batch):
        seen.append([scans.index(scan) for scan in batch])
        if len(seen) == 1:  # hold the first batch until the other three wait, then break it
            deadline = time.monotonic() + 10
            while len(batches.waiting) < 3 and time.monotonic() < deadline:
                time.sleep(0.005)
            raise KeyboardInterrupt  # past answer_batch's own handlers, which catch every Exception
        for scan in batch:
            scan.status, scan.answer = 200, {}

    batches = api_module.ScanBatches(answer_batch)

    def submit(scan):
        try:
            batches.submit(scan)
        except KeyboardInterrupt:
            raised.append(scan)

    threads = [threading.Thread(target=submit, args=(scan,)) for scan in scans]
    threads[0].start()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.005)
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen[0] == [0] and sorted(seen[1]) == [1, 2, 3]  # the first that waited led the rest
    assert raised == [scans[0]] and scans[0].status == 500
    assert [scan.status for scan in scans[1:]] == [200] * 3
    assert not batches.leading and not batches.waiting


def pending(token, code):
    return api_module.PendingScan(token, json.dumps({"code": code}).encode(), "127.0.0.1")


def test_a_failing_scan_leaves_the_rest_of_its_batch_recorded(demo_app, demo_db, monkeypatch, caplog):
    _station, token, _ = make_station(demo_db, "Door 13")
    good, broken, also_good = (badge_code(demo_db, 70 + n) for n in range(3))
    real_record = api_module.record_station_scan

    def record_then_fail(station, **fields):
        result = real_record(station, **fields)
        if fields["code"] == broken:
            raise RuntimeError("disk on fire")  # after its scan was written: the savepoint must undo it
        return result

    monkeypatch.setattr(api_module, "record_station_scan", record_then_fail)
    batch = [pending(token, code) for code in (good, broken, also_good)] + [pending("not-a-token", good)]
    with caplog.at_level(logging.ERROR):
        demo_app.wsgi_app.answer_batch(batch)
    assert [scan.status for scan in batch] == [200, 500, 200, 401]
    assert [scan.answer.get("outcome") for scan in batch] == ["checked_in", None, "checked_in", None]
    assert isinstance(batch[1].error, RuntimeError) and "disk on fire" in caplog.text
    recorded = dict(demo_db.execute(
        "SELECT code, count(*) FROM scans WHERE code IN (?, ?, ?) GROUP BY code", [good, broken, also_good]
    ).fetchall())
    assert recorded == {good: 1, also_good: 1}


def test_a_batch_whose_commit_fails_answers_500_and_records_nothing(demo_app, demo_db, monkeypatch):
    _station, token, _ = make_station(demo_db, "Door 14")
    code = badge_code(demo_db, 80)
    real_immediate = api_module.immediate

    @contextlib.contextmanager
    def failing_commit(db):
        with real_immediate(db):
            yield db
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(api_module, "immediate", failing_commit)
    batch = [pending(token, code), pending(None, code), pending(token, "K1-NOTHING")]
    demo_app.wsgi_app.answer_batch(batch)
    assert [scan.status for scan in batch] == [500, 401, 500]
    assert demo_db.execute("SELECT count(*) FROM scans WHERE code IN (?, 'K1-NOTHING')", [code]).fetchone()[0] == 0


def test_both_paths_send_the_same_bytes(demo_app, demo_db):
    _station, token, _ = make_station(demo_db, "Door 12")
    headers = {"Authorization": f"Bearer {token}"}
    scanner, browser = demo_app.test_client(), demo_app.test_client()
    browser.set_cookie("kiosk_lang", "nl")
    for body, auth in (({"code": "x"}, {}), ({"code": "x", "direction": "sideways"}, headers)):
        fast, flask = (client.post("/api/v1/scans", json=body, headers=auth) for client in (scanner, browser))
        assert fast.status_code == flask.status_code != 200
        assert fast.data == flask.data


def test_the_fast_path_sends_the_security_headers(api, demo_db):
    response = api({"code": badge_code(demo_db, 5)})
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers
    secure = api.client.post(
        "/api/v1/scans", json={"code": "x"}, headers={"Authorization": f"Bearer {api.token}"}, base_url="https://kiosk.test"
    )
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_body_of_no_stated_length_is_read_by_flask(demo_app, demo_db):
    """A chunked upload has no Content-Length: the fast path leaves it to werkzeug, which reads it."""
    _station, token, _ = make_station(demo_db, "Chunked")
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/scans", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost", "HTTP_AUTHORIZATION": f"Bearer {token}", "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(b'{"code": "K1-NOPE"}'), "wsgi.input_terminated": True, "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(), "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    statuses = []
    body = b"".join(demo_app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses == ["200 OK"]
    assert b'"outcome":"unknown"' in body


def test_an_unexpected_error_in_the_fast_path_is_a_logged_500(demo_app, demo_db, monkeypatch, caplog):
    _station, token, _ = make_station(demo_db, "Door 10")
    demo_app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api_module, "record_station_scan", broken)
    with caplog.at_level(logging.ERROR):
        response = demo_app.test_client().post("/api/v1/scans", json={"code": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert response.get_json()["error"] == "error"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "disk on fire" in caplog.text


def test_the_per_client_guess_limit_counts_the_fast_paths_address(demo_app, demo_db):
    """Two stations on one device share its address's limit, also without Flask's request."""
    demo_app.config["SCAN_GUESS_CLIENT_LIMIT"] = (4, 60)
    tokens = [make_station(demo_db, f"Shared tablet {n}")[1] for n in range(2)]
    client = demo_app.test_client()
    statuses = [
        client.post("/api/v1/scans", json={"code": f"K1-GUESS{n}"}, headers={"Authorization": f"Bearer {tokens[n % 2]}"},
                    environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code
        for n in range(6)
    ]
    assert statuses[:4] == [200] * 4
    assert statuses[-1] == 429
    other = client.post("/api/v1/scans", json={"code": "K1-GUESS9"}, headers={"Authorization": f"Bearer {tokens[0]}"},
                        environ_base={"REMOTE_ADDR": "10.0.0.8"})
    assert other.status_code == 200


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


def test_a_body_is_read_whole_before_the_request_goes_on():
    small, large = b'{"code": "K1-X"}', bytes(range(256)) * 4096  # 1 MB: more than is kept in memory
    for body in (small, large):
        environ = {"CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
        with read_body_first(environ, limit=20 * 1024 * 1024) as kept:
            assert environ["wsgi.input"] is kept and kept.read() == body
            assert kept._rolled == (body is large)  # the large one waits in a temporary file


def test_a_body_cut_short_is_passed_on_as_far_as_it_came():
    environ = {"CONTENT_LENGTH": "100", "wsgi.input": io.BytesIO(b'{"code": ')}
    with read_body_first(environ, limit=4096) as kept:
        assert kept.read() == b'{"code": '


@pytest.mark.parametrize("length", ["", "chunked", "0", "5000"])
def test_bodies_werkzeug_refuses_or_streams_are_left_to_it(length):
    original = io.BytesIO(b"x" * 5000)
    environ = {"CONTENT_LENGTH": length, "wsgi.input": original}
    assert read_body_first(environ, limit=4096) is None
    assert environ["wsgi.input"] is original and original.tell() == 0
