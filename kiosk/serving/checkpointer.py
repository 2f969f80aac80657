"""A thread per worker that copies the WAL back into the database file, outside every request.

What it buys: SQLite copies the WAL back (a checkpoint, with an fsync) inside the commit that
takes the WAL past 1,000 pages, while that writer holds the write lock, so every other station
waits for the copy and the fsync. Done from a thread of its own, outside any request and any
lock, the check-ins neither wait for it nor stall behind it: more check-ins per second and a
shorter slowest 1%. benchmarks/run.py (check-ins per second, open-loop latency) and
benchmarks/bench_sustained.py (a steady rate for longer, where the WAL's growth shows) measure it.
"""

import os
import sqlite3
import threading
import time

from kiosk.db import checkpoint, connect, writers_checkpoint_at

# Often and small: each checkpoint's fsync stalls the writers for a moment, and the stall
# grows with what it copies (benchmarks/bench_sustained.py compared 0.025, 0.1 and 0.5 s).
# In a pause the thread waits longer and longer, up to IDLE_CHECKPOINT_SECONDS, so an idle
# server does not wake 40 times a second.
CHECKPOINT_SECONDS = 0.025
IDLE_CHECKPOINT_SECONDS = 0.5
# The WAL starts over from its beginning when a writer finds it all copied, which the
# thread's checkpoints manage in any pause between writes. Under a sustained stream of
# writes they never quite catch up, and the WAL grows until a writer's own checkpoint
# copies the rest inside its commit while every station waits. A larger net made that
# rarer, but a WAL file growing to hundreds of megabytes costs the disk more while it grows
# (benchmarks/bench_sustained.py): this net is the better of the two.
SAFETY_CHECKPOINT_PAGES = 10_000

_running_in = None  # the id of the process whose checkpointer thread runs


def start_checkpointer(path, every=CHECKPOINT_SECONDS, idle=IDLE_CHECKPOINT_SECONDS):
    """Checkpoint the database at PATH from a daemon thread, once per process: every EVERY
    seconds while writes come in, up to IDLE seconds apart in a pause.

    Call it in the process that serves requests, after any fork: threads do not survive one.
    From then on, this process's new connections leave checkpoints to the thread and keep
    their own only as a safety net (SAFETY_CHECKPOINT_PAGES).
    """
    global _running_in
    if _running_in == os.getpid():
        return
    _running_in = os.getpid()
    writers_checkpoint_at(SAFETY_CHECKPOINT_PAGES)
    ready = threading.Event()

    def run():
        db = connect(path)
        ready.set()
        wait, last = every, None
        while True:
            time.sleep(wait)
            try:
                state = checkpoint(db)
            except sqlite3.Error:
                state = None  # busy or briefly unavailable: the next round tries again
            wait = next_checkpoint_wait(wait, state, last, every=every, idle=idle)
            last = state

    threading.Thread(target=run, name="kiosk-checkpointer", daemon=True).start()
    ready.wait(10)


def next_checkpoint_wait(wait, state, last, *, every, idle):
    """Seconds until the next checkpoint, given this one's STATE and the one before's (LAST).

    A state is SQLite's answer (busy, frames in the WAL, frames copied), None when the
    checkpoint failed. Unless the WAL is all copied and unchanged since the last round, writes
    are coming in: come back in EVERY seconds. Otherwise wait twice as long as the last time,
    up to IDLE.
    """
    if state is None or state[0] or state[1] != state[2] or state != last:
        return every
    return min(wait * 2, idle)
