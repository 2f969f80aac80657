"""An import's preview and commit run in a child process with a memory cap, so the server never grows by a file.

Checking a file costs memory by the row (about 1.5 KB a row for attendees); a 200,000-row file
would grow the server process by hundreds of megabytes, and a Python process does not give that
back. The child is forked from a small "forkserver" process started for this (never from the
server's own threaded process), caps its address space (setting IMPORT_MEMORY_MB) and opens its
own connection: the commit's short steps (kiosk.data.import_steps) and the server's scans take
turns on the same write lock file. Its answer (the report, or the problems) comes back pickled;
tests/test_import_limits.py measures the server's growth.
"""

import multiprocessing
import os
import resource
import time

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _

from kiosk import extensions
from kiosk.db import get_db
from kiosk.imports import importer
from kiosk.imports.report import ImportRejected

MiB = 1024 * 1024
# Plain values only cross to the child; the app there is made again from them.
_PLAIN = (str, int, float, bool, type(None), list, tuple)
_context = None


def _mp_context():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        # The forkserver imports Kiosk once; each import's child forks from it ready to run.
        _context.set_forkserver_preload(["kiosk.imports.worker"])
    return _context


def run(app, job, locale):
    """Run JOB (see work) in a child process for APP, in LOCALE; the report, or raise ImportRejected."""
    config = {key: value for key, value in app.config.items() if isinstance(value, _PLAIN) and key.isupper()}
    context = _mp_context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, config, job, locale), name="kiosk-import")
    child.start()
    sender.close()
    deadline = time.monotonic() + app.config["IMPORT_SECONDS"]
    try:
        while not receiver.poll(0.2):
            if not child.is_alive() and not receiver.poll(0):
                raise ImportRejected([_stopped()])
            if time.monotonic() > deadline:
                raise ImportRejected([_("the import took too long and was stopped; split the file into smaller ones")])
        try:
            outcome, value = receiver.recv()
        except EOFError:
            raise ImportRejected([_stopped()]) from None
    finally:
        receiver.close()
        if child.is_alive() and time.monotonic() > deadline:
            child.kill()
        child.join(5)
    if outcome == "rejected":
        raise ImportRejected(*value)
    return value


def _too_large():
    return _("the file is too large to import: it needs more memory than an import may take; split it into smaller files")


def _stopped():
    return _("the import stopped unexpectedly; nothing was imported")


def _child(sender, config, job, locale):
    """In the child: cap memory, make the app, run the job, send ('ok', report) or ('rejected', (problems, preview))."""
    limit = config.get("IMPORT_MEMORY_MB")
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (int(limit) * MiB, int(limit) * MiB))
    # The import needs the settings, the database and the translations, not the whole app.
    app = Flask(__name__)
    app.config.from_mapping(config)
    extensions.babel.init_app(app)
    with app.test_request_context(), force_locale(locale):
        answer = _answer(job)
    sender.send(answer)
    sender.close()
    os._exit(0)  # no teardown of the forked interpreter's objects: the process ends here


def _answer(job):
    """('ok', report) or ('rejected', (problems, preview)) for JOB; a MemoryError is the file being too large."""
    out_of_memory = False
    try:
        return ("ok", work(job))
    except ImportRejected as rejected:
        return ("rejected", (rejected.problems, rejected.preview))
    except MemoryError:
        # The message is made after the except block: until then the traceback holds the import's objects.
        out_of_memory = True
    except Exception as error:  # sent as a problem: the server then shows it instead of a bare 500
        return ("rejected", ([_stopped() + f" ({type(error).__name__}: {error})"],))
    if out_of_memory:
        return ("rejected", ([_too_large()],))


def work(job):
    """Import JOB's file in this process: {'kind', 'path', 'filename', 'dry_run', 'options'}; the report."""
    db = get_db()
    if job["kind"] == "program":
        return importer.import_program(db, job["path"], filename=job["filename"], dry_run=job["dry_run"])
    return importer.import_attendees(
        db, job["path"], filename=job["filename"], dry_run=job["dry_run"], **job.get("options", {})
    )
