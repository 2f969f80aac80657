"""The JSON API against its own OpenAPI document, with schemathesis generating the requests.

Schemathesis generates requests for every operation in the app's own OpenAPI document
(/api/v1/openapi.json, 50 per operation, with a station token): no server errors, and every
response and status code conforms to the document.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from conftest import make_station
from kiosk import create_app
from kiosk.api.views import OPENAPI
from kiosk.db import connect
from kiosk.outcomes import SCAN_OUTCOMES

CALLS = {"count": 0}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory, demo_template):
    path = tmp_path_factory.mktemp("openapi") / "kiosk.db"
    path.write_bytes(demo_template.read_bytes())
    app = create_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "test", "PUBLIC_URL": "http://kiosk.test"})
    db = connect(path)
    app.config["STATION_TOKEN"] = make_station(db, "Schemathesis")[1]
    db.close()
    yield app
    print(f"\nschemathesis: {CALLS['count']} generated API calls")


def test_api_conforms_to_its_openapi_document(api_app):
    # Schemathesis' pytest plugin (from_fixture) does not run under this pytest, so each
    # operation's strategy is driven by hypothesis here: the same cases, the same checks.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    headers = {"Authorization": f"Bearer {api_app.config['STATION_TOKEN']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} == {"POST /scans", "GET /rooms"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def check(case):
            CALLS["count"] += 1
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance, status_code_conformance]
            )

        check()
    # The cases reached the app under the document's server URL (/api/v1), not a 404 beside it.
    db = connect(api_app.config["DATABASE"])
    assert db.execute("SELECT count(*) FROM scans WHERE station_id IS NOT NULL").fetchone()[0] > 0
    db.close()


def test_openapi_document_is_served_to_anyone(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/scans", "/rooms"}
    assert document["components"]["securitySchemes"]["station"] == {"type": "http", "scheme": "bearer"}


def test_openapi_document_matches_the_routes_and_outcomes(app):
    """The document (kiosk/api/openapi.json) names every /api/v1 route with its methods, and the Outcome enum."""
    prefix = OPENAPI["servers"][0]["url"]
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix + "/") and rule.rule != prefix + "/openapi.json":
            routes[rule.rule.removeprefix(prefix)] = {method.lower() for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {path: set(operations) for path, operations in OPENAPI["paths"].items()}
    assert documented == routes
    answer = OPENAPI["paths"]["/scans"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["properties"]["outcome"]["enum"] == [str(outcome) for outcome in SCAN_OUTCOMES]
