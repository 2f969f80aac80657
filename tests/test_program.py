"""The program in the browser: rooms, time blocks and sessions added, changed and removed with their checks
(a chosen session is not removed, a capacity below the count inside is saved with a warning), live
counts and versions that change at once, and a program import that updates what the pages made."""

import io
import re

from conftest import ORGANISER
from kiosk.data import rooms as rooms_data


def _audit(db, action):
    return db.execute("SELECT actor, created_at, detail FROM audit_log WHERE action = ?", [action]).fetchall()


def _flashes(client):
    return client.get("/admin/program").get_data(as_text=True)


def test_add_edit_and_remove_a_room_block_and_session(organiser_client, demo_db):
    assert organiser_client.post("/admin/program/rooms", data={"name": "Kelderzaal", "capacity": "30",
                                                               "has_exit_scan": "1"}).status_code == 303
    room_id, capacity, exit_scan = demo_db.execute(
        "SELECT id, capacity, has_exit_scan FROM rooms WHERE name = 'Kelderzaal'").fetchone()
    assert (capacity, exit_scan) == (30, 1)
    assert demo_db.execute("SELECT inside FROM occupancy WHERE room_id = ?", [room_id]).fetchone()[0] == 0
    assert organiser_client.post("/admin/program/blocks", data={"name": "Avond", "starts_at": "19:00",
                                                                "ends_at": "21:00"}).status_code == 303
    block_id = demo_db.execute("SELECT id FROM blocks WHERE name = 'Avond'").fetchone()[0]
    assert organiser_client.post("/admin/program/sessions", data={
        "title": "Avondsessie", "block_id": block_id, "kind": "session", "room_id": room_id, "place_limit": "",
        "description": "Over de kelder"}).status_code == 303
    session_id = demo_db.execute("SELECT id FROM sessions WHERE title = 'Avondsessie'").fetchone()[0]
    assert "Avondsessie" in organiser_client.get("/admin/program").get_data(as_text=True)
    assert organiser_client.post(f"/admin/program/sessions/{session_id}", data={
        "title": "Avondsessie", "block_id": block_id, "kind": "walk", "room_id": "", "meeting_point": "Hal",
        "place_limit": "12"}).status_code == 303
    assert demo_db.execute("SELECT kind, room_id, meeting_point, place_limit FROM sessions WHERE id = ?",
                           [session_id]).fetchone() == ("walk", None, "Hal", 12)
    # A block with sessions, a room with sessions: not removed, and the page says why.
    organiser_client.post(f"/admin/program/sessions/{session_id}", data={
        "title": "Avondsessie", "block_id": block_id, "kind": "session", "room_id": room_id})
    organiser_client.post(f"/admin/program/blocks/{block_id}/remove")
    organiser_client.post(f"/admin/program/rooms/{room_id}/remove")
    page = _flashes(organiser_client)
    assert "Avond holds 1 sessions" in page and "Kelderzaal holds 1 sessions" in page
    assert organiser_client.post(f"/admin/program/sessions/{session_id}/remove").status_code == 303
    assert organiser_client.post(f"/admin/program/blocks/{block_id}/remove").status_code == 303
    assert organiser_client.post(f"/admin/program/rooms/{room_id}/remove").status_code == 303
    assert demo_db.execute("SELECT count(*) FROM rooms WHERE id = ?", [room_id]).fetchone()[0] == 0
    for action in ("room.add", "block.add", "session.add", "session.edit", "session.remove", "block.remove", "room.remove"):
        assert [actor for actor, at, _ in _audit(demo_db, action) if at] == [ORGANISER[0]] * len(_audit(demo_db, action)) != []


def test_a_chosen_session_is_not_removed_and_the_page_says_how_many_chose_it(organiser_client, demo_db):
    session_id, title, chosen = demo_db.execute(
        """SELECT sessions.id, sessions.title, count(*) FROM sessions JOIN choices ON choices.session_id = sessions.id
           GROUP BY sessions.id ORDER BY count(*) DESC LIMIT 1""").fetchone()
    response = organiser_client.post(f"/admin/program/sessions/{session_id}/remove", follow_redirects=True)
    assert f"{chosen} people chose “{title}”" in response.get_data(as_text=True)
    assert demo_db.execute("SELECT count(*) FROM sessions WHERE id = ?", [session_id]).fetchone()[0] == 1
    assert _audit(demo_db, "session.remove") == []


def test_validation_names_times_numbers_and_rooms_in_use(organiser_client, demo_db):
    name = demo_db.execute("SELECT name FROM rooms ORDER BY id LIMIT 1").fetchone()[0]
    page = organiser_client.post("/admin/program/rooms", data={"name": name.upper(), "capacity": "-3"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "There is already a room called" in text and "whole number" in text
    page = organiser_client.post("/admin/program/blocks", data={"name": "Laat", "starts_at": "18:00", "ends_at": "17:00"})
    assert page.status_code == 422 and "must end after it starts" in page.get_data(as_text=True)
    block_id, room_id, title = demo_db.execute(
        "SELECT block_id, room_id, title FROM sessions WHERE room_id IS NOT NULL AND kind = 'session' LIMIT 1").fetchone()
    page = organiser_client.post("/admin/program/sessions", data={"title": "Dubbel geboekt", "block_id": block_id,
                                                                  "kind": "session", "room_id": room_id})
    assert page.status_code == 422 and f"That room already holds “{title}”" in page.get_data(as_text=True)
    assert demo_db.execute("SELECT count(*) FROM sessions WHERE title = 'Dubbel geboekt'").fetchone()[0] == 0


def test_a_capacity_below_the_count_inside_is_saved_with_a_warning_and_counts_change_at_once(demo_app, organiser_client, demo_db):
    room = demo_db.execute("SELECT id, name, location FROM rooms ORDER BY id LIMIT 1").fetchone()
    demo_db.execute("UPDATE occupancy SET inside = 10, anonymous = 10 WHERE room_id = ?", [room[0]])
    with demo_app.app_context():
        before_room = rooms_data.room_version(demo_db, room[0])
        before_wall = rooms_data.wall_version(demo_db)
    page = organiser_client.post(f"/admin/program/rooms/{room[0]}", data={"name": room[1], "capacity": "8",
                                                                          "location": room[2]}, follow_redirects=True)
    assert "fewer (8) than are counted inside (10)" in page.get_data(as_text=True)
    counts = rooms_data.room_occupancy(demo_db, room[0], schedule=False)
    assert counts["capacity"] == 8 and counts["level"] == "full" and counts["alert"] == "full"
    with demo_app.app_context():
        assert rooms_data.room_version(demo_db, room[0]) != before_room
        assert rooms_data.wall_version(demo_db) != before_wall
    assert "room.edit" in {row[0] for row in demo_db.execute("SELECT action FROM audit_log")}


def test_a_session_cannot_move_to_another_block_once_chosen(organiser_client, demo_db):
    session = demo_db.execute(
        """SELECT sessions.id, sessions.title, sessions.block_id FROM sessions
           WHERE EXISTS (SELECT 1 FROM choices WHERE session_id = sessions.id) LIMIT 1""").fetchone()
    other = demo_db.execute("SELECT id FROM blocks WHERE id != ? LIMIT 1", [session[2]]).fetchone()[0]
    page = organiser_client.post(f"/admin/program/sessions/{session[0]}", data={"title": session[1], "block_id": other,
                                                                               "kind": "walk"})
    assert page.status_code == 422 and "cannot move to another block" in page.get_data(as_text=True)


def test_an_import_updates_what_the_pages_made(organiser_client, demo_db):
    organiser_client.post("/admin/program/rooms", data={"name": "Zolder", "capacity": "20"})
    room_id = demo_db.execute("SELECT id FROM rooms WHERE name = 'Zolder'").fetchone()[0]
    organiser_client.post("/admin/program/blocks", data={"name": "Nacht", "starts_at": "22:00", "ends_at": "23:00"})
    block_id = demo_db.execute("SELECT id FROM blocks WHERE name = 'Nacht'").fetchone()[0]
    organiser_client.post("/admin/program/sessions", data={"title": "Sterren kijken", "block_id": block_id,
                                                           "kind": "session"})
    rooms, blocks, sessions = (demo_db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("rooms", "blocks", "sessions"))
    csv_file = "Blok;Begin;Einde;Sessie;Zaal;Capaciteit\nnacht;22:00;23:30;Sterren Kijken;ZOLDER;25\n".encode()
    preview = organiser_client.post("/admin/import/preview", data={"kind": "program", "file": (io.BytesIO(csv_file), "p.csv")},
                                    content_type="multipart/form-data").get_data(as_text=True)
    form = {name: re.search(rf'name="{name}" value="([^"]*)"', preview).group(1) for name in ("token", "filename")}
    assert organiser_client.post("/admin/import/commit", data=dict(form, kind="program")).status_code == 303
    assert [demo_db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("rooms", "blocks", "sessions")] == [rooms, blocks, sessions]
    # Matched by name ignoring case: the same room, its capacity and spelling as the file has them.
    assert demo_db.execute("SELECT capacity, name FROM rooms WHERE id = ?", [room_id]).fetchone() == (25, "ZOLDER")
    assert demo_db.execute("SELECT ends_at FROM blocks WHERE id = ?", [block_id]).fetchone()[0] == "23:30"
    assert demo_db.execute("SELECT room_id IS NOT NULL FROM sessions WHERE block_id = ?", [block_id]).fetchone()[0] == 1


def test_a_new_session_shows_where_sessions_show(organiser_client, host_client, demo_db):
    room_id = demo_db.execute("SELECT id FROM rooms ORDER BY id LIMIT 1").fetchone()[0]
    organiser_client.post("/admin/program/blocks", data={"name": "Extra", "starts_at": "23:00", "ends_at": "23:59"})
    extra = demo_db.execute("SELECT id FROM blocks WHERE name = 'Extra'").fetchone()[0]
    assert organiser_client.post("/admin/program/sessions", data={"title": "Nachtsessie", "block_id": extra,
                                                                  "kind": "session", "room_id": room_id}).status_code == 303
    session_id = demo_db.execute("SELECT id FROM sessions WHERE title = 'Nachtsessie'").fetchone()[0]
    assert "Nachtsessie" in host_client.get(f"/rooms/sessions/{session_id}").get_data(as_text=True)
    assert "Nachtsessie" in organiser_client.get("/admin/program").get_data(as_text=True)
    assert "Nachtsessie" in organiser_client.get("/admin/attendees/new").get_data(as_text=True)
    assert "Nachtsessie" in organiser_client.get("/admin/attendees").get_data(as_text=True)  # the session filter
