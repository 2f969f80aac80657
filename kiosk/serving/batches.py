"""Group commit: the scans that arrive together in one worker are written in one transaction."""

import threading

from blinker import Namespace

# Sent by the thread that leads a batch, before it answers it, with the number of scans in it:
# for monitoring, and for tests that queue scans behind a batch.
batch_started = Namespace().signal("batch-started")


class PendingScan:
    """A scan request waiting for its batch: what it sent, then its answer."""

    __slots__ = ("token", "raw", "client", "result", "status", "answer", "error", "leads", "woken")

    def __init__(self, token, raw, client):
        self.token, self.raw, self.client = token, raw, client
        self.result = self.status = self.answer = self.error = None
        self.leads = False  # handed the lead of the next batch instead of an answer
        self.woken = threading.Lock()  # released when answered or handed the lead
        self.woken.acquire()

    def failed(self, exc):
        self.status, self.error = 500, exc
        self.answer = {"error": "error", "message": "the scan could not be answered; try again"}


class ScanBatches:
    """Group commit for the scans of one worker process.

    A scan that arrives while no batch is being answered leads one: it takes every scan
    waiting by then and answers them all with ANSWER_BATCH, in one transaction, so one BEGIN
    and one commit serve them all and the pages they share are written to the WAL once. The
    WAL then fills, and its copy back (with the fsyncs that stall every station) comes, less
    often, and each check-in costs less CPU. The others wait, without the GIL, until their
    answers are in; each answer is given only after its commit. When a batch is done, its
    answers go out and the first scan that arrived meanwhile leads the next batch with the
    rest, so no request waits for more than the batch before its own.

    Scans in one worker also take turns this way: run side by side in two threads they only
    hand the GIL back and forth at every SQLite call, which lengthens the slowest answers.
    benchmarks/run.py (check-ins per second and the open-loop slowest 1%) and
    benchmarks/bench_sustained.py measure it.
    """

    def __init__(self, answer_batch):
        self.answer_batch = answer_batch
        self.lock = threading.Lock()
        self.waiting = []
        self.leading = False

    def submit(self, scan):
        """Return once SCAN is answered, by a batch this thread leads or another's."""
        with self.lock:
            if self.leading:
                self.waiting.append(scan)
            else:
                self.leading = scan.leads = True
        if not scan.leads:
            scan.woken.acquire()
            if not scan.leads:
                return  # answered by another thread's batch
        with self.lock:
            batch, self.waiting = [scan, *self.waiting], []
        try:
            if batch_started.receivers:
                batch_started.send(self, size=len(batch))
            self.answer_batch(batch)
        finally:
            self._hand_on(scan, batch)

    def _hand_on(self, scan, batch):
        """Wake every scan of BATCH but the leader's own SCAN, and hand the lead to the first that waits."""
        with self.lock:
            following = self.waiting.pop(0) if self.waiting else None
            if following is None:
                self.leading = False
            else:
                following.leads = True
        for answered in batch:
            if answered.status is None:  # only when something past its own handlers stopped answer_batch
                answered.failed(RuntimeError("the scan's batch stopped"))
            if answered is not scan:
                answered.woken.release()
        if following is not None:
            following.woken.release()
