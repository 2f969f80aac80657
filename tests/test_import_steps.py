"""Big imports and the door: an import is written in short steps that let scans in, all or nothing; writers wait with a deadline."""

import re
import subprocess
import sys
import threading
import time

import pytest

from kiosk.db import WriterBusy, connect, get_db, immediate
from kiosk.imports import importer
from tests.conftest import make_station
from test_importer import dump, upload, import_client  # noqa: F401  (a fixture)


def attendee_file(count, first=0, existing=()):
    """COUNT new attendees (cheap rows: a name, an e-mail, a morning session), after EXISTING (e-mail, name) rows."""
    lines = ["Naam;E-mail;Organisatie;Ochtend"]
    lines += [f"{name};{email};Gemeente Nieuw;" for email, name in existing]
    lines += [f"Persoon {n};p{n}@example.org;Gemeente {n % 40};" for n in range(first, first + count)]
    return ("\n".join(lines) + "\n").encode()


def current_codes(db, count):
    return [row[0] for row in db.execute("SELECT code FROM badges WHERE replaced_at IS NULL LIMIT ?", [count])]


@pytest.mark.slow
def test_a_200000_row_import_keeps_scans_moving(demo_app, demo_db, import_client):
    _station, token, _secret = make_station(demo_db, "Door")
    codes = current_codes(demo_db, 100)
    data = attendee_file(200_000)
    preview = upload(import_client, "attendees", "groot.csv", data)
    token_field = re.search(r'name="token" value="([0-9a-f]+)"', preview.text).group(1)

    finished = {}

    def commit():
        started = time.monotonic()
        finished["response"] = import_client.post(
            "/admin/import/commit", data={"token": token_field, "kind": "attendees", "filename": "groot.csv"}
        )
        finished["seconds"] = time.monotonic() - started

    scanner = demo_app.test_client()
    importing = threading.Thread(target=commit)
    waits = []
    importing.start()
    while importing.is_alive():  # a door scanning at 20 per second through the API
        started = time.monotonic()
        answer = scanner.post("/api/v1/scans", json={"code": codes[len(waits) % len(codes)]},
                              headers={"Authorization": f"Bearer {token}"})
        waits.append(time.monotonic() - started)
        assert answer.status_code == 200, answer.data
        time.sleep(max(0.0, 0.05 - waits[-1]))
    importing.join()

    assert finished["response"].status_code == 303
    assert demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0] == 350 + 200_000
    assert len(waits) >= 20 * finished["seconds"] * 0.5, (len(waits), finished["seconds"])
    assert max(waits) < 0.25, f"a scan waited {max(waits) * 1000:.0f} ms; slowest: {sorted(waits)[-5:]}"


def test_an_import_that_fails_on_its_last_row_changes_nothing(demo_app, demo_db):
    existing = [(row["email"], row["name"]) for row in demo_db.query(
        "SELECT email, name FROM attendees WHERE email IS NOT NULL ORDER BY id LIMIT 100")]
    data = attendee_file(20_000, existing=existing)
    # The very last write of the import is the badge of the file's last attendee: the database refuses it.
    last_id = demo_db.execute("SELECT max(id) FROM attendees").fetchone()[0] + 20_000
    demo_db.execute(f"""CREATE TRIGGER refuse_the_last_badge BEFORE INSERT ON badges WHEN NEW.attendee_id = {last_id}
        BEGIN SELECT RAISE(ABORT, 'refused by the test'); END""")
    before = dump(demo_db)
    db = connect(demo_app.config["DATABASE"])
    with demo_app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(importer.ImportRejected) as rejected:
            importer.import_attendees(db, data, filename="deelnemers.csv")
    assert rejected.value.problems == [
        "the database refused the import (refused by the test); nothing was imported"
    ]
    assert dump(demo_db) == before
    demo_db.execute("DROP TRIGGER refuse_the_last_badge")
    with demo_app.test_request_context():
        report = importer.import_attendees(db, data, filename="deelnemers.csv")
    assert (report["added"], report["updated"], report["badges"]) == (20_000, 100, 20_000)


def test_an_import_checked_while_the_attendees_changed_writes_nothing(demo_app, demo_db, monkeypatch):
    db = connect(demo_app.config["DATABASE"])
    write_in_steps = importer.write_in_steps

    def someone_adds_an_attendee_first(database, plan):  # between the check and the first write
        demo_db.execute("INSERT INTO attendees (name, created_at, updated_at) VALUES ('Nieuw', 'x', 'x')")
        write_in_steps(database, plan)

    monkeypatch.setattr(importer, "write_in_steps", someone_adds_an_attendee_first)
    before = demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0]
    with demo_app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(importer.ImportRejected) as rejected:
            importer.import_attendees(db, attendee_file(10), filename="deelnemers.csv")
    assert rejected.value.problems == [
        "the attendees changed while the file was checked; nothing was imported: import the file again"
    ]
    assert demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0] == before + 1


def test_a_writer_waiting_on_another_thread_gives_up_at_its_deadline(tmp_path):
    holder, waiter = connect(tmp_path / "k.db"), connect(tmp_path / "k.db", writer_wait=0.2)
    holding, release = threading.Event(), threading.Event()

    def hold():
        with immediate(holder):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    started = time.monotonic()
    with pytest.raises(WriterBusy):
        with immediate(waiter):
            pass
    assert 0.15 < time.monotonic() - started < 1.0
    release.set()
    thread.join()
    with immediate(waiter):  # and once the lock is free, it writes
        waiter.execute("CREATE TABLE t (x)")


def test_a_writer_waiting_on_another_process_gives_up_at_its_deadline(tmp_path):
    path = tmp_path / "k.db"
    waiter = connect(path, writer_wait=0.2)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)", f"{path}-writelock"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(WriterBusy):
            with immediate(waiter):
                pass
        assert 0.15 < time.monotonic() - started < 1.0
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_the_app_sets_each_connections_writer_deadline(demo_app):
    demo_app.config["WRITER_WAIT_SECONDS"] = 0.5
    with demo_app.test_request_context():
        assert get_db().writer_wait == 0.5
