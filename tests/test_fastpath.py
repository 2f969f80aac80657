"""kiosk.serving's fast scan path and group commit, driven through the installed app as a server would."""

import io
import json
import logging
import threading
import time

import pytest
from flask import request_started
from werkzeug.test import EnvironBuilder

from kiosk.db import connect, immediate
from kiosk.serving.batches import PendingScan, ScanBatches, batch_started
from tests.conftest import make_app, make_station
from tests.test_api import badge_code


class ReadNotified(io.BytesIO):
    """A request body that tells READ when the app has read it."""

    def __init__(self, data, read):
        super().__init__(data)
        self.read_event = read

    def read(self, *args):
        try:
            return super().read(*args)
        finally:
            self.read_event.set()


def post_scan(app, token, body, read=None):
    """(status, answer) for a scanner app's POST of BODY with TOKEN, called as a WSGI server calls the app."""
    raw = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    environ = EnvironBuilder(path="/api/v1/scans", method="POST", data=raw, content_type="application/json",
                             headers=headers).get_environ()
    if read is not None:
        environ["wsgi.input"] = ReadNotified(raw, read)
    statuses = []
    answer = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return int(statuses[0].split()[0]), json.loads(answer)


def queued_behind_a_batch(app, first, rest):
    """Send the scan FIRST, then the scans REST while FIRST's batch waits for the write lock;
    returns (FIRST's answer, REST's answers, the size of each batch). A scan is (token, body).

    The test holds the write lock (a transaction of its own), so the batch FIRST leads cannot
    write until every scan of REST has arrived and waits for its answer.
    """
    answers, sizes, leading = {}, [], threading.Event()

    def on_batch(sender, size):
        sizes.append(size)
        leading.set()

    def send(key, scan, read=None):
        answers[key] = post_scan(app, *scan, read=read)

    holder = connect(app.config["DATABASE"])
    with batch_started.connected_to(on_batch):
        with immediate(holder):
            threads = [threading.Thread(target=send, args=("first", first))]
            threads[0].start()
            assert leading.wait(10)
            reads = [threading.Event() for _ in rest]
            threads += [threading.Thread(target=send, args=(n, scan, reads[n])) for n, scan in enumerate(rest)]
            for thread in threads[1:]:
                thread.start()
            assert all(read.wait(10) for read in reads)
            time.sleep(0.2)  # from reading its body to waiting in the queue: microseconds
        for thread in threads:
            thread.join(20)
    holder.close()
    return answers["first"], [answers[n] for n in range(len(rest))], sizes


def test_a_scanner_app_skips_flask_dispatch_and_a_cookie_does_not(served_app, demo_db):
    _station, token, _ = make_station(demo_db, "Door 9")
    dispatched = []
    request_started.connect(lambda sender, **extra: dispatched.append(1), served_app, weak=False)
    client = served_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/scans", json={"code": "K1-NOPE"}, headers=headers).get_json()["outcome"] == "unknown"
    assert dispatched == []
    client.set_cookie("kiosk_lang", "nl")
    assert client.post("/api/v1/scans", json={"code": "K1-NOPE"}, headers=headers).get_json()["outcome"] == "unknown"
    assert dispatched == [1]


def test_scans_that_arrive_together_are_committed_together(served_app, demo_db):
    """While one batch waits to write, the scans that arrive wait too and then go in one batch."""
    _station, token, _ = make_station(demo_db, "Door 11")
    codes = [badge_code(demo_db, 60 + n) for n in range(6)]
    first, rest, sizes = queued_behind_a_batch(served_app, (token, {"code": codes[0]}), [(token, {"code": code}) for code in codes[1:]])
    assert [(status, answer["outcome"]) for status, answer in [first, *rest]] == [(200, "checked_in")] * 6
    assert sizes == [1, 5]  # the first scan alone, then the five that waited
    recorded = demo_db.execute(
        f"SELECT count(*) FROM scans WHERE outcome = 'checked_in' AND code IN ({', '.join('?' * len(codes))})", codes
    ).fetchone()[0]
    assert recorded == len(codes)
    assert post_scan(served_app, token, {"code": codes[0]})[1]["outcome"] == "already"  # and the next scan leads its own


def test_a_broken_batch_still_answers_its_scans_and_hands_the_lead_on():
    seen, raised, leading, others_sent = [], [], threading.Event(), threading.Event()
    scans = [PendingScan(None, str(n).encode(), "127.0.0.1") for n in range(5)]

    def answer_batch(batch):
        seen.append([scans.index(scan) for scan in batch])
        if len(seen) == 1:  # hold the first batch until the other three wait, then break it
            leading.set()
            others_sent.wait(10)
            raise KeyboardInterrupt  # past answer_batch's own handlers, which catch every Exception
        for scan in batch:
            scan.status, scan.answer = 200, {}

    batches = ScanBatches(answer_batch)

    def submit(scan):
        try:
            batches.submit(scan)
        except KeyboardInterrupt:
            raised.append(scan)

    threads = [threading.Thread(target=submit, args=(scan,)) for scan in scans[:4]]
    threads[0].start()
    assert leading.wait(10)
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.2)  # from start to waiting in the queue: microseconds
    others_sent.set()
    for thread in threads:
        thread.join(10)
    assert len(seen) == 2 and seen[0] == [0] and sorted(seen[1]) == [1, 2, 3]  # the first that waited led the rest
    assert raised == [scans[0]] and scans[0].status == 500
    assert [scan.status for scan in scans[1:4]] == [200] * 3
    batches.submit(scans[4])  # nobody leads any more: the next scan leads its own batch
    assert seen[-1] == [4] and scans[4].status == 200


def test_a_failing_scan_leaves_the_rest_of_its_batch_recorded(served_app, demo_db, caplog):
    _station, token, _ = make_station(demo_db, "Door 13")
    served_app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    good, broken, also_good = (badge_code(demo_db, 70 + n) for n in range(3))
    attendee = demo_db.execute("SELECT attendee_id FROM badges WHERE code = ?", [broken]).fetchone()[0]
    # The database refuses BROKEN's presence, after its scan row was written: the savepoint must undo that row.
    demo_db.execute(f"""CREATE TRIGGER refuse_one AFTER INSERT ON presence WHEN NEW.attendee_id = {attendee}
                        BEGIN SELECT RAISE(ABORT, 'disk on fire'); END""")
    rest = [(token, {"code": code}) for code in (good, broken, also_good)] + [("not-a-token", {"code": good})]
    with caplog.at_level(logging.ERROR):
        first, answers, sizes = queued_behind_a_batch(served_app, (token, {"code": "K1-LEADER"}), rest)
    # A token that is not a station's is refused by Flask, outside the batch (stations.PairedStations).
    assert sizes == [1, 3] and first[0] == 200
    assert [status for status, _answer in answers] == [200, 500, 200, 401]
    assert [answer.get("outcome") for _status, answer in answers] == ["checked_in", None, "checked_in", None]
    assert answers[1][1]["error"] == "error" and "disk on fire" in caplog.text
    recorded = dict(demo_db.execute(
        "SELECT code, count(*) FROM scans WHERE code IN (?, ?, ?) GROUP BY code", [good, broken, also_good]
    ).fetchall())
    assert recorded == {good: 1, also_good: 1}


def test_a_batch_whose_commit_fails_answers_500_and_records_nothing(served_app, demo_db, caplog):
    _station, token, _ = make_station(demo_db, "Door 14")
    served_app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    code = badge_code(demo_db, 80)
    # A scan of CODE leaves a row that breaks a deferred foreign key: every statement succeeds, the COMMIT fails.
    demo_db.executescript(f"""
        CREATE TABLE commit_check (room_id INTEGER REFERENCES rooms(id) DEFERRABLE INITIALLY DEFERRED);
        CREATE TRIGGER fail_the_commit AFTER INSERT ON scans WHEN NEW.code = '{code}'
        BEGIN INSERT INTO commit_check VALUES (-1); END;
    """)
    rest = [(token, {"code": code}), (None, {"code": code}), (token, {"code": "K1-NOTHING"})]
    with caplog.at_level(logging.ERROR):
        first, answers, sizes = queued_behind_a_batch(served_app, (token, {"code": "K1-LEADER"}), rest)
    assert sizes == [1, 2] and first[0] == 200  # the scan with no token is refused by Flask, outside the batch
    assert [status for status, _answer in answers] == [500, 401, 500]
    assert "FOREIGN KEY constraint failed" in caplog.text
    assert demo_db.execute("SELECT count(*) FROM scans WHERE code IN (?, 'K1-NOTHING')", [code]).fetchone()[0] == 0


def test_every_path_sends_the_same_bytes(served_app, demo_db):
    """The fast path, the view behind the installed seam, and the view of create_app() alone."""
    _station, token, _ = make_station(demo_db, "Door 12")
    headers = {"Authorization": f"Bearer {token}"}
    plain_app = make_app({"TESTING": True, "DATABASE": served_app.config["DATABASE"], "SECRET_KEY": "test"})
    scanner, browser, plain = served_app.test_client(), served_app.test_client(), plain_app.test_client()
    browser.set_cookie("kiosk_lang", "nl")
    for body, auth in (({"code": "x"}, {}), ({"code": "x", "direction": "sideways"}, headers), ({"code": "K1-NOPE"}, headers)):
        fast, flask, flask_alone = (client.post("/api/v1/scans", json=body, headers=auth) for client in (scanner, browser, plain))
        assert fast.status_code == flask.status_code == flask_alone.status_code
        if fast.status_code == 200:  # a scan's answer differs in its scan_id only
            answers = [response.get_json() for response in (fast, flask, flask_alone)]
            assert len({answer.pop("scan_id") for answer in answers}) == 3
            assert answers[0] == answers[1] == answers[2]
        else:
            assert fast.data == flask.data == flask_alone.data


def test_a_body_of_no_stated_length_is_read_by_flask(served_app, demo_db):
    """A chunked upload has no Content-Length: the fast path leaves it to werkzeug, which reads it."""
    _station, token, _ = make_station(demo_db, "Chunked")
    environ = EnvironBuilder(path="/api/v1/scans", method="POST", headers={"Authorization": f"Bearer {token}"},
                             content_type="application/json").get_environ()
    environ.update({"wsgi.input": io.BytesIO(b'{"code": "K1-NOPE"}'), "wsgi.input_terminated": True})
    environ.pop("CONTENT_LENGTH", None)
    statuses = []
    body = b"".join(served_app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses == ["200 OK"]
    assert b'"outcome":"unknown"' in body


def test_an_unexpected_error_in_the_fast_path_is_a_logged_500(served_app, demo_db, caplog):
    _station, token, _ = make_station(demo_db, "Door 10")
    served_app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    demo_db.execute("CREATE TRIGGER refuse_x AFTER INSERT ON scans WHEN NEW.code = 'x' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    with caplog.at_level(logging.ERROR):
        response = served_app.test_client().post("/api/v1/scans", json={"code": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert response.get_json()["error"] == "error"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "disk on fire" in caplog.text


@pytest.mark.parametrize("propagate", [True, None])
def test_in_testing_an_error_in_the_fast_path_is_raised_as_flask_would(served_app, demo_db, propagate):
    _station, token, _ = make_station(demo_db, "Door 17")
    served_app.config["PROPAGATE_EXCEPTIONS"] = propagate  # None: Flask's default, raised when TESTING
    demo_db.execute("CREATE TRIGGER refuse_x AFTER INSERT ON scans WHEN NEW.code = 'x' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    with pytest.raises(Exception, match="disk on fire"):
        served_app.test_client().post("/api/v1/scans", json={"code": "x"}, headers={"Authorization": f"Bearer {token}"})


def test_the_per_client_guess_limit_counts_the_fast_paths_address(served_app, demo_db):
    """Two stations on one device share its address's limit, also without Flask's request."""
    served_app.config["SCAN_GUESS_CLIENT_LIMIT"] = (4, 60)
    tokens = [make_station(demo_db, f"Shared tablet {n}")[1] for n in range(2)]
    client = served_app.test_client()
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
