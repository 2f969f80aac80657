"""What `kiosk serve` adds for production load; create_app() alone serves everything correctly."""

from kiosk.mail.sender import start_sender
from kiosk.serving import qr_masks, tweaks
from kiosk.serving.admission import Admission
from kiosk.serving.checkpointer import start_checkpointer
from kiosk.serving.fastpath import ScanFastPath
from kiosk.serving.stations import PairedStations
from kiosk.serving.ticker import start_schedule_tick


def install(app):
    """Install every production mechanism on APP, once, before the server forks its workers.

    Each mechanism's docstring says what it buys and names the benchmark that measures it:
    - tweaks: Flask's ensure_sync answer remembered, in-memory bodies handed to the server as
      one piece, no session signer for a request without the session cookie;
    - Admission: every request but a scanner app's scan has its body read first, within a
      deadline and a few at a time per client address (bodies.BodyGate), then goes into Flask
      at most two at a time per worker, except a paired station's (stations.PairedStations);
    - ScanFastPath: a scanner app's scan answered without Flask's request machinery, and
      the scans that arrive together committed together (batches.ScanBatches);
    - qr_masks: badge QR codes' mask chosen by a faster route to qrcode's own choice.
    The checkpointer thread is per process: start_worker starts it in each worker.
    """
    if app.extensions.get("kiosk.serving"):
        return
    tweaks.install(app)
    qr_masks.install()
    stations = PairedStations(app)
    app.wsgi_app = Admission(app, app.wsgi_app, stations)
    app.wsgi_app = ScanFastPath(app, app.wsgi_app, stations)  # outermost: a scan never waits for a place
    app.extensions["kiosk.serving"] = True


def start_worker(app):
    """Start what runs beside each worker process: call it in the worker, after the fork.

    - checkpointer: the WAL copied back into the database file from a thread of its own;
    - ticker: rooms whose session ended are emptied in the history when it ends;
    - mail sender: the outbox delivered; every worker starts one, and only the one holding the
      sender's lock file sends (kiosk.mail.sender).
    """
    start_checkpointer(app.config["DATABASE"])
    start_schedule_tick(app)
    start_sender(app)
