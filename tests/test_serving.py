"""kiosk.serving: what `kiosk serve` installs, the other packages' private APIs it relies on, the
admission gate and body pre-reader, the checkpointer. The fast path and batches: test_fastpath.py."""

import inspect
import io
import socket
import subprocess
import sys
import threading
import time

import granian.log
import granian.server
import pytest
from flask import Flask, request_started
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from kiosk import serving
from kiosk.serving import server
from kiosk.serving.admission import Admission, Places
from kiosk.serving import bodies
from kiosk.serving.bodies import BodyGate
from kiosk.serving.checkpointer import next_checkpoint_wait
from kiosk.serving.fastpath import ScanFastPath
from kiosk.serving.tweaks import OnePieceResponse
from tests.conftest import ORGANISER, ROOT, login, make_station, station_client
from tests.test_api import badge_code


def wsgi_body(app, path, method="GET", **builder_args):
    """(status, the WSGI iterable the app returns) for one request, as a server would call it."""
    environ = EnvironBuilder(path=path, method=method, **builder_args).get_environ()
    seen = {}
    iterable = app(environ, lambda status, headers, exc_info=None: seen.setdefault("status", status))
    return seen["status"], iterable


def test_create_app_alone_installs_nothing_and_install_everything_once(demo_app, demo_db):
    """Plain Flask serves a scanner app's scan through its view; installed, the fast path answers it."""
    _station, token, _ = make_station(demo_db, "Door 1")
    dispatched = []
    request_started.connect(lambda sender, **extra: dispatched.append(1), demo_app, weak=False)
    headers = {"Authorization": f"Bearer {token}"}
    assert demo_app.test_client().post("/api/v1/scans", json={"code": "K1-NOPE"}, headers=headers).status_code == 200
    assert dispatched == [1] and demo_app.response_class is not OnePieceResponse
    serving.install(demo_app)
    serving.install(demo_app)  # a second call changes nothing
    assert isinstance(demo_app.wsgi_app, ScanFastPath) and isinstance(demo_app.wsgi_app.wsgi_app, Admission)
    assert not isinstance(demo_app.wsgi_app.wsgi_app.wsgi_app, (ScanFastPath, Admission))
    assert demo_app.test_client().post("/api/v1/scans", json={"code": "K1-NOPE"}, headers=headers).status_code == 200
    assert dispatched == [1]


def test_serve_installs_the_seam_before_the_workers_start(monkeypatch, tmp_path, demo_app):
    served = {}

    class FakeServer:  # granian's Server, which would fork the workers
        def __init__(self, target, **options):
            served["options"] = options

        def serve(self, target_loader, wrap_loader):
            served["installed"] = isinstance(demo_app.wsgi_app, ScanFastPath)
            served["wrap_loader"] = wrap_loader

    monkeypatch.setattr(granian.server, "Server", FakeServer)
    demo_app.instance_path = str(tmp_path)  # serve() writes the public URL there
    server.serve(demo_app, host="127.0.0.1", port=5999, workers=2, threads=8, use_https=False)
    assert served == {"options": served["options"], "installed": True, "wrap_loader": False}


# Private APIs of other packages that kiosk.serving relies on. Each test fails when the
# dependency changes them; pin the versions these pass with (pyproject.toml, the lock file).

def test_werkzeug_keeps_close_callbacks_in_a_private_on_close_list():
    """OnePieceResponse hands a body over as one piece only when no close callback waits on it."""
    response = Response(b"body")
    assert response._on_close == []
    callback = response.call_on_close(lambda: None)
    assert response._on_close == [callback]


def test_a_body_with_a_close_callback_stays_an_iterator_and_is_closed():
    closed = []
    environ = EnvironBuilder().get_environ()
    plain = OnePieceResponse(b"body")
    assert plain.get_app_iter(environ) == [b"body"]  # werkzeug renamed _on_close if this is an iterator
    waiting = OnePieceResponse(b"body")
    waiting.call_on_close(lambda: closed.append(1))
    body = waiting(environ, lambda status, headers, exc_info=None: None)
    assert not isinstance(body, list) and b"".join(body) == b"body"
    body.close()
    assert closed == [1]


def test_granian_still_offers_what_serve_uses():
    """serve() hands granian the app through target_loader, unwrapped, and filters one warning of its logger."""
    parameters = inspect.signature(granian.server.Server.serve).parameters
    assert {"target_loader", "wrap_loader"} <= set(parameters)
    options = inspect.signature(granian.server.Server.__init__).parameters
    assert {"blocking_threads", "respawn_failed_workers", "respawn_interval", "workers_kill_timeout",
            "ssl_protocol_min", "log_access"} <= set(options)
    assert granian.log.logger.name == "_granian"
    source = inspect.getsource(sys.modules[granian.server.Server.__module__])
    assert "f'Configuration allows spawning" in source or 'f"Configuration allows spawning' in source


# The tweaks

def test_an_answer_in_memory_goes_to_the_server_as_one_piece(served_app):
    """A list, so granian writes headers and body in one write (not two, which Nagle can delay)."""
    status, body = wsgi_body(served_app, "/api/v1/openapi.json")
    assert status.startswith("200")
    assert isinstance(body, list) and len(body) == 1 and body[0].startswith(b"{")
    status, body = wsgi_body(served_app, "/api/v1/openapi.json", method="HEAD")
    assert status.startswith("200") and body == []


@pytest.mark.parametrize("serve", [True, False], ids=["served", "plain Flask"])
def test_a_file_is_still_sent_as_a_stream(demo_app, serve):
    """Static files (the QR decoder is megabytes) go out from the file, not collected into memory first."""
    if serve:
        serving.install(demo_app)
    status, body = wsgi_body(demo_app, "/static/css/kiosk.css")
    assert status.startswith("200")
    assert not isinstance(body, list)
    assert b"".join(body)
    body.close()


def test_plain_functions_are_remembered_and_coroutines_are_still_refused():
    app = Flask(__name__)
    serving.tweaks.remember_plain_functions(app)

    def view():
        return "ok"

    async def coroutine_view():
        return "ok"

    assert app.ensure_sync(view) is view and app.ensure_sync(view) is view
    for _ in range(2):  # never remembered as plain: Flask decides each time
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(coroutine_view)


def test_sessions_open_without_a_cookie_and_with_one(served_app):
    client = served_app.test_client()
    assert client.get("/admin/attendees").status_code in (302, 303)  # no session: to the login page
    assert login(client, *ORGANISER).status_code == 303
    assert client.get("/admin/attendees").status_code == 200  # the signed session cookie is read back


# The admission gate and the body pre-reader

def test_other_requests_run_two_at_a_time_and_never_hold_up_a_station(demo_app, demo_db):
    """Pages wait for one of two places per worker; a scanner app's scan and a paired station do not."""
    _station, token, _ = make_station(demo_db, "Door 15")
    kiosk, _station, _token = station_client(demo_app, demo_db, "Door 16")
    release, inside, most = threading.Event(), [], []
    flask_wsgi_app = demo_app.wsgi_app

    def slow_pages(environ, start_response):  # a page that takes as long as the test wants, inside Flask's place
        if not environ["PATH_INFO"].startswith("/page-"):
            return flask_wsgi_app(environ, start_response)
        inside.append(environ["PATH_INFO"])
        most.append(len(inside))
        release.wait(30)
        inside.remove(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"page"]

    demo_app.wsgi_app = slow_pages
    serving.install(demo_app)
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


def read_body_first(environ, limit):
    """The file BodyGate read ENVIRON's body into (None when it read none); it refuses nothing here."""
    environ.setdefault("REMOTE_ADDR", "127.0.0.1")
    kept, refused = BodyGate(limit=limit, deadline=5, per_client=3).read_first(environ)
    assert refused is None
    return kept


def test_many_quick_bodies_from_one_address_all_get_through():
    """A script (or a room of tablets behind one NAT address) posting several small bodies at once
    waits a moment for a free slot instead of being refused: only bodies that keep coming are bounded."""
    gate = BodyGate(limit=4096, deadline=5, per_client=1)
    refusals, kept = [], []

    def post():
        body = b'{"name": "x"}'
        environ = {"CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "REMOTE_ADDR": "10.0.0.9"}
        read, refused = gate.read_first(environ)
        refusals.append(refused)
        kept.append(read)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert refusals == [None] * 8
    for read in kept:
        read.close()


def test_a_body_is_read_whole_before_the_request_goes_on():
    small, large = b'{"code": "K1-X"}', bytes(range(256)) * 4096  # 1 MB: more than is kept in memory
    for body in (small, large):
        environ = {"CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
        with read_body_first(environ, limit=20 * 1024 * 1024) as kept:
            assert environ["wsgi.input"] is kept and kept.read() == body
            assert (kept.name is not None) == (body is large)  # the large one waits in a temporary file


def test_a_chunked_body_is_read_whole_and_goes_on_with_its_length():
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"x" * 5000)}
    with read_body_first(environ, limit=20 * 1024 * 1024) as kept:
        assert kept.read() == b"x" * 5000
        assert environ["CONTENT_LENGTH"] == "5000" and "HTTP_TRANSFER_ENCODING" not in environ
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"x" * 5000)}
    with read_body_first(environ, limit=4096) as kept:  # one byte past the limit: werkzeug answers 413
        assert environ["CONTENT_LENGTH"] == "4097"


def test_a_body_cut_short_is_passed_on_as_far_as_it_came():
    environ = {"CONTENT_LENGTH": "100", "wsgi.input": io.BytesIO(b'{"code": ')}
    with read_body_first(environ, limit=4096) as kept:
        assert kept.read() == b'{"code": '


@pytest.mark.parametrize("length", ["", "0", "5000"])
def test_bodies_werkzeug_refuses_are_left_to_it(length):
    original = io.BytesIO(b"x" * 5000)
    environ = {"CONTENT_LENGTH": length, "wsgi.input": original}
    assert read_body_first(environ, limit=4096) is None
    assert environ["wsgi.input"] is original and original.tell() == 0


@pytest.mark.parametrize("length", ["²", "١٢", "-1", "1e3"])
def test_an_odd_content_length_is_a_clear_answer_not_a_500(served_app, length):
    """A Content-Length that is not ASCII digits is never parsed as a number by the serving layer."""
    environ = EnvironBuilder(path="/login", method="POST", data=b"email=x").get_environ()
    environ["CONTENT_LENGTH"] = length
    seen = {}
    body = served_app(environ, lambda status, headers, exc_info=None: seen.setdefault("status", status))
    b"".join(body)
    assert int(seen["status"].split()[0]) < 500


# The checkpointer

CHECKPOINTER_SCRIPT = """
import os, shutil, sqlite3, sys, time
from kiosk.db import connect, migrate
from kiosk.serving.checkpointer import SAFETY_CHECKPOINT_PAGES, start_checkpointer
path, copy = sys.argv[1], sys.argv[2]
before = connect(path)
start_checkpointer(path, every=0.1)
db = connect(path)  # opened after: the writer's own checkpoint is only the safety net
assert before.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # SQLite's default until then
assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == SAFETY_CHECKPOINT_PAGES == 10_000
before.close()
migrate(db)
for n in range(200):
    db.execute("INSERT INTO rate_limits (bucket, key, window_start, hits) VALUES ('test', ?, 0, 1)", [str(n)])
time.sleep(0.6)
shutil.copy(path, copy)  # the database file alone, without its WAL
print(sqlite3.connect(copy).execute("SELECT count(*) FROM rate_limits").fetchone()[0])
# The thread copied all of the WAL in the pause, so the next burst of writes starts it over
# from its beginning: the file does not grow.
wal = os.path.getsize(path + "-wal")
for n in range(200):
    db.execute("INSERT INTO rate_limits (bucket, key, window_start, hits) VALUES ('again', ?, 0, 1)", [str(n)])
print(wal, os.path.getsize(path + "-wal"))
if os.fork() == 0:  # a forked worker runs no checkpointer of its parent's: SQLite's default again
    os._exit(0 if connect(path).execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000 else 1)
assert os.wait()[1] == 0
"""


def test_the_checkpointer_thread_copies_the_wal_into_the_database_file(tmp_path):
    """A server worker's checkpoints happen in a thread of its own, outside any request, and a
    pause in the writes lets the WAL start over (run in a subprocess: the thread lives as long
    as its process)."""
    result = subprocess.run(
        [sys.executable, "-c", CHECKPOINTER_SCRIPT, str(tmp_path / "k.db"), str(tmp_path / "copy.db")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    copied, wal_sizes = result.stdout.split("\n", 1)
    assert copied == "200"
    wal_before, wal_after = map(int, wal_sizes.split())
    assert wal_before > 200 * 4096 and wal_after == wal_before  # restarted, without the writers' own checkpoint


def test_the_checkpointer_waits_longer_in_a_pause_and_comes_back_soon_when_writes_resume():
    def wait(previous, state, last):
        return next_checkpoint_wait(previous, state, last, every=0.025, idle=0.5)

    assert wait(0.025, (0, 120, 80), (0, 60, 60)) == 0.025  # frames left to copy
    assert wait(0.025, (0, 120, 120), (0, 120, 80)) == 0.025  # all copied just now: look once more
    assert wait(0.025, (0, 120, 120), (0, 120, 120)) == 0.05  # nothing new: wait twice as long
    assert wait(0.4, (0, 120, 120), (0, 120, 120)) == 0.5  # up to the idle wait
    assert wait(0.5, (0, 130, 120), (0, 120, 120)) == 0.025  # writes again
    assert wait(0.5, (0, 14, 14), (0, 120, 120)) == 0.025  # the WAL started over with new writes
    assert wait(0.5, None, (0, 120, 120)) == 0.025  # busy: try again soon
    assert wait(0.5, (1, -1, -1), (1, -1, -1)) == 0.025


def test_a_place_let_go_goes_to_the_longest_waiter_not_a_newcomer():
    """Under load a request that just arrived must not take the place a waiting one was given:
    with threading.Semaphore it could, and the loser waited again at the back of the queue."""
    places = Places(1)
    entered = []
    places.__enter__()  # the one place is taken

    def waiter():
        with places:
            entered.append("waiter")

    thread = threading.Thread(target=waiter)
    thread.start()
    deadline = time.monotonic() + 5
    while not places.waiting and time.monotonic() < deadline:
        time.sleep(0.001)
    places.__exit__(None, None, None)
    with places:  # a newcomer, asking at once while the waiter has not yet woken
        entered.append("newcomer")
    thread.join(5)
    assert entered == ["waiter", "newcomer"]


def test_a_body_that_stops_coming_is_answered_408_at_its_deadline_and_its_connection_shut():
    """The request's own thread reads the body; the worker's one watcher thread shuts the silent
    connection at the deadline, which ends the read, and nothing is left counted for the address."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    served, _address = listener.accept()
    served.settimeout(5)  # without the watcher the read would end only here, and the test fails
    body = served.makefile("rb")
    try:
        client.sendall(b'{"na')  # 4 of the 100 bytes it says it sends, then nothing
        environ = {"CONTENT_LENGTH": "100", "wsgi.input": body, "REMOTE_ADDR": "127.0.0.1", "SERVER_PORT": str(port)}
        gate = BodyGate(limit=4096, deadline=0.5, per_client=3)
        started = time.monotonic()
        kept, refused = gate.read_first(environ)
        waited = time.monotonic() - started
        seen = {}
        answer = b"".join(refused(environ, lambda status, headers: seen.setdefault("status", status)))
        assert kept is None and seen["status"].startswith("408") and b"did not arrive" in answer
        assert 0.5 <= waited < 2, waited
        assert not gate.readings and not gate.coming
        assert served.recv(10) == b""  # shut for reading: the read ended
    finally:
        for each in (body, served, client, listener):
            each.close()


def test_the_body_watcher_ends_when_idle_and_the_next_body_starts_one(monkeypatch):
    """A worker keeps no watcher thread while no body comes (nor does a test process, per app)."""
    monkeypatch.setattr(bodies, "WATCHER_IDLE_SECONDS", 0.1)
    gate = BodyGate(limit=4096, deadline=5, per_client=3)
    watchers = []
    watch = gate._watch_overdue
    gate._watch_overdue = lambda: (watchers.append(threading.current_thread().name), watch())

    def post_and_wait_for_the_watcher_to_end():
        environ = {"CONTENT_LENGTH": "4", "wsgi.input": io.BytesIO(b"x=12"), "REMOTE_ADDR": "10.0.0.9"}
        kept, refused = gate.read_first(environ)
        assert refused is None and kept.read() == b"x=12"
        kept.close()
        deadline = time.monotonic() + 5
        while gate.watcher_pid is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gate.watcher_pid is None

    post_and_wait_for_the_watcher_to_end()
    assert watchers == ["kiosk-body-watch"]
    post_and_wait_for_the_watcher_to_end()  # the next body starts a watcher again
    assert watchers == ["kiosk-body-watch"] * 2
