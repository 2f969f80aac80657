"""Issue 17 against the serving layer: what a client on the venue network can no longer do.

Stalled chunked bodies (`kiosk serve`, a raw socket) hold no place other clients need: the
login page, a host's room poll and an API scan still answer within 1 s, the stalled
connections are answered 408 and closed at the body deadline, and one address cannot keep
more bodies coming at once than BODIES_PER_CLIENT (429). Only a paired station's real cookie
skips the page throttle, not a cookie of that name. A chunked scan body over 4 KB answers 413,
served and through Flask alone.
"""

import io
import re
import socket
import threading
import time
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from kiosk import serving
from kiosk.accounts.access import STATION_COOKIE
from kiosk.db import connect
from tests.conftest import HOST, LiveServer, make_station, station_client
from tests.test_api import badge_code

DEADLINE = 2  # seconds: the body deadline the live server runs with here
BODIES_PER_CLIENT = 3


def stalled_chunked_login(port):
    """A connection that sends `POST /login` with a chunked body: one 5-byte chunk, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE + 5)
    sock.sendall(
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n5\r\nemail\r\n"
    )
    return sock


def answer_and_close(sock):
    """(the status line the server sent, seconds until it closed the connection)."""
    started, received = time.monotonic(), b""
    while time.monotonic() - started < DEADLINE + 5:
        try:
            data = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not data:
            return received.split(b"\r\n", 1)[0].decode(), time.monotonic() - started
        received += data
    return received.split(b"\r\n", 1)[0].decode(), None  # still open


def host_cookie(port):
    """A host's session cookie, logged in through the login form with its CSRF token."""
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/login")
    response = connection.getresponse()
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode()).group(1)
    cookie = SimpleCookie(response.getheader("Set-Cookie"))
    body = urlencode({"csrf_token": token, "email": HOST[0], "password": HOST[1]})
    connection.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{key}={morsel.value}" for key, morsel in cookie.items())})
    response = connection.getresponse()
    response.read()
    assert response.status == 303
    cookie.load(response.getheader("Set-Cookie"))
    connection.close()
    return "; ".join(f"{key}={morsel.value}" for key, morsel in cookie.items())


def timed(port, method, path, body=None, headers=None):
    """(status, seconds) of one request on a fresh connection."""
    started = time.monotonic()
    connection = HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, time.monotonic() - started


@pytest.fixture
def guarded_server(tmp_path, demo_template):
    """`kiosk serve` on the demo, one worker of 8 threads, with a short body deadline."""
    path = tmp_path / "live.db"
    path.write_bytes(demo_template.read_bytes())
    env = {"KIOSK_BODY_DEADLINE_SECONDS": str(DEADLINE), "KIOSK_BODIES_PER_CLIENT": str(BODIES_PER_CLIENT)}
    server = LiveServer(path, tmp_path / "instance", env=env)
    yield server
    server.stop()


@pytest.mark.slow
def test_stalled_chunked_bodies_hold_up_no_page_and_are_closed_at_the_deadline(guarded_server):
    port = guarded_server.port
    database = connect(guarded_server.database_path)
    _station, token, _secret = make_station(database, "Door")
    room = database.execute("SELECT id FROM rooms ORDER BY id LIMIT 1").fetchone()[0]
    code = badge_code(database, 3)
    cookie = host_cookie(port)
    stalled = [stalled_chunked_login(port) for _ in range(6)]
    opened = time.monotonic()
    try:
        time.sleep(0.3)  # every stalled request has reached the app
        probes = [
            timed(port, "GET", "/login"),
            timed(port, "GET", f"/rooms/{room}", headers={"Cookie": cookie, "HX-Request": "true"}),
            timed(port, "POST", "/api/v1/scans", body=f'{{"code": "{code}"}}',
                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}),
        ]
        assert [status for status, _ in probes] == [200, 200, 200]
        assert max(seconds for _, seconds in probes) < 1, probes
        answers = [answer_and_close(sock) for sock in stalled]
    finally:
        for sock in stalled:
            sock.close()
    statuses = sorted(status.split(" ")[1] for status, _ in answers)
    # One address keeps at most BODIES_PER_CLIENT bodies coming; the rest are refused after a short wait.
    assert statuses == ["408"] * BODIES_PER_CLIENT + ["429"] * (6 - BODIES_PER_CLIENT), answers
    closed_after = [seconds for _, seconds in answers]
    assert None not in closed_after, answers
    assert time.monotonic() - opened < DEADLINE + 3


def test_a_station_cookie_of_any_value_waits_for_a_place_like_any_page(demo_app, demo_db):
    """Only a paired station's cookie skips the two places; a made-up one waits for one."""
    kiosk, _station, _token = station_client(demo_app, demo_db, "Door 17")
    paired = kiosk.get_cookie(STATION_COOKIE).value
    release, inside = threading.Event(), []
    flask_wsgi_app = demo_app.wsgi_app

    def slow_pages(environ, start_response):
        if not environ["PATH_INFO"].startswith("/page-"):
            return flask_wsgi_app(environ, start_response)
        inside.append(environ["PATH_INFO"])
        release.wait(10)
        inside.remove(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"page"]

    demo_app.wsgi_app = slow_pages
    serving.install(demo_app)
    holders = [threading.Thread(target=demo_app.test_client().get, args=(f"/page-{n}",)) for n in range(2)]
    for thread in holders:
        thread.start()
    deadline = time.monotonic() + 10
    while len(inside) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)

    def page_with(value, name):
        client = demo_app.test_client()
        client.set_cookie(STATION_COOKIE, value)
        client.get(f"/page-{name}")

    faked = threading.Thread(target=page_with, args=("made-up", "faked"))
    real = threading.Thread(target=page_with, args=(paired, "real"))
    faked.start()
    real.start()
    time.sleep(0.3)
    went_in = sorted(inside)
    release.set()
    for thread in [faked, real, *holders]:
        thread.join(10)
    assert went_in == ["/page-0", "/page-1", "/page-real"]


def chunked_scan(client, token, body):
    return client.post("/api/v1/scans", input_stream=io.BytesIO(body), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Transfer-Encoding": "chunked",
    }, environ_overrides={"wsgi.input_terminated": True})


@pytest.mark.parametrize("serve", [True, False], ids=["served", "plain Flask"])
def test_a_chunked_scan_body_over_4_kb_answers_413(demo_app, demo_db, serve):
    if serve:
        serving.install(demo_app)
    _station, token, _ = make_station(demo_db, "Door 18")
    large = b'{"code": "K1-X", "pad": "' + b"x" * 5000 + b'"}'
    response = chunked_scan(demo_app.test_client(), token, large)
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
    small = f'{{"code": "{badge_code(demo_db, 4)}"}}'.encode()
    response = chunked_scan(demo_app.test_client(), token, small)
    assert response.status_code == 200 and response.get_json()["outcome"] == "checked_in"
