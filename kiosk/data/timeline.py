"""The day replayed: each room's count over time, arrivals per five minutes and who was in each session's room.

Everything comes from the append-only scan history, run through presence.apply_scan (the one
definition of what a scan does to presence and counts) into an in-memory copy of the presence
and occupancy tables. A trigger on that copy notes each change of a room's count with the time
of the scan that made it. Nothing here reads names, so it works the same after `kiosk purge`.

Scans are replayed in time order (the order they were recorded in, but for writers a few
milliseconds apart). Replaying 200,000 scans takes seconds, so each process keeps one replay
per database and, on each read, applies only the scans recorded since (the history is
append-only). A history that shrank or a program that changed starts the replay over.
"""

import sqlite3
import threading
from collections import Counter, OrderedDict, defaultdict
from datetime import datetime

from sqlite_utils import Database

from kiosk.data.presence import EFFECTIVE, apply_scan
from kiosk.data.schedule import block_time_utc
from kiosk.outcomes import Outcome

BUCKET = 300  # seconds: arrivals and room counts are shown per five minutes
COLUMNS = ("id", "created_at", "kind", "direction", "attendee_id", "room_id", "outcome", "undoes")
_KEPT = 4  # databases whose replay a process keeps
_days = OrderedDict()
_days_lock = threading.Lock()


def bucket_of(iso_utc):
    """The start (seconds since the epoch) of the five minutes holding the stored timestamp ISO_UTC."""
    return int(datetime.fromisoformat(iso_utc).timestamp()) // BUCKET * BUCKET


def session_windows(db, event):
    """[(room_id, starts, ends, session_id)] of every session in a room, as stored UTC timestamps."""
    rows = db.execute(
        """SELECT sessions.room_id, blocks.starts_at, blocks.ends_at, sessions.id FROM sessions
           JOIN blocks ON blocks.id = sessions.block_id WHERE sessions.room_id IS NOT NULL AND blocks.event_id = ?
           ORDER BY blocks.starts_at, sessions.id""", [db.event_id]
    ).fetchall()
    return [(room, block_time_utc(event, start), block_time_utc(event, end), session) for room, start, end, session in rows]


def replayed_day(db, event, now_iso, registrations):
    """The Day of DB (a replay of its scan history up to now), brought up to date; read it under day.lock.

    REGISTRATIONS is (version, load): LOAD() gives the registered attendees' organisations and
    choices (kiosk.data.reports.registrations), read again only when VERSION changes.
    """
    # One replay per database and event: each event's day is its own scans.
    database = (db.execute("PRAGMA database_list").fetchone()[2] or f"memory:{id(db)}", db.event_id)
    windows = session_windows(db, event) if event else []
    key = (database, event and (event["date"], event["timezone"]), tuple(windows))
    with _days_lock:
        day = _days.get(database)
        if day is None or day.key != key:
            day = Day(db, key, windows)
            _days[database] = day
        _days.move_to_end(database)
        while len(_days) > _KEPT:
            _days.popitem(last=False)
    with day.lock:
        day.use_registrations(*registrations)
        day.catch_up(db, now_iso)
    return day


# A scan belongs to the event of its room or its attendee (anonymous counts and clears have a room, an
# undo both its target's); scans with neither (an unknown code at an entrance) change no figure.
# Correlated lookups by primary key, not IN (subquery): a catch-up reads few new scans, and an IN list
# would first collect every attendee of the event.
IN_EVENT = """(EXISTS (SELECT 1 FROM rooms WHERE rooms.id = scans.room_id AND rooms.event_id = :event)
                OR EXISTS (SELECT 1 FROM attendees WHERE attendees.id = scans.attendee_id AND attendees.event_id = :event))"""


class Day:
    """One database's day, replayed so far: counts per room over time, arrivals, session attendance."""

    def __init__(self, source, key, windows):
        self.key, self.lock, self.window_list = key, threading.Lock(), windows
        self.version, self.organisation_of, self.chose = None, {}, {}
        self.event_id = key[0][1]
        self._start(source)

    def _start(self, source):
        """An empty replay: no scan applied yet."""
        self.mem = Database(sqlite3.connect(":memory:", check_same_thread=False))
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN ('presence', 'occupancy')"
        ).fetchall():
            self.mem.execute(sql)
        self.clock = None  # the time of the scan being applied, which the trigger notes
        self.mem.conn.create_function("replay_clock", 0, lambda: self.clock)
        self.mem.executescript(
            """CREATE TABLE changes (room_id INTEGER, inside INTEGER, at TEXT);
               CREATE TRIGGER occupancy_added AFTER INSERT ON occupancy
               BEGIN INSERT INTO changes VALUES (NEW.room_id, NEW.inside, replay_clock()); END;
               CREATE TRIGGER occupancy_changed AFTER UPDATE OF inside ON occupancy WHEN NEW.inside != OLD.inside
               BEGIN INSERT INTO changes VALUES (NEW.room_id, NEW.inside, replay_clock()); END;
               CREATE TABLE arrivals_changed (attendee_id INTEGER, step INTEGER);
               CREATE TRIGGER presence_added AFTER INSERT ON presence
               BEGIN INSERT INTO arrivals_changed VALUES (NEW.attendee_id, 1); END;
               CREATE TRIGGER presence_removed AFTER DELETE ON presence
               BEGIN INSERT INTO arrivals_changed VALUES (OLD.attendee_id, -1); END;"""
        )
        self.last_id, self.seen = 0, 0
        self.windows = defaultdict(list)
        for room, starts, ends, session in self.window_list:
            self.windows[room].append((starts, ends, session))
        self.starts = sorted({starts for _room, starts, _ends, _session in self.window_list})
        self.rooms = {}  # room_id -> {bucket: [highest, last]}
        self.peaks = {}  # room_id -> (inside, at)
        self.arrivals = Counter()  # bucket -> entrance check-ins not undone
        self.attended = defaultdict(Counter)  # session_id -> {attendee_id: reasons to count them}
        self.chose_and_came = Counter()  # session_id -> registered attendees who chose it and attended it
        self.at_start = defaultdict(list)  # room entry scan id -> [(session_id, attendee_id)] it counted at a start
        self._arrived = None

    def catch_up(self, source, now_iso):
        """Apply the scans recorded since the last call (all of them when the history changed under us)."""
        newest, counted = source.execute(
            "SELECT (SELECT max(id) FROM scans), (SELECT count(*) FROM scans WHERE id <= ?)", [self.last_id]
        ).fetchone()
        if counted != self.seen or (newest or 0) < self.last_id:
            self.mem.close()
            self._start(source)  # the history shrank (the event was rebuilt): start over
        if newest and newest > self.last_id:
            rows = source.execute(
                f"""SELECT {', '.join(COLUMNS)} FROM scans WHERE id > :last AND id <= :newest AND {EFFECTIVE}
                    AND {IN_EVENT} ORDER BY created_at, id""",
                {"last": self.last_id, "newest": newest, "event": self.event_id},
            ).fetchall()
            for row in rows:
                self._apply(source, dict(zip(COLUMNS, row)))
            self._note_changes()
            self.seen = source.execute("SELECT count(*) FROM scans WHERE id <= ?", [newest]).fetchone()[0]
            self.last_id = newest
        while self.starts and self.starts[0] <= now_iso:  # a session began with no scan since
            self._snapshot(self.starts.pop(0))

    def _apply(self, source, scan):
        at = scan["created_at"]
        while self.starts and self.starts[0] <= at:
            self._snapshot(self.starts.pop(0))
        if scan["kind"] == "undo":
            self._forget(source, scan["undoes"])
        self.clock = at
        apply_scan(self.mem, scan)
        if scan["kind"] == "scan" and scan["outcome"] == Outcome.CHECKED_IN and scan["direction"] == "in":
            if scan["room_id"] is None:
                self.arrivals[bucket_of(at)] += 1
            else:
                session = self.session_at(scan["room_id"], at)
                if session is not None:
                    self._count(session, scan["attendee_id"], +1)

    def session_at(self, room_id, at):
        """The session held in ROOM_ID at stored time AT, or None."""
        for starts, ends, session in self.windows.get(room_id, ()):
            if starts <= at < ends:
                return session
        return None

    def _snapshot(self, starts):
        """Who is in each room as a block STARTS counts as attending that room's session.

        Not who came in before the room's previous session ended: the schedule empties a room at
        a session's end, and readers count it empty before that clear is written (schedule.due_rooms).
        """
        rows = self.mem.execute(
            "SELECT attendee_id, room_id, room_scan_id, room_since FROM presence WHERE room_id IS NOT NULL"
        )
        for attendee, room, room_scan, since in rows.fetchall():
            session = self.session_at(room, starts)
            ended = max((ends for _s, ends, _n in self.windows[room] if ends <= starts), default="")
            if session is not None and since >= ended:
                self._count(session, attendee, +1)
                self.at_start[room_scan].append((session, attendee))

    def _forget(self, source, scan_id):
        """Take back what an undone check-in counted (an undo names only its target; undos are rare)."""
        target = source.execute(
            "SELECT room_id, attendee_id, created_at, kind, outcome, direction FROM scans WHERE id = ?", [scan_id]
        ).fetchone()
        if target is None or target[3] != "scan" or target[4] != Outcome.CHECKED_IN or target[5] != "in":
            return
        room, attendee, at = target[:3]
        if room is None:
            self.arrivals[bucket_of(at)] -= 1
        elif (session := self.session_at(room, at)) is not None:
            self._count(session, attendee, -1)
        for session, person in self.at_start.pop(scan_id, ()):
            self._count(session, person, -1)

    def _count(self, session, attendee, step):
        """One reason more (STEP 1) or less (-1) to count ATTENDEE as attending SESSION."""
        before = self.attended[session][attendee]
        self.attended[session][attendee] = before + step
        if (before > 0) != (before + step > 0) and session in self.chose.get(attendee, ()):
            self.chose_and_came[session] += step

    def use_registrations(self, version, load):
        """Take the registered attendees' organisations and choices from LOAD() when VERSION is new."""
        if version == self.version:
            return
        self.organisation_of, self.chose = load()
        self.version = version
        self.registered = Counter(session for sessions in self.chose.values() for session in sessions)
        self.registered_by_organisation = Counter(self.organisation_of.values())
        self.chose_and_came = Counter()
        for session, people in self.attended.items():
            self.chose_and_came[session] = sum(
                1 for attendee, reasons in people.items() if reasons > 0 and session in self.chose.get(attendee, ()))
        self._arrived = None

    def arrived_by_organisation(self):
        """{organisation: registered attendees checked in (not taken back)}, from the replayed presence.

        Counted over all of presence when the registrations changed; otherwise brought up to date
        from the check-ins and take-backs a trigger noted since the last call (counting 50,000
        arrivals again after a few new scans was a third of the report's time).
        """
        organisation_of = self.organisation_of
        if self._arrived is None or self._arrived[0] != self.version:
            present = self.mem.execute("SELECT attendee_id FROM presence").fetchall()
            counts = Counter(organisation_of[a] for (a,) in present if a in organisation_of)
            self._arrived = (self.version, counts)
        else:
            counts = self._arrived[1]
            for attendee, step in self.mem.execute("SELECT attendee_id, step FROM arrivals_changed").fetchall():
                if attendee in organisation_of:
                    counts[organisation_of[attendee]] += step
        self.mem.execute("DELETE FROM arrivals_changed")
        return counts

    def _note_changes(self):
        """Fold the counts the trigger noted into each room's five-minute highs and its peak."""
        for room, inside, at in self.mem.execute("SELECT room_id, inside, at FROM changes ORDER BY rowid").fetchall():
            slot = self.rooms.setdefault(room, {}).setdefault(bucket_of(at), [inside, inside])
            slot[0], slot[1] = max(slot[0], inside), inside
            if inside > self.peaks.get(room, (0, None))[0]:
                self.peaks[room] = (inside, at)
        self.mem.execute("DELETE FROM changes")

    def attendance(self, session_id):
        """How many attendees are counted as attending SESSION_ID."""
        return sum(1 for reasons in self.attended.get(session_id, {}).values() if reasons > 0)
