"""Concurrency: many clients on the real server over HTTP, one check-in per badge, counts that add up.

40 clients on 8 entrance stations scan the same 30 badges at once through HTTP: exactly one
check-in per badge, every other answer "already". 32 clients on 8 door stations in two rooms
move the same people back and forth: occupancy equals the people counted inside and the
replayed history, on the server and in /api/v1/rooms.
"""

import http.client
import json
import random
import threading
import time

import pytest

from conftest import LiveServer, make_station
from kiosk.data.scans import kept_state, replay
from kiosk.db import connect

CLIENTS = 40
BADGES = 30
TIME_LIMIT = 60  # seconds; every client gives up after this


def scan(connection, token, code, direction="in"):
    connection.request(
        "POST", "/api/v1/scans", body=json.dumps({"code": code, "direction": direction}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def run_clients(count, work):
    """Start COUNT threads together, each running WORK(index, deadline); re-raise the first failure."""
    barrier = threading.Barrier(count)
    deadline = time.monotonic() + TIME_LIMIT
    failures = []

    def run(index):
        try:
            barrier.wait(timeout=30)
            work(index, deadline)
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIME_LIMIT + 30)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    if failures:
        raise failures[0]


@pytest.fixture
def server_with_stations(tmp_path, demo_template):
    """The demo event on the production server (granian, 2 workers x 16 threads, to race threads as well as processes)."""
    path = tmp_path / "race.db"
    path.write_bytes(demo_template.read_bytes())
    db = connect(path)
    tokens = {
        "entrance": [make_station(db, f"Entrance {i}")[1] for i in range(8)],
        "Burgerzaal": [make_station(db, f"Burgerzaal {i}", mode="room", room_name="Burgerzaal")[1] for i in range(4)],
        "Raadzaal": [make_station(db, f"Raadzaal {i}", mode="room", room_name="Raadzaal")[1] for i in range(4)],
    }
    codes = [row[0] for row in db.execute(
        """SELECT badges.code FROM badges JOIN attendees ON attendees.id = badges.attendee_id
           WHERE badges.replaced_at IS NULL AND attendees.status = 'registered' ORDER BY badges.id LIMIT ?""",
        [BADGES],
    )]
    db.close()
    server = LiveServer(path, tmp_path / "instance", workers=2, threads=16)
    yield server, tokens, codes, path
    server.stop()


def test_many_clients_scanning_the_same_badges_give_one_checkin_each(server_with_stations):
    server, tokens, codes, path = server_with_stations
    answers, lock = [], threading.Lock()

    def work(index, deadline):
        token = tokens["entrance"][index % len(tokens["entrance"])]
        order = codes[:]
        random.Random(index).shuffle(order)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            for code in order:
                if time.monotonic() > deadline:
                    raise TimeoutError("client ran out of time")
                status, answer = scan(connection, token, code)
                assert status == 200, answer
                with lock:
                    answers.append((code, answer["outcome"]))
        finally:
            connection.close()

    run_clients(CLIENTS, work)

    assert len(answers) == CLIENTS * BADGES
    for code in codes:
        outcomes = [outcome for scanned, outcome in answers if scanned == code]
        assert outcomes.count("checked_in") == 1, (code, outcomes)
        assert outcomes.count("already") == CLIENTS - 1
    db = connect(path)
    assert db.execute("SELECT count(*) FROM presence").fetchone()[0] == BADGES
    assert db.execute(
        "SELECT count(*), count(DISTINCT attendee_id) FROM scans WHERE outcome = 'checked_in'"
    ).fetchone() == (BADGES, BADGES)
    assert kept_state(db) == replay(db)
    db.close()


def test_stations_in_different_rooms_moving_the_same_people_keep_counts_consistent(server_with_stations):
    server, tokens, codes, path = server_with_stations
    doors = tokens["Burgerzaal"] + tokens["Raadzaal"]
    codes = codes[:15]  # fewer people, so every person is moved by many clients at once
    rounds = 1
    outcomes, lock = {}, threading.Lock()

    def work(index, deadline):
        rng = random.Random(1000 + index)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            for _ in range(rounds):
                order = codes[:]
                rng.shuffle(order)
                for code in order:
                    if time.monotonic() > deadline:
                        raise TimeoutError("client ran out of time")
                    # Mostly in at some door, sometimes out again.
                    direction = "out" if rng.random() < 0.15 else "in"
                    status, answer = scan(connection, rng.choice(doors), code, direction)
                    assert status == 200, answer
                    with lock:
                        outcomes[answer["outcome"]] = outcomes.get(answer["outcome"], 0) + 1
        finally:
            connection.close()

    run_clients(32, work)

    db = connect(path)
    state = kept_state(db)
    assert state == replay(db)
    rooms = dict(db.execute("SELECT name, id FROM rooms").fetchall())
    burgerzaal, raadzaal = rooms["Burgerzaal"], rooms["Raadzaal"]
    people_in = {room: sum(1 for r in state["rooms"].values() if r == room) for room in (burgerzaal, raadzaal)}
    assert {room: state["inside"].get(room, 0) for room in people_in} == people_in
    assert set(state["rooms"].values()) <= {burgerzaal, raadzaal}
    assert len(state["rooms"]) <= len(codes)
    assert outcomes.get("checked_in", 0) > len(codes), outcomes
    db.close()

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/api/v1/rooms", headers={"Authorization": f"Bearer {doors[0]}"})
    response = connection.getresponse()
    served = {room["id"]: room["inside"] for room in json.loads(response.read())["rooms"]}
    connection.close()
    assert served[burgerzaal] == people_in[burgerzaal] and served[raadzaal] == people_in[raadzaal]
