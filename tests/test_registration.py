"""Registration: the public form signs people up without overselling a place, mails the ticket through a
real SMTP server (aiosmtpd on loopback) whose QR scans at the entrance and whose .ics is in the event's time
zone, keeps mail in the outbox while the server is down and never sends a message twice, offers and keeps
waiting lists, and lets people change or cancel through their personal link.
"""

import email.policy
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from icalendar import Calendar
from PIL import Image

from conftest import ORGANISER, ROOT, login, make_app, make_station
from kiosk.db import connect
from kiosk.mail import message as mail_message
from mailserver import MailServer


@pytest.fixture
def smtp():
    server = MailServer().start()
    yield server
    server.stop()


def registration_app(tmp_path, demo_template, smtp_config, **extra):
    path = tmp_path / "register.db"
    path.write_bytes(demo_template.read_bytes())
    app = make_app(dict({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                         "PUBLIC_URL": "http://kiosk.test", "REGISTER_LIMIT": (100_000, 60)}, **smtp_config, **extra))
    assert app.test_cli_runner().invoke(args=["registration", "open"]).exit_code == 0
    return app


@pytest.fixture
def reg_app(tmp_path, demo_template, smtp):
    return registration_app(tmp_path, demo_template, smtp.config)


def form_for(name, email, **choices):
    data = {"name": name, "email": email, "organisation": "Gemeente Zaanstad", "role": "beleidsadviseur", "consent": "yes"}
    data.update({f"block-{block}": str(session) for block, session in choices.items()})
    return data


def send_mail(app):
    result = app.test_cli_runner().invoke(args=["mail", "send", "--wait", "5"])
    return result


def test_a_registration_through_the_form_mails_a_ticket_that_scans_at_the_entrance(reg_app, smtp):
    client = reg_app.test_client()
    page = client.get("/register").get_data(as_text=True)
    assert 'name="name"' in page and 'name="email"' in page and 'name="organisation"' in page
    assert 'type="radio" name="block-3"' in page
    response = client.post("/register", data=form_for("Sanne de Vries", "sanne@example.org", **{"3": 8, "4": 10}))
    assert response.status_code == 303 and "/register/done" in response.headers["Location"]
    result = send_mail(reg_app)
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    [message] = smtp.inbox.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "sanne@example.org"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    png = next(part for name, part in attachments.items() if name.endswith(".png"))
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.get_content())))
    code = decoded[0].text
    assert code.startswith("K1-")
    db = connect(reg_app.config["DATABASE"])
    _station, token, _secret = make_station(db, "Entrance by mail")
    answer = reg_app.test_client().post("/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {token}"})
    assert answer.get_json()["outcome"] == "checked_in"
    assert "Sanne de Vries" in answer.get_data(as_text=True)
    # The calendar: valid iCalendar, the event's first block at 09:30 in Europe/Amsterdam.
    calendar = Calendar.from_ical(attachments["event.ics"].get_content() if isinstance(
        attachments["event.ics"].get_content(), bytes) else attachments["event.ics"].get_content().encode())
    events = list(calendar.walk("VEVENT"))
    event_date = db.execute("SELECT date FROM event").fetchone()[0]
    start = events[0].decoded("dtstart")
    assert start == datetime.fromisoformat(f"{event_date}T09:30").replace(tzinfo=ZoneInfo("Europe/Amsterdam"))
    assert str(start.tzinfo) == "Europe/Amsterdam" and b"TZID=Europe/Amsterdam" in calendar.to_ical()
    assert list(calendar.walk("VTIMEZONE"))
    walk = [e for e in events if "MAAK" in str(e["summary"])][0]
    assert walk.decoded("dtstart").strftime("%H:%M") == "12:15"
    # The personal link in the mail opens the registration page, with the QR and the program.
    link = re.search(r"http://kiosk\.test(/register/me/[\w-]+)", message.get_body(("plain",)).get_content()).group(1)
    personal = reg_app.test_client().get(link)
    assert personal.status_code == 200 and "Stadswandeling MAAK Centrum" in personal.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM registration_links WHERE token_hash = ?", [link.rsplit("/", 1)[1]]).fetchone()[0] == 0
    db.close()


def test_mail_waits_while_the_server_is_down_and_arrives_once_when_it_is_back(tmp_path, demo_template):
    server = MailServer()  # not started: connections are refused
    app = registration_app(tmp_path, demo_template, server.config)
    client = app.test_client()
    for n in range(10):
        assert client.post("/register", data=form_for(f"Persoon {n}", f"p{n}@example.org")).status_code == 303
    db = connect(app.config["DATABASE"])
    assert db.execute("SELECT count(*) FROM outbox WHERE status = 'waiting'").fetchone()[0] == 10
    down = send_mail(app)
    assert down.exit_code == 1 and "10 to try again later" in down.output
    assert db.execute("SELECT count(*) FROM outbox WHERE status = 'waiting' AND last_error LIKE 'mail server:%'").fetchone()[0] == 10
    server.start()
    try:
        assert "10 sent" in send_mail(app).output
        assert "0 sent" in send_mail(app).output
        received = server.inbox.wait_for(10)
        time.sleep(0.3)
        assert sorted(m["To"].addresses[0].addr_spec for m in server.inbox.messages) == sorted(
            f"p{n}@example.org" for n in range(10))
    finally:
        server.stop()
    assert len({m["Message-ID"] for m in received}) == 10
    db.close()


def test_a_sender_killed_during_data_sends_nothing_twice(tmp_path, demo_template, smtp):
    app = registration_app(tmp_path, demo_template, smtp.config)
    client = app.test_client()
    for n in range(3):
        assert client.post("/register", data=form_for(f"Gast {n}", f"gast{n}@example.org")).status_code == 303
    smtp.inbox.release.clear()  # the server holds the first DATA
    env = dict(os.environ, KIOSK_DB=app.config["DATABASE"], KIOSK_INSTANCE=str(tmp_path / "instance"),
               KIOSK_SMTP_HOST="127.0.0.1", KIOSK_SMTP_PORT=str(smtp.port), KIOSK_SMTP_TLS="none",
               KIOSK_PUBLIC_URL="http://kiosk.test", KIOSK_MAIL_FROM="aanmelden@example.org")
    process = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "mail", "send"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert smtp.inbox.in_data.wait(30), "the sender never reached DATA"
        time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
        smtp.inbox.release.set()
    smtp.inbox.wait_for(1)
    again = subprocess.run([sys.executable, "-m", "kiosk.cli", "mail", "send"], env=env, cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert "1 uncertain" in again.stdout, again.stdout + again.stderr
    received = smtp.inbox.wait_for(3)
    time.sleep(0.3)
    ids = [m["Message-ID"] for m in smtp.inbox.messages]
    assert len(ids) == 3 and len(set(ids)) == 3  # every message once, the interrupted one too
    db = connect(app.config["DATABASE"])
    assert dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()) == {"sent": 2, "uncertain": 1}
    db.close()
    assert received


def test_fifty_at_once_for_five_places_give_five_places_and_fortyfive_waiting_list_offers(reg_app, smtp):
    db = connect(reg_app.config["DATABASE"])
    taken = db.execute("""SELECT count(*) FROM choices JOIN attendees ON attendees.id = choices.attendee_id
                          WHERE session_id = 7 AND status = 'registered'""").fetchone()[0]
    db.execute("UPDATE sessions SET place_limit = ? WHERE id = 7", [taken + 5])
    answers, start = [], threading.Barrier(50)

    def submit(n):
        client = reg_app.test_client()
        start.wait(10)
        response = client.post("/register", data=form_for(f"Snel {n}", f"snel{n}@example.org", **{"3": 7}))
        answers.append((n, response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    registered = [a for a in answers if a[1] == 303]
    offered = [a for a in answers if a[1] == 200 and 'id="waitlist-offer"' in a[2]]
    assert len(registered) == 5 and len(offered) == 45
    assert db.execute("""SELECT count(*) FROM choices JOIN attendees ON attendees.id = choices.attendee_id
                         WHERE session_id = 7 AND status = 'registered'""").fetchone()[0] == taken + 5
    page = reg_app.test_client().get("/register").get_data(as_text=True)
    assert re.search(r'id="places-7" class="places full"', page)
    poll = reg_app.test_client().get("/register/places", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="places-7" class="places full" hx-swap-oob="true"' in poll and "<html" not in poll
    # Two of those who were offered it join the waiting list; a cancellation promotes the first and mails them.
    first, second = offered[0][0], offered[1][0]
    for n in (first, second):
        form = dict(form_for(f"Snel {n}", f"snel{n}@example.org", **{"3": 7}), waitlist="yes")
        response = reg_app.test_client().post("/register", data=form)
        assert response.status_code == 303 and "waiting=1" in response.headers["Location"]
    waiting = db.execute("SELECT name FROM waiting_list WHERE session_id = 7 ORDER BY position").fetchall()
    assert [row[0] for row in waiting] == [f"Snel {first}", f"Snel {second}"]
    assert send_mail(reg_app).exit_code == 0
    smtp.inbox.wait_for(7)
    mails = list(smtp.inbox.messages)
    lucky = f"snel{registered[0][0]}@example.org"
    link = next(re.search(r"(/register/me/[\w-]+)", m.get_body(("plain",)).get_content()).group(1)
                for m in mails if m["To"].addresses[0].addr_spec == lucky)
    cancel = reg_app.test_client().post(link + "/cancel", data={"confirm": "yes"})
    assert cancel.status_code == 303
    promoted = db.execute("SELECT attendee_id, promoted_at FROM waiting_list WHERE name = ?", [f"Snel {first}"]).fetchone()
    assert promoted[1] is not None
    assert db.execute("SELECT 1 FROM choices WHERE attendee_id = ? AND session_id = 7", [promoted[0]]).fetchone()
    assert send_mail(reg_app).exit_code == 0
    newest = smtp.inbox.wait_for(len(mails) + 1)[-1]
    assert newest["To"].addresses[0].addr_spec == f"snel{first}@example.org"
    assert "Monet" in newest.get_body(("plain",)).get_content()
    assert db.execute("SELECT count(*) FROM waiting_list WHERE promoted_at IS NULL AND removed_at IS NULL").fetchone()[0] == 1
    db.close()


def test_header_injection_through_names_and_addresses_is_impossible():
    evil = mail_message.address("Eve\r\nBcc: victim@example.org\nX-Evil: 1", "eve@example.org")
    from email.message import EmailMessage

    message = EmailMessage(policy=mail_message.SMTP_POLICY)
    message["To"] = evil
    message["Subject"] = "x"
    message.set_content("x")
    raw = message.as_bytes()
    assert b"\r\nBcc:" not in raw and b"\nX-Evil" not in raw
    for bad in ("eve@example.org\r\nBcc: victim@example.org", "eve@exa mple.org", "eve\n@example.org", "a@b@c"):
        with pytest.raises(mail_message.BadAddress):
            mail_message.address("Eve", bad)


def test_the_page_follows_the_browser_and_shows_no_other_registrant(reg_app):
    dutch = reg_app.test_client().get("/register", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Aanmelden" in dutch and "plaatsen over" in dutch
    db = connect(reg_app.config["DATABASE"])
    someone = db.execute("SELECT name, email FROM attendees WHERE email IS NOT NULL LIMIT 1").fetchone()
    assert someone[0] not in dutch and someone[1] not in dutch
    organisation = db.execute("SELECT organisation FROM attendees WHERE organisation != '' LIMIT 1").fetchone()[0]
    assert f'<option value="{organisation}">' in dutch  # suggestions: organisation names only
    page = reg_app.test_client().get("/register/places")
    fragment = reg_app.test_client().get("/register/places", headers={"HX-Request": "true"})
    assert page.status_code == 303 and page.headers["Location"].endswith("/register")  # the page is /register
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'id="places"' in fragment.get_data(as_text=True)
    db.close()


def test_closed_ended_and_abuse_answers(reg_app):
    client = reg_app.test_client()
    runner = reg_app.test_cli_runner()
    assert runner.invoke(args=["registration", "close"]).output.strip() == "registration closed"
    assert "Registration is not open" in client.get("/register").get_data(as_text=True)
    assert client.post("/register", data=form_for("Te Laat", "laat@example.org")).status_code == 200
    assert runner.invoke(args=["registration", "open", "--until", "2001-01-01 10:00"]).exit_code == 0
    assert "closing time has passed" in client.get("/register").get_data(as_text=True)
    assert runner.invoke(args=["registration", "open"]).exit_code == 0
    db = connect(reg_app.config["DATABASE"])
    before = db.execute("SELECT count(*) FROM attendees").fetchone()[0]
    # The honeypot: answered as a success, nothing stored.
    trapped = client.post("/register", data=dict(form_for("Robot", "robot@example.org"), website="http://spam"))
    assert trapped.status_code == 303
    too_long = client.post("/register", data=form_for("x" * 500, "lang@example.org"))
    assert too_long.status_code == 400 and "longer than" in too_long.get_data(as_text=True)
    no_consent = dict(form_for("Geen", "geen@example.org"))
    del no_consent["consent"]
    assert client.post("/register", data=no_consent).status_code == 400
    assert db.execute("SELECT count(*) FROM attendees").fetchone()[0] == before
    reg_app.config["REGISTER_LIMIT"] = (3, 60)
    answers = [client.post("/register", data=form_for("", "")).status_code for _ in range(5)]
    assert answers[-1] == 429
    db.close()


def test_a_full_required_block_closes_registration_and_a_raised_capacity_promotes(reg_app, smtp, organiser_client_for):
    organiser = organiser_client_for(reg_app)
    db = connect(reg_app.config["DATABASE"])
    db.execute("UPDATE blocks SET required = 1 WHERE id = 3")
    db.execute("UPDATE sessions SET place_limit = 0 WHERE block_id = 3")
    client = reg_app.test_client()
    page = client.get("/register").get_data(as_text=True)
    assert "Registration is closed: every session of Lunch is full" in page and 'value="yes">Join the waiting list' in page
    missing = client.post("/register", data=form_for("Geen Lunch", "geenlunch@example.org"))
    assert missing.status_code == 400 and "Choose a session in Lunch" in missing.get_data(as_text=True)
    joined = client.post("/register", data=dict(form_for("Wacht Ende", "wacht@example.org", **{"3": 8, "4": 10}),
                                                waitlist="yes"))
    assert joined.status_code == 303 and "waiting=1" in joined.headers["Location"]
    assert db.execute("SELECT count(*) FROM attendees WHERE email = 'wacht@example.org'").fetchone()[0] == 0
    waiting_page = organiser.get("/admin/waiting").get_data(as_text=True)
    assert "Wacht Ende" in waiting_page
    # The organiser raises the walk's places on the program page: the first in line gets it, with their wishes.
    session = db.execute("SELECT * FROM sessions WHERE id = 8").fetchone()
    taken = db.execute("SELECT count(*) FROM choices JOIN attendees ON attendees.id = attendee_id "
                       "WHERE session_id = 8 AND status = 'registered'").fetchone()[0]
    response = organiser.post("/admin/program/sessions/8", data={"title": "Stadswandeling MAAK Centrum", "block_id": "3",
                                                                  "kind": "walk", "place_limit": str(taken + 1)})
    assert response.status_code == 303, session
    attendee = db.execute("SELECT id, status FROM attendees WHERE email = 'wacht@example.org'").fetchone()
    assert attendee and attendee[1] == "registered"
    assert dict(db.execute("SELECT block_id, session_id FROM choices WHERE attendee_id = ?", [attendee[0]]).fetchall()) == {3: 8, 4: 10}
    assert db.execute("SELECT kind FROM outbox WHERE attendee_id = ?", [attendee[0]]).fetchone()[0] == "promoted"
    assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'waiting.promote'").fetchone()[0] == 1
    db.close()


@pytest.fixture
def organiser_client_for():
    def make(app):
        client = app.test_client()
        assert login(client, *ORGANISER).status_code == 303
        return client
    return make


def test_my_registration_changes_sessions_within_places_and_cancels(reg_app, smtp):
    client = reg_app.test_client()
    assert client.post("/register", data=form_for("Mijn Pagina", "mijn@example.org", **{"3": 8})).status_code == 303
    send_mail(reg_app)
    [mail] = smtp.inbox.wait_for(1)
    link = re.search(r"(/register/me/[\w-]+)", mail.get_body(("plain",)).get_content()).group(1)
    db = connect(reg_app.config["DATABASE"])
    attendee_id = db.execute("SELECT id FROM attendees WHERE email = 'mijn@example.org'").fetchone()[0]
    full = client.post(link + "/sessions", data={"block-3": "7"}, follow_redirects=True)  # Monet is overbooked
    assert "is full" in full.get_data(as_text=True)
    assert client.post(link + "/sessions", data={"block-3": "9", "block-4": "12"}).status_code == 303
    assert dict(db.execute("SELECT block_id, session_id FROM choices WHERE attendee_id = ?", [attendee_id]).fetchall()) == {3: 9, 4: 12}
    assert client.post(link + "/cancel", data={"confirm": "yes"}).status_code == 303
    assert db.execute("SELECT status FROM attendees WHERE id = ?", [attendee_id]).fetchone()[0] == "cancelled"
    assert "cancelled" in client.get(link).get_data(as_text=True)
    actions = [row[0] for row in db.execute("SELECT action FROM audit_log WHERE actor = ?", [f"registrant {attendee_id}"])]
    assert actions == ["attendee.sessions", "attendee.cancel"]
    assert client.get("/register/me/not-a-token").status_code == 404
    db.close()


def test_organisers_send_tickets_see_bounces_and_resend(tmp_path, demo_template, smtp, organiser_client_for):
    app = registration_app(tmp_path, demo_template, {})  # no mail server yet
    organiser = organiser_client_for(app)
    db = connect(app.config["DATABASE"])
    db.execute("UPDATE attendees SET email = 'refused-1@example.org' WHERE id = 1")
    page = organiser.get("/admin/outbox").get_data(as_text=True)
    assert 'id="no-mail-server"' in page
    assert organiser.post("/admin/attendees/1/ticket").status_code == 303
    form = organiser.get("/admin/tickets?attendee=2&attendee=3").get_data(as_text=True)
    assert 'name="attendee" value="2"' in form
    assert organiser.post("/admin/tickets", data={"attendee": ["2", "3"], "only_unsent": "1"}).status_code == 303
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 3
    unsent = db.execute("SELECT count(*) FROM attendees WHERE status = 'registered' AND email IS NOT NULL").fetchone()[0]
    organiser.post("/admin/outbox/unsent")
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == unsent
    organiser.post("/admin/outbox/unsent")  # nobody twice
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == unsent
    app.config.update(smtp.config)
    with app.test_request_context(base_url="http://kiosk.test"):
        from kiosk.mail import sender

        result = sender.flush(app)
    assert result["failed"] == 1 and result["sent"] == unsent - 1
    assert len(smtp.inbox.wait_for(unsent - 1)) == unsent - 1
    attendee_page = organiser.get("/admin/attendees/1").get_data(as_text=True)
    assert "refused this address" in attendee_page and "User unknown" in attendee_page
    outbox_page = organiser.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "address refused" in outbox_page and "550" in outbox_page
    failed = db.execute("SELECT id FROM outbox WHERE status = 'failed'").fetchone()[0]
    assert organiser.post(f"/admin/outbox/{failed}/resend").status_code == 303
    assert db.execute("SELECT status FROM outbox WHERE id = ?", [failed]).fetchone()[0] == "waiting"
    db.close()


def test_the_organiser_reorders_and_promotes_a_waiting_list_by_hand(reg_app, organiser_client_for):
    organiser = organiser_client_for(reg_app)
    client = reg_app.test_client()
    for name in ("Eerste", "Tweede"):
        answer = client.post("/register", data=dict(form_for(name, f"{name.lower()}@example.org", **{"3": 7}), waitlist="yes"))
        assert answer.status_code == 303
    db = connect(reg_app.config["DATABASE"])
    first, second = [row[0] for row in db.execute("SELECT id FROM waiting_list ORDER BY position")]
    assert organiser.post(f"/admin/waiting/{second}/move", data={"direction": "up"}).status_code == 303
    assert [row[0] for row in db.execute("SELECT id FROM waiting_list ORDER BY position")] == [second, first]
    assert organiser.post(f"/admin/waiting/{second}/promote").status_code == 303  # full, but by hand
    attendee = db.execute("SELECT attendee_id FROM waiting_list WHERE id = ?", [second]).fetchone()[0]
    assert db.execute("SELECT session_id FROM choices WHERE attendee_id = ? AND block_id = 3", [attendee]).fetchone()[0] == 7
    assert "Eerste" in organiser.get("/admin/waiting").get_data(as_text=True)
    db.close()


def test_registration_settings_on_the_event_page(reg_app, organiser_client_for):
    organiser = organiser_client_for(reg_app)
    page = organiser.get("/admin/event").get_data(as_text=True)
    assert 'name="registration_open"' in page and 'name="consent_text"' in page
    response = organiser.post("/admin/event/registration", data={
        "registration_open": "1", "registration_closes_at": "2030-05-01T17:00", "consent_text": "Ik ga akkoord.",
        "privacy_text": "Wij bewaren je gegevens.\n\nTot na de dag."})
    assert response.status_code == 303
    db = connect(reg_app.config["DATABASE"])
    assert db.execute("SELECT registration_closes_at FROM event").fetchone()[0].startswith("2030-05-01T15:00")
    assert "Ik ga akkoord." in reg_app.test_client().get("/register").get_data(as_text=True)
    assert "Tot na de dag." in reg_app.test_client().get("/register/privacy").get_data(as_text=True)
    assert 'value="2030-05-01T17:00"' in organiser.get("/admin/event").get_data(as_text=True)
    db.close()


def test_only_one_sender_holds_the_outbox_at_a_time(tmp_path):
    from kiosk.mail.sender import SenderLock

    first, second = SenderLock(tmp_path / "kiosk.db"), SenderLock(tmp_path / "kiosk.db")
    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


@pytest.mark.slow
def test_kiosk_serve_sends_the_outbox_from_its_own_thread(tmp_path, demo_template, smtp):
    from conftest import LiveServer

    path = tmp_path / "served.db"
    path.write_bytes(demo_template.read_bytes())
    db = connect(path)
    db.execute("UPDATE event SET registration_open = 1")
    env = {"KIOSK_SMTP_HOST": "127.0.0.1", "KIOSK_SMTP_PORT": str(smtp.port), "KIOSK_SMTP_TLS": "none",
           "KIOSK_MAIL_FROM": "aanmelden@example.org"}
    server = LiveServer(path, tmp_path / "instance", workers=2, env=env)
    try:
        import http.client
        from urllib.parse import urlencode

        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/register")
        response = connection.getresponse()
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode()).group(1)
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        for n in range(3):
            body = urlencode(dict(form_for(f"Via Serve {n}", f"serve{n}@example.org"), csrf_token=token))
            connection.request("POST", "/register", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
            assert connection.getresponse().status == 303
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        received = smtp.inbox.wait_for(3, timeout=20)
        time.sleep(3)  # two workers, two sender threads: still each message once
        assert sorted(m["To"].addresses[0].addr_spec for m in smtp.inbox.messages) == [f"serve{n}@example.org" for n in range(3)]
        assert received
    finally:
        server.stop()
        db.close()


def test_registering_again_with_the_same_address_sends_the_ticket_again_and_tells_nobody(reg_app):
    client = reg_app.test_client()
    first = client.post("/register", data=form_for("Dubbel Persoon", "dubbel@example.org"))
    again = reg_app.test_client().post("/register", data=form_for("Iemand Anders", "DUBBEL@example.org"))
    assert first.status_code == again.status_code == 303 and first.headers["Location"] == again.headers["Location"]
    db = connect(reg_app.config["DATABASE"])
    assert db.execute("SELECT count(*) FROM attendees WHERE email = 'dubbel@example.org' COLLATE NOCASE").fetchone()[0] == 1
    assert [row[0] for row in db.execute("SELECT recipient FROM outbox ORDER BY id")] == ["dubbel@example.org"] * 2
    db.close()
