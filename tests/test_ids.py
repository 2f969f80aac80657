"""Row ids (kiosk.web.ids): ASCII digits in one spelling per number, in paths, queries and forms.

`²` ("²".isdigit() is True, int("²") raises), `١` (an Arabic-Indic one, which int() takes), `0001`
and 5,000 digits are tried on every route with an id in its path (every rule of app.url_map with
an <int:...> converter, enumerated, so a new one is tried too) and on every view that reads an id
from a query or form field. That list was made by grepping kiosk/ for `type=int`, `isdigit`,
`int(` and `request.args`/`request.form`/`request.values`; the last test fails when a view parses a
number any other way, so it stays complete. A path id spelled otherwise matches no route (404), a
field id answers 400, never a 500. `%31` is tried too: RFC 3986 (2.3, 6.2.2.2) makes it the same
URI as `1`, and a WSGI server decodes it before the app sees it, so it names the same row.
"""

import re
from pathlib import Path

import pytest
from flask import request

from conftest import HOST, ORGANISER, login, make_station
from kiosk.web.ids import MAX_ROW_ID, RowIdConverter, parse_id

BAD = {"superscript two": "²", "arabic-indic one": "١", "leading zeros": "0001", "5,000 digits": "1" * 5000}
BAD_IN_A_PATH = dict(BAD, **{"superscript two, encoded": "%C2%B2", "arabic-indic one, encoded": "%D9%A1"})


@pytest.mark.parametrize("text", ["0", "1", "12", str(MAX_ROW_ID)])
def test_a_row_id_is_read(text):
    assert parse_id(text) == int(text)


@pytest.mark.parametrize("text", [*BAD.values(), "", "01", "+1", "-1", " 1", "1 ", "1_0", "1e3", "0x1", "1.0",
                                  str(MAX_ROW_ID + 1), "9" * 20, None, 1])
def test_anything_else_is_not_a_row_id(text):
    assert parse_id(text) is None


def id_rules(app):
    """Every (rule, method) of APP with a row id (an <int:...>) in its path."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if any(isinstance(converter, app.url_map.converters["int"]) for converter in rule._converters.values()):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def path_with(rule, text):
    """RULE's path with TEXT in place of each of its arguments."""
    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", text, rule.rule)


def test_every_route_with_an_id_is_found(demo_app):
    assert demo_app.url_map.converters["int"] is RowIdConverter
    rules = {rule.rule for rule, _method in id_rules(demo_app)}
    assert len(rules) >= 13 and "/rooms/<int:room_id>" in rules and "/kiosk/undo/<int:scan_id>" in rules


@pytest.mark.parametrize("spelling", BAD_IN_A_PATH, ids=list(BAD_IN_A_PATH))
def test_an_id_spelled_otherwise_in_a_path_matches_no_route(demo_app, spelling):
    client = demo_app.test_client()
    assert login(client, *ORGANISER).status_code == 303
    tried = 0
    for rule, method in id_rules(demo_app):
        path = path_with(rule, BAD_IN_A_PATH[spelling])
        with demo_app.test_request_context(path, method=method):
            assert request.url_rule is None, (method, path)
        response = client.open(path, method=method)
        assert response.status_code == 404, (method, rule.rule, response.status_code)
        tried += 1
    assert tried >= 13


def test_a_percent_encoded_digit_in_a_path_is_the_same_url(demo_app):
    for rule, method in id_rules(demo_app):
        with demo_app.test_request_context(path_with(rule, "%31"), method=method):
            assert request.url_rule is rule and set(request.view_args.values()) == {1}, rule.rule


def test_the_largest_row_id_routes_and_the_next_is_a_404(organiser_client):
    assert organiser_client.get(f"/admin/attendees/{MAX_ROW_ID}").status_code == 404  # routed: no such attendee
    assert organiser_client.get(f"/admin/attendees/{MAX_ROW_ID + 1}").status_code == 404


@pytest.fixture
def callers(demo_app, demo_db):
    """Who may send each request below: an organiser, a host, a staffed desk, a room door."""
    organiser, host = demo_app.test_client(), demo_app.test_client()
    assert login(organiser, *ORGANISER).status_code == 303 and login(host, *HOST).status_code == 303
    room_id = demo_db.execute("SELECT min(id) FROM rooms").fetchone()[0]
    desk = make_station(demo_db, "Desk", staffed=True)[1]
    door = make_station(demo_db, "Door", mode="room", room_id=room_id)[1]
    return {"organiser": (organiser, {}), "host": (host, {}),
            "desk": (demo_app.test_client(), {"Authorization": f"Bearer {desk}"}),
            "door": (demo_app.test_client(), {"Authorization": f"Bearer {door}"}), "room": room_id}


# Every view that reads an id from a query or form: (who, method, path, the id's field, other fields).
FIELD_IDS = [
    ("organiser", "GET", "/badges/", "attendee", {}),
    ("organiser", "GET", "/badges/print", "attendee", {}),
    ("organiser", "POST", "/badges/pdf", "attendee", {}),
    ("organiser", "POST", "/badges/issue-missing", "attendee", {}),
    ("organiser", "POST", "/badges/mark-printed", "badges", {"layout": "a6"}),
    ("organiser", "POST", "/admin/stations", "room_id", {"name": "New door", "mode": "room"}),
    ("desk", "GET", "/kiosk", "result", {}),
    ("desk", "POST", "/kiosk/scan", "attendee_id", {}),
    ("door", "POST", "/kiosk/scan", "override_scan", {}),
    ("host", "GET", "/rooms/{room}", "result", {}),
    ("host", "POST", "/rooms/{room}/scan", "attendee_id", {}),
    ("organiser", "POST", "/admin/events", "copy_from", {"name": "Twee", "date": "2030-05-01"}),
    ("organiser", "POST", "/admin/events/work", "event_id", {}),
]


def counts(db):
    return db.execute("SELECT (SELECT count(*) FROM scans), (SELECT count(*) FROM stations),"
                      " (SELECT count(*) FROM badges), (SELECT count(*) FROM badge_prints)").fetchone()


@pytest.mark.parametrize(("who", "method", "path", "field", "fields"), FIELD_IDS,
                         ids=[f"{method} {path} {field}" for _who, method, path, field, _fields in FIELD_IDS])
def test_an_id_spelled_otherwise_in_a_query_or_form_is_400(callers, demo_db, who, method, path, field, fields):
    client, headers = callers[who]
    before = counts(demo_db)
    for spelling, text in BAD.items():
        values = dict(fields, **{field: text})
        response = client.open(path.format(room=callers["room"]), method=method, headers=headers,
                               query_string=values if method == "GET" else None,
                               data=values if method == "POST" else None)
        assert response.status_code == 400, (spelling, response.status_code)
        assert field in response.get_data(as_text=True), spelling  # the answer names the field
    assert counts(demo_db) == before


def test_a_percent_encoded_digit_in_a_query_is_the_digit(callers, demo_db):
    client, _headers = callers["organiser"]
    attendee = demo_db.execute("SELECT min(id) FROM attendees").fetchone()[0]
    assert str(attendee) == "1"
    response = client.get("/badges/?attendee=%31")
    assert response.status_code == 200


def test_numbers_that_are_not_ids(callers):
    """A page past the list's end or not a number is the first page; a count is +1 or -1, nothing else."""
    client, _headers = callers["organiser"]
    for page in BAD.values():
        assert client.get("/admin/attendees", query_string={"page": page}).status_code == 200
    host, _headers = callers["host"]
    for delta in [*BAD.values(), "+1", "01", "2"]:
        assert host.post(f"/rooms/{callers['room']}/count", data={"delta": delta}).status_code == 400, delta
    assert host.post(f"/rooms/{callers['room']}/count", data={"delta": "-1"}).status_code == 303


def test_no_view_reads_a_number_itself():
    """Every query or form id goes through kiosk.web.ids: a new one read otherwise fails here."""
    pattern = re.compile(r"type=int|\.isdigit\(|\bint\((request|form|values|args)\b")
    root = Path(__file__).resolve().parent.parent / "kiosk"
    readers = [path for path in root.rglob("*.py")
               if re.search(r"request\.(args|form|values)", path.read_text()) and path != root / "web" / "ids.py"]
    assert len(readers) >= 7
    offenders = [f"{path.relative_to(root)}:{number}" for path in readers
                 for number, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []
