"""Several events in one install: m0014's migration, and each event's lists, scans, counts and report apart."""

import hashlib
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from conftest import HOST, ROOT, login, make_station
from kiosk.data import accounts, maintenance, people, printing, program
from kiosk.data import attendees as attendees_data
from kiosk.data import event as event_data
from kiosk.data import events
from kiosk.data import rooms as rooms_data
from kiosk.data import scans as scans_data
from kiosk.data.badges import issue_badge
from kiosk.db import connect, current_event_id, get_db, immediate, migrate, migrations, use_event
from kiosk.outcomes import Outcome
from kiosk.reports import service as reports
from kiosk.serving import install
from tests.test_fastpath import post_scan

EVENT_TABLES = ("rooms", "blocks", "attendees", "stations")


def schema(db, tables):
    """{table: (its CREATE TABLE, {index name: sql}, [foreign keys])} from sqlite_master and PRAGMA."""
    found = {}
    for table in tables:
        create = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]
        indexes = dict(db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", [table]))
        keys = {row[2:5] for row in db.execute(f"PRAGMA foreign_key_list({table})")}
        found[table] = (create, indexes, keys)
    return found


def checks(create_sql):
    """The CHECK clauses of a CREATE TABLE, whitespace folded."""
    return {" ".join(match.split()) for match in re.findall(r"CHECK \((.*?\))\)?[,\n]", create_sql)}


@pytest.fixture
def old_db(tmp_path):
    """A single-event database as it was before m0014: an event, a logo, a program, people, a station, a host."""
    db = connect(tmp_path / "old.db")
    migrations.apply(db, stop_before="m0014_events_that_follow_one_another")
    db.execute("INSERT INTO event (id, name, date) VALUES (1, 'G40 dag', '2026-04-15')")
    db.execute("INSERT INTO event_logo (id, png, width, height, updated_at) VALUES (1, x'89504e47', 2, 2, 't')")
    db.execute("INSERT INTO rooms (id, name, capacity) VALUES (1, 'Raadzaal', 2)")
    db.execute("INSERT INTO blocks (id, name, starts_at, ends_at) VALUES (1, 'Ochtend', '09:00', '10:00')")
    db.execute("INSERT INTO sessions (id, block_id, title, kind, room_id) VALUES (1, 1, 'Opening', 'plenary', 1)")
    db.execute("""INSERT INTO attendees (id, registration_id, name, created_at, updated_at)
                  VALUES (1, 'R-1', 'Jan', 't', 't'), (2, 'R-2', 'Piet', 't', 't')""")
    db.execute("INSERT INTO choices VALUES (1, 1, 1)")
    db.execute("INSERT INTO badges (attendee_id, code, short_code, issued_at) VALUES (1, 'K1-AAAAAAAAAAAAAAAAA', 'AAAA-AAAA', 't')")
    db.execute("""INSERT INTO stations (id, name, mode, room_id, token_hash, created_at)
                  VALUES (1, 'Deur', 'room', 1, 'h', 't')""")
    db.execute("""INSERT INTO scans (id, created_at, kind, attendee_id, room_id, station_id, outcome)
                  VALUES (1, 't', 'scan', 1, 1, 1, 'checked_in')""")
    db.execute("INSERT INTO presence (attendee_id, checked_in_at, checkin_scan_id, room_id) VALUES (1, 't', 1, 1)")
    db.execute("INSERT INTO occupancy (room_id, inside) VALUES (1, 1)")
    db.execute("""INSERT INTO users (email, password_hash, role, created_at)
                  VALUES ('o@x.nl', 'x', 'organiser', 't'), ('h@x.nl', 'x', 'host', 't')""")
    yield db
    db.close()


def test_a_single_event_database_migrates_with_everything_in_event_1(old_db):
    before = schema(old_db, EVENT_TABLES)
    migrations.apply(old_db, stop_before="m0015_attendee_indexes_per_event")  # m0014's rebuild alone
    after = schema(old_db, EVENT_TABLES)
    for table in EVENT_TABLES:
        create_before, indexes_before, keys_before = before[table]
        create_after, indexes_after, keys_after = after[table]
        assert indexes_before.items() <= indexes_after.items(), table  # every index kept, as it was
        assert keys_before <= keys_after and ("event", "event_id", "id") in keys_after, table
        assert checks(create_before) <= checks(create_after), table
        assert "event_id INTEGER NOT NULL" in create_after and "UNIQUE (event_id, " in create_after
        assert old_db.execute(f"SELECT DISTINCT event_id FROM {table}").fetchall() == [(1,)]
    assert old_db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert old_db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert "CHECK" not in old_db.execute("SELECT sql FROM sqlite_master WHERE name = 'event'").fetchone()[0]
    assert old_db.execute("SELECT event_id, width FROM event_logo").fetchall() == [(1, 2)]
    assert dict(old_db.execute("SELECT email, event_id FROM users")) == {"o@x.nl": None, "h@x.nl": 1}
    # The children of rooms and attendees were not deleted by the rebuild (ON DELETE CASCADE).
    for table, count in (("choices", 1), ("badges", 1), ("presence", 1), ("occupancy", 1), ("scans", 1)):
        assert old_db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count, table
    assert event_data.get_event(old_db)["name"] == "G40 dag"
    assert [room["name"] for room in rooms_data.list_rooms(old_db)] == ["Raadzaal"]
    assert attendees_data.count(old_db) == 2
    # m0015: search and the attendee list walk one event's people in order, on indexes led by event_id.
    migrate(old_db)
    indexes = dict(old_db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'attendees'"))
    assert "attendees(event_id, last_name, first_name, id, search_text)" in indexes["attendees_name_search"]
    assert "attendees(event_id, organisation, last_name, first_name, id)" in indexes["attendees_organisation"]
    plan = " ".join(row[3] for row in old_db.execute(
        """EXPLAIN QUERY PLAN SELECT id FROM attendees WHERE event_id = 1 AND search_text LIKE '%a%'
           ORDER BY last_name, first_name, id LIMIT 50"""))
    assert "COVERING INDEX attendees_name_search" in plan and "TEMP B-TREE" not in plan


def test_rooms_before_any_event_belong_to_the_unnamed_first_event_until_it_is_created(tmp_path):
    db = connect(tmp_path / "k.db")
    migrations.apply(db, stop_before="m0014_events_that_follow_one_another")
    db.execute("INSERT INTO rooms (name, capacity) VALUES ('Raadzaal', 20)")
    migrate(db)
    assert event_data.get_event(db) is None  # unnamed: no event set up yet
    db.execute("INSERT INTO attendees (name, created_at, updated_at) VALUES ('Jan', 't', 't')")
    assert event_data.create_event(db, {"name": "G40 dag", "date": "2026-04-15"}, actor="test")
    assert not event_data.create_event(db, {"name": "Twice", "date": "2026-04-16"}, actor="test")
    assert event_data.get_event(db)["name"] == "G40 dag"
    assert [room["name"] for room in rooms_data.list_rooms(db)] == ["Raadzaal"]
    assert db.execute("SELECT count(*) FROM event").fetchone()[0] == 1


@pytest.fixture
def demo_runner(demo_app):
    """`kiosk` commands on the demo database."""
    return demo_app.test_cli_runner()


def second_event(db):
    """Add event 2 beside the demo (event 1): a room, a block with a session there, two people with badges and a door."""
    event_id = events.new_event(db, {"name": "G40 voorjaar", "date": "2030-05-01"}, actor="test")
    use_event(db, event_id)
    room = program.insert(db, "rooms", {"name": "Raadzaal", "capacity": 1})  # the demo has a Raadzaal too
    program.add_occupancy(db, room)
    block = program.insert(db, "blocks", {"name": "Ochtend", "starts_at": "09:00", "ends_at": "10:00"})
    session = program.insert(db, "sessions", {"block_id": block, "title": "Opening", "kind": "plenary", "room_id": room})
    ids = [people.insert_attendee(db, {"name": name, "last_name": name, "organisation": "Voorjaar",
                                       "search_text": name.lower()}) for name in ("Anna Lentesma", "Bert Lentesma")]
    for attendee_id in ids:
        people.replace_choices(db, attendee_id, {block: session})
    badges = [issue_badge(db, attendee_id)["code"] for attendee_id in ids]
    door, token, _secret = accounts.add_station(db, "Deur Raadzaal", mode="room", room_id=room)
    entrance, entrance_token, _secret = accounts.add_station(db, "Ingang", mode="entrance")
    return {"id": event_id, "room": room, "session": session, "people": ids, "badges": badges,
            "door": door, "door_token": token, "entrance": entrance, "entrance_token": entrance_token}


def first_badge(db):
    return db.execute(
        """SELECT badges.code, attendees.id FROM badges JOIN attendees ON attendees.id = badges.attendee_id
           WHERE attendees.event_id = 1 AND attendees.status = 'registered' AND badges.replaced_at IS NULL
           ORDER BY attendees.id LIMIT 1""").fetchone()


def test_each_event_lists_and_counts_only_its_own(demo_db):
    before = {"rooms": len(rooms_data.list_rooms(demo_db)), "people": attendees_data.count(demo_db)}
    event2 = second_event(demo_db)
    assert current_event_id(demo_db) == event2["id"]  # the newest event not archived
    assert [room["name"] for room in rooms_data.list_rooms(demo_db)] == ["Raadzaal"]
    assert attendees_data.count(demo_db) == 2
    assert {row["name"] for row in people.list_attendees(demo_db, {})} == {"Anna Lentesma", "Bert Lentesma"}
    assert [row["name"] for row in attendees_data.export_rows(demo_db)] == ["Anna Lentesma", "Bert Lentesma"]
    assert len(printing.select_badges(demo_db)) == 2
    assert [s["name"] for s in accounts.list_stations(demo_db)] == ["Deur Raadzaal", "Ingang"]
    assert [row["title"] for block in rooms_data.program(demo_db) for row in block["sessions"]] == ["Opening"]
    assert people.organisations(demo_db) == ["Voorjaar"]
    use_event(demo_db, 1)
    assert len(rooms_data.list_rooms(demo_db)) == before["rooms"]
    assert attendees_data.count(demo_db) == before["people"]
    assert not attendees_data.search(demo_db, "Lentesma")
    assert attendees_data.get(demo_db, event2["people"][0]) is None  # a lookup by id stays in its event
    assert accounts.list_stations(demo_db) == []
    assert rooms_data.get_room(demo_db, event2["room"]) is None


def test_a_badge_of_event_1_checks_nobody_in_at_a_station_of_event_2(demo_db):
    event2 = second_event(demo_db)
    code, attendee = first_badge(demo_db)
    answer = scans_data.record_scan(demo_db, station=event2["entrance"], code=code)
    assert answer["outcome"] == Outcome.UNKNOWN and answer["attendee"] is None
    answer = scans_data.record_scan(demo_db, station=event2["entrance"], attendee_id=attendee)
    assert answer["outcome"] == Outcome.UNKNOWN
    assert demo_db.execute("SELECT count(*) FROM presence WHERE attendee_id = ?", [attendee]).fetchone()[0] == 0
    answer = scans_data.record_scan(demo_db, station=event2["entrance"], code=event2["badges"][0])
    assert answer["outcome"] == Outcome.CHECKED_IN and answer["attendee"]["name"] == "Anna Lentesma"


@pytest.mark.parametrize("served", [False, True], ids=["plain Flask", "fast path"])
def test_the_scan_api_answers_unknown_for_a_badge_of_another_event(demo_app, demo_db, served):
    event2 = second_event(demo_db)
    code, attendee = first_badge(demo_db)
    if served:
        install(demo_app)
        status, answer = post_scan(demo_app, event2["entrance_token"], {"code": code})
        assert status == 200 and answer["outcome"] == "unknown"
        status, answer = post_scan(demo_app, event2["entrance_token"], {"code": event2["badges"][1]})
        assert status == 200 and answer["outcome"] == "checked_in" and answer["attendee"]["name"] == "Bert Lentesma"
    else:
        client = demo_app.test_client()
        headers = {"Authorization": f"Bearer {event2['entrance_token']}"}
        assert client.post("/api/v1/scans", json={"code": code}, headers=headers).json["outcome"] == "unknown"
        answer = client.post("/api/v1/scans", json={"code": event2["badges"][1]}, headers=headers).json
        assert answer["outcome"] == "checked_in"
    assert demo_db.execute("SELECT count(*) FROM presence WHERE attendee_id = ?", [attendee]).fetchone()[0] == 0
    # A station of event 1 still checks in event 1's badge.
    use_event(demo_db, 1)
    _station, token, _secret = make_station(demo_db, "Ingang 1")
    answer = demo_app.test_client().post("/api/v1/scans", json={"code": code},
                                         headers={"Authorization": f"Bearer {token}"}).json
    assert answer["outcome"] == "checked_in"


def test_occupancy_and_the_wall_count_each_event_apart(demo_db):
    event2 = second_event(demo_db)
    use_event(demo_db, event2["id"])
    for code in event2["badges"]:
        scans_data.record_scan(demo_db, station=event2["door"], code=code, override=True)
    assert [(room["name"], room["inside"]) for room in rooms_data.occupancy(demo_db)] == [("Raadzaal", 2)]
    assert rooms_data.wall(demo_db)["checked_in"] == 2
    use_event(demo_db, 1)
    assert all(room["inside"] == 0 for room in rooms_data.occupancy(demo_db))
    assert rooms_data.wall(demo_db)["checked_in"] == 0
    assert attendees_data.arrivals(demo_db)["checked_in"] == 0


def figures(db):
    """GET /api/v1/report's figures for DB's event, without the moment they were made."""
    answer = reports.api_answer(reports.build(db))
    answer.pop("generated_at")
    return answer


def test_a_check_in_in_the_second_event_leaves_the_first_events_report_unchanged(demo_db):
    code, _attendee = first_badge(demo_db)
    use_event(demo_db, 1)
    door = accounts.add_station(demo_db, "Ingang 1", mode="entrance")[0]
    scans_data.record_scan(demo_db, station=door, code=code)
    first = figures(demo_db)
    event2 = second_event(demo_db)
    scans_data.record_scan(demo_db, station=event2["entrance"], code=event2["badges"][0])
    scans_data.record_scan(demo_db, station=event2["door"], code=event2["badges"][0])
    second = figures(demo_db)
    assert [(s["name"], s["registered"]) for s in second["sessions"]] == [("Opening", 2)]
    assert sum(point["count"] for point in second["arrivals"]) == 1
    use_event(demo_db, 1)
    assert figures(demo_db) == first
    assert sum(point["count"] for point in first["arrivals"]) == 1


def test_purge_forgets_one_events_people_and_leaves_the_other(demo_db):
    event2 = second_event(demo_db)
    done = maintenance.purge(demo_db)
    assert done["attendees"] == 2
    assert attendees_data.get(demo_db, event2["people"][0])["name"].startswith("attendee ")
    assert reports.build(demo_db)["purged_at"] is not None
    use_event(demo_db, 1)
    assert reports.build(demo_db)["purged_at"] is None  # the first event's report still lists its no-shows
    assert demo_db.execute("SELECT count(*) FROM attendees WHERE event_id = 1 AND email IS NOT NULL").fetchone()[0] > 0
    assert demo_db.execute("SELECT count(*) FROM badges JOIN attendees ON attendees.id = badges.attendee_id "
                           "WHERE attendees.event_id = 1").fetchone()[0] > 0


def test_a_host_works_for_their_own_event(demo_app, demo_db):
    event2 = second_event(demo_db)
    use_event(demo_db, 1)
    host_client = demo_app.test_client()
    assert login(host_client, *HOST).status_code == 303  # the demo's host, of event 1
    page = host_client.get("/rooms/").get_data(as_text=True)
    assert "Burgerzaal" in page
    assert host_client.get(f"/rooms/{event2['room']}").status_code == 404
    use_event(demo_db, event2["id"])
    accounts.add_user(demo_db, "host2@example.org", "host password 2", "host")
    second = demo_app.test_client()
    assert login(second, "host2@example.org", "host password 2").status_code == 303
    page = second.get("/rooms/").get_data(as_text=True)
    assert "Burgerzaal" not in page and "Raadzaal" in page


def test_a_second_event_from_the_first_copies_the_program_not_the_people_and_leaves_the_first_report(demo_db, demo_runner):
    """The issue's done-when: a second event made from the first, someone checked in there, the first report unchanged."""
    code, _attendee = first_badge(demo_db)
    use_event(demo_db, 1)
    scans_data.record_scan(demo_db, station=accounts.add_station(demo_db, "Ingang 1", mode="entrance")[0], code=code)
    first = figures(demo_db)
    program_of_1 = [(block["name"], [(s["title"], s["room_name"], s["place_limit"]) for s in block["sessions"]])
                    for block in rooms_data.program(demo_db)]
    result = demo_runner.invoke(args=["event", "create", "G40 voorjaar", "--date", "2030-05-01", "--new", "--from", "1"])
    assert result.exit_code == 0, result.output
    second = connect(demo_db.execute("PRAGMA database_list").fetchone()[2])  # a new connection: the current event
    assert current_event_id(second) == 2 and event_data.get_event(second)["venue"] == event_data.get_event(demo_db)["venue"]
    assert [(block["name"], [(s["title"], s["room_name"], s["place_limit"]) for s in block["sessions"]])
            for block in rooms_data.program(second)] == program_of_1
    assert attendees_data.count(second) == 0 and accounts.list_stations(second) == []
    assert all(room["inside"] == 0 for room in rooms_data.occupancy(second))
    person = people.insert_attendee(second, {"name": "Anna Lentesma", "last_name": "Lentesma", "search_text": "anna"})
    badge = issue_badge(second, person)["code"]
    entrance = accounts.add_station(second, "Ingang", mode="entrance")[0]
    assert scans_data.record_scan(second, station=entrance, code=badge)["outcome"] == Outcome.CHECKED_IN
    assert scans_data.record_scan(second, station=entrance, code=code)["outcome"] == Outcome.UNKNOWN
    assert sum(point["count"] for point in figures(second)["arrivals"]) == 1
    second.close()
    use_event(demo_db, 1)
    assert figures(demo_db) == first


def test_kiosk_event_create_keeps_its_form_and_adds_with_new(demo_runner, demo_db):
    result = demo_runner.invoke(args=["event", "create", "Twee", "--date", "2030-05-01"])
    assert result.exit_code == 1 and "already holds an event" in result.output
    assert demo_runner.invoke(args=["event", "create", "Twee", "--date", "2030-05-01", "--from", "1"]).exit_code == 1
    result = demo_runner.invoke(args=["event", "create", "Twee", "--date", "2030-05-01", "--new", "--from", "9"])
    assert result.exit_code == 1 and "no event 9" in result.output
    result = demo_runner.invoke(args=["event", "create", "Twee", "--date", "nope", "--new"])
    assert result.exit_code == 1 and "date" in result.output
    assert demo_runner.invoke(args=["event", "create", "Twee", "--date", "2030-05-01", "--new"]).exit_code == 0
    result = demo_runner.invoke(args=["event", "create", "Twee", "--date", "2030-05-01", "--new"])
    assert result.exit_code == 1 and "already (event 2)" in result.output
    lines = demo_runner.invoke(args=["event", "list"]).output.splitlines()
    assert lines[0] == "2\t2030-05-01\tTwee (current)" and lines[1].startswith("1\t")
    assert demo_runner.invoke(args=["event", "switch", "1"]).output == "current event: 1\n"
    assert "(current)" in demo_runner.invoke(args=["event", "list"]).output.splitlines()[1]
    assert demo_runner.invoke(args=["event", "show"]).output.startswith('{"name": "Tweede ambtelijke')
    assert demo_runner.invoke(args=["event", "switch", "7"]).exit_code == 1
    assert demo_runner.invoke(args=["event", "archive", "1"]).exit_code == 0
    assert "(archived)" in demo_runner.invoke(args=["event", "list"]).output
    assert current_event_id(connect(demo_db.execute("PRAGMA database_list").fetchone()[2])) == 2


def test_kiosk_purge_asks_which_event_when_there_are_several(demo_runner, demo_db):
    events.new_event(demo_db, {"name": "Twee", "date": "2030-05-01"}, actor="test")
    use_event(demo_db, 2)
    people.insert_attendee(demo_db, {"name": "Anna Lentesma", "last_name": "Lentesma"})
    result = demo_runner.invoke(args=["purge", "--yes"])
    assert result.exit_code == 1 and "--event" in result.output and "1\t" in result.output and "2\t" in result.output
    assert demo_runner.invoke(args=["purge", "--yes", "--event", "9"]).exit_code == 1
    result = demo_runner.invoke(args=["purge", "--yes", "--event", "2"])
    assert result.exit_code == 0 and "1 attendees" in result.output
    assert demo_db.execute("SELECT count(*) FROM attendees WHERE event_id = 1 AND email IS NOT NULL").fetchone()[0] > 300
    assert demo_db.execute("SELECT count(*) FROM attendees WHERE event_id = 2 AND name LIKE 'attendee %'").fetchone()[0] == 1


def test_kiosk_purge_at_a_terminal_asks_which_event_then_for_confirmation(demo_db, tmp_path):
    """At a real terminal (a pseudo-terminal here) purge lists the events, asks which, asks to confirm."""
    events.new_event(demo_db, {"name": "Twee", "date": "2030-05-01"}, actor="test")
    use_event(demo_db, 2)
    people.insert_attendee(demo_db, {"name": "Anna Lentesma", "last_name": "Lentesma"})
    database = demo_db.execute("PRAGMA database_list").fetchone()[2]
    env = dict(os.environ, KIOSK_DB=database, KIOSK_INSTANCE=str(tmp_path / "instance"))
    terminal, their_end = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "purge"], stdin=their_end, stdout=their_end,
                               stderr=their_end, env=env, cwd=ROOT)
    os.close(their_end)
    shown = ""

    def read_until(text):
        nonlocal shown
        deadline = time.monotonic() + 30
        while text not in shown and time.monotonic() < deadline:
            if select.select([terminal], [], [], 0.5)[0]:
                try:
                    shown += os.read(terminal, 4096).decode(errors="replace")
                except OSError:  # the command ended and closed its end
                    break
        assert text in shown, shown

    try:
        read_until("Purge which event (id)?")
        assert "1\t" in shown and "2\t2030-05-01\tTwee" in shown
        os.write(terminal, b"7\n")  # no such event: asked again
        read_until("Error")
        os.write(terminal, b"2\n")
        read_until("Continue? [y/N]")
        os.write(terminal, b"y\n")
        read_until("personal data purged: 1 attendees")
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(terminal)
    assert demo_db.execute("SELECT count(*) FROM attendees WHERE event_id = 1 AND email IS NOT NULL").fetchone()[0] > 300
    assert demo_db.execute("SELECT count(*) FROM attendees WHERE event_id = 2 AND name LIKE 'attendee %'").fetchone()[0] == 1


def test_an_organiser_creates_an_event_from_the_first_works_on_it_and_switches_back(organiser_client, demo_db):
    page = organiser_client.get("/admin/events").get_data(as_text=True)
    assert "you are working on this event" in page and "Tweede ambtelijke netwerkdag G40" in page
    response = organiser_client.post("/admin/events", data={"name": "G40 voorjaar", "date": "2030-05-01", "copy_from": "1"})
    assert response.status_code == 303
    page = organiser_client.get("/admin/events").get_data(as_text=True)
    assert re.search(r"G40 voorjaar</th>\s*<td>2030-05-01</td>\s*<td>\s*<strong>you are working on this event", page)
    assert not re.search(r'href="/admin/attendees/\d', organiser_client.get("/admin/attendees").get_data(as_text=True))
    assert "Burgerzaal" in organiser_client.get("/admin/program").get_data(as_text=True)  # the copied rooms
    assert "(archived)" not in page
    assert organiser_client.post("/admin/events/work", data={"event_id": "1"}).status_code == 303
    assert len(re.findall(r'href="/admin/attendees/\d', organiser_client.get("/admin/attendees").get_data(as_text=True))) > 10
    assert organiser_client.post("/admin/events/work", data={"event_id": "99"}).status_code == 400
    assert organiser_client.post("/admin/events", data={"name": "", "date": "2030-05-01"}).status_code == 400
    # The same form sent again (a double click, a second organiser): no second event of that name and date.
    again = organiser_client.post("/admin/events", data={"name": "g40 Voorjaar ", "date": "2030-05-01", "copy_from": "1"})
    assert again.status_code == 400 and "There is an event named g40 Voorjaar on 2030-05-01 already (event 2)" in again.get_data(as_text=True)
    assert organiser_client.post("/admin/events", data={"name": "G40 voorjaar", "date": "2031-05-01"}).status_code == 303
    assert organiser_client.post("/admin/events/work", data={"event_id": "1"}).status_code == 303
    assert organiser_client.post("/admin/events", data={"name": "X", "date": "2030-05-01", "copy_from": "99"}).status_code == 400
    actions = [row[0] for row in demo_db.execute("SELECT action FROM audit_log WHERE action LIKE '%event%' ORDER BY id")]
    assert actions[-3:] == ["add event", "work on event", "work on event"]


def test_an_archived_event_is_read_only_for_pages_api_and_stations_and_keeps_its_report(demo_app, demo_db, organiser_client):
    _station, token, _secret = make_station(demo_db, "Ingang 1")
    code, _attendee = first_badge(demo_db)
    assert organiser_client.post("/admin/events/1/archive", data={"archived": "1"}).status_code == 303
    page = organiser_client.get("/admin/events").get_data(as_text=True)
    assert "archived (read-only)" in page and "(archived)" in page  # in the list and beside the name at the top
    refused = organiser_client.post("/admin/stations", data={"name": "Nieuw", "mode": "entrance"})
    assert refused.status_code == 409 and "This event is archived: it is read-only." in refused.get_data(as_text=True)
    assert organiser_client.get("/report").status_code == 200
    assert organiser_client.get("/report/report.xlsx").status_code == 200
    client = demo_app.test_client()
    answer = client.post("/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 409 and answer.json["error"] == "archived"
    install(demo_app)
    assert post_scan(demo_app, token, {"code": code}) == (409, {"error": "archived",
                                                               "message": "this event is archived: it is read-only"})
    assert demo_db.execute("SELECT count(*) FROM presence").fetchone()[0] == 0
    assert organiser_client.post("/admin/events/1/archive", data={"archived": "0"}).status_code == 303
    assert post_scan(demo_app, token, {"code": code})[1]["outcome"] == "checked_in"


def test_stations_and_hosts_move_to_another_event(organiser_client, demo_db):
    event2 = events.new_event(demo_db, {"name": "G40 voorjaar", "date": "2030-05-01"}, actor="test", copy_from=1)
    events.set_current(demo_db, 1, actor="test")
    use_event(demo_db, 1)
    raadzaal = demo_db.execute("SELECT id FROM rooms WHERE name = 'Raadzaal' AND event_id = 1").fetchone()[0]
    door = accounts.add_station(demo_db, "Deur Raadzaal", mode="room", room_id=raadzaal)[0]
    entrance = accounts.add_station(demo_db, "Ingang", mode="entrance")[0]
    assert "Move to another event" in organiser_client.get(f"/admin/stations/{door['id']}").get_data(as_text=True)
    for station in (door, entrance):
        response = organiser_client.post(f"/admin/stations/{station['id']}/event", data={"event_id": str(event2)})
        assert response.status_code == 303
    assert accounts.list_stations(demo_db) == []
    use_event(demo_db, event2)
    moved = {s["name"]: s for s in accounts.list_stations(demo_db)}
    assert moved["Ingang"]["room_id"] is None
    assert moved["Deur Raadzaal"]["room_name"] == "Raadzaal" and moved["Deur Raadzaal"]["room_id"] != raadzaal
    host = demo_db.execute("SELECT id FROM users WHERE email = ?", [HOST[0]]).fetchone()[0]
    assert 'name="event_id"' in organiser_client.get("/admin/staff").get_data(as_text=True)
    assert organiser_client.post(f"/admin/staff/{host}/event", data={"event_id": str(event2)}).status_code == 303
    assert demo_db.execute("SELECT event_id FROM users WHERE id = ?", [host]).fetchone()[0] == event2
    assert organiser_client.post(f"/admin/staff/{host}/event", data={"event_id": "99"}).status_code == 303
    assert demo_db.execute("SELECT event_id FROM users WHERE id = ?", [host]).fetchone()[0] == event2


def test_a_personal_link_opens_its_own_events_registration_and_an_undo_stays_in_its_event(demo_app, demo_db):
    from kiosk.data import registration as registration_data
    from kiosk.registration import service as registration

    attendee = first_badge(demo_db)[1]
    registration_data.add_link(demo_db, attendee, hashlib.sha256(b"link-of-event-1").hexdigest(), "nl")
    event2 = second_event(demo_db)  # now the install's current event
    with demo_app.test_request_context("/me/link-of-event-1"):
        found = registration.owner("link-of-event-1")
        assert found["id"] == attendee and get_db().event_id == 1
    use_event(demo_db, event2["id"])
    scan = scans_data.record_scan(demo_db, station=event2["entrance"], code=event2["badges"][0])["scan_id"]
    use_event(demo_db, 1)
    assert scans_data.undo_scan(demo_db, scan) is None  # not from event 1's side
    use_event(demo_db, event2["id"])
    assert scans_data.undo_scan(demo_db, scan) is not None


def test_a_ticket_is_about_its_attendees_event_whichever_is_current_when_it_is_sent(demo_app, demo_db):
    from email import message_from_bytes, policy

    from kiosk.data import outbox as outbox_data
    from kiosk.mail import outbox

    attendee = first_badge(demo_db)[1]
    use_event(demo_db, 1)
    with demo_app.test_request_context("/"), immediate(demo_db):
        outbox.queue_ticket(demo_db, attendee)
    second_event(demo_db)  # now the install's current event, as the sender sees it
    row = outbox_data.due(demo_db, ignore_backoff=True)[-1]
    with demo_app.test_request_context("/"):
        sender_db = get_db()
        raw = outbox.build(sender_db, row)
        assert sender_db.event_id == 2  # the sender's own event again
    mail = message_from_bytes(raw, policy=policy.default)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Tweede ambtelijke netwerkdag G40" in mail["Subject"] + text and "G40 voorjaar" not in mail["Subject"] + text
    assert demo_db.execute("SELECT name FROM attendees WHERE id = ?", [attendee]).fetchone()[0] in text
