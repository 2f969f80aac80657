"""The report's server time on a big day: 50,000 attendees and 200,000 scans (run.py calls bench_report).

The scan history is written in bulk on a copy of the benchmark database, shaped like a real day:
95% of the attendees check in at the entrance between 08:30 and 10:00, and the rest of the scans
are room entries spread over the day (every one a check-in, so the replay applies each of them;
a history of 'already' answers would cost it nothing). Figures: the first report after a start
(the replay of the whole history), then the page and the JSON with the replay kept (what every
later request costs), and one request after 100 new scans.
"""

import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from kiosk import create_app
from kiosk.data import accounts
from kiosk.data.event import event_zone, get_event
from kiosk.data.maintenance import backup
from kiosk.data.scans import record_scan
from kiosk.db import connect

EMAIL, PASSWORD = "report-bench@example.org", "report bench password"


def write_day(db, scans, rng):
    """Replace DB's scan history with SCANS rows of a realistic day; returns how many attendees arrived."""
    event = get_event(db)
    start = datetime.fromisoformat(event["date"]).replace(hour=8, minute=30, tzinfo=event_zone(event))
    people = [row[0] for row in db.execute("SELECT id FROM attendees WHERE status = 'registered'")]
    rooms = [row[0] for row in db.execute("SELECT id FROM rooms")]
    arrived = rng.sample(people, min(int(len(people) * 0.95), scans // 4))
    rows = [(start + timedelta(seconds=rng.uniform(0, 5400)), person, None) for person in arrived]
    rows += [(start + timedelta(minutes=45, seconds=rng.uniform(0, 7 * 3600)), rng.choice(arrived), rng.choice(rooms))
             for _ in range(scans - len(rows))]
    rows.sort(key=lambda row: row[0])
    stamp = {}
    db.execute("BEGIN")
    for table in ("presence", "occupancy", "scans"):
        db.execute(f"DELETE FROM {table}")
    for at, person, room in rows:
        iso = at.astimezone(timezone.utc).isoformat(timespec="milliseconds")
        scan_id = db.execute(
            "INSERT INTO scans (created_at, kind, direction, attendee_id, room_id, outcome) VALUES (?, 'scan', 'in', ?, ?, 'checked_in')",
            [iso, person, room],
        ).lastrowid
        if room is None:
            stamp[person] = (iso, scan_id)
    db.conn.executemany("INSERT INTO presence (attendee_id, checked_in_at, checkin_scan_id) VALUES (?, ?, ?)",
                        [(person, iso, scan_id) for person, (iso, scan_id) in stamp.items()])
    db.execute("COMMIT")
    return len(arrived)


def bench_report(table, db, size, tmp):
    """Add the report's figures to TABLE, measured on a copy of DB with a day of SIZE['scans'] scans."""
    path = tmp / "report.db"
    backup(db, path)
    copy = connect(path)
    arrived = write_day(copy, size["scans"], random.Random(11))
    accounts.add_user(copy, EMAIL, PASSWORD, "organiser")
    attendees = copy.execute("SELECT count(*) FROM attendees").fetchone()[0]
    scans = copy.execute("SELECT count(*) FROM scans").fetchone()[0]
    app = create_app({"DATABASE": str(path), "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 303
    label = f"{attendees:,} attendees, {scans:,} scans, {arrived:,} arrived"
    started = time.perf_counter()
    assert client.get("/api/v1/report").status_code == 200
    table.add(f"report: first read after a start, replays the history ({label})", time.perf_counter() - started, "s")
    for name, url in (("report page (GET /report)", "/report"), ("report JSON (GET /api/v1/report)", "/api/v1/report")):
        times = []
        for _ in range(size["report_reps"]):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        table.add(f"{name}: server time, replay kept ({label}), median", statistics.median(times) * 1000, "ms", 200)
    event = get_event(copy)
    late = datetime.fromisoformat(event["date"]).replace(hour=16, minute=40, tzinfo=event_zone(event))
    people = [row[0] for row in copy.execute("SELECT attendee_id FROM presence LIMIT 100")]
    room = copy.execute("SELECT id FROM rooms LIMIT 1").fetchone()[0]
    for n, person in enumerate(people):
        record_scan(copy, room_id=room, attendee_id=person, override=True, now=late + timedelta(seconds=n))
    started = time.perf_counter()
    assert client.get("/report").status_code == 200
    table.add(f"report page after {len(people)} new scans (applies only those)", (time.perf_counter() - started) * 1000, "ms", 200)
    copy.close()
