"""Security: headers and CSP, cookies, CSRF, rate limits, hashed tokens, escaping, exports, badge codes, audit.

Security headers and a Content-Security-Policy without inline scripts; a crawl of every page and
fragment (as organiser, host and each kind of station) finds no inline <script>, no on...=
handlers and no style= attributes. Session and station cookies are HttpOnly, SameSite=Lax, and
Secure over HTTPS. Every POST route except the bearer-token API refuses a request without a CSRF
token. Failed logins are limited per client address; unknown badge codes per station and per
client address. Station tokens are stored only as SHA-256 and are revocable. Names with HTML are
escaped on every page that shows them. The CSV export prefixes cells that start with =, +, -, @,
tab or carriage return with '. Badge codes are K1- + 17 characters of an unambiguous alphabet and
contain nothing of the name, e-mail or registration id. Every organiser action that changes data
leaves who and when: in the audit log, the print log or the scan history.
"""

import csv
import hashlib
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from flask import url_for

from conftest import HOST, ORGANISER, login, make_station, personal_pages
from kiosk import create_app
from kiosk.data import limits
from kiosk.data.badges import ALPHABET
from kiosk.db import connect, migrate
from kiosk.text import fold

EVIL_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def app_on(path, **config):
    return create_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "test", "PUBLIC_URL": "http://kiosk.test",
                       "WTF_CSRF_ENABLED": False, **config})


@pytest.fixture
def demo_copy(tmp_path, demo_template):
    path = tmp_path / "kiosk.db"
    path.write_bytes(demo_template.read_bytes())
    return path


def test_pages_carry_security_headers_and_a_csp_without_inline_scripts(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"].split() == ["'self'", "'wasm-unsafe-eval'"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp.replace("'wasm-unsafe-eval'", "")
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers
    assert "Strict-Transport-Security" in client.get("/login", base_url="https://localhost").headers


def _cookie(response, name):
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return {part.strip().split("=")[0].lower() for part in header.split(";")}, header
    raise AssertionError(f"no {name} cookie set")


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_session_and_station_cookies_are_httponly_samesite_and_secure_over_https(demo_app, demo_db, scheme):
    client = demo_app.test_client()
    base = f"{scheme}://localhost"
    flags, header = _cookie(client.post("/login", data=dict(zip(("email", "password"), ORGANISER)), base_url=base), "session")
    assert "httponly" in flags and "samesite=lax" in header.lower()
    assert ("secure" in flags) == (scheme == "https")
    _, _, secret = make_station(demo_db, f"Paired over {scheme}")
    flags, header = _cookie(demo_app.test_client().post(f"/pair/{secret}", base_url=base), "kiosk_station")
    assert "httponly" in flags and "samesite=lax" in header.lower()
    assert ("secure" in flags) == (scheme == "https")
    flags, _ = _cookie(demo_app.test_client().post("/language", data={"language": "en"}, base_url=base), "session")
    assert ("secure" in flags) == (scheme == "https")


class CsrfClient:
    """An app with CSRF on, an organiser logged in through the real form (token included)."""

    def __init__(self, path):
        self.app = app_on(path, WTF_CSRF_ENABLED=True)
        self.client = self.app.test_client()
        token = self.token("/login")
        response = self.client.post("/login", data={"email": ORGANISER[0], "password": ORGANISER[1], "csrf_token": token})
        assert response.status_code == 303

    def token(self, page):
        html = self.client.get(page).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_every_post_route_except_the_bearer_api_refuses_a_missing_csrf_token(demo_copy):
    checked = CsrfClient(demo_copy)
    db = connect(demo_copy)
    station, token, secret = make_station(db, "CSRF kiosk", staffed=True)
    before = _snapshot(db)
    tried = []
    with checked.app.test_request_context():
        posts = [(rule, url_for(rule.endpoint, **{name: 1 if name != "secret" else secret for name in rule.arguments}))
                 for rule in checked.app.url_map.iter_rules() if "POST" in rule.methods]
    for rule, url in posts:
        for who, headers in (("organiser", {}), ("station", {"Authorization": f"Bearer {token}"})):
            response = checked.client.post(url, data={"code": "x", "name": "CSRF test"}, headers=headers)
            if rule.endpoint.startswith(("api.", "organiser_api.")):
                assert response.status_code != 400 or response.get_json()["error"] != "csrf", url
                continue
            assert response.status_code == 400, (who, url, response.status_code)
            assert "CSRF" in response.get_data(as_text=True)
            tried.append(rule.endpoint)
    assert len(set(tried)) >= 20
    after = _snapshot(db)
    assert after == before
    # The token from the page opens the door: the check is not simply refusing everything.
    page_token = checked.token("/admin/stations")
    response = checked.client.post("/admin/stations", data={"name": "With token", "mode": "entrance", "csrf_token": page_token})
    assert response.status_code == 200 and "With token" in response.get_data(as_text=True)
    db.close()


def _snapshot(db):
    """Every table's rows, except the rate limiter's counters."""
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
              if name not in ("rate_limits", "_sqlite_migrations") and not name.startswith("sqlite_")]
    return {table: db.execute(f"SELECT * FROM [{table}] ORDER BY 1").fetchall() for table in tables}


def test_failed_logins_are_limited_per_client_address(demo_copy):
    app = app_on(demo_copy, LOGIN_LIMIT=(3, 300))
    client = app.test_client()
    wrong = {"email": ORGANISER[0], "password": "wrong password"}
    statuses = [client.post("/login", data=wrong).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # Even the right password waits while the address is blocked...
    assert client.post("/login", data=dict(zip(("email", "password"), ORGANISER))).status_code == 429
    # ...but another address is not held up by it.
    other = app.test_client()
    response = other.post("/login", data=dict(zip(("email", "password"), ORGANISER)), environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert response.status_code == 303


def test_badge_code_guessing_is_limited_per_station(demo_copy):
    app = app_on(demo_copy, SCAN_GUESS_LIMIT=(3, 60))
    db = connect(demo_copy)
    _, guesser, _ = make_station(db, "Guesser")
    _, honest, _ = make_station(db, "Honest")
    code = db.execute("SELECT code FROM badges WHERE replaced_at IS NULL LIMIT 1").fetchone()[0]
    client = app.test_client()
    statuses = [client.post("/api/v1/scans", json={"code": f"K1-GUESS{i}"}, headers={"Authorization": f"Bearer {guesser}"},
                            environ_base={"REMOTE_ADDR": f"10.0.1.{i}"}).status_code for i in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[-1] == 429
    # A real badge at the blocked station waits too; another station goes on.
    assert client.post("/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {guesser}"}).status_code == 429
    assert client.post("/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {honest}"}).status_code == 200
    db.close()


def test_badge_code_guessing_is_limited_per_client_address_across_stations(demo_copy):
    app = app_on(demo_copy, SCAN_GUESS_LIMIT=(100, 60), SCAN_GUESS_CLIENT_LIMIT=(4, 60))
    db = connect(demo_copy)
    tokens = [make_station(db, f"Laptop station {i}")[1] for i in range(6)]
    client = app.test_client()
    here = {"REMOTE_ADDR": "10.0.2.1"}
    statuses = [client.post("/api/v1/scans", json={"code": "K1-NOPE"}, headers={"Authorization": f"Bearer {token}"},
                            environ_base=here).status_code for token in tokens]
    assert statuses[:4] == [200] * 4 and statuses[-1] == 429
    # The kiosk form goes through the same limit.
    response = client.post("/kiosk/scan", data={"code": "K1-NOPE"}, headers={"Authorization": f"Bearer {tokens[0]}"},
                           environ_base=here)
    assert response.status_code == 429
    elsewhere = client.post("/api/v1/scans", json={"code": "K1-NOPE"}, headers={"Authorization": f"Bearer {tokens[0]}"},
                            environ_base={"REMOTE_ADDR": "10.0.2.2"})
    assert elsewhere.status_code == 200
    db.close()


def test_rate_limit_windows_count_every_key_and_start_over_when_they_end(tmp_path):
    db = connect(tmp_path / "k.db")
    migrate(db)
    station, client = ("guess", 7, (2, 60)), ("guess-client", "10.0.3.1", (3, 60))
    assert [limits.count_hits(db, [client, station]) for _ in range(3)] == [False, False, True]
    # Blocked once a window holds its limit, for either key; counting stays with the hits.
    assert limits.any_blocked(db, [station])
    assert limits.any_blocked(db, [("guess", 8, (2, 60)), client])
    assert not limits.any_blocked(db, [("guess", 8, (2, 60)), ("guess-client", "10.0.3.2", (3, 60))])
    # A window older than its seconds starts over at one hit.
    db.execute("UPDATE rate_limits SET window_start = window_start - 61")
    assert not limits.any_blocked(db, [station, client])
    assert not limits.count_hits(db, [station])
    assert db.execute("SELECT hits FROM rate_limits WHERE bucket = 'guess' AND key = '7'").fetchone()[0] == 1
    db.close()


def test_station_tokens_are_stored_hashed_and_revocable(demo_app, demo_db):
    station, token, secret = make_station(demo_db, "Hashed")
    client = demo_app.test_client()
    device = client.post(f"/pair/{secret}")
    device_token = device.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    demo_db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database = Path(demo_app.config["DATABASE"])
    stored = database.read_bytes() + (Path(str(database) + "-wal").read_bytes() if Path(str(database) + "-wal").exists() else b"")
    for secret_value in (token, device_token, secret):
        assert secret_value.encode() not in stored
    row = demo_db.execute("SELECT token_hash FROM stations WHERE id = ?", [station["id"]]).fetchone()
    assert row[0] == hashlib.sha256(token.encode()).hexdigest()
    assert demo_db.execute("SELECT count(*) FROM station_devices WHERE token_hash = ?",
                           [hashlib.sha256(device_token.encode()).hexdigest()]).fetchone()[0] == 1
    assert client.get("/kiosk").status_code == 200
    organiser = demo_app.test_client()
    login(organiser, *ORGANISER)
    assert organiser.post(f"/admin/stations/{station['id']}/revoke").status_code == 303
    assert client.get("/kiosk").status_code == 302  # the paired device's cookie no longer works
    assert demo_app.test_client().get("/api/v1/rooms", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert demo_app.test_client().post(f"/pair/{secret}").status_code == 404


def test_badge_codes_are_opaque_and_carry_no_personal_data(demo_db):
    pattern = re.compile(rf"^K1-[{ALPHABET}]{{17}}$")
    rows = demo_db.execute(
        """SELECT badges.code, badges.short_code, attendees.id, attendees.name, attendees.email, attendees.registration_id
           FROM badges JOIN attendees ON attendees.id = badges.attendee_id"""
    ).fetchall()
    assert len(rows) >= 300
    for code, short, attendee_id, name, email, registration_id in rows:
        assert pattern.match(code), code
        assert short == code[3:7] + "-" + code[7:11]
        folded = fold(code)
        # Five letters in a row from a name or address would be a leak; random codes do not show them.
        for word in re.findall(r"[a-z0-9]{5,}", fold(f"{name} {email or ''} {registration_id or ''}")):
            assert word not in folded, (code, name)
        assert str(attendee_id) != code[3:]


@pytest.fixture
def evil_app(demo_app, demo_db):
    """The demo event with attendees whose fields are markup and spreadsheet formulas."""
    now = "2026-01-01T00:00:00+00:00"
    evil = [
        {"name": EVIL_NAME, "organisation": "=HYPERLINK(\"http://evil.example\",\"click\")", "email": "+31@evil.example",
         "role": "-2+3", "registration_id": "@SUM(A1)"},
        {"name": "\tTab start", "organisation": "\rCarriage", "email": "plain@example.org", "role": "=1+1",
         "registration_id": "R-1"},
    ]
    ids = []
    for person in evil:
        ids.append(demo_db["attendees"].insert(dict(person, first_name="", last_name=person["name"], status="registered",
                                                    extra="{}", search_text=fold(person["name"] + " evil"),
                                                    created_at=now, updated_at=now)).last_pk)
    from kiosk.data.badges import issue_badge

    codes = [issue_badge(demo_db, attendee_id)["code"] for attendee_id in ids]
    return demo_app, ids, codes


def test_names_with_html_are_escaped_everywhere_they_show(evil_app, demo_db):
    app, ids, codes = evil_app
    organiser = app.test_client()
    login(organiser, *ORGANISER)
    _, token, _ = make_station(demo_db, "Evil desk", staffed=True)
    station = {"Authorization": f"Bearer {token}"}
    pages = [
        organiser.get("/admin/attendees?q=evil"),
        organiser.get(f"/admin/attendees/{ids[0]}"),
        organiser.get("/admin/attendees?q=evil", headers={"HX-Request": "true"}),
        app.test_client().get("/kiosk/search?q=evil", headers=station),
        app.test_client().post("/kiosk/scan", data={"code": codes[0]}, headers={**station, "HX-Request": "true"}),
    ]
    organiser.get("/")  # the arrivals list shows the latest check-ins
    pages.append(organiser.get("/"))
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert EVIL_NAME not in html and "<img src=x" not in html
    assert any("&lt;script&gt;" in response.get_data(as_text=True) for response in pages)
    answer = app.test_client().post("/api/v1/scans", json={"code": codes[0]}, headers=station).get_json()
    assert answer["attendee"]["name"] == EVIL_NAME  # JSON carries it as data; the kiosk escapes it


def test_attendee_export_neutralises_formulas(evil_app, demo_db):
    app, ids, _codes = evil_app
    organiser = app.test_client()
    login(organiser, *ORGANISER)
    response = organiser.get("/admin/exports/attendees.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    total = demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0]
    assert len(rows) == total + 1
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    evil = next(row for row in rows if EVIL_NAME in row[1])
    assert evil[0] == "'@SUM(A1)" and evil[3].startswith("'=HYPERLINK") and evil[2] == "'+31@evil.example"
    assert evil[4] == "'-2+3"
    assert any(row[1] == "'\tTab start" for row in rows)
    # Host accounts and stations do not get the personal data.
    host = app.test_client()
    login(host, *HOST)
    assert host.get("/admin/exports/attendees.csv").status_code == 403


def test_export_marks_who_is_checked_in(demo_app, demo_db):
    _, token, _ = make_station(demo_db, "Export entrance")
    code, name = demo_db.execute(
        "SELECT badges.code, attendees.name FROM badges JOIN attendees ON attendees.id = badges.attendee_id "
        "WHERE attendees.status = 'registered' LIMIT 1").fetchone()
    demo_app.test_client().post("/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {token}"})
    organiser = demo_app.test_client()
    login(organiser, *ORGANISER)
    rows = list(csv.reader(io.StringIO(organiser.get("/admin/exports/attendees.csv").get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    checked = [row for row in rows[1:] if row[6] in ("ja", "yes")]
    assert [row[1] for row in checked] == [name]
    assert re.match(r"^\d\d:\d\d$", checked[0][7])


class PageChecker(HTMLParser):
    """Collects inline scripts, event-handler and style attributes, and same-site links."""

    def __init__(self):
        super().__init__()
        self.problems, self.links = [], []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.problems.append("inline <script>")
        for name, _value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.problems.append(f"<{tag} {name}=>")
            if name == "style":
                self.problems.append(f"<{tag} style=>")
        if tag == "a" and names.get("href"):
            self.links.append(names["href"])


def test_no_page_has_inline_scripts_handlers_or_styles(evil_app, demo_db):
    app, ids, codes = evil_app
    organiser = app.test_client()
    login(organiser, *ORGANISER)
    host = app.test_client()
    login(host, *HOST)
    door_room = demo_db.execute("SELECT id FROM rooms LIMIT 1").fetchone()[0]
    stations = [make_station(demo_db, "Crawl kiosk")[1], make_station(demo_db, "Crawl desk", staffed=True)[1],
                make_station(demo_db, "Crawl door", mode="room", room_id=door_room)[1]]
    start = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" in rule.methods and rule.endpoint != "static":
                values = {"attendee_id": ids[0], "room_id": door_room, "session_id": 1, "kind": "attendees", "station_id": 1,
                          "secret": "x", "scan_id": 1, "block_id": 1, "table": "sessions", "token": "x", "entry_id": 1,
                          "message_id": 1}
                start.append(url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}))
    visitors = [(organiser, {}), (host, {})] + [(app.test_client(), {"Authorization": f"Bearer {t}"}) for t in stations]
    personal = personal_pages(demo_db, ids[0], EVIL_NAME)
    extra = ["/kiosk/search?q=evil", "/admin/attendees?q=evil", "/login"] + personal
    seen, checked, problems = set(), 0, []
    adapter = app.url_map.bind("localhost")
    for client, headers in visitors:
        queue = start + extra
        visited, per_endpoint = set(), {}
        while queue and len(visited) < 200:
            url = queue.pop(0)
            if url in visited:
                continue
            try:
                endpoint = adapter.match(urlsplit(url).path)[0]
            except Exception:  # noqa: BLE001 - a link to nowhere is reported by its 404 below
                endpoint = url
            # Three pages of a kind (three attendees, three rooms) show every template branch we need.
            if per_endpoint.get(endpoint, 0) >= 3 and url not in start + extra:
                continue
            per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
            visited.add(url)
            for fragment in (False, True):
                response = client.get(url, headers={**headers, **({"HX-Request": "true"} if fragment else {})})
                if response.mimetype != "text/html" or response.status_code != 200:
                    response.close()
                    continue
                parser = PageChecker()
                parser.feed(response.get_data(as_text=True))
                checked += 1
                seen.add(url)
                problems += [f"{url}{' (fragment)' if fragment else ''}: {p}" for p in parser.problems]
                assert "Content-Security-Policy" in response.headers
                for link in parser.links:
                    target = urljoin(url, link)
                    parts = urlsplit(target)
                    if not parts.netloc and not parts.path.startswith("/static/") and parts.path.startswith("/"):
                        queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert problems == []
    assert checked >= 40
    assert set(personal) <= seen  # a registrant's pages were crawled, not answered 404
    print(f"\ninline-script crawl: {len(seen)} pages, {checked} page and fragment responses checked")


# Organiser POST routes and what each writes; the trail is where "who and when" is kept.
AUDITED = {
    "stations.update": ("audit_log", lambda w: (f"/admin/stations/{w['station']}", {"name": "Audit renamed", "language": "en"})),
    "stations.create": ("audit_log", lambda w: ("/admin/stations", {"name": "Audit station", "mode": "entrance"})),
    "stations.new_pairing": ("audit_log", lambda w: (f"/admin/stations/{w['station']}/pairing", {})),
    "stations.move": ("audit_log", lambda w: (f"/admin/stations/{w['station']}/event", {"event_id": "1"})),
    "stations.revoke": ("audit_log", lambda w: (f"/admin/stations/{w['station']}/revoke", {})),
    "badges.issue_missing": ("audit_log", lambda w: ("/badges/issue-missing", {"attendee": str(w["no_badge"])})),
    "badges.reissue": ("audit_log", lambda w: (f"/badges/attendee/{w['attendee']}/reissue", {})),
    "imports.commit": ("audit_log", lambda w: ("/admin/import/commit", w["import"])),
    # Prints are logged in the print log (badge_prints: printed_by, printed_at).
    "badges.mark_printed": ("badge_prints", lambda w: ("/badges/mark-printed", {"layout": "a6", "badges": str(w["badge"])})),
    "badges.pdf": ("badge_prints", lambda w: ("/badges/pdf", {"layout": "a6", "attendee": str(w["attendee"]), "confirm_reprint": "1"})),
    # The label's print view is marked printed by hand (badges.mark_printed); its PDF is logged at once.
    "badges.reprint": ("badge_prints", lambda w: (f"/badges/attendee/{w['attendee']}/reprint", {"confirm_reprint": "1", "format": "pdf"})),
    # Scans, counts and undos are logged in the scan history itself (user_id, created_at).
    "checkin.undo": ("scans", lambda w: (f"/kiosk/undo/{w['scan']}", {})),
    "rooms.count": ("scans", lambda w: (f"/rooms/{w['room']}/count", {"delta": "1"})),
    "rooms.clear": ("scans", lambda w: (f"/rooms/{w['room']}/clear", {})),
    "rooms.scan": ("scans", lambda w: (f"/rooms/{w['room']}/scan", {"code": w["code"]})),
    "event.save": ("audit_log", lambda w: ("/admin/event", {"name": "Audit event", "date": "2026-06-12",
                                                            "timezone": "Europe/Amsterdam", "language": "nl"})),
    "event.upload_logo": ("audit_log", lambda w: ("/admin/event/logo", {"logo": (io.BytesIO(w["png"]), "logo.png")})),
    "event.remove_logo": ("audit_log", lambda w: ("/admin/event/logo/remove", {})),
    "setup.event_post": ("audit_log", lambda w: ("/setup/event", {"name": "Audit event", "date": "2026-06-12"})),
    "staff.invite": ("audit_log", lambda w: ("/admin/staff", {"email": "invited@example.org", "role": "host"})),
    "staff.reset": ("audit_log", lambda w: (f"/admin/staff/{w['host']}/reset", {})),
    "staff.disable": ("audit_log", lambda w: (f"/admin/staff/{w['host']}/disable", {})),
    "staff.enable": ("audit_log", lambda w: (f"/admin/staff/{w['host']}/enable", {})),
    "staff.add_api_token": ("audit_log", lambda w: ("/admin/tokens", {"name": "Audit token"})),
    "staff.revoke_api_token": ("audit_log", lambda w: ("/admin/tokens/1/revoke", {})),
    "people.scan": ("scans", lambda w: ("/admin/attendees/1/scan", {"direction": "in", "reason": "audit test"})),
    "people.add": ("audit_log", lambda w: ("/admin/attendees/new", {"first_name": "Audit", "last_name": "Nieuw",
                                                                    "confirm_duplicate": "1"})),
    "people.save": ("audit_log", lambda w: ("/admin/attendees/1/edit", {"first_name": "Audit", "last_name": "Bewerkt"})),
    "people.sessions": ("audit_log", lambda w: ("/admin/attendees/1/sessions", {})),
    "people.status": ("audit_log", lambda w: ("/admin/attendees/1/status", {"status": "cancelled"})),
    "program.add_room": ("audit_log", lambda w: ("/admin/program/rooms", {"name": "Audit zaal", "capacity": "5"})),
    "program.save_room": ("audit_log", lambda w: (f"/admin/program/rooms/{w['spare_room']}", {"name": "Reserve", "capacity": "9"})),
    "program.remove_room": ("audit_log", lambda w: (f"/admin/program/rooms/{w['spare_room']}/remove", {})),
    "program.add_block": ("audit_log", lambda w: ("/admin/program/blocks", {"name": "Audit blok", "starts_at": "20:00",
                                                                             "ends_at": "21:00"})),
    "program.save_session": ("audit_log", lambda w: (f"/admin/program/sessions/{w['spare_session']}",
                                                     {"title": "Reserve sessie", "block_id": w["spare_block"], "kind": "walk"})),
    "program.remove_session": ("audit_log", lambda w: (f"/admin/program/sessions/{w['spare_session']}/remove", {})),
    "program.save_block": ("audit_log", lambda w: (f"/admin/program/blocks/{w['spare_block']}",
                                                   {"name": "Reserve blok", "starts_at": "21:00", "ends_at": "22:30"})),
    "program.remove_block": ("audit_log", lambda w: (f"/admin/program/blocks/{w['spare_block']}/remove", {})),
    "program.add_session": ("audit_log", lambda w: ("/admin/program/sessions", {"title": "Audit sessie",
                                                                                "block_id": w["block"], "kind": "walk"})),
    "registration.save_settings": ("audit_log", lambda w: ("/admin/event/registration", {"registration_open": "1"})),
    "registration.waiting_move": ("audit_log", lambda w: (f"/admin/waiting/{w['waiting'][1]}/move", {"direction": "up"})),
    "registration.waiting_promote": ("audit_log", lambda w: (f"/admin/waiting/{w['waiting'][0]}/promote", {})),
    "registration.waiting_remove": ("audit_log", lambda w: (f"/admin/waiting/{w['waiting'][1]}/remove", {})),
    "mail.send_ticket": ("audit_log", lambda w: ("/admin/attendees/3/ticket", {})),
    "mail.send_tickets": ("audit_log", lambda w: ("/admin/tickets", {"attendee": ["1", "2"]})),
    "mail.send_unsent": ("audit_log", lambda w: ("/admin/outbox/unsent", {})),
    "mail.resend": ("audit_log", lambda w: (f"/admin/outbox/{w['failed_mail']}/resend", {})),
    "staff.move": ("audit_log", lambda w: (f"/admin/staff/{w['host']}/event", {"event_id": "1"})),
    # Last: the organiser then works on the new event (and back), and event 1 is reopened, never archived.
    "event.add": ("audit_log", lambda w: ("/admin/events", {"name": "Audit event 2", "date": "2030-05-01"})),
    "event.work": ("audit_log", lambda w: ("/admin/events/work", {"event_id": "1"})),
    "event.archive": ("audit_log", lambda w: ("/admin/events/1/archive", {"archived": "0"})),
}
# POST routes that change no event data (or belong to no organiser).
NOT_DATA = {"accounts.login_post", "accounts.logout", "accounts.set_language", "imports.preview", "stations.pair_post",
            "checkin.scan", "checkin.badge_printed", "rooms.door_count", "api.create_scan",
            # Before anyone is an organiser, or by the account itself; both audited with its e-mail
            # (tests/test_setup.py, tests/test_staff.py).
            "setup.claim", "staff.password_post",
            # An API token's writes are audited as "token:NAME (who made it)" (tests/test_organiser_api.py).
            "organiser_api.create_attendee",
            # The staffed desk's walk-ins: audited with the station as the actor (tests/test_people.py).
            "checkin.walk_in_post", "checkin.walk_in_badge",
            # The public form and a registrant's own pages: audited as "registration form", "registrant ID"
            # and "waiting list link ID" (tests/test_registration.py, tests/test_registration_waiting.py).
            "registration.register_post", "registration.me_sessions", "registration.me_cancel",
            "registration.me_leave_waiting", "registration.my_waiting_leave"}


def test_every_organiser_change_leaves_who_and_when(demo_app, demo_db):
    organiser = demo_app.test_client()
    login(organiser, *ORGANISER)
    user_id = demo_db.execute("SELECT id FROM users WHERE email = ?", [ORGANISER[0]]).fetchone()[0]
    posts = {rule.endpoint for rule in demo_app.url_map.iter_rules() if "POST" in rule.methods}
    assert posts - set(AUDITED) - NOT_DATA == set(), "a new POST route: say where it records who and when"

    station, token, _ = make_station(demo_db, "Audit entrance")
    code = demo_db.execute("SELECT code FROM badges WHERE replaced_at IS NULL ORDER BY id LIMIT 1").fetchone()[0]
    scan = demo_app.test_client().post("/api/v1/scans", json={"code": code},
                                       headers={"Authorization": f"Bearer {token}"}).get_json()["scan_id"]
    now = "2026-01-01T00:00:00+00:00"
    no_badge = demo_db["attendees"].insert({"name": "Zonder Badge", "status": "registered", "created_at": now,
                                            "updated_at": now}).last_pk
    csv_file = "Naam;E-mail;Organisatie\nNieuwe Persoon;nieuw@example.org;Gemeente Test\n".encode()
    preview = organiser.post("/admin/import/preview", data={"kind": "attendees", "file": (io.BytesIO(csv_file), "new.csv")},
                             content_type="multipart/form-data").get_data(as_text=True)
    import_form = {name: re.search(rf'name="{name}" value="([^"]*)"', preview).group(1) for name in ("token", "filename")}
    world = {
        "station": station["id"], "attendee": 1, "no_badge": no_badge, "scan": scan, "code": code,
        "badge": demo_db.execute("SELECT id FROM badges WHERE replaced_at IS NULL ORDER BY id DESC LIMIT 1").fetchone()[0],
        "room": demo_db.execute("SELECT id FROM rooms ORDER BY id LIMIT 1").fetchone()[0],
        "import": dict(import_form, kind="attendees"),
        "host": demo_db.execute("SELECT id FROM users WHERE email = ?", [HOST[0]]).fetchone()[0],
        "png": _png(),
        "block": demo_db.execute("SELECT min(id) FROM blocks").fetchone()[0],
        "spare_room": demo_db["rooms"].insert({"name": "Reserve", "capacity": 3}).last_pk,
        "spare_block": demo_db["blocks"].insert({"name": "Reserve blok", "starts_at": "21:00", "ends_at": "22:00"}).last_pk,
    }
    world["spare_session"] = demo_db["sessions"].insert({"block_id": world["spare_block"], "title": "Reserve sessie",
                                                         "kind": "walk"}).last_pk
    world["waiting"] = [demo_db["waiting_list"].insert({"session_id": 7, "position": n, "name": f"Wachtend {n}",
                                                        "email": f"w{n}@example.org", "created_at": now}).last_pk
                        for n in (1, 2)]
    world["failed_mail"] = demo_db["outbox"].insert({"created_at": now, "kind": "ticket", "recipient": "x@example.org",
                                                     "message_id": "<audit@kiosk.test>", "status": "failed"}).last_pk
    missing = []
    for endpoint, (trail, request) in AUDITED.items():
        url, data = request(world)
        counts = {table: demo_db.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
                  for table in ("audit_log", "badge_prints", "scans")}
        response = organiser.post(url, data=data)
        assert response.status_code in (200, 303), (endpoint, response.status_code)
        after = counts[trail]
        if trail == "audit_log":
            rows = demo_db.execute("SELECT actor, created_at FROM audit_log WHERE id > ?", [after]).fetchall()
            ok = any(actor == ORGANISER[0] and created for actor, created in rows)
        elif trail == "badge_prints":
            rows = demo_db.execute("SELECT printed_by, printed_at FROM badge_prints WHERE id > ?", [after]).fetchall()
            ok = any(by == ORGANISER[0] and at for by, at in rows)
        else:
            rows = demo_db.execute("SELECT user_id, created_at FROM scans WHERE id > ?", [after]).fetchall()
            ok = any(by == user_id and at for by, at in rows)
        if not ok:
            missing.append(endpoint)
    assert missing == []


def _png():
    """A small PNG image, as a logo upload."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 20), (15, 92, 110)).save(out, format="PNG")
    return out.getvalue()
