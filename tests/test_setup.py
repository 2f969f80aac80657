"""First run: `kiosk serve` on a database without accounts prints a one-time set-up link.

The link's secret is stored as SHA-256 and works once: it creates the first organiser (e-mail,
password twice) and logs them in, then the event is made. Without the secret there is no set-up
page (404), and after use or once an account exists the link is gone. `kiosk serve
--demo-if-empty` builds the demo (with its organiser) and prints no link.
"""

import hashlib
import re
import time
import urllib.error
import urllib.request

import pytest

from conftest import LiveServer
from kiosk.data import setup as data
from kiosk.db import connect
from kiosk.serving import server
from kiosk.setup import service


@pytest.fixture
def link(app):
    db = connect(app.config["DATABASE"])
    with app.app_context():
        url = service.announce(db)
    yield url
    db.close()


def secret_of(url):
    return url.rsplit("/", 1)[1]


def test_the_link_claims_a_fresh_install_once(app, client, link, db):
    assert link.startswith("http://kiosk.test/setup/")
    secret = secret_of(link)
    assert db.execute("SELECT token_hash FROM setup_links").fetchone()[0] == hashlib.sha256(secret.encode()).hexdigest()
    assert client.get("/setup/not-the-secret").status_code == 404
    assert client.post("/setup/not-the-secret", data={"email": "x@example.org", "password": "p" * 10,
                                                      "password2": "p" * 10}).status_code == 404
    page = client.get(f"/setup/{secret}")
    assert page.status_code == 200 and 'name="password2"' in page.get_data(as_text=True)
    mismatch = client.post(f"/setup/{secret}", data={"email": "eerste@example.org", "password": "geheim wachtwoord",
                                                     "password2": "ander wachtwoord"})
    assert mismatch.status_code == 400 and "not the same" in mismatch.get_data(as_text=True)
    short = client.post(f"/setup/{secret}", data={"email": "eerste@example.org", "password": "kort", "password2": "kort"})
    assert short.status_code == 400
    claimed = client.post(f"/setup/{secret}", data={"email": "eerste@example.org", "password": "geheim wachtwoord",
                                                    "password2": "geheim wachtwoord"})
    assert claimed.status_code == 303 and claimed.headers["Location"] == "/setup/event"
    assert client.get("/setup/event").status_code == 200  # logged in as the new organiser
    bad = client.post("/setup/event", data={"name": "Netwerkdag", "date": "morgen"})
    assert bad.status_code == 400 and "not a date" in bad.get_data(as_text=True)
    made = client.post("/setup/event", data={"name": "Netwerkdag", "date": "2027-03-11", "timezone": "Europe/Amsterdam",
                                             "language": "nl", "venue": "Zaandam"})
    assert made.status_code == 303 and made.headers["Location"] == "/"
    assert db.execute("SELECT name, date FROM event").fetchone() == ("Netwerkdag", "2027-03-11")
    # Used: gone, for this browser and for anyone else.
    other = app.test_client()
    assert other.get(f"/setup/{secret}").status_code == 404
    assert other.post(f"/setup/{secret}", data={"email": "tweede@example.org", "password": "nog een wachtwoord",
                                                "password2": "nog een wachtwoord"}).status_code == 404
    assert db.execute("SELECT email, role FROM users").fetchall() == [("eerste@example.org", "organiser")]
    assert other.get("/setup/event").status_code == 302  # to the login form
    audit = db.execute("SELECT actor, action FROM audit_log ORDER BY id").fetchall()
    assert ("eerste@example.org", "set up install") in audit and ("eerste@example.org", "create event") in audit
    with app.app_context():
        assert service.announce(db) is None  # an install with an account prints no link


def test_a_new_link_replaces_the_old_one(app, db):
    with app.app_context():
        first, second = secret_of(service.announce(db)), secret_of(service.announce(db))
    assert not data.setup_link_open(db, first) and data.setup_link_open(db, second)
    assert app.test_client().get(f"/setup/{first}").status_code == 404


def test_an_account_made_another_way_closes_the_link(app, link, db, runner):
    result = runner.invoke(args=["user", "add", "cli@example.org", "--password", "a long password"])
    assert result.exit_code == 0
    assert app.test_client().get(f"/setup/{secret_of(link)}").status_code == 404


def test_demo_if_empty_builds_the_demo_and_prints_no_link(app, capsys):
    server._demo_if_empty(app)
    server._announce_setup(app)
    output = capsys.readouterr().out
    assert "Built the demo event" in output and "/setup/" not in output


def test_kiosk_serve_prints_the_link_on_an_empty_database(tmp_path):
    live = LiveServer(tmp_path / "fresh.db", tmp_path / "instance")
    try:
        found = None
        for _ in range(50):  # the line is printed before the server starts listening; allow for buffering
            found = re.search(r"(http://127\.0\.0\.1:\d+/setup/\S+)", live.output())
            if found:
                break
            time.sleep(0.1)
        assert found, live.output()
        with urllib.request.urlopen(found.group(1), timeout=10) as response:
            assert response.status == 200 and b'name="password2"' in response.read()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(live.url + "/setup/guessed", timeout=10)
        assert refused.value.code == 404
        refused.value.close()
    finally:
        live.stop()
