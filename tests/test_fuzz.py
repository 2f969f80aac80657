"""Bad input: random, oversized, binary, Unicode and SQL-looking payloads at every door that takes input.

Hypothesis throws random, oversized, binary, Unicode and SQL-looking input at the scan API, the
kiosk scan form, the organiser attendee search, the staffed-desk search, both importers and the
import upload page, and huge numbers at every route: never a 500, always a clear answer (a JSON
error with a message, or the page with the problem), and no change to attendees, badges,
presence or counts except for valid input.
"""

import io
import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ORGANISER, login, make_station
from kiosk import create_app
from kiosk.serving import install
from kiosk.imports import importer
from kiosk.outcomes import SCAN_OUTCOMES as OUTCOMES
from kiosk.db import connect

CASES = Counter()
FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

SQLISH = [
    "' OR 1=1 --", "'; DROP TABLE scans; --", "K1-' UNION SELECT name, email FROM attendees --", "%", "_", "\\",
    "%' AND 1=1 AND '%'='", "\"", "`", ";", "\x00", "NULL", "1e309", "-1", "0x7fffffffffffffff",
    "<script>alert(1)</script>", "99999999999999999999", "-99999999999999999999", "{{7*7}}", "${7*7}", "../../etc/passwd", "K1-", "K1-AAAAAAAAAAAAAAAAA", "ABCD-EFGH",
]
texts = st.one_of(
    st.text(max_size=300),
    st.sampled_from(SQLISH),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.integers(min_value=200, max_value=20000).map(lambda n: "A" * n),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory, demo_template):
    """One demo app for the module: stations, an organiser session, and generous guessing limits."""
    path = tmp_path_factory.mktemp("fuzz") / "kiosk.db"
    path.write_bytes(demo_template.read_bytes())
    app = create_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "PUBLIC_URL": "http://kiosk.test",
                      # Limits are tested elsewhere; here every request must reach the validation.
                      "SCAN_GUESS_LIMIT": (10**9, 60), "SCAN_GUESS_CLIENT_LIMIT": (10**9, 60)})
    # Served as `kiosk serve` serves it, so cookie-less scans go through the fast path too.
    install(app)
    db = connect(path)
    tokens = {"kiosk": make_station(db, "Fuzz kiosk")[1], "desk": make_station(db, "Fuzz desk", staffed=True)[1]}
    organiser = app.test_client()
    login(organiser, *ORGANISER)
    yield {"app": app, "db": db, "tokens": tokens, "organiser": organiser}
    db.close()
    print("\nfuzz cases: " + ", ".join(f"{name} {count}" for name, count in sorted(CASES.items()))
          + f"; total {sum(CASES.values())}")


def state(db):
    """What a scan or an import may change: presence, occupancy, attendees, badges, program."""
    return (
        db.execute("SELECT group_concat(attendee_id || ':' || coalesce(room_id, ''), ',') FROM presence").fetchone(),
        db.execute("SELECT group_concat(room_id || ':' || inside || ':' || anonymous, ',') FROM occupancy").fetchone(),
        db.execute("SELECT count(*), max(updated_at), total(length(name)) FROM attendees").fetchone(),
        db.execute("SELECT count(*), max(id) FROM badges").fetchone(),
        db.execute("SELECT count(*) FROM sessions").fetchone(), db.execute("SELECT count(*) FROM rooms").fetchone(),
    )


def assert_error_json(response):
    body = response.get_json()
    assert isinstance(body, dict) and body["error"] and body["message"], response.data[:200]


@FUZZ
@given(body=st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"code": json_values}, optional={"scan_id": json_values, "direction": json_values})
      .map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"code": texts}, optional={"scan_id": texts, "direction": st.sampled_from(["in", "out", "up"])})
      .map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=500),
    st.integers(min_value=4000, max_value=50000).map(lambda n: b'{"code": "' + b"K" * n + b'"}'),
))
def test_scan_api_answers_every_body_clearly(fuzz_world, body):
    CASES["scan API"] += 1
    db, before = fuzz_world["db"], state(fuzz_world["db"])
    response = fuzz_world["app"].test_client().post(
        "/api/v1/scans", data=body, content_type="application/json",
        headers={"Authorization": f"Bearer {fuzz_world['tokens']['kiosk']}"},
    )
    assert response.status_code in (200, 400, 413, 429), response.status_code
    assert response.is_json
    if response.status_code == 200:
        answer = response.get_json()
        assert answer["outcome"] in OUTCOMES and answer["message"]
        if answer["outcome"] in ("checked_in", "checked_out"):
            return  # a real badge code: a valid scan may change the state
    else:
        assert_error_json(response)
    assert state(db) == before


@FUZZ
@given(form=st.dictionaries(st.sampled_from(["code", "attendee_id", "direction", "scan_id", "override", "other"]), texts,
                            max_size=5))
def test_kiosk_scan_form_answers_every_form_clearly(fuzz_world, form):
    CASES["kiosk scan form"] += 1
    db, before = fuzz_world["db"], state(fuzz_world["db"])
    client = fuzz_world["app"].test_client()
    headers = {"Authorization": f"Bearer {fuzz_world['tokens']['kiosk']}", "HX-Request": "true"}
    response = client.post("/kiosk/scan", data=form, headers=headers)
    assert response.status_code in (200, 403, 429), response.status_code
    if response.status_code == 200:
        assert 'id="scan-result"' in response.get_data(as_text=True)
        if any(word in response.get_data(as_text=True) for word in ("Welkom", "Welcome")):
            return
    assert state(db) == before


@FUZZ
@given(query=texts, page=st.one_of(texts, st.integers().map(str)), fragment=st.booleans())
def test_organiser_search_answers_every_query(fuzz_world, query, page, fragment):
    CASES["organiser search"] += 1
    db, before = fuzz_world["db"], state(fuzz_world["db"])
    response = fuzz_world["organiser"].get(
        "/admin/attendees", query_string={"q": query, "page": page}, headers={"HX-Request": "true"} if fragment else {}
    )
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert state(db) == before


@FUZZ
@given(query=texts)
def test_desk_search_answers_every_query(fuzz_world, query):
    CASES["desk search"] += 1
    db, before = fuzz_world["db"], state(fuzz_world["db"])
    response = fuzz_world["app"].test_client().get(
        "/kiosk/search", query_string={"q": query},
        headers={"Authorization": f"Bearer {fuzz_world['tokens']['desk']}", "HX-Request": "true"},
    )
    assert response.status_code == 200, response.status_code
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert state(db) == before


csv_text = st.lists(st.lists(texts, min_size=1, max_size=5).map(";".join), min_size=0, max_size=6).map("\n".join)
headers_then_rows = st.tuples(
    st.lists(st.sampled_from(["Naam", "E-mail", "Organisatie", "Functie", "Status", "Blok", "Sessie", "Zaal",
                              "Capaciteit", "Begin", "Einde", "Registratienummer", "Voornaam", "Achternaam"]) | texts,
             min_size=1, max_size=6, unique=True),
    st.lists(st.lists(texts, min_size=0, max_size=7), max_size=4),
).map(lambda t: "\n".join([";".join(t[0])] + [";".join(row) for row in t[1]]))
files = st.one_of(
    st.binary(max_size=400),
    csv_text.map(str.encode),
    headers_then_rows.map(lambda text: text.encode("utf-8")),
    headers_then_rows.map(lambda text: text.encode("utf-16")),
    st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
)


@FUZZ
@given(data=files, kind=st.sampled_from(["attendees", "program"]),
       filename=st.sampled_from(["x.csv", "x.xlsx", "x.txt", "x", "x.xls", "x.pdf"]))
def test_importers_reject_bad_files_with_reasons_and_leave_the_database_alone(fuzz_world, data, kind, filename):
    CASES["importers"] += 1
    db, before = fuzz_world["db"], state(fuzz_world["db"])
    run = importer.import_attendees if kind == "attendees" else importer.import_program
    try:
        run(db, io.BytesIO(data), filename=filename, dry_run=True)
    except importer.ImportRejected as rejected:
        assert rejected.problems and all(isinstance(p, str) and p for p in rejected.problems)
    assert state(db) == before  # a dry run never writes
    try:
        run(db, io.BytesIO(data), filename=filename)
    except importer.ImportRejected:
        assert state(db) == before
    else:
        CASES["importers: valid by chance"] += 1


@FUZZ
@given(data=files, kind=st.sampled_from(["attendees", "program", "other"]), filename=st.one_of(texts, st.just("x.csv")))
def test_import_upload_page_answers_every_file(fuzz_world, data, kind, filename):
    CASES["import upload"] += 1
    db, before = fuzz_world["db"], state(fuzz_world["db"])
    response = fuzz_world["organiser"].post(
        "/admin/import/preview", data={"kind": kind, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 303, 400), response.status_code
    if response.status_code == 200:
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert state(db) == before  # the preview only looks


def test_huge_numbers_in_urls_queries_and_forms_are_never_server_errors(fuzz_world):
    app, organiser = fuzz_world["app"], fuzz_world["organiser"]
    huge = "99999999999999999999"
    tried = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not ({"GET", "POST"} & rule.methods):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", huge).replace(f"<{name}>", huge)
        for method in sorted({"GET", "POST"} & rule.methods):
            for client, headers in ((organiser, {}),
                                    (app.test_client(), {"Authorization": f"Bearer {fuzz_world['tokens']['desk']}"})):
                fields = {"page": huge, "result": huge, "attendee_id": huge, "attendee": huge, "badges": huge,
                          "scan_id": huge, "delta": huge, "layout": "a6"}
                response = client.open(path, method=method, query_string=fields, data=fields if method == "POST" else None,
                                       headers=headers)
                response.close()
                tried += 1
                assert response.status_code < 500, (method, path, response.status_code)
    CASES["huge numbers"] += tried
