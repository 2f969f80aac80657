"""The schedule's background tick: rooms whose session ended are emptied in the history on time.

Readers already count such a room as empty, and the next write at a room records the clear
first (kiosk.data.scans), so this buys no correctness on a page. It buys a history (and a
report) whose 'cleared' row carries the time the session ended, not the time of the room's
next scan, which may be an hour later or never.
"""

import logging
import threading

from kiosk.data.events import open_event_ids
from kiosk.db import get_db, use_event
from kiosk.rooms.service import empty_ended_rooms

TICK_SECONDS = 30.0

log = logging.getLogger(__name__)


def run_tick(app):
    """Record the clears that are due now, in every event not archived (each has its own schedule); the room
    ids emptied (every worker may call it: idempotent)."""
    with app.app_context():
        db = get_db()
        emptied = []
        for event_id in open_event_ids(db):
            use_event(db, event_id)
            emptied += empty_ended_rooms(db)
        return emptied


def start_schedule_tick(app, every=TICK_SECONDS, stop=None):
    """Call run_tick every EVERY seconds from a daemon thread until STOP (a threading.Event) is set."""
    stop = stop or threading.Event()

    def loop():
        while not stop.wait(every):
            try:
                run_tick(app)
            except Exception:  # a busy database or a bad moment: the next tick (or write) tries again
                log.exception("the schedule tick failed")

    thread = threading.Thread(target=loop, name="kiosk-schedule-tick", daemon=True)
    thread.start()
    return stop
