"""Room occupancy at scale: the occupancy read at 50,000 attendees and 200,000 scans, and check-in
latency while 100 host tablet pages stay open and live (polling).

Run: .venv/bin/python benchmarks/bench_rooms.py [--attendees 50000] [--scans 200000] [--pages 100] [--seconds 20]
Prints one figure per line with its target. Builds its own temporary database; the load goes to a
`kiosk serve` (granian) subprocess on a free 127.0.0.1 port only, and every loop is bounded in
count and in time.
"""

import argparse
import http.client
import multiprocessing
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import loadgen  # noqa: E402

from kiosk.data import accounts, scans  # noqa: E402
from kiosk.data import rooms as rooms_data  # noqa: E402
from kiosk.data.badges import new_code, short_form  # noqa: E402
from kiosk.db import connect, migrate  # noqa: E402

# The event's time zone: Amsterdam, or at night there a zone where it is day, so a session
# runs whenever the benchmark does (the server reads the real clock in the event's zone).
ZONES = ("Europe/Amsterdam", "America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Asia/Tokyo", "Asia/Kolkata")
CAPACITIES = [2000, 1500, 1200, 1000, 800, 600, 500, 400, 300, 300, 250, 200, 200, 150, 120, 100, 80, 60, 40, 20]
HOST = ("bench-host@example.org", "bench host password")
POLL_SECONDS = 0.5  # what templates/rooms/_room_live.html polls at


def stamp(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def program_times(now_local):
    """(five 75-minute blocks, index of the one running at NOW_LOCAL), or None when no layout fits in the day."""
    for running in (1, 0, 2, 3, 4):
        base = now_local.replace(second=0, microsecond=0) - timedelta(minutes=15 + 90 * running)
        last_end = base + timedelta(minutes=4 * 90 + 75)
        if base.date() == now_local.date() and last_end.date() == now_local.date():
            return [(base + timedelta(minutes=90 * k), base + timedelta(minutes=90 * k + 75)) for k in range(5)], running
    return None


def build(path, *, attendees, total_scans, seed=5):
    """The event with ATTENDEES people and TOTAL_SCANS scans; presence and occupancy kept as record_scan keeps them."""
    rng = random.Random(seed)
    zone = next((name for name in ZONES if program_times(datetime.now(ZoneInfo(name)))), ZONES[0])
    now_local = datetime.now(ZoneInfo(zone))
    layout = program_times(now_local)
    running = layout is not None
    if running:
        times, current = layout
    else:  # around midnight: a fixed day, no session runs now
        day = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
        times = [(day + timedelta(hours=9 + 2 * k), day + timedelta(hours=10 + 2 * k, minutes=15)) for k in range(5)]
        current = 4
    db = connect(path)
    migrate(db)
    created = stamp(now_local - timedelta(days=1))
    db.execute("BEGIN")
    db.execute("INSERT INTO event (id, name, date, venue, timezone, language) VALUES (1, 'Bench', ?, '', ?, 'en')",
               [now_local.date().isoformat(), zone])
    db.conn.executemany("INSERT INTO rooms (id, name, capacity, location) VALUES (?, ?, ?, ?)",
                        [(n + 1, f"Room {n + 1:02d}", cap, f"floor {n % 4}") for n, cap in enumerate(CAPACITIES)])
    db.conn.executemany("INSERT INTO occupancy (room_id, inside, anonymous) VALUES (?, 0, 0)",
                        [(n + 1,) for n in range(len(CAPACITIES))])
    db.conn.executemany("INSERT INTO blocks (id, name, starts_at, ends_at) VALUES (?, ?, ?, ?)",
                        [(k + 1, f"Block {k + 1}", start.strftime("%H:%M"), end.strftime("%H:%M")) for k, (start, end) in enumerate(times)])
    sessions = {}
    rows = []
    for block in range(1, 6):
        for room in range(1, len(CAPACITIES) + 1):
            session_id = len(rows) + 1
            sessions[(block, room)] = session_id
            rows.append((session_id, block, f"Session {block}.{room}", "session", room))
    db.conn.executemany("INSERT INTO sessions (id, block_id, title, kind, room_id) VALUES (?, ?, ?, ?, ?)", rows)
    db.conn.executemany(
        """INSERT INTO attendees (id, registration_id, first_name, last_name, name, email, organisation, status,
                                  search_text, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        ((n, f"R{n:06d}", "Person", f"{n:06d}", f"Person {n:06d}", f"p{n}@example.org", f"Org {n % 300}",
          "cancelled" if n % 100 == 0 else "registered", f"person {n:06d}", created, created)
         for n in range(1, attendees + 1)),
    )
    room_ids = list(range(1, len(CAPACITIES) + 1))
    weights = CAPACITIES
    choice = {}
    choice_rows = []
    for person in range(1, attendees + 1):
        picks = rng.choices(room_ids, weights=weights, k=5)
        choice[person] = picks[current]  # the running block's room
        choice_rows.extend((person, block, sessions[(block, room)]) for block, room in zip(range(1, 6), picks))
    db.conn.executemany("INSERT INTO choices (attendee_id, block_id, session_id) VALUES (?, ?, ?)", choice_rows)
    codes, shorts, badge_rows = [], set(), []
    for person in range(1, attendees + 1):
        while True:
            code = new_code()
            if short_form(code) not in shorts:
                break
        shorts.add(short_form(code))
        codes.append(code)
        badge_rows.append((person, code, short_form(code), created))
    db.conn.executemany("INSERT INTO badges (attendee_id, code, short_code, issued_at) VALUES (?, ?, ?, ?)", badge_rows)

    # The history: rooms emptied by the schedule at the end of each block before the running one,
    # then the entrance and the doors of the running block, up to now.
    scan_rows, scan_id = [], 0
    for _start, end in times[:current]:
        for room in room_ids:
            scan_id += 1
            scan_rows.append((scan_id, stamp(end), "clear", "out", None, room, None, "cleared", None, 0))
    start = times[current][0]
    span = max((min(now_local, times[current][1]) - start).total_seconds() - 60, 60)
    presence, inside = {}, dict.fromkeys(room_ids, 0)
    entrance_share = 0.2
    n_scans = total_scans - len(scan_rows)
    for step in range(n_scans):
        at = stamp(start + timedelta(seconds=span * step / n_scans))
        scan_id += 1
        if step < n_scans * entrance_share:
            person = rng.randint(1, attendees)
            if person % 100 == 0:
                outcome = "cancelled"
            elif person in presence:
                outcome = "already"
            else:
                outcome = "checked_in"
                presence[person] = [scan_id, at, None, None, None]
            scan_rows.append((scan_id, at, "scan", "in", person, None, None, outcome, None, 0))
            continue
        person = rng.randint(1, attendees)
        room = rng.choices(room_ids, weights=weights)[0]
        if person % 100 == 0:
            scan_rows.append((scan_id, at, "scan", "in", person, room, None, "cancelled", None, 0))
            continue
        state = presence.get(person)
        if state and state[2] == room:
            scan_rows.append((scan_id, at, "scan", "in", person, room, None, "already", None, 0))
            continue
        if inside[room] >= CAPACITIES[room - 1]:
            scan_rows.append((scan_id, at, "scan", "in", person, room, None, "full", None, 0))
            continue
        warning = None if (not running or choice[person] == room) else "not_registered"
        if state is None:
            state = presence[person] = [scan_id, at, None, None, None]
        if state[2] is not None:
            inside[state[2]] -= 1
        state[2:] = [room, at, scan_id]
        inside[room] += 1
        scan_rows.append((scan_id, at, "scan", "in", person, room, None, "checked_in", warning, 0))
    db.conn.executemany(
        """INSERT INTO scans (id, created_at, kind, direction, attendee_id, room_id, station_id, outcome, warning, override)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        scan_rows,
    )
    db.conn.executemany(
        """INSERT INTO presence (attendee_id, checkin_scan_id, checked_in_at, room_id, room_since, room_scan_id)
           VALUES (?, ?, ?, ?, ?, ?)""",
        ((person, *state) for person, state in presence.items()),
    )
    db.conn.executemany("UPDATE occupancy SET inside = ? WHERE room_id = ?", [(count, room) for room, count in inside.items()])
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db, codes, running


def timings(func, *, count, seconds):
    """Run FUNC up to COUNT times or SECONDS; returns the durations in ms."""
    durations, deadline = [], time.monotonic() + seconds
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        start = time.perf_counter()
        func()
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


def figure(label, value, target=None, unit="ms"):
    verdict = ""
    if target is not None:
        verdict = f"   target < {target} {unit}: {'met' if value < target else 'MISSED'}"
    print(f"{label:<58} {value:9.3f} {unit}{verdict}", flush=True)


class Connection(http.client.HTTPConnection):
    """http.client with TCP_NODELAY, as browsers set it: http.client sends a POST's headers and body
    in two writes, and with Nagle's algorithm the second may wait for the server's ACK of the first."""

    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`kiosk serve` on a loopback port, with the production defaults (2 workers x 8 threads)."""

    def __init__(self, database, instance, workers, threads):
        self.port = free_port()
        environment = dict(os.environ, KIOSK_DB=str(database), KIOSK_INSTANCE=str(instance))
        self.log = open(Path(instance).parent / "server.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--threads", str(threads)],
            env=environment, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited; see " + self.log.name)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def connection(self):
        return Connection("127.0.0.1", self.port, timeout=10)

    def cpu_seconds(self):
        """CPU time (user + system) used so far by the server's worker processes."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        for pid in [self.process.pid, *children]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def login(server):
    """A host's session cookie, logged in once through the login form (with its CSRF token)."""
    connection = server.connection()
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = SimpleCookie(response.getheader("Set-Cookie") or "")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    from urllib.parse import urlencode

    body = urlencode({"csrf_token": token, "email": HOST[0], "password": HOST[1]})
    connection.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{key}={morsel.value}" for key, morsel in cookie.items()),
    })
    response = connection.getresponse()
    response.read()
    if response.status != 303:
        raise RuntimeError(f"login failed: {response.status}")
    cookie.load(response.getheader("Set-Cookie"))
    connection.close()
    return "; ".join(f"{key}={morsel.value}" for key, morsel in cookie.items())


class Endpoint:
    """Where the server listens, for a process that only holds connections to it."""

    def __init__(self, port):
        self.port = port

    def connection(self):
        return Connection("127.0.0.1", self.port, timeout=10)


class Poller(threading.Thread):
    """One open host tablet: polls its room every POLL_SECONDS with the version it shows, as htmx does."""

    def __init__(self, endpoint, cookie, room_id, stop, stats):
        super().__init__(daemon=True)
        self.endpoint, self.cookie, self.room_id, self.stop, self.stats = endpoint, cookie, room_id, stop, stats

    def run(self):
        connection, version = self.endpoint.connection(), ""
        headers = {"Cookie": self.cookie, "HX-Request": "true"}
        time.sleep(random.random() * POLL_SECONDS)
        for _ in range(100_000):  # bounded; the stop event ends it long before
            if self.stop.is_set():
                break
            started = time.perf_counter()
            try:
                connection.request("GET", f"/rooms/{self.room_id}?v={version}", headers=headers)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                self.stats["errors"] += 1
                connection.close()
                connection = self.endpoint.connection()
                self.stop.wait(POLL_SECONDS)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if response.status == 200:
                match = re.search(rb'\?v=([^"&]*)"', body)
                version = match.group(1).decode() if match else ""
            self.stats.setdefault(response.status, []).append(elapsed)
            self.stop.wait(max(POLL_SECONDS - elapsed / 1000, 0))
        connection.close()


def poll_pages(port, cookie, pages, rooms, seconds, results):
    """In a process of its own (so the pollers' Python does not slow the timed client): PAGES pollers for SECONDS."""
    stop, stats = threading.Event(), {"errors": 0}
    pollers = [Poller(Endpoint(port), cookie, 1 + n % rooms, stop, stats) for n in range(pages)]
    for poller in pollers:
        poller.start()
    stop.wait(seconds)
    stop.set()
    for poller in pollers:
        poller.join(timeout=15)
    results.put(stats)


def check_ins(server, tokens, codes, *, count, rate, seconds):
    """COUNT API check-ins at the room doors, one client per door, at RATE per second in all; latencies in ms.

    Open loop (benchmarks/loadgen.py): requests fall due at a steady rate and a latency counts
    from when its request was due, so a slow answer is not hidden by the client waiting for it.
    """
    rng = random.Random(count)
    per_door = max(count // len(tokens), 1)
    lists = [[{"code": rng.choice(codes), "scan_id": f"bench-{door}-{n}-{time.monotonic_ns()}"} for n in range(per_door)]
             for door in range(len(tokens))]
    result = loadgen.run(server.port, tokens, lists, rate=rate, max_seconds=seconds + 10, raw=True)
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} check-ins failed")
    return [latency * 1000 for latency in result["latencies"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=50_000)
    parser.add_argument("--scans", type=int, default=200_000)
    parser.add_argument("--pages", type=int, default=100, help="host tablet pages kept open and live")
    parser.add_argument("--seconds", type=float, default=20, help="length of the check-in run with the pages open")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kiosk-bench-rooms-") as folder:
        path = Path(folder) / "kiosk.db"
        started = time.perf_counter()
        db, codes, running = build(path, attendees=args.attendees, total_scans=args.scans)
        scan_count = db.execute("SELECT count(*) FROM scans").fetchone()[0]
        print(f"built {args.attendees} attendees, {scan_count} scans, {len(CAPACITIES)} rooms "
              f"in {time.perf_counter() - started:.1f} s; a session runs now: {'yes' if running else 'no'}", flush=True)
        consistent = scans.replay(db) == scans.kept_state(db)
        print(f"kept presence/occupancy equal a replay of the history: {'yes' if consistent else 'NO'}", flush=True)

        rooms_data.occupancy(db)  # the schedule check's first run, as a server's first read would
        busiest = max(rooms_data.occupancy(db), key=lambda room: room["inside"])["id"]
        occupancy = timings(lambda: rooms_data.occupancy(db), count=5000, seconds=5)
        figure("occupancy, all rooms (median)", statistics.median(occupancy), 2)
        figure("occupancy, all rooms (p99)", p99(occupancy), 2)
        poll = timings(lambda: rooms_data.room_version(db, busiest), count=5000, seconds=5)
        figure("poll check: one room's version (median)", statistics.median(poll))
        live = timings(lambda: rooms_data.room_live(db, busiest), count=500, seconds=5)
        figure("host tablet read, busiest room, with registrations (median)", statistics.median(live))
        wall = timings(lambda: rooms_data.wall(db), count=200, seconds=5)
        figure("wall read, all rooms with registrations (median)", statistics.median(wall))
        station = accounts.add_station(db, "Bench door", mode="room", room_id=busiest)[0]
        rng = random.Random(3)
        record = timings(lambda: scans.record_scan(db, station=station, code=rng.choice(codes)), count=1000, seconds=5)
        figure("record_scan at a room door, in process (p99)", p99(record))

        accounts.add_user(db, *HOST, "host")
        tokens = [accounts.add_station(db, f"Door {room}", mode="room", room_id=room)[1] for room in range(1, len(CAPACITIES) + 1)]
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()

        server = Server(path, Path(folder) / "instance", args.workers, args.threads)
        try:
            cookie = login(server)
            check_ins(server, tokens, codes, count=40, rate=40, seconds=10)  # warm both workers
            alone = check_ins(server, tokens, codes, count=200, rate=20, seconds=args.seconds)
            figure("check-in over HTTP, no pages open (p99)", p99(alone), 50)
            context = multiprocessing.get_context("spawn")
            results = context.Queue()
            warm = 2 * POLL_SECONDS + 1
            pages = context.Process(target=poll_pages, args=(server.port, cookie, args.pages, len(CAPACITIES), args.seconds + warm + 2, results))
            pages.start()
            time.sleep(warm)
            cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
            loaded = check_ins(server, tokens, codes, count=int(args.seconds * 20), rate=20, seconds=args.seconds)
            cpu_used, wall_used = server.cpu_seconds() - cpu_before, time.monotonic() - wall_before
            stats = results.get(timeout=args.seconds + 60)
            pages.join(timeout=30)
        finally:
            server.stop()
        figure(f"check-in over HTTP, {args.pages} host pages polling (median)", statistics.median(loaded))
        figure(f"check-in over HTTP, {args.pages} host pages polling (p99)", p99(loaded), 50)
        polls = {status: values for status, values in stats.items() if status != "errors"}
        total = sum(len(values) for values in polls.values())
        duration = args.seconds + 2 * POLL_SECONDS + 3
        print(f"polls: {total} in ~{duration:.0f} s ({total / duration:.0f}/s), "
              + ", ".join(f"{status}: {len(values)} (median {statistics.median(values):.2f} ms, p99 {p99(values):.2f} ms)"
                          for status, values in sorted(polls.items()))
              + f", errors: {stats['errors']}; {len(loaded)} check-ins", flush=True)
        requests_per_second = total / duration + len(loaded) / wall_used
        figure("server CPU while timed (cores busy, of 2 workers)", cpu_used / wall_used, unit="cores")
        figure("server CPU per request (polls and check-ins)", 1000 * cpu_used / wall_used / requests_per_second)
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
              "(other work on this machine inflates the HTTP latencies; CPU per request does not)", flush=True)


if __name__ == "__main__":
    main()
