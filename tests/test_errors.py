"""Error pages: 400, 403, 404, 405, 413, 429 and 500 in the app's layout and the user's language, with a way back; the API keeps JSON."""

import pytest
from flask import abort

from conftest import HOST, login


@pytest.fixture
def aborting_app(demo_app):
    """The demo app with a route that answers any status, for the errors no page makes on purpose."""
    def fail(code):
        abort(code)

    demo_app.add_url_rule("/test-abort/<int:code>", "test_abort", fail)
    return demo_app


@pytest.mark.parametrize("code", [400, 403, 404, 405, 413, 429, 500])
@pytest.mark.parametrize("language, title", [("nl", "Terug naar de startpagina"), ("en", "Back to the start page")])
def test_every_error_is_a_page_in_the_layout_and_the_language(aborting_app, organiser_client, code, language, title):
    response = organiser_client.get(f"/test-abort/{code}", headers={"Accept-Language": language})
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert f'<html lang="{language}">' in html and 'class="topbar"' in html and "<h1>" in html
    assert title in html and 'href="/"' in html


def test_a_host_on_the_organisers_start_page_gets_a_way_to_the_rooms(demo_app):
    """Defect 5: the logo led a host to a bare English 'Forbidden'."""
    client = demo_app.test_client()
    login(client, *HOST)
    page = client.get("/rooms/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert 'class="brand" href="/rooms/"' in page
    response = client.get("/", headers={"Accept-Language": "nl"})
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Geen toegang tot deze pagina" in html and 'href="/rooms/"' in html


def test_not_found_and_method_not_allowed_for_anyone(client):
    missing = client.get("/no-such-page", headers={"Accept-Language": "nl"})
    assert missing.status_code == 404 and "Pagina niet gevonden" in missing.get_data(as_text=True)
    assert 'href="/login"' in missing.get_data(as_text=True)
    wrong = client.get("/logout")
    assert wrong.status_code == 405 and "<h1>" in wrong.get_data(as_text=True)


def test_the_api_keeps_its_json_errors(client):
    response = client.post("/api/v1/scans", data="not json", headers={"Content-Type": "application/json"})
    assert response.mimetype == "application/json"
    assert "topbar" not in client.get("/api/v1/no-such-thing").get_data(as_text=True)  # werkzeug's own, as before
