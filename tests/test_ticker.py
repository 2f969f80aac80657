"""The schedule's background tick that `kiosk serve` starts: a room whose session ended is emptied
in the history when the session ends, without any request or write at that room."""

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import make_app
from kiosk import demo
from kiosk.data import accounts, scans
from kiosk.db import connect, migrate
from kiosk.serving.ticker import run_tick, start_schedule_tick

PAST_DAY = "2020-05-01"  # every session of the demo ended long ago


def clears(db, room_name):
    return db.execute(
        "SELECT count(*) FROM scans WHERE kind = 'clear' AND room_id = (SELECT id FROM rooms WHERE name = ?)", [room_name]
    ).fetchone()[0]


def test_the_tick_records_the_due_clear_once_without_any_request(tmp_path):
    path = tmp_path / "kiosk.db"
    db = connect(path)
    migrate(db)
    demo.build_demo(db, event_date=PAST_DAY, attendees=30)
    station, _token, _secret = accounts.add_station(db, "Door Trouwzaal", mode="room", room_name="Trouwzaal")
    someone = db.execute("SELECT id FROM attendees WHERE status = 'registered' LIMIT 1").fetchone()[0]
    scans.record_scan(db, station=station, attendee_id=someone, now=datetime(2020, 5, 1, 11, 5, tzinfo=ZoneInfo("Europe/Amsterdam")))
    assert clears(db, "Trouwzaal") == 0
    app = make_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "test"})

    stop = start_schedule_tick(app, every=0.05, stop=threading.Event())
    try:
        deadline = time.monotonic() + 10
        while clears(db, "Trouwzaal") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert clears(db, "Trouwzaal") == 1
    # Idempotent: every worker ticks, and a second tick finds nothing due.
    assert run_tick(app) == []
    assert clears(db, "Trouwzaal") == 1
    db.close()
