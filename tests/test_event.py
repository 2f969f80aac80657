"""The event: `kiosk event create` and `kiosk event show`, the settings page, and the logo.

The CLI creates an event only in a database without one (exit 1 otherwise) and prints it as one
JSON object. The settings page checks every field (dates, end date after date, IANA time zone,
nl or en) and names the bad one. A logo upload is checked (images only, size and pixel limits),
stored as a PNG of at most 600 x 200 pixels, and shown on badges (print view and PDF) and kiosk
screens. Every change is in the audit log.
"""

import io
import json

import pytest
from PIL import Image

from conftest import ORGANISER, login, make_station


def png(width=40, height=20, fmt="PNG"):
    out = io.BytesIO()
    Image.new("RGB", (width, height), (15, 92, 110)).save(out, format=fmt)
    return out.getvalue()


def test_cli_creates_one_event_and_shows_it(runner):
    shown = runner.invoke(args=["event", "show"])
    assert shown.exit_code == 1 and "no event" in shown.output
    made = runner.invoke(args=["event", "create", "Netwerkdag 2027", "--date", "2027-03-11", "--end-date", "2027-03-12",
                               "--venue", "Stadhuis Zaanstad", "--timezone", "Europe/Amsterdam", "--language", "en"])
    assert made.exit_code == 0, made.output
    assert json.loads(runner.invoke(args=["event", "show"]).output) == {
        "name": "Netwerkdag 2027", "date": "2027-03-11", "end_date": "2027-03-12", "venue": "Stadhuis Zaanstad",
        "timezone": "Europe/Amsterdam", "language": "en"}
    again = runner.invoke(args=["event", "create", "Another", "--date", "2027-03-11"])
    assert again.exit_code == 1 and "already holds an event" in again.output


@pytest.mark.parametrize("args, field", [
    (["--date", "11-03-2027"], "date"), (["--date", "2027-03-11", "--end-date", "2027-03-10"], "end_date"),
    (["--date", "2027-03-11", "--timezone", "Mars/Olympus"], "timezone"),
    (["--date", "2027-03-11", "--timezone", "../../etc/passwd"], "timezone"),
])
def test_cli_names_a_bad_field(runner, args, field):
    made = runner.invoke(args=["event", "create", "X", *args])
    assert made.exit_code == 1 and made.output.startswith(field + ":")
    assert runner.invoke(args=["event", "show"]).exit_code == 1


def test_settings_page_saves_and_names_bad_fields(organiser_client, demo_db):
    page = organiser_client.get("/admin/event")
    assert page.status_code == 200 and "Tweede ambtelijke netwerkdag G40" in page.get_data(as_text=True)
    form = {"name": "G40 dag", "date": "2026-06-12", "end_date": "2026-06-13", "venue": "Zaandam", "address": "Stadhuisplein 100",
            "timezone": "Europe/Amsterdam", "language": "en", "badge_header": "G40 · Zaanstad"}
    assert organiser_client.post("/admin/event", data=form).status_code == 303
    row = demo_db.execute("SELECT name, end_date, address, language, badge_header FROM event").fetchone()
    assert row == ("G40 dag", "2026-06-13", "Stadhuisplein 100", "en", "G40 · Zaanstad")
    bad = organiser_client.post("/admin/event", data=dict(form, timezone="Nowhere/Town"))
    assert bad.status_code == 400 and "Unknown time zone" in bad.get_data(as_text=True)
    assert 'name="timezone" list="timezones" value="Nowhere/Town" required aria-invalid="true"' in bad.get_data(as_text=True)
    bad = organiser_client.post("/admin/event", data=dict(form, name=" "))
    assert bad.status_code == 400
    assert demo_db.execute("SELECT timezone, name FROM event").fetchone() == ("Europe/Amsterdam", "G40 dag")
    assert demo_db.execute("SELECT actor FROM audit_log WHERE action = 'edit event'").fetchone()[0] == ORGANISER[0]


def test_logo_is_checked_resized_and_shown_on_badges_and_kiosks(organiser_client, demo_app, demo_db):
    big = png(1800, 300, "JPEG")
    assert organiser_client.post("/admin/event/logo", data={"logo": (io.BytesIO(big), "logo.jpg")}).status_code == 303
    stored = organiser_client.get("/event/logo.png")
    assert stored.status_code == 200 and stored.mimetype == "image/png"
    assert Image.open(io.BytesIO(stored.data)).size == (600, 100)
    # The print view draws it; the PDF embeds it.
    page = organiser_client.get("/badges/print?layout=a6&attendee=1").get_data(as_text=True)
    assert 'class="badge-logo"' in page and "/event/logo.png?v=" in page
    pdf = organiser_client.post("/badges/pdf", data={"layout": "a6", "attendee": "1", "confirm_reprint": "1"})
    assert pdf.status_code == 200 and b"/Subtype /Image" in pdf.data
    _, token, _ = make_station(demo_db, "Logo kiosk")
    kiosk = demo_app.test_client().get("/kiosk", headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    assert 'class="kiosk-logo"' in kiosk
    assert demo_app.test_client().get("/event/logo.png", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert organiser_client.post("/admin/event/logo/remove").status_code == 303
    assert organiser_client.get("/event/logo.png").status_code == 404
    assert "kiosk-logo" not in demo_app.test_client().get("/kiosk", headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)


@pytest.mark.parametrize("upload, message", [
    (b"", "Choose an image file"),
    (b"%PDF-1.4 not an image", "not an image Kiosk can read"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image Kiosk can read"),
    (b"x" * (2 * 1024 * 1024 + 10), "larger than 2 MB"),
    ("huge", "too many pixels"),
    ("bmp", "must be a PNG, JPEG, GIF or WebP"),
])
def test_a_bad_logo_is_refused_with_a_clear_message(organiser_client, demo_db, upload, message):
    if upload == "huge":  # 10,000 x 5,000 pixels in a tiny file: a decompression bomb
        upload = png(10000, 5000)
    elif upload == "bmp":
        upload = png(10, 10, "BMP")
    response = organiser_client.post("/admin/event/logo", data={"logo": (io.BytesIO(upload), "logo.png")}, follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert demo_db.execute("SELECT count(*) FROM event_logo").fetchone()[0] == 0


def test_badge_header_replaces_the_name_on_badges(organiser_client, demo_db):
    demo_db.execute("UPDATE event SET badge_header = 'G40 Zaanstad 2026'")
    page = organiser_client.get("/badges/print?layout=a6&attendee=1").get_data(as_text=True)
    assert "G40 Zaanstad 2026</text>" in page


def test_hosts_cannot_change_the_event(host_client):
    assert host_client.post("/admin/event", data={"name": "x", "date": "2026-01-01"}).status_code == 403
    assert host_client.get("/event/logo.png").status_code == 404  # no logo yet; hosts may see it


def test_a_database_without_an_event_gets_one_from_the_page(app, client, runner):
    from kiosk.data import accounts
    from kiosk.db import connect

    db = connect(app.config["DATABASE"])
    accounts.add_user(db, *ORGANISER, "organiser")
    login(client, *ORGANISER)
    assert client.get("/admin/event").status_code == 200
    assert client.post("/admin/event", data={"name": "Nieuw", "date": "2027-01-20"}).status_code == 303
    assert json.loads(runner.invoke(args=["event", "show"]).output)["timezone"] == "Europe/Amsterdam"
    db.close()
