"""Room-door scans, occupancy and the schedule, on the data layer without Flask."""

import random
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk import demo
from kiosk.data import accounts
from kiosk.data import rooms as rooms_data
from kiosk.data import scans
from kiosk.db import connect, migrate

EVENT_DATE = "2030-05-01"
ZONE = ZoneInfo("Europe/Amsterdam")


def at(hour, minute=0, day=1):
    """A moment on the demo event day (local time)."""
    return datetime(2030, 5, day, hour, minute, tzinfo=ZONE)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("rooms") / "demo.db"
    database = connect(path)
    migrate(database)
    demo.build_demo(database, event_date=EVENT_DATE)
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def db_path(tmp_path, template):
    path = tmp_path / "kiosk.db"
    path.write_bytes(template.read_bytes())
    return path


@pytest.fixture
def db(db_path):
    database = connect(db_path)
    yield database
    database.close()


def room_id(db, name):
    return db.execute("SELECT id FROM rooms WHERE name = ?", [name]).fetchone()[0]


def door(db, room_name):
    station, _token, _secret = accounts.add_station(db, f"Door {room_name}", mode="room", room_name=room_name)
    return station


def session_id(db, title):
    return db.execute("SELECT id FROM sessions WHERE title = ?", [title]).fetchone()[0]


def chose(db, title, *, exclude=(), count=1):
    """Attendees (registered) who chose the session TITLE."""
    rows = db.execute(
        """SELECT choices.attendee_id FROM choices JOIN attendees ON attendees.id = choices.attendee_id
           WHERE choices.session_id = ? AND attendees.status = 'registered' ORDER BY choices.attendee_id""",
        [session_id(db, title)],
    ).fetchall()
    found = [row[0] for row in rows if row[0] not in exclude]
    return found[:count]


def did_not_choose(db, title, count=1):
    block = db.execute("SELECT block_id FROM sessions WHERE id = ?", [session_id(db, title)]).fetchone()[0]
    rows = db.execute(
        """SELECT id FROM attendees WHERE status = 'registered' AND id NOT IN
             (SELECT attendee_id FROM choices WHERE block_id = ? AND session_id = ?) ORDER BY id LIMIT ?""",
        [block, session_id(db, title), count],
    ).fetchall()
    return [row[0] for row in rows]


def inside(db, name, now):
    return rooms_data.room_occupancy(db, room_id(db, name), now)["inside"]


def consistent(db):
    return scans.kept_state(db) == scans.replay(db)


def test_entering_a_room_moves_the_attendee_out_of_the_one_before(db):
    trouwzaal, raadzaal = door(db, "Trouwzaal"), door(db, "Raadzaal")
    person = chose(db, "Sociale Pijler")[0]
    first = scans.record_scan(db, station=trouwzaal, attendee_id=person, now=at(11, 5))
    assert first["outcome"] == "checked_in" and first["room"]["inside"] == 1
    second = scans.record_scan(db, station=raadzaal, attendee_id=person, now=at(11, 10))
    assert second["outcome"] == "checked_in"
    assert second["left_room_id"] == room_id(db, "Trouwzaal")
    assert inside(db, "Trouwzaal", at(11, 11)) == 0
    assert inside(db, "Raadzaal", at(11, 11)) == 1
    assert scans.kept_state(db)["rooms"] == {person: room_id(db, "Raadzaal")}
    assert consistent(db)


def test_a_second_scan_at_the_same_door_is_already_inside(db):
    station = door(db, "Trouwzaal")
    person = chose(db, "Sociale Pijler")[0]
    scans.record_scan(db, station=station, attendee_id=person, now=at(11, 5))
    again = scans.record_scan(db, station=station, attendee_id=person, now=at(11, 6))
    assert again["outcome"] == "already"
    assert again["room"]["inside"] == 1


def test_full_room_refuses_with_the_nearest_session_that_has_places_and_override_lets_in(db):
    station = door(db, "Burgemeesterskamer")  # capacity 20
    people = [row[0] for row in db.execute("SELECT id FROM attendees WHERE status = 'registered' ORDER BY id LIMIT 22")]
    for person in people[:20]:
        assert scans.record_scan(db, station=station, attendee_id=person, now=at(11, 5))["outcome"] == "checked_in"
    refused = scans.record_scan(db, station=station, attendee_id=people[20], now=at(11, 6))
    assert refused["outcome"] == "full"
    assert refused["room"]["inside"] == 20 and refused["room"]["places_left"] == 0
    alternative = refused["alternative"]
    assert alternative is not None
    # Same block (Ochtendsessies, 11:00), most places left: the Raadzaal (200) is empty.
    assert alternative["starts_at"] == "11:00"
    assert alternative["room"] == "Raadzaal" and alternative["places_left"] == 200
    assert inside(db, "Burgemeesterskamer", at(11, 6)) == 20

    let_in = scans.record_scan(db, station=station, attendee_id=people[20], override=True, user_id=None, now=at(11, 7))
    assert let_in["outcome"] == "checked_in" and let_in["override"] is True
    assert let_in["room"]["inside"] == 21 and let_in["room"]["places_left"] == 0
    recorded = db.execute("SELECT outcome, override FROM scans WHERE id = ?", [let_in["scan_id"]]).fetchone()
    assert recorded == ("checked_in", 1)
    refusal = db.execute("SELECT outcome, override FROM scans WHERE id = ?", [refused["scan_id"]]).fetchone()
    assert refusal == ("full", 0)
    # An override that was not needed is not recorded as one.
    other = scans.record_scan(db, station=door(db, "Raadzaal"), attendee_id=people[21], override=True, now=at(11, 8))
    assert "override" not in other
    assert db.execute("SELECT override FROM scans WHERE id = ?", [other["scan_id"]]).fetchone()[0] == 0
    assert consistent(db)


def test_not_registered_for_the_current_session_is_a_soft_warning(db):
    station = door(db, "Trouwzaal")
    registered = chose(db, "Sociale Pijler")[0]
    walk_in = did_not_choose(db, "Sociale Pijler")[0]
    welcome = scans.record_scan(db, station=station, attendee_id=registered, now=at(11, 5))
    assert welcome["outcome"] == "checked_in" and welcome["warning"] is None
    assert welcome["session"]["title"] == "Sociale Pijler"
    warned = scans.record_scan(db, station=station, attendee_id=walk_in, now=at(11, 6))
    assert warned["outcome"] == "checked_in"
    assert warned["warning"] == "not_registered"
    assert warned["room"]["places_left"] == 78
    assert db.execute("SELECT warning FROM scans WHERE id = ?", [warned["scan_id"]]).fetchone()[0] == "not_registered"


def test_no_warning_outside_session_times(db):
    station = door(db, "Trouwzaal")
    person = did_not_choose(db, "Sociale Pijler")[0]
    result = scans.record_scan(db, station=station, attendee_id=person, now=at(10, 50))  # between blocks
    assert result["outcome"] == "checked_in" and result["warning"] is None


def test_anonymous_counts_add_and_remove_and_refuse_below_zero(db):
    trouwzaal = room_id(db, "Trouwzaal")
    assert scans.count_anonymous(db, trouwzaal, -1, now=at(11, 1))["refused"] == "no_anonymous"
    scans.count_anonymous(db, trouwzaal, +1, now=at(11, 2))
    counts = scans.count_anonymous(db, trouwzaal, +1, now=at(11, 3))
    assert counts["inside"] == 2 and counts["anonymous"] == 2
    counts = scans.count_anonymous(db, trouwzaal, -1, now=at(11, 4))
    assert counts["inside"] == 1 and counts["anonymous"] == 1
    kinds = [row[0] for row in db.execute("SELECT direction FROM scans WHERE kind = 'anonymous' ORDER BY id")]
    assert kinds == ["in", "in", "out"]
    assert consistent(db)


def test_anonymous_people_count_against_capacity(db):
    station = door(db, "Burgemeesterskamer")
    room = room_id(db, "Burgemeesterskamer")
    for minute in range(20):
        scans.count_anonymous(db, room, +1, now=at(11, 1 + minute % 5))
    person = chose(db, "Lobbyistenoverleg")[0]
    assert scans.record_scan(db, station=station, attendee_id=person, now=at(11, 10))["outcome"] == "full"


def test_host_empties_the_room(db):
    station = door(db, "Trouwzaal")
    room = room_id(db, "Trouwzaal")
    people = chose(db, "Sociale Pijler", count=3)
    for person in people:
        scans.record_scan(db, station=station, attendee_id=person, now=at(11, 5))
    scans.count_anonymous(db, room, +1, now=at(11, 6))
    assert scans.clear_room(db, room, now=at(12, 0)) == 4
    assert inside(db, "Trouwzaal", at(12, 1)) == 0
    assert scans.kept_state(db)["rooms"] == {}
    # Still checked in at the event: only the room is emptied.
    assert set(people) <= scans.kept_state(db)["checked_in"]
    assert consistent(db)


def test_the_schedule_empties_rooms_when_their_session_ends_once(db):
    station = door(db, "Trouwzaal")
    people = chose(db, "Sociale Pijler", count=3)
    for person in people:
        scans.record_scan(db, station=station, attendee_id=person, now=at(11, 5))
    assert inside(db, "Trouwzaal", at(12, 14)) == 3
    # Ochtendsessies end at 12:15; from then on every reader counts the room as empty,
    # and reading writes nothing: the clear is recorded by the next write.
    assert inside(db, "Trouwzaal", at(12, 16)) == 0
    assert rooms_data.room_live(db, room_id(db, "Trouwzaal"), now=at(12, 16))["inside"] == 0
    clears = db.execute("SELECT count(*) FROM scans WHERE kind = 'clear' AND room_id = ?", [room_id(db, "Trouwzaal")]).fetchone()[0]
    assert clears == 0
    # Someone arriving early for the afternoon session stays counted: the clear is not repeated.
    early = chose(db, "Slimme duurzame verstedelijking – Leefomgeving en stedelijke transformatie", exclude=people)[0]
    scans.record_scan(db, station=station, attendee_id=early, now=at(12, 40))
    assert inside(db, "Trouwzaal", at(13, 0)) == 1
    assert db.execute("SELECT count(*) FROM scans WHERE kind = 'clear' AND room_id = ?", [room_id(db, "Trouwzaal")]).fetchone()[0] == 1
    assert consistent(db)


def test_readers_count_a_due_clear_without_writing(db):
    """After a session ends, every reader shows its room empty, and none of them writes: GET never writes."""
    station = door(db, "Trouwzaal")
    people = chose(db, "Sociale Pijler", count=2)
    for person in people:
        scans.record_scan(db, station=station, attendee_id=person, now=at(11, 5))
    scans.count_anonymous(db, room_id(db, "Trouwzaal"), +1, now=at(11, 6))
    trouwzaal, ended = room_id(db, "Trouwzaal"), at(12, 20)
    before = db.conn.total_changes
    assert {room["id"]: room["inside"] for room in rooms_data.occupancy(db, ended)}[trouwzaal] == 0
    live = rooms_data.room_live(db, trouwzaal, now=ended)
    assert (live["inside"], live["anonymous"]) == (0, 0)
    assert live["version"] == rooms_data.room_version(db, trouwzaal, ended)
    assert rooms_data.wall(db, now=ended)["in_rooms"] == 0
    attendance = rooms_data.session_attendance(db, session_id(db, "Sociale Pijler"), now=ended)
    assert attendance["inside"] == [] and {person["id"] for person in attendance["missing"]} >= set(people)
    assert all(person["where_now"] is None for person in attendance["missing"] if person["id"] in people)
    assert db.conn.total_changes == before
    # The clear the readers counted is recorded by a writer, once.
    assert trouwzaal in scans.clear_ended_sessions(db, now=ended)
    assert scans.clear_ended_sessions(db, now=ended) == []
    assert rooms_data.occupancy(db, ended, schedule=False) == rooms_data.occupancy(db, ended)
    assert consistent(db)


def test_the_schedule_clear_comes_before_a_late_entry_even_without_reads(db):
    station = door(db, "Trouwzaal")
    morning, afternoon = chose(db, "Sociale Pijler", count=2)
    scans.record_scan(db, station=station, attendee_id=morning, now=at(11, 5))
    # No read between 12:15 and this scan: the scan itself runs the schedule first.
    late = scans.record_scan(db, station=station, attendee_id=afternoon, now=at(13, 35))
    assert late["room"]["inside"] == 1
    assert scans.kept_state(db)["rooms"] == {afternoon: room_id(db, "Trouwzaal")}
    kinds = [row[0] for row in db.execute("SELECT kind FROM scans WHERE room_id = ? ORDER BY id", [room_id(db, "Trouwzaal")])]
    assert kinds == ["scan", "clear", "scan"]
    assert consistent(db)


def test_the_schedule_is_idempotent_across_connections(db, db_path):
    station = door(db, "Trouwzaal")
    scans.record_scan(db, station=station, attendee_id=chose(db, "Sociale Pijler")[0], now=at(11, 5))
    other = connect(db_path)
    try:
        assert room_id(db, "Trouwzaal") in scans.clear_ended_sessions(other, now=at(12, 20))
        assert scans.clear_ended_sessions(db, now=at(12, 21)) == []
        assert scans.clear_ended_sessions(other, now=at(12, 22)) == []
    finally:
        other.close()
    clears = db.execute("SELECT count(*) FROM scans WHERE kind = 'clear' AND room_id = ?", [room_id(db, "Trouwzaal")]).fetchone()[0]
    assert clears == 1


def test_no_schedule_clears_before_the_event_day(db):
    station = door(db, "Trouwzaal")
    scans.record_scan(db, station=station, attendee_id=1, now=at(11, 5, day=1))
    assert scans.clear_ended_sessions(db, now=datetime(2030, 4, 30, 18, 0, tzinfo=ZONE)) == []


def test_exit_scan_and_undo(db):
    db.execute("UPDATE rooms SET has_exit_scan = 1 WHERE name = 'Trouwzaal'")
    station = door(db, "Trouwzaal")
    first, second = chose(db, "Sociale Pijler", count=2)
    scans.record_scan(db, station=station, attendee_id=first, now=at(11, 5))
    entered = scans.record_scan(db, station=station, attendee_id=second, now=at(11, 6))
    out = scans.record_scan(db, station=station, attendee_id=first, direction="out", now=at(11, 7))
    assert out["outcome"] == "checked_out" and out["room"]["inside"] == 1
    assert scans.record_scan(db, station=station, attendee_id=first, direction="out", now=at(11, 8))["outcome"] == "not_inside"
    assert scans.undo_scan(db, entered["scan_id"]) is not None
    assert inside(db, "Trouwzaal", at(11, 9)) == 0
    assert consistent(db)


def test_registrations_and_who_is_missing_for_the_running_session(db):
    station = door(db, "Trouwzaal")
    registered = chose(db, "Sociale Pijler", count=2)
    walk_in = did_not_choose(db, "Sociale Pijler")[0]
    for person in [*registered, walk_in]:
        scans.record_scan(db, station=station, attendee_id=person, now=at(11, 5))
    live = rooms_data.room_live(db, room_id(db, "Trouwzaal"), now=at(11, 10))
    total = len(chose(db, "Sociale Pijler", count=10_000))
    assert live["current"]["title"] == "Sociale Pijler"
    assert live["next"]["starts_at"] == "13:30"
    assert live["registered"] == total
    assert live["registered_inside"] == 2 and live["walk_ins"] == 1
    assert [person["name"] for person in live["latest"]][0] == db.execute(
        "SELECT name FROM attendees WHERE id = ?", [walk_in]).fetchone()[0]
    attendance = rooms_data.session_attendance(db, session_id(db, "Sociale Pijler"), now=at(11, 10))
    assert attendance["running"] is True
    assert {person["id"] for person in attendance["inside"]} == {*registered, walk_in}
    assert attendance["registered_inside"] == 2
    assert len(attendance["missing"]) == total - 2
    assert not {person["id"] for person in attendance["missing"]} & set(registered)


def test_cancelled_attendees_are_not_counted_as_registered(db):
    sid = session_id(db, "Sociale Pijler")
    before = rooms_data.registered_counts(db, [sid])[sid]
    person = chose(db, "Sociale Pijler")[0]
    db.execute("UPDATE attendees SET status = 'cancelled' WHERE id = ?", [person])
    assert rooms_data.registered_counts(db, [sid], fresh=True)[sid] == before - 1


@pytest.mark.parametrize(
    ("inside_count", "level", "alert"),
    [(0, "ok", None), (63, "ok", None), (64, "busy", None), (71, "busy", None), (72, "busy", "90"), (80, "full", "full"), (81, "full", "full")],
)
def test_levels_and_alerts(inside_count, level, alert):
    counts = rooms_data.room_counts((1, "Trouwzaal", 80, inside_count, 0))
    assert (counts["level"], counts["alert"]) == (level, alert)
    assert counts["places_left"] == max(80 - inside_count, 0)


def test_a_room_version_changes_when_someone_moves_out_of_it(db):
    trouwzaal, raadzaal = door(db, "Trouwzaal"), door(db, "Raadzaal")
    person = chose(db, "Sociale Pijler")[0]
    scans.record_scan(db, station=trouwzaal, attendee_id=person, now=at(11, 5))
    before = rooms_data.room_version(db, room_id(db, "Trouwzaal"), at(11, 6))
    assert rooms_data.room_version(db, room_id(db, "Trouwzaal"), at(11, 6)) == before
    scans.record_scan(db, station=raadzaal, attendee_id=person, now=at(11, 7))
    assert rooms_data.room_version(db, room_id(db, "Trouwzaal"), at(11, 8)) != before
    # And when the session changes, with no scan at all.
    assert rooms_data.room_version(db, room_id(db, "Trouwzaal"), at(13, 40)) != rooms_data.room_version(
        db, room_id(db, "Raadzaal"), at(13, 40))


def test_wall_groups_the_running_block_first(db):
    wall = rooms_data.wall(db, now=at(11, 10))
    assert wall["block"]["name"] == "Ochtendsessies"
    now_titles = {room["current"]["title"] for room in wall["now_rooms"]}
    assert "Sociale Pijler" in now_titles
    assert all(room["current"] is None for room in wall["later_rooms"])
    assert len(wall["now_rooms"]) + len(wall["later_rooms"]) == db.execute("SELECT count(*) FROM rooms").fetchone()[0]


def test_counts_match_the_scan_history_after_a_restart(db, db_path):
    """Random traffic at every door; after reopening the file, kept counts equal a replay of the history."""
    rng = random.Random(7)
    stations = [door(db, name) for (name,) in db.execute("SELECT name FROM rooms ORDER BY id").fetchall()]
    people = [row[0] for row in db.execute("SELECT id FROM attendees WHERE status = 'registered'")]
    minute = 0
    for step in range(600):
        minute = min(minute + rng.choice([0, 0, 1]), 200)
        when = at(11 + minute // 60, minute % 60)
        roll = rng.random()
        station = rng.choice(stations)
        if roll < 0.75:
            scans.record_scan(db, station=station, attendee_id=rng.choice(people), override=rng.random() < 0.1,
                              direction="out" if rng.random() < 0.1 else "in", now=when)
        elif roll < 0.9:
            scans.count_anonymous(db, station["room_id"], rng.choice([1, 1, -1]), now=when)
        elif roll < 0.95:
            last = db.execute("SELECT max(id) FROM scans WHERE kind = 'scan'").fetchone()[0]
            if last:
                scans.undo_scan(db, rng.randint(1, last))
        else:
            scans.clear_room(db, station["room_id"], now=when)
    expected = scans.replay(db)
    db.close()
    reopened = connect(db_path)
    try:
        assert scans.kept_state(reopened) == expected
        counts = {room["id"]: room["inside"] for room in rooms_data.occupancy(reopened, schedule=False)}
        assert {room: count for room, count in counts.items() if count} == expected["inside"]
        assert sum(1 for clear in reopened.execute("SELECT 1 FROM scans WHERE kind = 'clear' AND user_id IS NULL")) > 0
    finally:
        reopened.close()


def test_many_doors_at_once_never_let_more_in_than_the_room_holds(db_path):
    """Threads on their own connections scan into one small room; exactly its capacity gets in."""
    setup = connect(db_path)
    stations = [accounts.add_station(setup, f"Door {n}", mode="room", room_name="Burgemeesterskamer")[0] for n in range(4)]
    people = [row[0] for row in setup.execute("SELECT id FROM attendees WHERE status = 'registered' ORDER BY id LIMIT 60")]
    setup.close()
    outcomes, errors = [], []
    lock = threading.Lock()

    def work(index):
        database = connect(db_path)
        try:
            for person in people[index::4]:
                result = scans.record_scan(database, station=stations[index], attendee_id=person, now=at(11, 5))
                with lock:
                    outcomes.append(result["outcome"])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=work, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert outcomes.count("checked_in") == 20 and outcomes.count("full") == 40
    check = connect(db_path)
    try:
        assert rooms_data.room_occupancy(check, room_id(check, "Burgemeesterskamer"), schedule=False)["inside"] == 20
        assert consistent(check)
    finally:
        check.close()
