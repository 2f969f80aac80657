"""kiosk backup while the server runs, restoring it, and kiosk purge after the event.

Three `kiosk backup` copies taken while the server takes scans are each consistent (integrity
check, counts equal the history) and restore to a working app. `kiosk purge` asks first, then
removes the personal data listed in docs/operations.md (Privacy) from tables, free pages and the
WAL, and keeps every count.
"""

import http.client
import json
import shutil
import threading
import time

from conftest import ORGANISER, LiveServer, login, make_app, make_station, personal_pages
from kiosk.data.scans import kept_state, replay
from kiosk.db import connect


def runner_on(path):
    app = make_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    return app, app.test_cli_runner()


def test_backup_while_the_server_takes_scans_is_consistent_and_restores(tmp_path, demo_template):
    path = tmp_path / "live.db"
    path.write_bytes(demo_template.read_bytes())
    db = connect(path)
    _, token, _ = make_station(db, "Backup entrance")
    codes = [row[0] for row in db.execute("SELECT code FROM badges WHERE replaced_at IS NULL ORDER BY id LIMIT 200")]
    db.close()
    server = LiveServer(path, tmp_path / "instance", workers=2, threads=4)
    stop, sent = threading.Event(), []

    def load():
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        deadline = time.monotonic() + 20
        for code in codes:
            if stop.is_set() or time.monotonic() > deadline:
                break
            connection.request("POST", "/api/v1/scans", body=json.dumps({"code": code}),
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            assert connection.getresponse().read()
            sent.append(code)
        connection.close()

    worker = threading.Thread(target=load, daemon=True)
    try:
        worker.start()
        while len(sent) < 20 and worker.is_alive():
            time.sleep(0.01)
        _app, runner = runner_on(path)
        backups = []
        for number in range(3):  # three copies while scans keep arriving
            target = tmp_path / f"backup-{number}.db"
            result = runner.invoke(args=["backup", str(target)])
            assert result.exit_code == 0, result.output
            assert result.output.count("\n") == 1 and result.output.startswith(f"backup written: {target}")
            backups.append(target)
        assert worker.is_alive() or len(sent) == len(codes), "the backups should overlap the load"
    finally:
        stop.set()
        worker.join(timeout=30)
        server.stop()
    for target in backups:
        copy = connect(target)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert kept_state(copy) == replay(copy)  # one snapshot: counts and history agree
        copy.close()
        assert not (tmp_path / f"{target.name}-wal").exists() or (tmp_path / f"{target.name}-wal").stat().st_size == 0
    checkins = [connect(t).execute("SELECT count(*) FROM presence").fetchone()[0] for t in backups]
    assert checkins == sorted(checkins) and checkins[0] >= 20

    # Restore as README says: stop the server, copy the backup over the database, start again.
    restored = tmp_path / "restored.db"
    shutil.copy(backups[-1], restored)
    app, _ = runner_on(restored)
    organiser = app.test_client()
    assert login(organiser, *ORGANISER).status_code == 303
    assert organiser.get("/admin/attendees").status_code == 200


def test_backup_refuses_to_overwrite_or_to_copy_onto_itself(tmp_path, demo_template):
    path = tmp_path / "kiosk.db"
    path.write_bytes(demo_template.read_bytes())
    _app, runner = runner_on(path)
    target = tmp_path / "copy.db"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code == 1 and "exists" in again.output
    assert runner.invoke(args=["backup", "--force", str(target)]).exit_code == 0
    itself = runner.invoke(args=["backup", "--force", str(path)])
    assert itself.exit_code == 1 and "another file" in itself.output


def personal_values(db):
    """Every full name, e-mail address, registration id and badge code in DB."""
    values = set()
    for row in db.execute("SELECT name, email, registration_id FROM attendees"):
        values.update(v for v in row if v and len(v) >= 4)
    for code, short in db.execute("SELECT code, short_code FROM badges"):
        values.update((code, short))
    return values


def test_purge_removes_personal_data_and_keeps_the_counts(tmp_path, demo_template):
    path = tmp_path / "kiosk.db"
    path.write_bytes(demo_template.read_bytes())
    app, runner = runner_on(path)
    db = connect(path)
    _, token, _ = make_station(db, "Purge entrance")
    _, door, _ = make_station(db, "Purge door", mode="room", room_name="Raadzaal")
    codes = [row[0] for row in db.execute(
        """SELECT badges.code FROM badges JOIN attendees ON attendees.id = badges.attendee_id
           WHERE attendees.status = 'registered' ORDER BY badges.id LIMIT 40""")]
    client = app.test_client()
    for code in codes:
        client.post("/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {token}"})
    for code in codes[:15]:
        client.post("/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {door}"})
    organiser = app.test_client()
    login(organiser, *ORGANISER)
    organiser.post("/badges/attendee/1/reissue")
    from kiosk.data.audit import record

    name, email = db.execute("SELECT name, email FROM attendees WHERE id = 2").fetchone()
    record(db, ORGANISER[0], "edit attendee", f"{name} <{email}>: organisation changed")  # names a person
    personal_pages(db, 3)  # personal links and waiting lists, of a registrant and of someone only waiting
    secrets = personal_values(db)
    before = {
        "state": kept_state(db),
        "scans": db.execute("SELECT count(*) FROM scans").fetchone()[0],
        "per_organisation": db.execute(
            """SELECT organisation, count(*), count(presence.attendee_id) FROM attendees
               LEFT JOIN presence ON presence.attendee_id = attendees.id GROUP BY organisation""").fetchall(),
        "attendees": db.execute("SELECT count(*) FROM attendees").fetchone()[0],
    }
    db.close()

    refused = runner.invoke(args=["purge"], input="n\n")
    assert refused.exit_code == 1
    db = connect(path)
    assert personal_values(db) == secrets
    db.close()

    result = runner.invoke(args=["purge"], input="y\n")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("personal data purged: ")

    db = connect(path)
    assert db.execute("SELECT count(*) FROM attendees").fetchone()[0] == before["attendees"]
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == before["scans"] + 0
    assert kept_state(db) == before["state"] == replay(db)
    assert db.execute(
        """SELECT organisation, count(*), count(presence.attendee_id) FROM attendees
           LEFT JOIN presence ON presence.attendee_id = attendees.id GROUP BY organisation""").fetchall() == before["per_organisation"]
    assert db.execute("SELECT count(*) FROM badges").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM scans WHERE code IS NOT NULL OR response IS NOT NULL").fetchone()[0] == 0
    assert db.execute(
        """SELECT count(*) FROM attendees WHERE email IS NOT NULL OR registration_id IS NOT NULL OR first_name != ''
           OR last_name != '' OR role != '' OR extra != '{}' OR search_text != '' OR name != 'attendee ' || id"""
    ).fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 0
    for table in ("outbox", "waiting_list", "registration_links", "waiting_links"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    assert db.execute("SELECT detail FROM audit_log WHERE action = 'edit attendee'").fetchone()[0] == (
        "[removed] <[removed]>: organisation changed")
    db.close()
    # Nothing left anywhere in the file: not in a table, a free page or the WAL.
    raw = path.read_bytes() + (path.with_name(path.name + "-wal").read_bytes()
                               if path.with_name(path.name + "-wal").exists() else b"")
    leaked = [value for value in secrets if value.encode() in raw]
    assert leaked == []
    # The organiser pages still work on the purged event, with counts.
    organiser = app.test_client()
    login(organiser, *ORGANISER)
    assert organiser.get("/").status_code == 200
    assert organiser.get("/admin/exports/attendees.csv").status_code == 200


def test_purge_with_yes_asks_nothing(tmp_path, demo_template):
    path = tmp_path / "kiosk.db"
    path.write_bytes(demo_template.read_bytes())
    _app, runner = runner_on(path)
    result = runner.invoke(args=["purge", "--yes"])
    assert result.exit_code == 0
    assert result.output.count("\n") == 1 and "350 attendees" in result.output
