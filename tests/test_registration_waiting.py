"""Waiting lists from the registrant's side: whoever joins one gets an e-mail (through a real SMTP server,
aiosmtpd on loopback) with the session, their place in line and what happens next; someone without a
registration gets a personal link of their own to see and leave their lists, a registered person leaves
them on their registration page; a sign-up that waits for two sessions becomes one registration.
"""

import hashlib
import re

import pytest

from conftest import ORGANISER, login
from kiosk.db import connect
from mailserver import MailServer
from test_registration import form_for, registration_app, send_mail

LUNCH, AFTERNOON = 3, 4
MAAK, ZORG = 8, 13  # a lunch walk, and an afternoon session the demo has overbooked (60 for 48 places)


@pytest.fixture
def smtp():
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def reg_app(tmp_path, demo_template, smtp):
    return registration_app(tmp_path, demo_template, smtp.config)


@pytest.fixture
def full_lunch(reg_app):
    """Lunch is required and every lunch session is full: registration only offers the waiting list."""
    db = connect(reg_app.config["DATABASE"])
    db.execute("UPDATE blocks SET required = 1 WHERE id = ?", [LUNCH])
    db.execute("UPDATE sessions SET place_limit = 0 WHERE block_id = ?", [LUNCH])
    yield db
    db.close()


def join(app, name, email, language="en", **choices):
    response = app.test_client().post("/register", data=dict(form_for(name, email, **choices), waitlist="yes"),
                                      headers={"Accept-Language": language})
    assert response.status_code == 303 and "waiting=1" in response.headers["Location"]


def mail_to(messages, address):
    [message] = [m for m in messages if m["To"].addresses[0].addr_spec == address]
    return message


def test_joining_only_a_waiting_list_mails_the_place_in_line_and_a_link_to_leave_it(reg_app, smtp, full_lunch):
    db = full_lunch
    join(reg_app, "Eerste Wachter", "eerste@example.org", **{str(LUNCH): MAAK})
    join(reg_app, "Tweede Wachter", "tweede@example.org", language="nl", **{str(LUNCH): MAAK, str(AFTERNOON): ZORG})
    # The e-mail is in the outbox with the waiting list rows (one transaction), for nobody registered.
    rows = db.execute("SELECT kind, attendee_id, recipient, language FROM outbox ORDER BY id").fetchall()
    assert rows == [("waiting", None, "eerste@example.org", "en"), ("waiting", None, "tweede@example.org", "nl")]
    assert db.execute("SELECT count(*) FROM attendees WHERE email IN ('eerste@example.org', 'tweede@example.org')"
                      ).fetchone()[0] == 0
    assert send_mail(reg_app).exit_code == 0
    messages = smtp.inbox.wait_for(2)
    first, second = mail_to(messages, "eerste@example.org"), mail_to(messages, "tweede@example.org")
    text = first.get_body(("plain",)).get_content()
    assert first["Subject"].startswith("On the waiting list:") and first.get_body(("html",)) is not None
    assert "Stadswandeling MAAK Centrum (Lunch, 12:15): number 1 in line" in text
    assert "When it is your turn, you are registered at once" in text
    assert not list(first.iter_attachments())  # no ticket, no calendar: they have no place yet
    dutch = second.get_body(("plain",)).get_content()
    assert second["Subject"].startswith("Op de wachtlijst:")
    assert "Stadswandeling MAAK Centrum (Lunch, 12:15): nummer 2 in de rij" in dutch
    assert "Zorg, jeugd en onderwijs" in dutch and "nummer 1 in de rij" in dutch
    link = re.search(r"http://kiosk\.test(/register/waiting/[\w-]+)", text).group(1)
    dutch_link = re.search(r"http://kiosk\.test(/register/waiting/[\w-]+)", dutch).group(1)
    # The link's token is stored hashed only.
    token = link.rsplit("/", 1)[1]
    assert db.execute("SELECT count(*) FROM waiting_links WHERE token_hash = ?",
                      [hashlib.sha256(token.encode()).hexdigest()]).fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM waiting_links WHERE token_hash = ?", [token]).fetchone()[0] == 0

    # Through the link, by plain HTTP: the page shows what they wait for, and leaving takes them off.
    client = reg_app.test_client()
    page = client.get(link).get_data(as_text=True)
    assert "Stadswandeling MAAK Centrum" in page and "number 1 in line" in page
    entry = int(re.search(r'name="entry" value="(\d+)"', page).group(1))
    theirs = client.get(dutch_link, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    other_entries = [int(n) for n in re.findall(r'name="entry" value="(\d+)"', theirs)]
    assert len(other_entries) == 2 and "nummer 2 in de rij" in theirs
    refused = client.post(link + "/leave", data={"entry": str(other_entries[0])}, follow_redirects=True)
    assert "not on that waiting list" in refused.get_data(as_text=True)  # not theirs: nothing happens
    left = client.post(link + "/leave", data={"entry": str(entry)})
    assert left.status_code == 303 and left.headers["Location"].endswith(link)
    after = client.get(link).get_data(as_text=True)
    assert 'id="waiting-none"' in after and "no longer on the waiting list" in after
    assert db.execute("SELECT removed_at IS NOT NULL FROM waiting_list WHERE id = ?", [entry]).fetchone()[0] == 1
    link_id = db.execute("SELECT link_id FROM waiting_list WHERE id = ?", [entry]).fetchone()[0]
    assert db.execute("SELECT actor, action FROM audit_log WHERE action = 'waiting.leave'").fetchall() == [
        (f"waiting list link {link_id}", "waiting.leave")]
    # The one behind moves up; the organiser's list no longer has the one who left.
    assert "nummer 1 in de rij" in client.get(dutch_link, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM waiting_list WHERE promoted_at IS NULL AND removed_at IS NULL").fetchone()[0] == 2
    assert client.post(link + "/leave", data={"entry": "not a number"}).status_code == 303  # a clear no, not a 500
    assert client.get("/register/waiting/not-a-token").status_code == 404
    assert client.post("/register/waiting/not-a-token/leave", data={"entry": str(entry)}).status_code == 404


def test_a_registered_person_waiting_is_told_in_the_ticket_and_leaves_on_their_page(reg_app, smtp):
    client = reg_app.test_client()
    join(reg_app, "Wacht Geregistreerd", "wachtgeregistreerd@example.org", **{str(AFTERNOON): ZORG})
    join(reg_app, "Ander Persoon", "ander@example.org", **{str(AFTERNOON): ZORG})
    db = connect(reg_app.config["DATABASE"])
    assert [row[0] for row in db.execute("SELECT kind FROM outbox")] == ["ticket", "ticket"]  # one mail each
    assert send_mail(reg_app).exit_code == 0
    mail = mail_to(smtp.inbox.wait_for(2), "wachtgeregistreerd@example.org")
    text = mail.get_body(("plain",)).get_content()
    assert "These sessions were full; you are on their waiting list:" in text
    assert "Zorg, jeugd en onderwijs (Middagsessies, 13:30): number 1 in line" in text
    assert "Zorg, jeugd en onderwijs" in mail.get_body(("html",)).get_content()
    link = re.search(r"(/register/me/[\w-]+)", text).group(1)
    page = client.get(link).get_data(as_text=True)
    assert "Zorg, jeugd en onderwijs: number 1 in line" in page
    [entry] = re.findall(r'name="entry" value="(\d+)"', page)
    other = db.execute("SELECT id FROM waiting_list WHERE email = 'ander@example.org'").fetchone()[0]
    assert "not on that waiting list" in client.post(link + "/waiting", data={"entry": str(other)},
                                                     follow_redirects=True).get_data(as_text=True)
    left = client.post(link + "/waiting", data={"entry": entry}, follow_redirects=True).get_data(as_text=True)
    assert "You are off the waiting list." in left and 'name="entry"' not in left
    attendee_id = db.execute("SELECT attendee_id FROM waiting_list WHERE id = ?", [int(entry)]).fetchone()[0]
    assert db.execute("SELECT actor FROM audit_log WHERE action = 'waiting.leave'").fetchall() == [
        (f"registrant {attendee_id}",)]
    assert db.execute("SELECT removed_at IS NULL FROM waiting_list WHERE id = ?", [other]).fetchone()[0] == 1
    db.close()


def test_a_sign_up_waiting_for_two_sessions_becomes_one_registration(reg_app, smtp, full_lunch):
    db = full_lunch
    join(reg_app, "Twee Lijsten", "twee@example.org", **{str(LUNCH): MAAK, str(AFTERNOON): ZORG})
    organiser = reg_app.test_client()
    assert login(organiser, *ORGANISER).status_code == 303
    # A place comes free in the walk: the person is registered, and their other list is now that registration's.
    assert organiser.post(f"/admin/program/sessions/{MAAK}", data={
        "title": "Stadswandeling MAAK Centrum", "block_id": str(LUNCH), "kind": "walk", "place_limit": "1000"}).status_code == 303
    [(attendee_id,)] = db.execute("SELECT id FROM attendees WHERE email = 'twee@example.org'").fetchall()
    zorg_entry, zorg_owner = db.execute("SELECT id, attendee_id FROM waiting_list WHERE session_id = ? AND email = ?",
                                        [ZORG, "twee@example.org"]).fetchone()
    assert zorg_owner == attendee_id
    assert organiser.post(f"/admin/waiting/{zorg_entry}/promote").status_code == 303
    assert db.execute("SELECT count(*) FROM attendees WHERE email = 'twee@example.org'").fetchone()[0] == 1
    assert dict(db.execute("SELECT block_id, session_id FROM choices WHERE attendee_id = ?", [attendee_id]).fetchall()) == {
        LUNCH: MAAK, AFTERNOON: ZORG}
    assert [row[0] for row in db.execute("SELECT kind FROM outbox ORDER BY id")] == ["waiting", "promoted", "promoted"]
    # Their waiting list link still opens, and says they were given their places.
    send_mail(reg_app)
    [waiting_mail] = [m for m in smtp.inbox.wait_for(3) if m["Subject"].startswith("On the waiting list")]
    link = re.search(r"(/register/waiting/[\w-]+)", waiting_mail.get_body(("plain",)).get_content()).group(1)
    page = reg_app.test_client().get(link).get_data(as_text=True)
    assert page.count("you were given a place") == 2 and 'id="waiting-none"' in page


def test_a_waiting_list_form_sent_twice_keeps_one_place_and_sends_one_mail(reg_app, full_lunch):
    db = full_lunch
    join(reg_app, "Dubbel Klikker", "dubbel@example.org", **{str(LUNCH): MAAK})
    join(reg_app, "Dubbel Klikker", "Dubbel@Example.org", **{str(LUNCH): MAAK})  # the same address, another case
    assert db.execute("SELECT count(*) FROM waiting_list WHERE email LIKE 'dubbel@example.org'").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'waiting'").fetchone()[0] == 1
    # Another session's list is still theirs to join.
    db.execute("UPDATE sessions SET place_limit = 0 WHERE id = ?", [ZORG])
    join(reg_app, "Dubbel Klikker", "dubbel@example.org", **{str(LUNCH): MAAK, str(AFTERNOON): ZORG})
    assert sorted(row[0] for row in db.execute(
        "SELECT session_id FROM waiting_list WHERE email LIKE 'dubbel@example.org'")) == [MAAK, ZORG]
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'waiting'").fetchone()[0] == 2


def test_a_registered_person_who_signs_up_again_while_the_lunch_is_full_stays_registered(reg_app):
    response = reg_app.test_client().post("/register", data=form_for("Al Binnen", "albinnen@example.org", **{str(LUNCH): MAAK}))
    assert response.status_code == 303 and "waiting=1" not in response.headers["Location"]
    db = connect(reg_app.config["DATABASE"])
    db.execute("UPDATE blocks SET required = 1 WHERE id = ?", [LUNCH])
    db.execute("UPDATE sessions SET place_limit = 0 WHERE block_id = ?", [LUNCH])
    again = reg_app.test_client().post("/register", data=dict(form_for("Al Binnen", "albinnen@example.org", **{str(LUNCH): MAAK}), waitlist="yes"))
    assert again.status_code == 303
    [(attendee_id, status)] = db.execute("SELECT id, status FROM attendees WHERE email = 'albinnen@example.org'").fetchall()
    assert status == "registered"
    assert db.execute("SELECT session_id FROM choices WHERE attendee_id = ? AND block_id = ?", [attendee_id, LUNCH]).fetchone() == (MAAK,)
    assert db.execute("SELECT count(*) FROM waiting_list WHERE email = 'albinnen@example.org'").fetchone()[0] == 0
    assert [row[0] for row in db.execute("SELECT kind FROM outbox WHERE recipient = 'albinnen@example.org'")] == ["ticket", "ticket"]
    db.close()
