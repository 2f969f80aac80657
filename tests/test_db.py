"""The connection settings and versioned migrations.

WAL and connection settings, migrations of an older file in place, foreign keys, a nested write
transaction that commits or rolls back with the outer one, and the checkpointer thread copying
the WAL into the database file, coming back soon while writes come in and less and less often
in a pause.
"""

import sqlite3

import pytest

from kiosk.db import connect, immediate, migrate, migrations, savepoint


def test_connection_settings(tmp_path):
    db = connect(tmp_path / "k.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_migrations_upgrade_an_older_file_in_place(tmp_path):
    path = tmp_path / "old.db"
    db = connect(path)
    first = migrations._migrations[0].name
    second = migrations._migrations[1].name
    migrations.apply(db, stop_before=second)
    assert [m.name for m in migrations.applied(db)] == [first]
    db.execute("INSERT INTO rooms (name, capacity) VALUES ('Raadzaal', 200)")
    db.close()

    db = connect(path)
    migrate(db)
    assert [m.name for m in migrations.applied(db)] == [m.name for m in migrations._migrations]
    assert db.execute("SELECT name FROM rooms").fetchall() == [("Raadzaal",)]
    assert db["station_devices"].exists()
    migrate(db)  # a second run changes nothing
    assert len(migrations.applied(db)) == len(migrations._migrations)


def test_foreign_keys_are_enforced(tmp_path):
    db = connect(tmp_path / "k.db")
    migrate(db)
    try:
        db.execute("INSERT INTO choices (attendee_id, block_id, session_id) VALUES (1, 1, 1)")
    except sqlite3.IntegrityError:
        pass
    else:
        raise AssertionError("a choice for a missing attendee was accepted")


def test_a_nested_write_transaction_joins_the_outer_one(tmp_path):
    """A scan and the rate limit it counts commit together, or not at all."""
    db = connect(tmp_path / "k.db")
    migrate(db)
    other = connect(tmp_path / "k.db")
    insert = "INSERT INTO rate_limits (bucket, key, window_start, hits) VALUES (?, ?, 0, 1)"
    with immediate(db):
        db.execute(insert, ["outer", "a"])
        with immediate(db):
            db.execute(insert, ["inner", "a"])
        # The inner block ended, but nothing is committed until the outer one does.
        assert other.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 0
    assert other.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 2

    with pytest.raises(RuntimeError):
        with immediate(db):
            with immediate(db):
                db.execute(insert, ["inner", "b"])
            raise RuntimeError("the outer work failed")
    assert other.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 2
    with immediate(db):  # and the connection is usable again
        db.execute(insert, ["after", "c"])
    assert other.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 3


def test_a_failing_savepoint_undoes_only_its_own_writes(tmp_path):
    """A step that raises is undone and its error kept; the transaction goes on and commits the rest."""
    db = connect(tmp_path / "k.db")
    migrate(db)
    insert = "INSERT INTO rate_limits (bucket, key, window_start, hits) VALUES (?, ?, 0, 1)"
    with immediate(db):
        with savepoint(db) as kept:
            db.execute(insert, ["kept", "a"])
        with savepoint(db) as undone:
            db.execute(insert, ["undone", "a"])
            raise RuntimeError("this step fails")
    assert kept.error is None and str(undone.error) == "this step fails"
    assert db.execute("SELECT bucket FROM rate_limits").fetchall() == [("kept",)]
    with pytest.raises(KeyboardInterrupt), immediate(db), savepoint(db):
        db.execute(insert, ["interrupted", "a"])
        raise KeyboardInterrupt  # not an Exception: the whole transaction is rolled back
    assert db.execute("SELECT bucket FROM rate_limits").fetchall() == [("kept",)]


def test_scan_indexes_become_partial_and_still_answer_every_lookup(tmp_path):
    """m0006: rows without a room or an attendee leave the indexes; lookups of one room or attendee still use them."""
    db = connect(tmp_path / "old.db")
    migrations.apply(db, stop_before="m0006_partial_indexes_for_scans")
    room = db.execute("INSERT INTO rooms (name, capacity) VALUES ('Raadzaal', 200)").lastrowid
    for room_id in (None, room, room):
        db.execute(
            "INSERT INTO scans (created_at, kind, code, room_id, outcome) VALUES ('2026-11-28T09:00:00.000+00:00', 'scan', 'K1-X', ?, 'unknown')",
            [room_id],
        )
    migrate(db)
    sql = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE name IN ('scans_room', 'scans_attendee', 'presence_room')").fetchall())
    assert sql["scans_room"].endswith("WHERE room_id IS NOT NULL")
    assert sql["scans_attendee"].endswith("WHERE attendee_id IS NOT NULL")
    assert sql["presence_room"].endswith("WHERE room_id IS NOT NULL")

    def plan(query):
        return " ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + query, [1] * query.count("?")))

    assert "scans_room" in plan("SELECT id FROM scans WHERE room_id = ? ORDER BY id DESC LIMIT 1")
    assert "scans_attendee" in plan("SELECT id FROM scans WHERE attendee_id = ? AND id > ?")
    assert "presence_room" in plan("SELECT count(*) FROM presence WHERE room_id = ?")
    assert db.execute("SELECT count(*) FROM scans WHERE room_id = ?", [room]).fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 3
