"""People in the browser's pages: adding (with the duplicate warning), editing names (search stays right),
session places with the organiser's override, cancel and reinstate, check-in by hand with a reason, the
attendee list's filters, sort, count, short-code search and bulk print/export, the desk's walk-ins and
override, and that no GET writes."""

import csv
import io

import pytest

from conftest import ORGANISER, login, make_station
from kiosk.data import people as people_data
from kiosk.data.rooms import places_of
from kiosk.text import fold


def _rows(db, sql, params=()):
    return db.execute(sql, params).fetchall()


def _audit(db, action):
    return _rows(db, "SELECT actor, created_at, detail FROM audit_log WHERE action = ?", [action])


def _form(**values):
    base = {"first_name": "", "name_prefix": "", "last_name": "", "email": "", "organisation": "", "role": ""}
    return dict(base, **values)


def test_add_an_attendee_with_a_badge_and_sessions(organiser_client, demo_db):
    free = [s for s in people_data.sessions_for_choice(demo_db) if places_of(s) is None or places_of(s) > s["registered"]]
    block_id, session_id = free[0]["block_id"], free[0]["id"]
    response = organiser_client.post("/admin/attendees/new", data=_form(
        first_name="Wendy", name_prefix="van der", last_name="Loop", email="wendy@walkin.example",
        organisation="Gemeente Nergens", role="Beleidsadviseur", **{f"block-{block_id}": str(session_id)}))
    assert response.status_code == 303
    attendee_id = int(response.headers["Location"].rsplit("/", 1)[1])
    row = demo_db.execute("SELECT name, search_text, status FROM attendees WHERE id = ?", [attendee_id]).fetchone()
    assert row[0] == "Wendy van der Loop" and row[2] == "registered"
    assert "wendy van der loop" in row[1] and "gemeente nergens" in row[1]
    assert _rows(demo_db, "SELECT session_id FROM choices WHERE attendee_id = ?", [attendee_id]) == [(session_id,)]
    assert _rows(demo_db, "SELECT count(*) FROM badges WHERE attendee_id = ? AND replaced_at IS NULL", [attendee_id]) == [(1,)]
    assert [actor for actor, _at, _d in _audit(demo_db, "attendee.add")] == [ORGANISER[0]]


def test_a_possible_duplicate_is_shown_before_saving(organiser_client, demo_db):
    name, organisation, email = demo_db.execute(
        "SELECT name, organisation, email FROM attendees WHERE email IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    before = demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0]
    # Same e-mail in another case:
    page = organiser_client.post("/admin/attendees/new", data=_form(first_name="Iemand", last_name="Anders",
                                                                    email=email.upper()))
    assert page.status_code == 422 and 'id="duplicates"' in page.get_data(as_text=True)
    assert name in page.get_data(as_text=True)
    # Same name and organisation, folded (no e-mail):
    first, _, last = name.partition(" ")
    page = organiser_client.post("/admin/attendees/new", data=_form(first_name=first, last_name=last,
                                                                    organisation=organisation.upper()))
    assert page.status_code == 422 and 'id="duplicates"' in page.get_data(as_text=True)
    assert demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0] == before
    confirmed = organiser_client.post("/admin/attendees/new", data=_form(first_name=first, last_name=last,
                                                                         organisation=organisation, confirm_duplicate="1"))
    assert confirmed.status_code == 303
    assert demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0] == before + 1


def test_adding_needs_a_name_and_a_real_e_mail(organiser_client, demo_db):
    before = demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0]
    page = organiser_client.post("/admin/attendees/new", data=_form(email="not an address"))
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "Give a first name or a last name." in text and "is not an e-mail address" in text
    assert demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0] == before


def test_editing_a_name_keeps_search_right_and_is_audited(organiser_client, demo_db):
    response = organiser_client.post("/admin/attendees/1/edit", data=_form(
        first_name="Zoë", name_prefix="de", last_name="Vries-Çelik", email="zoe@nieuw.example", organisation="Nieuwe Org"))
    assert response.status_code == 303
    name, search = demo_db.execute("SELECT name, search_text FROM attendees WHERE id = 1").fetchone()
    assert name == "Zoë de Vries-Çelik" and search == fold("Zoë de Vries-Çelik Nieuwe Org zoe@nieuw.example")
    found = people_data.list_attendees(demo_db, {"q": "zoe celik"})
    assert [row["id"] for row in found] == [1]
    (actor, created, detail), = _audit(demo_db, "attendee.edit")
    assert actor == ORGANISER[0] and created and "Zoë de Vries-Çelik" in detail


def _full_session(db):
    """A session with a place limit, filled up to it by registered attendees other than attendee 1."""
    block_id, session_id = db.execute("SELECT block_id, id FROM sessions WHERE kind = 'session' ORDER BY id LIMIT 1").fetchone()
    db.execute("UPDATE sessions SET place_limit = 2 WHERE id = ?", [session_id])
    db.execute("DELETE FROM choices WHERE session_id = ?", [session_id])
    for attendee_id in (2, 3):
        db.execute("DELETE FROM choices WHERE attendee_id = ? AND block_id = ?", [attendee_id, block_id])
        db.execute("INSERT INTO choices VALUES (?, ?, ?)", [attendee_id, block_id, session_id])
    db.execute("UPDATE attendees SET status = 'registered' WHERE id IN (1, 2, 3)")
    return block_id, session_id


def test_session_places_are_respected_unless_the_organiser_overrides(organiser_client, demo_db):
    block_id, session_id = _full_session(demo_db)
    refused = organiser_client.post("/admin/attendees/1/sessions", data={f"block-{block_id}": str(session_id)})
    assert refused.status_code == 422 and "is full (2 places)" in refused.get_data(as_text=True)
    assert (1, block_id, session_id) not in _rows(demo_db, "SELECT * FROM choices WHERE attendee_id = 1")
    allowed = organiser_client.post("/admin/attendees/1/sessions",
                                    data={f"block-{block_id}": str(session_id), "override_places": "1"})
    assert allowed.status_code == 303
    assert (1, block_id, session_id) in _rows(demo_db, "SELECT * FROM choices WHERE attendee_id = 1")
    assert "override" in _audit(demo_db, "attendee.sessions")[-1][2]
    # Keeping a session one already has in a full session is no new place.
    again = organiser_client.post("/admin/attendees/1/sessions", data={f"block-{block_id}": str(session_id)})
    assert again.status_code == 303


def test_cancel_reinstate_and_check_in_with_a_reason(organiser_client, demo_db):
    demo_db.execute("DELETE FROM presence WHERE attendee_id = 1")
    assert organiser_client.post("/admin/attendees/1/status", data={"status": "cancelled"}).status_code == 303
    assert demo_db.execute("SELECT status FROM attendees WHERE id = 1").fetchone()[0] == "cancelled"
    # Without a reason nothing is recorded.
    before = demo_db.execute("SELECT count(*) FROM scans").fetchone()[0]
    organiser_client.post("/admin/attendees/1/scan", data={"direction": "in"})
    assert demo_db.execute("SELECT count(*) FROM scans").fetchone()[0] == before
    organiser_client.post("/admin/attendees/1/scan", data={"direction": "in", "reason": "Paid at the door"})
    user_id = demo_db.execute("SELECT id FROM users WHERE email = ?", [ORGANISER[0]]).fetchone()[0]
    scan = demo_db.execute("SELECT outcome, override, reason, user_id, station_id FROM scans ORDER BY id DESC LIMIT 1").fetchone()
    assert scan == ("checked_in", 1, "Paid at the door", user_id, None)
    page = organiser_client.get("/admin/attendees/1").get_data(as_text=True)
    assert "Paid at the door" in page and ORGANISER[0] in page
    # Out: out of the room they are in (the arrival stays, as at an exit-scanning door).
    room_id = demo_db.execute("SELECT id FROM rooms ORDER BY id LIMIT 1").fetchone()[0]
    demo_db.execute("UPDATE presence SET room_id = ? WHERE attendee_id = 1", [room_id])
    assert "Check out of" in organiser_client.get("/admin/attendees/1").get_data(as_text=True)
    organiser_client.post("/admin/attendees/1/scan", data={"direction": "out"})
    assert demo_db.execute("SELECT outcome, user_id FROM scans ORDER BY id DESC LIMIT 1").fetchone() == ("checked_out", user_id)
    assert demo_db.execute("SELECT room_id FROM presence WHERE attendee_id = 1").fetchone()[0] is None
    assert organiser_client.post("/admin/attendees/1/status", data={"status": "registered"}).status_code == 303
    assert demo_db.execute("SELECT status FROM attendees WHERE id = 1").fetchone()[0] == "registered"
    assert [row[0] for row in _audit(demo_db, "attendee.cancel") + _audit(demo_db, "attendee.reinstate")] == [ORGANISER[0]] * 2


def _checked_in(app, db, attendee_ids):
    _, token, _ = make_station(db, "List entrance")
    for attendee_id in attendee_ids:
        code = db.execute("SELECT code FROM badges WHERE attendee_id = ? AND replaced_at IS NULL", [attendee_id]).fetchone()[0]
        assert app.test_client().post("/api/v1/scans", json={"code": code},
                                      headers={"Authorization": f"Bearer {token}"}).get_json()["outcome"] == "checked_in"


def test_list_filters_sort_and_count(demo_app, organiser_client, demo_db):
    organisation = demo_db.execute(
        "SELECT organisation FROM attendees WHERE status = 'registered' GROUP BY organisation "
        "HAVING count(*) >= 4 ORDER BY organisation LIMIT 1").fetchone()[0]
    ids = [row[0] for row in _rows(demo_db, "SELECT id FROM attendees WHERE organisation = ? AND status = 'registered' "
                                             "ORDER BY id LIMIT 2", [organisation])]
    _checked_in(demo_app, demo_db, ids)
    filters = {"organisation": organisation, "status": "arrived"}
    assert people_data.count_attendees(demo_db, filters) == 2
    assert sorted(row["id"] for row in people_data.list_attendees(demo_db, filters)) == sorted(ids)
    not_yet = people_data.count_attendees(demo_db, {"organisation": organisation, "status": "not_arrived"})
    everyone = demo_db.execute("SELECT count(*) FROM attendees WHERE organisation = ? AND status = 'registered'",
                               [organisation]).fetchone()[0]
    assert not_yet == everyone - 2
    cancelled = demo_db.execute("SELECT count(*) FROM attendees WHERE status = 'cancelled'").fetchone()[0]
    assert people_data.count_attendees(demo_db, {"status": "cancelled"}) == cancelled > 0
    by_arrival = people_data.list_attendees(demo_db, {}, sort="arrival", limit=2)
    assert {row["id"] for row in by_arrival} == set(ids) and by_arrival[0]["checked_in_at"] >= by_arrival[1]["checked_in_at"]
    by_org = people_data.list_attendees(demo_db, {}, sort="organisation", limit=500)
    assert [row["organisation"] for row in by_org] == sorted(row["organisation"] for row in by_org)
    by_name = people_data.list_attendees(demo_db, {}, sort="name", limit=500)
    names = [tuple(demo_db.execute("SELECT last_name, first_name FROM attendees WHERE id = ?", [row["id"]]).fetchone())
             for row in by_name]
    assert names == sorted(names)
    # The page: the count of what the filter shows, and the fragment for htmx.
    page = organiser_client.get("/admin/attendees", query_string={"organisation": organisation, "status": "arrived"})
    assert "2 attendees shown" in page.get_data(as_text=True)
    fragment = organiser_client.get("/admin/attendees", query_string=filters, headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="attendee-rows">') and "<html" not in text


def test_session_room_and_badge_filters(demo_app, demo_db):
    session_id, block_id = demo_db.execute("SELECT id, block_id FROM sessions ORDER BY id LIMIT 1").fetchone()
    chose = demo_db.execute("SELECT count(*) FROM choices WHERE session_id = ?", [session_id]).fetchone()[0]
    assert people_data.count_attendees(demo_db, {"session_id": session_id}) == chose
    badge_id = demo_db.execute("SELECT id FROM badges WHERE attendee_id = 5 AND replaced_at IS NULL").fetchone()[0]
    demo_db.execute("INSERT INTO badge_prints (badge_id, layout, printed_by, printed_at) VALUES (?, 'a6', 't', 'now')", [badge_id])
    printed = {row["id"] for row in people_data.list_attendees(demo_db, {"badge": "printed"}, limit=100_000)}
    assert 5 in printed
    not_printed = people_data.count_attendees(demo_db, {"badge": "not_printed"})
    assert not_printed + len(printed) == demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0]
    room_id = demo_db.execute("SELECT id FROM rooms ORDER BY id LIMIT 1").fetchone()[0]
    assert people_data.count_attendees(demo_db, {"room_id": room_id}) == demo_db.execute(
        "SELECT count(*) FROM presence WHERE room_id = ?", [room_id]).fetchone()[0]


def test_search_finds_a_badge_short_code(organiser_client, demo_db):
    attendee_id, short = demo_db.execute(
        "SELECT attendee_id, short_code FROM badges WHERE replaced_at IS NULL ORDER BY id DESC LIMIT 1").fetchone()
    name = demo_db.execute("SELECT name FROM attendees WHERE id = ?", [attendee_id]).fetchone()[0]
    for typed in (short, short.lower().replace("-", "")):
        assert [row["id"] for row in people_data.list_attendees(demo_db, {"q": typed})] == [attendee_id]
        assert name in organiser_client.get("/admin/attendees", query_string={"q": typed}).get_data(as_text=True)


def test_bulk_print_and_export_of_the_selection(organiser_client, demo_db):
    chosen = [row[0] for row in _rows(demo_db, "SELECT id FROM attendees WHERE status = 'registered' ORDER BY id LIMIT 3")]
    names = [demo_db.execute("SELECT name FROM attendees WHERE id = ?", [i]).fetchone()[0] for i in chosen]
    exported = organiser_client.get("/admin/exports/attendees.csv", query_string={"attendee": chosen})
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert exported.status_code == 200 and sorted(row[1] for row in rows[1:]) == sorted(names)
    printed = organiser_client.get("/badges/print", query_string={"attendee": chosen, "layout": "a6"})
    text = printed.get_data(as_text=True)
    shorts = [demo_db.execute("SELECT short_code FROM badges WHERE attendee_id = ? AND replaced_at IS NULL", [i]).fetchone()[0]
              for i in chosen]
    assert printed.status_code == 200 and "3 badges" in text and all(short in text for short in shorts)
    # The list's bulk buttons point there with the checked boxes.
    page = organiser_client.get("/admin/attendees").get_data(as_text=True)
    assert 'formaction="/badges/print"' in page and 'formaction="/admin/exports/attendees.csv"' in page


def test_overview_links_organisations_and_rooms_to_the_filtered_list(organiser_client, demo_db):
    page = organiser_client.get("/").get_data(as_text=True)
    room_id = demo_db.execute("SELECT id FROM rooms ORDER BY name LIMIT 1").fetchone()[0]
    assert f"/admin/attendees?room={room_id}" in page
    assert "/admin/attendees?organisation=" in page


def test_desk_search_tells_namesakes_apart(demo_app, demo_db):
    now = "2026-01-01T00:00:00+00:00"
    for email, organisation in (("jan@een.example", "Gemeente Een"), ("jan@twee.example", "Gemeente Twee")):
        demo_db["attendees"].insert({"name": "Jan Dubbel", "first_name": "Jan", "last_name": "Dubbel", "email": email,
                                     "organisation": organisation, "role": "Adviseur", "status": "registered",
                                     "search_text": fold(f"Jan Dubbel {organisation} {email}"), "created_at": now,
                                     "updated_at": now})
    _, token, _ = make_station(demo_db, "Namesake desk", staffed=True)
    text = demo_app.test_client().get("/kiosk/search?q=jan dubbel", headers={"Authorization": f"Bearer {token}",
                                                                           "HX-Request": "true"}).get_data(as_text=True)
    assert "j***@een.example" in text and "j***@twee.example" in text and "Gemeente Twee" in text and "Adviseur" in text
    assert "jan@een.example" not in text


def test_the_desk_lets_in_a_cancelled_registration_only_with_a_reason(demo_app, demo_db):
    station, token, _ = make_station(demo_db, "Override desk", staffed=True)
    headers = {"Authorization": f"Bearer {token}", "HX-Request": "true"}
    attendee_id, code = demo_db.execute(
        "SELECT attendees.id, code FROM attendees JOIN badges ON badges.attendee_id = attendees.id "
        "WHERE status = 'cancelled' AND replaced_at IS NULL LIMIT 1").fetchone()
    client = demo_app.test_client()
    answer = client.post("/kiosk/scan", data={"code": code}, headers=headers).get_data(as_text=True)
    assert 'data-outcome="cancelled"' in answer and 'name="reason"' in answer and "registration desk" not in answer
    # Without a reason: still cancelled.
    again = client.post("/kiosk/scan", data={"attendee_id": attendee_id, "admit_cancelled": "1"}, headers=headers)
    assert 'data-outcome="cancelled"' in again.get_data(as_text=True)
    admitted = client.post("/kiosk/scan", data={"attendee_id": attendee_id, "admit_cancelled": "1",
                                                "reason": "Registered again by phone"}, headers=headers)
    assert 'data-outcome="checked_in"' in admitted.get_data(as_text=True)
    row = demo_db.execute("SELECT station_id, override, reason FROM scans ORDER BY id DESC LIMIT 1").fetchone()
    assert row == (station["id"], 1, "Registered again by phone")
    # A self-service kiosk cannot.
    _, kiosk_token, _ = make_station(demo_db, "Self kiosk")
    refused = client.post("/kiosk/scan", data={"attendee_id": attendee_id, "admit_cancelled": "1", "reason": "x"},
                          headers={"Authorization": f"Bearer {kiosk_token}"})
    assert refused.status_code == 403


def test_the_desk_adds_a_walk_in_and_prints_the_badge(demo_app, demo_db):
    _, token, _ = make_station(demo_db, "Walk-in desk", staffed=True)
    headers = {"Authorization": f"Bearer {token}"}
    client = demo_app.test_client()
    assert client.get("/kiosk/walk-in", headers=headers).status_code == 200
    added = client.post("/kiosk/walk-in", data=_form(first_name="Walter", last_name="Binnenloop",
                                                     organisation="Provincie Nergens"), headers=headers)
    assert added.status_code == 303 and "/kiosk/walk-in/added?t=" in added.headers["Location"]
    page = client.get(added.headers["Location"], headers=headers).get_data(as_text=True)
    assert "Walter Binnenloop" in page
    token_value = added.headers["Location"].split("t=", 1)[1]
    printed = client.post("/kiosk/walk-in/badge", data={"t": token_value}, headers=headers)
    short = demo_db.execute("SELECT short_code FROM badges JOIN attendees ON attendees.id = badges.attendee_id "
                            "WHERE attendees.name = 'Walter Binnenloop'").fetchone()[0]
    assert printed.status_code == 200 and short in printed.get_data(as_text=True)
    assert demo_db.execute("SELECT printed_by FROM badge_prints ORDER BY id DESC LIMIT 1").fetchone()[0] == "station:Walk-in desk"
    assert _audit(demo_db, "attendee.add")[-1][0] == "station:Walk-in desk"
    # Another desk cannot use the link, nor a self-service kiosk add people.
    _, other, _ = make_station(demo_db, "Other desk", staffed=True)
    assert client.post("/kiosk/walk-in/badge", data={"t": token_value},
                       headers={"Authorization": f"Bearer {other}"}).status_code == 404
    _, kiosk_token, _ = make_station(demo_db, "Walk-in kiosk")
    assert client.get("/kiosk/walk-in", headers={"Authorization": f"Bearer {kiosk_token}"}).status_code == 403


@pytest.mark.parametrize("url", ["/admin/attendees?status=arrived&organisation=-&sort=arrival&badge=printed&q=ABCD-EFGH",
                                 "/admin/attendees/new", "/admin/attendees/1/edit", "/admin/attendees/1",
                                 "/admin/program", "/admin/program/rooms/1", "/admin/program/blocks/1",
                                 "/admin/program/sessions/1"])
def test_get_never_writes(organiser_client, demo_db, url):
    tables = [name for (name,) in demo_db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
              if name not in ("rate_limits", "login_sessions") and not name.startswith("sqlite_")]
    before = {table: _rows(demo_db, f"SELECT * FROM [{table}]") for table in tables}
    for headers in ({}, {"HX-Request": "true"}):
        assert organiser_client.get(url, headers=headers).status_code == 200
    assert {table: _rows(demo_db, f"SELECT * FROM [{table}]") for table in tables} == before


def test_people_pages_are_for_organisers_only(demo_app, host_client):
    assert host_client.get("/admin/attendees/new").status_code == 403
    client = demo_app.test_client()
    login(client, *ORGANISER)
    assert client.get("/admin/attendees/new").status_code == 200
