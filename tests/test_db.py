"""The connection settings and versioned migrations."""

import sqlite3

import pytest

from kiosk.db import connect, immediate, migrate, migrations


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
