"""Durability: a server killed with SIGKILL mid-load loses no check-in a client was told about.

Check-ins are driven through the real server (granian, 2 workers, 8 client threads, an entrance
and a room door). The master and its workers are killed with SIGKILL mid-load; after a restart
every scan a client was told about is there exactly once, with the same answer; no attendee is
checked in twice; presence and room occupancy equal what the scan history replays to; retries
of scans that were in flight at the kill count nothing twice. Also checks WAL mode and
synchronous = NORMAL.
"""

import http.client
import json
import os
import queue
import signal
import threading
import time
import uuid

import pytest

from conftest import LiveServer, make_station
from kiosk.data.scans import kept_state, replay
from kiosk.db import connect

THREADS = 8
KILL_AFTER_ACKS = 150  # answers clients got before the kill
LOAD_SECONDS = 20  # upper bound on the load phase, whatever happens


def post_scan(connection, token, code, scan_id, direction="in"):
    """POST one scan; returns (status, answer) or raises OSError/HTTPException when the server is gone."""
    body = json.dumps({"code": code, "scan_id": scan_id, "direction": direction})
    connection.request(
        "POST", "/api/v1/scans", body=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"null")


def get_json(url_port, token, path):
    connection = http.client.HTTPConnection("127.0.0.1", url_port, timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def server_pids(process):
    """The server process and its workers (children), so a crash takes them all at once."""
    pids = [process.pid]
    try:
        with open(f"/proc/{process.pid}/task/{process.pid}/children") as children:
            pids += [int(pid) for pid in children.read().split()]
    except OSError:
        pass
    return pids


def crash(server):
    """SIGKILL the master and every worker: nothing gets to flush, close or clean up."""
    pids = server_pids(server.process)
    for pid in reversed(pids):  # workers first, so none is left serving as an orphan
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.process.wait(timeout=10)
    server.close_log()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") and _alive(pid) for pid in pids[1:]):
        time.sleep(0.05)


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def test_connections_use_wal_and_synchronous_normal(tmp_path):
    db = connect(tmp_path / "settings.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    db.close()


@pytest.mark.slow
def test_sigkill_mid_load_loses_no_acknowledged_checkin(tmp_path, demo_template):
    path = tmp_path / "kill.db"
    path.write_bytes(demo_template.read_bytes())
    db = connect(path)
    _, entrance_token, _ = make_station(db, "Entrance kill test")
    _, room_token, _ = make_station(db, "Raadzaal door kill test", mode="room", room_name="Raadzaal")
    codes = [row[0] for row in db.execute(
        """SELECT badges.code FROM badges JOIN attendees ON attendees.id = badges.attendee_id
           WHERE badges.replaced_at IS NULL AND attendees.status = 'registered' ORDER BY badges.id"""
    )]
    db.close()

    server = LiveServer(path, tmp_path / "instance", workers=2, threads=8)
    work = queue.Queue()
    for code in codes:
        work.put(code)
    acked, sent, lock = [], [], threading.Lock()
    stop = threading.Event()
    deadline = time.monotonic() + LOAD_SECONDS

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    code = work.get_nowait()
                except queue.Empty:
                    return
                # Entrance first, then the room door: both presence and occupancy are at stake.
                for token, station in ((entrance_token, "entrance"), (room_token, "room")):
                    scan_id = uuid.uuid4().hex
                    with lock:
                        sent.append((station, scan_id, code))
                    status, answer = post_scan(connection, token, code, scan_id)
                    assert status == 200, answer
                    with lock:
                        acked.append({**answer, "station": station, "client_scan_id": scan_id, "code": code})
        except (OSError, http.client.HTTPException, ValueError):
            return  # the server died under us: what was not acknowledged may or may not be in
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    while len(acked) < KILL_AFTER_ACKS and time.monotonic() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.005)
    crash(server)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    acknowledged_checkins = [a for a in acked if a["outcome"] == "checked_in"]
    assert len(acknowledged_checkins) >= KILL_AFTER_ACKS // 2, "the load did not get going before the kill"
    assert len(sent) > len(acked), "the kill should land while requests are in flight"

    server = LiveServer(path, tmp_path / "instance", workers=2, threads=8)
    try:
        db = connect(path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        found = 0
        for answer in acked:
            rows = db.execute(
                "SELECT id, outcome, attendee_id FROM scans WHERE client_scan_id = ?", [answer["client_scan_id"]]
            ).fetchall()
            assert len(rows) == 1, f"scan {answer['client_scan_id']} stored {len(rows)} times"
            assert rows[0][0] == answer["scan_id"]
            assert rows[0][1] == answer["outcome"]
            if answer["outcome"] == "checked_in" and answer["station"] == "entrance":
                assert db.execute("SELECT 1 FROM presence WHERE attendee_id = ?", [rows[0][2]]).fetchone()
                found += 1
        entrance_checkins = sum(1 for a in acknowledged_checkins if a["station"] == "entrance")
        assert found == entrance_checkins
        # Exactly once: no attendee has two check-ins at the entrance.
        assert db.execute(
            """SELECT count(*) FROM (SELECT attendee_id FROM scans WHERE outcome = 'checked_in' AND room_id IS NULL
               GROUP BY attendee_id HAVING count(*) > 1)"""
        ).fetchone()[0] == 0
        state = kept_state(db)
        assert state == replay(db)
        status, rooms = get_json(server.port, entrance_token, "/api/v1/rooms")
        assert status == 200
        assert {room["id"]: room["inside"] for room in rooms["rooms"] if room["inside"]} == state["inside"]

        # A client retrying after the crash gets its first answer back, and nothing is counted twice.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        retried = 0
        for answer in acked[:50]:
            token = entrance_token if answer["station"] == "entrance" else room_token
            status, again = post_scan(connection, token, answer["code"], answer["client_scan_id"])
            assert status == 200 and again["replayed"] and again["outcome"] == answer["outcome"]
            retried += 1
        # Scans in flight at the kill: the client never heard back and retries with the same id.
        answered = {a["client_scan_id"] for a in acked}
        in_flight = [(station, scan_id, code) for station, scan_id, code in sent if scan_id not in answered]
        for station, scan_id, code in in_flight:
            token = entrance_token if station == "entrance" else room_token
            status, again = post_scan(connection, token, code, scan_id)
            assert status == 200
            retried += 1
        connection.close()
        assert db.execute(
            """SELECT count(*) FROM (SELECT attendee_id FROM scans WHERE outcome = 'checked_in' AND room_id IS NULL
               GROUP BY attendee_id HAVING count(*) > 1)"""
        ).fetchone()[0] == 0
        assert kept_state(db) == replay(db)
        db.close()
        print(f"\nkill test: {len(sent)} scans sent, {len(acked)} acknowledged "
              f"({entrance_checkins} entrance check-ins), all {len(acked)} found once after SIGKILL; {retried} retries ({len(in_flight)} in flight at the kill) answered without double counting")
    finally:
        server.stop()
