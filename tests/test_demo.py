"""The demo event: a realistic, deterministic G40 network day."""

from datetime import date

import pytest

from kiosk import demo
from kiosk.db import connect, migrate


@pytest.fixture
def demo_built(tmp_path):
    database = connect(tmp_path / "demo.db")
    migrate(database)
    summary = demo.build_demo(database, event_date="2027-04-15")
    yield database, summary
    database.close()


def content(database):
    """Everything the demo decides, without what is random by design (badge codes) or time-stamped."""
    return {
        "attendees": list(database.query(
            "SELECT id, registration_id, first_name, name_prefix, last_name, name, email, organisation, role, "
            "status, extra, search_text FROM attendees ORDER BY id")),
        "choices": list(database.query("SELECT * FROM choices ORDER BY attendee_id, block_id")),
        "sessions": list(database.query("SELECT * FROM sessions ORDER BY id")),
        "rooms": list(database.query("SELECT * FROM rooms ORDER BY id")),
        "blocks": list(database.query("SELECT * FROM blocks ORDER BY id")),
        "event": list(database.query("SELECT * FROM event")),
    }


def test_summary_and_event(demo_built):
    database, summary = demo_built
    assert summary == {"attendees": 350, "sessions": 19, "rooms": 10}
    assert demo.has_event(database)
    (event,) = database.query("SELECT * FROM event")
    assert event["name"] == "Tweede ambtelijke netwerkdag G40"
    assert event["date"] == "2027-04-15" and date(2027, 4, 15).weekday() == 3  # a Thursday
    assert event["venue"] == "Stadhuis Zaanstad, Stadhuisplein 100, Zaandam"
    assert (event["timezone"], event["language"]) == ("Europe/Amsterdam", "nl")


def test_default_date_is_today_at_the_venue(tmp_path):
    database = connect(tmp_path / "k.db")
    migrate(database)
    demo.build_demo(database, attendees=5)
    assert database.execute("SELECT date FROM event").fetchone()[0] == demo.today_in_amsterdam().isoformat()


def test_has_event_on_an_empty_database(tmp_path):
    database = connect(tmp_path / "k.db")
    migrate(database)
    assert not demo.has_event(database)


def test_names_are_realistic(demo_built):
    database, _ = demo_built
    rows = list(database.query("SELECT * FROM attendees"))
    names = " ".join(r["name"] for r in rows)
    assert any(c in names for c in "ëéçöşÖÇ")
    assert sum(1 for r in rows if r["name_prefix"]) > 50
    assert all(r["email"] == r["email"].lower() and r["email"].isascii() for r in rows)
    assert len({r["email"] for r in rows}) == len(rows)
    organisations = {r["organisation"] for r in rows}
    assert len(organisations & {f"Gemeente {m}" for m in demo.MUNICIPALITIES}) >= 35
    assert {r["role"] for r in rows} >= {"pijlervertegenwoordiger", "lid themagroep", "coördinator", "lobbyist"}
    cancelled = sum(1 for r in rows if r["status"] == "cancelled")
    assert 1 <= cancelled <= 20


def test_g40_has_41_members():
    assert len(demo.MUNICIPALITIES) == len(set(demo.MUNICIPALITIES)) == 41


def test_every_attendee_has_one_badge(demo_built):
    database, _ = demo_built
    assert database.execute(
        "SELECT count(*) FROM attendees WHERE id NOT IN (SELECT attendee_id FROM badges WHERE replaced_at IS NULL)"
    ).fetchone()[0] == 0
    assert database.execute("SELECT count(*) FROM badges").fetchone()[0] == 350


def test_program_follows_the_seed_page(demo_built):
    database, _ = demo_built
    blocks = [(b["name"], b["starts_at"], b["ends_at"]) for b in database.query("SELECT * FROM blocks ORDER BY starts_at")]
    assert blocks[0] == ("Opening", "09:30", "10:45") and blocks[-1] == ("Afsluiting", "15:15", "16:30")
    walks = list(database.query("SELECT * FROM sessions WHERE kind = 'walk'"))
    assert {w["title"] for w in walks} == {
        "Stadswandeling Monet", "Stadswandeling MAAK Centrum", "Stadswandeling Zaanse Houtbouw"}
    assert all(w["place_limit"] == 25 and w["meeting_point"] and w["room_id"] is None for w in walks)
    assert database.execute("SELECT count(*) FROM sessions WHERE kind = 'break'").fetchone()[0] == 1
    assert all(s["description"] for s in database.query("SELECT description FROM sessions"))
    assert database.execute("SELECT count(*) FROM occupancy WHERE inside = 0").fetchone()[0] == 10


def test_choices_are_consistent_with_the_program(demo_built):
    database, _ = demo_built
    assert database.execute(
        "SELECT count(*) FROM choices JOIN sessions ON sessions.id = choices.session_id "
        "WHERE sessions.block_id != choices.block_id"
    ).fetchone()[0] == 0
    lobbyists = database.execute(
        """SELECT count(*) FROM attendees JOIN choices ON choices.attendee_id = attendees.id
           JOIN sessions ON sessions.id = choices.session_id JOIN blocks ON blocks.id = choices.block_id
           WHERE attendees.role = 'lobbyist' AND blocks.name = 'Ochtendsessies' AND sessions.title != 'Lobbyistenoverleg'"""
    ).fetchone()[0]
    assert lobbyists == 0


def test_some_sessions_are_over_capacity(demo_built):
    database, _ = demo_built
    rows = list(database.query(
        """SELECT sessions.title, coalesce(sessions.place_limit, rooms.capacity) AS places,
                  count(attendees.id) AS registered
           FROM sessions LEFT JOIN rooms ON rooms.id = sessions.room_id
           LEFT JOIN choices ON choices.session_id = sessions.id
           LEFT JOIN attendees ON attendees.id = choices.attendee_id AND attendees.status = 'registered'
           GROUP BY sessions.id"""
    ))
    full = [r["title"] for r in rows if r["registered"] > r["places"]]
    assert 2 <= len(full) <= 10
    assert "Stadswandeling Monet" in full
    # The plenary rooms hold everyone.
    assert all(r["registered"] <= r["places"] for r in rows if r["title"].startswith(("Opening", "Afsluiting")))


def test_rebuild_is_deterministic_and_replaces_everything(demo_built, tmp_path):
    database, _ = demo_built
    first = content(database)
    database.execute("INSERT INTO users (email, password_hash, role, created_at) VALUES ('o@x.nl', 'x', 'organiser', 't')")
    assert demo.build_demo(database, event_date="2027-04-15") == {"attendees": 350, "sessions": 19, "rooms": 10}
    assert content(database) == first
    assert database.execute("SELECT count(*) FROM badges").fetchone()[0] == 350
    # Accounts stay, so an organiser who rebuilds the demo is still logged in.
    assert database.execute("SELECT count(*) FROM users").fetchone()[0] == 1

    other = connect(tmp_path / "other.db")
    migrate(other)
    demo.build_demo(other, event_date="2027-04-15")
    assert content(other) == first
    demo.build_demo(other, event_date="2027-04-15", seed=14)
    assert content(other)["attendees"] != first["attendees"]


def test_rebuild_clears_scans_and_stations(demo_built):
    database, _ = demo_built
    database.execute(
        "INSERT INTO stations (name, mode, token_hash, created_at) VALUES ('Entrance', 'entrance', 'h', 't')"
    )
    database.execute(
        "INSERT INTO scans (created_at, kind, code, attendee_id, outcome) VALUES ('t', 'scan', 'K1-X', 1, 'checked_in')"
    )
    database.execute("INSERT INTO presence (attendee_id, checked_in_at, checkin_scan_id) VALUES (1, 't', 1)")
    demo.build_demo(database, attendees=10)
    for table in ("stations", "scans", "presence"):
        assert database.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    assert database.execute("SELECT count(*) FROM attendees").fetchone()[0] == 10


def test_the_demo_csv_files_import_on_their_own(tmp_path):
    from kiosk.imports import importer

    database = connect(tmp_path / "k.db")
    migrate(database)
    importer.import_program(database, demo.program_csv(), filename="programma.csv")
    report = importer.import_attendees(database, demo.attendees_csv(attendees=40), filename="deelnemers.csv")
    assert report["added"] == 40
