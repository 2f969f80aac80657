"""The event report: a realistic day of scans sent through the API, and every figure of GET /api/v1/report checked.

How times are driven: the scan API takes no time (a scanner app must not choose its own clock), so
the test freezes Kiosk's clock instead: kiosk.data.scans.now_utc (which stamps every scan, count
and undo) and the `datetime` that kiosk.data.event.local_now reads (the schedule: which session
runs, which rooms are due to be emptied). Every scan then goes through the real path (HTTP
request, gate, checkin.service.record, scans.record_scan, presence.apply_scan) at an exact time.

The day: the demo event on a fixed past date (13 November 2025, Europe/Amsterdam). Most
registered attendees arrive between 08:30 and 10:00 (one in twenty does not come); a mistaken
check-in is undone; those who chose the opening walk into the Burgerzaal; from 10:50 people move
to their morning session (one room fills up and refuses the rest), a few move between rooms, a
person leaves by the exit scan, a host counts someone without a badge. The test keeps its own
model of who is where (with the schedule's clears), checks each answer's outcome against it,
and derives every expected figure from what it sent. The same after `kiosk purge`, and the XLSX
holds the same numbers.
"""

import io
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from conftest import make_station
from kiosk import demo
from kiosk.data import event as event_module
from kiosk.data import scans as scans_module
from kiosk.data import timeline

DAY = "2025-11-13"
ZONE = ZoneInfo("Europe/Amsterdam")
DOOR_ROOMS = ("Burgerzaal", "Raadzaal", "Trouwzaal", "Commissiekamer 1", "Burgemeesterskamer")


def local(hhmm, seconds=0):
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.fromisoformat(DAY).replace(hour=hours, minute=minutes, tzinfo=ZONE) + timedelta(seconds=seconds)


class Clock:
    """Kiosk's frozen clock: set .now before each request."""

    def __init__(self, monkeypatch):
        self.now = local("08:00")
        clock = self

        class Frozen(datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.now.astimezone(tz) if tz else clock.now.replace(tzinfo=None)

        monkeypatch.setattr(event_module, "datetime", Frozen)
        monkeypatch.setattr(scans_module, "now_utc", lambda: clock.now.astimezone(timezone.utc).isoformat(timespec="milliseconds"))


class Day:
    """Sends the day's scans and models what they do: who is where, each room's count, the schedule's clears."""

    def __init__(self, app, db, organiser, clock):
        self.app, self.db, self.organiser, self.clock = app, db, organiser, clock
        self.rooms = {name: (room_id, capacity) for room_id, name, capacity in db.execute("SELECT id, name, capacity FROM rooms")}
        self.entrances = [make_station(db, f"Ingang {n}")[1] for n in (1, 2)]
        self.doors = {name: make_station(db, f"Deur {name}", mode="room", room_id=self.rooms[name][0])[1] for name in DOOR_ROOMS}
        self.codes = dict(db.execute("SELECT attendee_id, code FROM badges WHERE replaced_at IS NULL").fetchall())
        self.windows = defaultdict(list)  # room -> [(start, end, session title)]
        for title, room, starts, ends in db.execute(
            """SELECT sessions.title, rooms.name, blocks.starts_at, blocks.ends_at FROM sessions
               JOIN blocks ON blocks.id = sessions.block_id JOIN rooms ON rooms.id = sessions.room_id"""
        ):
            self.windows[room].append((local(starts), local(ends), title))
        self.where, self.since = {}, {}  # attendee -> room, and since when
        self.inside, self.peak = Counter(), {}
        self.cleared = defaultdict(lambda: local("00:00"))
        self.arrived, self.arrival_times, self.entries = set(), {}, []  # entries: (room, attendee, time)
        self.at_start = defaultdict(set)

    def post_scan(self, token, attendee=None, code=None, direction="in"):
        body = {"code": code or self.codes[attendee], "direction": direction}
        response = self.app.test_client().post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.data
        return response.get_json()

    def at(self, moment):
        assert moment >= self.clock.now
        for room, windows in self.windows.items():  # who is inside as a session starts (model)
            for starts, ends, title in windows:
                if self.clock.now < starts <= moment:
                    ended = max((e for _s, e, _t in windows if e <= starts), default=local("00:00"))
                    self.at_start[title] |= {a for a, r in self.where.items() if r == room and self.since[a] >= ended}
        self.clock.now = moment

    def clear_due(self):
        """What every room write does first: empty the rooms whose session ended since their last clear."""
        for room, windows in self.windows.items():
            ended = max((e for _s, e, _t in windows if e <= self.clock.now), default=None)
            if ended is not None and self.cleared[room] < ended:
                self.cleared[room] = self.clock.now
                self.inside[room] = 0
                for attendee in [a for a, r in self.where.items() if r == room]:
                    del self.where[attendee]

    def count(self, room, step):
        self.inside[room] = max(self.inside[room] + step, 0)
        if self.inside[room] > self.peak.get(room, (0, None))[0]:
            self.peak[room] = (self.inside[room], self.clock.now)

    def arrive(self, attendee, moment, station=0):
        self.at(moment)
        answer = self.post_scan(self.entrances[station], attendee)
        assert answer["outcome"] == "checked_in"
        self.arrived.add(attendee)
        self.arrival_times[attendee] = moment
        return answer["scan_id"]

    def enter(self, attendee, room, moment):
        self.at(moment)
        self.clear_due()
        full = self.where.get(attendee) != room and self.inside[room] >= self.rooms[room][1]
        answer = self.post_scan(self.doors[room], attendee)
        assert answer["outcome"] == ("full" if full else "checked_in"), (attendee, room, answer)
        if not full:
            if attendee in self.where:
                self.count(self.where[attendee], -1)
            self.where[attendee], self.since[attendee] = room, moment
            self.count(room, +1)
            self.entries.append((room, attendee, moment))
        return answer

    def leave(self, attendee, room, moment):
        self.at(moment)
        self.clear_due()
        assert self.post_scan(self.doors[room], attendee, direction="out")["outcome"] == "checked_out"
        del self.where[attendee]
        self.count(room, -1)

    def count_without_badge(self, room, moment):
        self.at(moment)
        self.clear_due()
        response = self.organiser.post(f"/rooms/{self.rooms[room][0]}/count", data={"delta": "1"})
        assert response.status_code in (200, 303)
        self.count(room, +1)


def play_the_day(day, db):
    """The scenario (see the module's docstring); returns the attendees who never came."""
    registered = [row[0] for row in db.execute("SELECT id FROM attendees WHERE status = 'registered' ORDER BY id")]
    no_shows = set(registered[::20])
    coming = [a for a in registered if a not in no_shows]
    choice = defaultdict(dict)
    for attendee, block, room in db.execute(
        """SELECT choices.attendee_id, blocks.name, rooms.name FROM choices JOIN blocks ON blocks.id = choices.block_id
           JOIN sessions ON sessions.id = choices.session_id LEFT JOIN rooms ON rooms.id = sessions.room_id"""
    ):
        choice[attendee][block] = room
    events = []  # (time, order, action)
    for n, attendee in enumerate(coming):
        arrival = local("08:30", seconds=n * 5400 // len(coming))
        events.append((arrival, 0, ("arrive", attendee, n % 2)))
        if choice[attendee].get("Opening") == "Burgerzaal":
            events.append((arrival + timedelta(minutes=4, seconds=n % 7), 1, ("enter", attendee, "Burgerzaal")))
    morning = [a for a in coming if choice[a].get("Ochtendsessies")]
    for n, attendee in enumerate(morning):
        events.append((local("10:50", seconds=n * 1200 // len(morning)), 2, ("enter", attendee, choice[attendee]["Ochtendsessies"])))
    for time, _order, action in sorted(events, key=lambda e: (e[0], e[1])):
        getattr(day, action[0])(*action[1:], time) if action[0] != "arrive" else day.arrive(action[1], time, action[2])
    # Moves during the morning block: five from the Trouwzaal to the Raadzaal; one leaves; a walk-in; a mistake undone.
    movers = [a for a, r in sorted(day.where.items()) if r == "Trouwzaal"][:5]
    for n, attendee in enumerate(movers):
        day.enter(attendee, "Raadzaal", local("11:30", seconds=10 * n))
    leaver = next(a for a, r in sorted(day.where.items()) if r == "Raadzaal")
    day.leave(leaver, "Raadzaal", local("11:45"))
    walk_in = next(a for a in coming if not choice[a].get("Ochtendsessies"))
    day.enter(walk_in, "Raadzaal", local("11:50"))
    day.count_without_badge("Raadzaal", local("11:55"))
    return no_shows


def expected_report(day, db):
    """Every figure of GET /api/v1/report, from the scans the test sent and the demo's registrations."""
    sessions = []
    for title, block, room, place_limit, capacity, block_start, block_end in db.execute(
        """SELECT sessions.title, blocks.name, rooms.name, sessions.place_limit, rooms.capacity, blocks.starts_at, blocks.ends_at
           FROM sessions JOIN blocks ON blocks.id = sessions.block_id LEFT JOIN rooms ON rooms.id = sessions.room_id
           ORDER BY blocks.starts_at, blocks.id, sessions.kind != 'plenary', sessions.title"""
    ).fetchall():
        chose = {row[0] for row in db.execute(
            """SELECT choices.attendee_id FROM choices JOIN sessions ON sessions.id = choices.session_id
               JOIN attendees ON attendees.id = choices.attendee_id WHERE sessions.title = ? AND attendees.status = 'registered'""",
            [title])}
        attended = None
        if room:
            attended = set(day.at_start[title]) | {a for r, a, t in day.entries if r == room and local(block_start) <= t < local(block_end)}
        places = min(v for v in (place_limit, capacity) if v is not None) if (place_limit or capacity) else None
        sessions.append({"name": title, "block": block, "room": room, "registered": len(chose),
                         "attended": None if attended is None else len(attended),
                         "no_show": None if attended is None else len(chose - attended), "places": places})
    organisations = [{"name": name, "registered": len(ids), "arrived": len(ids & day.arrived)} for name, ids in sorted(
        _group(db.execute("SELECT organisation, id FROM attendees WHERE status = 'registered'").fetchall()).items())]
    buckets = Counter(moment.replace(minute=moment.minute // 5 * 5, second=0) for moment in day.arrival_times.values())
    first, last = min(buckets), max(buckets)
    arrivals, moment = [], first
    while moment <= last:
        arrivals.append({"at": moment.isoformat(timespec="seconds"), "count": buckets.get(moment, 0)})
        moment += timedelta(minutes=5)
    rooms = [{"name": name, "capacity": capacity, "peak": day.peak.get(name, (0, None))[0],
              "peak_at": day.peak[name][1].isoformat(timespec="seconds") if name in day.peak else None}
             for name, (_id, capacity) in sorted(day.rooms.items())]
    return {"sessions": sessions, "organisations": organisations, "arrivals": arrivals, "rooms": rooms}


def _group(pairs):
    found = defaultdict(set)
    for key, value in pairs:
        found[key].add(value)
    return found


@pytest.fixture
def played(demo_app, demo_db, organiser_client, monkeypatch):
    demo.build_demo(demo_db, event_date=DAY)
    clock = Clock(monkeypatch)
    day = Day(demo_app, demo_db, organiser_client, clock)
    no_shows = play_the_day(day, demo_db)
    # A no-show's badge scanned by mistake at the entrance, and the check-in undone a minute later.
    mistake = sorted(no_shows)[0]
    scan_id = day.post_scan(day.entrances[0], mistake)["scan_id"]
    assert organiser_client.post(f"/kiosk/undo/{scan_id}").status_code in (200, 303)
    assert day.post_scan(day.entrances[1], mistake)["outcome"] == "checked_in"  # and then he did come after all
    clock.now = local("12:05")
    undo_again = organiser_client.post(f"/kiosk/undo/{day.post_scan(day.entrances[1], mistake)['scan_id']}")
    assert undo_again.status_code in (200, 303)  # an 'already': nothing to undo
    for scan in demo_db.execute("SELECT id FROM scans WHERE attendee_id = ? AND outcome = 'checked_in' AND kind = 'scan' "
                                "AND id NOT IN (SELECT undoes FROM scans WHERE undoes IS NOT NULL)", [mistake]).fetchall():
        assert organiser_client.post(f"/kiosk/undo/{scan[0]}").status_code in (200, 303)
    assert day.post_scan(day.entrances[0], code="K1-NOT-A-BADGE")["outcome"] == "unknown"
    day.at(local("17:00"))
    monkeypatch.undo()  # the report is read after the day, on the real clock
    return day, expected_report(day, demo_db)


def without_extras(answer):
    return {
        "sessions": answer["sessions"], "organisations": answer["organisations"],
        "arrivals": answer["arrivals"], "rooms": answer["rooms"],
    }


def test_every_figure_of_the_report_is_what_the_scans_said(played, organiser_client, demo_app):
    day, expected = played
    answer = organiser_client.get("/api/v1/report").get_json()
    assert answer["final"] is True
    assert without_extras(answer) == expected
    # The day was realistic: a full room, moves, no-shows, arrivals over 90 minutes.
    assert any(room["peak"] >= room["capacity"] for room in answer["rooms"])
    assert sum(a["count"] for a in answer["arrivals"]) == len(day.arrived) > 300
    assert answer["arrivals"][0]["at"] == "2025-11-13T08:30:00+01:00" and answer["arrivals"][-1]["at"] <= "2025-11-13T10:00:00+01:00"
    assert all(s["no_show"] > 0 for s in answer["sessions"] if s["room"] and s["block"] == "Opening")

    # After `kiosk purge` (names gone), and replayed afresh from the purged file: the same figures.
    result = demo_app.test_cli_runner().invoke(args=["purge", "--yes"])
    assert result.exit_code == 0, result.output
    timeline._days.clear()
    purged = organiser_client.get("/api/v1/report").get_json()
    assert without_extras(purged) == expected


def test_the_xlsx_holds_the_numbers_of_the_json(played, organiser_client):
    answer = organiser_client.get("/api/v1/report").get_json()
    response = organiser_client.get("/report/report.xlsx")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sessions = list(book["Sessions"].iter_rows(min_row=2, values_only=True))
    assert [(row[2], row[3], row[4], row[5], row[6], row[7]) for row in sessions] == [
        (s["name"], s["room"], s["registered"], s["attended"], s["no_show"], s["places"]) for s in answer["sessions"]]
    assert all(isinstance(row[1], datetime) for row in sessions)
    organisations = list(book["Organisations"].iter_rows(min_row=2, values_only=True))
    assert [(row[0] or "", row[1], row[2]) for row in organisations] == [
        (o["name"], o["registered"], o["arrived"]) for o in answer["organisations"]]
    arrivals = list(book["Arrivals"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1]) for row in arrivals] == [
        (datetime.fromisoformat(a["at"]).replace(tzinfo=None), a["count"]) for a in answer["arrivals"]]
    rooms = list(book["Rooms"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[2], row[3]) for row in rooms] == [
        (r["name"], r["capacity"], r["peak"], r["peak_at"] and datetime.fromisoformat(r["peak_at"]).replace(tzinfo=None))
        for r in answer["rooms"]]
    assert "No-shows" in book.sheetnames and book["No-shows"].max_row == sum(s["registered"] - s["arrived"] for s in answer["organisations"]) + 1



def test_kiosk_report_writes_the_workbook_and_the_csv_files(played, demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["report", "--out", str(tmp_path / "report.xlsx")])
    assert result.exit_code == 0 and "final report written" in result.output, result.output
    assert openpyxl.load_workbook(tmp_path / "report.xlsx").sheetnames[:4] == ["Sessies", "Organisaties", "Aankomsten", "Zalen"]
    result = runner.invoke(args=["report", "--out", str(tmp_path / "day.csv")])
    assert result.exit_code == 0, result.output
    sessions = (tmp_path / "day-sessions.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(sessions) == 1 + 19  # a header and the demo's 19 sessions
    assert (tmp_path / "day-no-shows.csv").exists()
    assert runner.invoke(args=["report", "--out", str(tmp_path / "report.pdf")]).exit_code == 1


def test_the_report_page_sorts_on_the_server_and_refreshes_while_live(demo_app, organiser_client):
    page = organiser_client.get("/report?sort=registered&dir=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in page and 'role="img"' in page and "<desc id=" in page
    assert 'hx-trigger="every 60s"' in page  # the demo runs today: a live report
    figures = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>\s*<td class="num">(?:\d+|—)</td>\s*<td class="num">(?:\d+|—)</td>\s*<td class="num">(?:\d+|—)</td>\s*<td class="num">', page)]
    assert figures == sorted(figures, reverse=True) and len(figures) > 10
    fragment = organiser_client.get("/report", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith("<div id=\"report\"") and "<html" not in fragment


def test_the_no_shows_csv_has_the_names_until_the_purge(played, organiser_client, demo_app):
    response = organiser_client.get("/report/no-shows.csv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    lines = response.get_data(as_text=True).splitlines()
    answer = organiser_client.get("/api/v1/report").get_json()
    assert len(lines) - 1 == sum(o["registered"] - o["arrived"] for o in answer["organisations"])
    assert demo_app.test_cli_runner().invoke(args=["purge", "--yes"]).exit_code == 0
    assert organiser_client.get("/report/no-shows.csv").status_code == 404
    page = organiser_client.get("/report").get_data(as_text=True)
    assert "Personal data was removed" in page and "no-shows.csv" not in page


def test_arrivals_per_organisation_follow_each_new_check_in_and_undo(demo_db, organiser_client):
    """Read between scans, the report counts only what changed since (check-ins, an undo) and still
    gives what a replay from scratch gives."""
    people = demo_db.execute(
        "SELECT id, organisation FROM attendees WHERE status = 'registered' ORDER BY organisation, id LIMIT 6").fetchall()

    def arrived():
        return {row["name"]: row["arrived"] for row in organiser_client.get("/api/v1/report").get_json()["organisations"]}

    before = arrived()
    scan_ids = []
    for attendee_id, _organisation in people:
        scan_ids.append(scans_module.record_scan(demo_db, attendee_id=attendee_id)["scan_id"])
        assert arrived() == arrived()  # read twice: nothing counted twice
    expected = Counter(before)
    expected.update(organisation for _id, organisation in people)
    assert arrived() == dict(expected)

    assert scans_module.undo_scan(demo_db, scan_ids[0]) is not None
    expected[people[0][1]] -= 1
    assert arrived() == dict(expected)
    timeline._days.clear()  # the same figures from a replay of the whole history
    assert arrived() == dict(expected)
