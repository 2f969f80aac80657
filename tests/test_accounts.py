"""Logging in, roles, and the language switch.

Logging in and the roles it gives, the language switch, and logging out: a copy of the session
cookie stops working with the logout (and with a new login in the same browser), another
device's login of the same account does not, and a login ends by itself after seven days.
`kiosk user logout EMAIL`, which ends every login of one account, is tested in test_cli.py.
A wrong login takes as long for an address without an account as for one with an account.
"""

import statistics
import time

import pytest

from kiosk.data import accounts
from tests.conftest import HOST, ORGANISER, login


def test_anonymous_is_sent_to_login(demo_app):
    client = demo_app.test_client()
    response = client.get("/admin/attendees")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_login_page_is_public(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="password"' in response.data


def test_organiser_logs_in_and_sees_overview(demo_app):
    client = demo_app.test_client()
    response = login(client, *ORGANISER)
    assert response.status_code == 303
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused(demo_app):
    client = demo_app.test_client()
    response = login(client, ORGANISER[0], "wrong password")
    assert response.status_code == 200
    assert b"not right" in response.data
    assert client.get("/admin/attendees").status_code == 302


def test_a_login_takes_as_long_for_an_unknown_address_as_for_a_known_one(demo_app):
    """The time a wrong login takes does not tell which e-mail addresses have an account.

    An unknown address once cost two scrypt hashes (making one, checking it) and a known one one:
    about twice as long, never overlapping. Fifteen tries of each, interleaved; the medians must be
    within 25 % of each other and the ranges must overlap. Measured as the CPU time of the thread
    that answers (the test client runs the app in this thread): that is what differed, and unlike
    the wall-clock time it does not grow with the machine's other work (tests share two cores).
    """
    demo_app.config["LOGIN_LIMIT"] = (1000, 300)
    client = demo_app.test_client()
    login(client, "warm-up@example.org", "wrong password")  # a process's first login may cost more
    times = {"known": [], "unknown": []}
    for n in range(15):
        for kind in ("known", "unknown") if n % 2 else ("unknown", "known"):
            email = ORGANISER[0] if kind == "known" else f"nobody-{n}@example.org"
            start = time.thread_time()
            response = login(client, email, "wrong password")
            times[kind].append(time.thread_time() - start)
            assert response.status_code == 200 and b"not right" in response.data
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    shown = {kind: sorted(round(t * 1000) for t in values) for kind, values in times.items()}  # ms, for the report
    assert abs(known - unknown) <= 0.25 * min(known, unknown), shown
    assert min(times["unknown"]) <= max(times["known"]) and min(times["known"]) <= max(times["unknown"]), shown


def test_host_cannot_open_organiser_pages(host_client):
    assert host_client.get("/rooms/").status_code == 200
    assert host_client.get("/admin/attendees").status_code == 403


def test_passwords_are_hashed_with_scrypt(db):
    accounts.add_user(db, "a@example.org", "long enough", "host")
    stored = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("scrypt:")
    assert "long enough" not in stored


@pytest.mark.parametrize("email,password,role", [("no-at-sign", "long enough", "host"), ("a@example.org", "short", "host"), ("a@example.org", "long enough", "admin")])
def test_bad_accounts_are_refused(db, email, password, role):
    with pytest.raises(accounts.AccountError):
        accounts.add_user(db, email, password, role)


def test_logins_are_rate_limited(demo_app):
    client = demo_app.test_client()
    statuses = [login(client, ORGANISER[0], "wrong").status_code for _ in range(12)]
    assert statuses[-1] == 429
    # Even the right password waits out the limit.
    assert login(client, *ORGANISER).status_code == 429


@pytest.mark.parametrize("language,text", [("nl", "Deelnemers"), ("en", "Attendees")])
def test_language_switch(organiser_client, language, text):
    organiser_client.post("/language", data={"language": language, "next": "/admin/attendees"})
    page = organiser_client.get("/admin/attendees").get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    assert text in page


def test_language_follows_the_browser(demo_app):
    client = demo_app.test_client()
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    page = client.get("/login", headers={"Accept-Language": "nl-NL,nl;q=0.9"}).get_data(as_text=True)
    assert '<html lang="nl">' in page


def test_next_url_cannot_leave_the_site(demo_app):
    client = demo_app.test_client()
    response = client.post("/login", data={"email": ORGANISER[0], "password": ORGANISER[1], "next": "//evil.example/"})
    assert response.location == "/"
    assert HOST  # the host account exists in the demo fixture too


def copy_of_session_cookie(app, client):
    """A second browser holding a copy of CLIENT's session cookie, as a stolen cookie would be."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_logging_out_ends_the_login_for_every_copy_of_the_cookie(demo_app):
    client = demo_app.test_client()
    login(client, *ORGANISER)
    thief = copy_of_session_cookie(demo_app, client)
    assert thief.get("/admin/attendees").status_code == 200

    assert client.post("/logout").status_code == 303
    assert client.get("/admin/attendees").status_code == 302
    response = thief.get("/admin/attendees")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_logging_in_again_in_the_same_browser_ends_its_earlier_login(demo_app):
    client = demo_app.test_client()
    login(client, *HOST)
    thief = copy_of_session_cookie(demo_app, client)
    login(client, *ORGANISER)
    assert client.get("/admin/attendees").status_code == 200
    assert thief.get("/rooms/").status_code == 302


def test_logging_out_on_one_device_leaves_the_other_logged_in(demo_app):
    laptop, tablet = demo_app.test_client(), demo_app.test_client()
    login(laptop, *HOST)
    login(tablet, *HOST)
    laptop.post("/logout")
    assert laptop.get("/rooms/").status_code == 302
    assert tablet.get("/rooms/").status_code == 200


def test_a_login_ends_by_itself_after_seven_days(demo_app, demo_db):
    client = demo_app.test_client()
    login(client, *HOST)
    assert client.get("/rooms/").status_code == 200
    demo_db.execute("UPDATE login_sessions SET started_at = '2020-01-01T08:00:00.000+00:00'")
    assert client.get("/rooms/").status_code == 302


def test_only_a_live_login_token_names_a_user(db):
    user = accounts.add_user(db, "host@example.org", "long enough", "host")
    token = accounts.start_login(db, user["id"])
    assert accounts.user_for_login(db, token)["email"] == "host@example.org"
    # A session cookie from before logins were kept held the user's id: it no longer signs anyone in.
    for stale in (str(user["id"]), user["id"], None, "kls_" + "x" * 43, token + "x"):
        assert accounts.user_for_login(db, stale) is None
    assert db.execute("SELECT token_hash FROM login_sessions").fetchone()[0] == accounts.hash_token(token)
    accounts.end_login(db, token)
    assert accounts.user_for_login(db, token) is None


def test_a_live_page_polling_without_a_login_is_sent_whole_to_the_login_form(demo_app):
    client = demo_app.test_client()
    poll = {"HX-Request": "true", "HX-Current-URL": "http://localhost/rooms/?tab=1"}
    response = client.get("/rooms/?v=abc", headers=poll)
    assert response.status_code == 401 and response.data == b""  # nothing for htmx to swap in
    assert response.headers["HX-Redirect"] == "/login?next=/rooms/?tab%3D1"
    # A page address from another site is not a place to return to.
    response = client.get("/rooms/?v=abc", headers={"HX-Request": "true", "HX-Current-URL": "http://evil.example/x"})
    assert response.headers["HX-Redirect"] == "/login?next=/rooms/"
    # Without htmx, the browser is redirected as before.
    response = client.get("/rooms/?v=abc")
    assert response.status_code == 302 and response.location == "/login?next=/rooms/?v%3Dabc"


def test_the_language_chosen_on_the_login_page_survives_logging_in(demo_app):
    """Defect 15."""
    client = demo_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl"
    client.post("/language", data={"language": "en", "next": "/login"})
    assert login(client, *ORGANISER).status_code == 303
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
