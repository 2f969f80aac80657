"""The files organisers really have, each made here in the shape of its exporter, import with every field right.

Each test writes a file as the tool exports it (the headers are named in its docstring), imports
it, and checks every person's name, e-mail, organisation, role, status and session choice
against what it wrote, field by field.
"""

import csv
import io
import json
import re

from openpyxl import Workbook
from openpyxl.styles import Font

from kiosk.imports import importer
from test_importer import attendees, choices, import_client, make_db, upload  # noqa: F401  (a fixture)

FIELDS = ("name", "email", "organisation", "role", "status")


def csv_bytes(rows, delimiter=",", encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_of(sheets):
    """A workbook with SHEETS: {title: rows}, the first one active."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def people(db):
    """{e-mail or name: (name, e-mail, organisation, role, status)} of every attendee."""
    return {row["email"] or row["name"]: tuple(row[field] for field in FIELDS) for row in attendees(db)}


def test_eventbrite_attendee_summary(tmp_path):
    """Eventbrite's "Attendee Summary" report: Order #, Order Date, First Name, Last Name, Email, Quantity,
    Ticket Type, Attendee #, Barcode #, Order Type, Total Paid, Attendee Status, Company, Job Title, and a
    custom question. One secretary bought two tickets (the same e-mail on two people); one is Not Attending."""
    db = make_db(tmp_path)
    header = ["Order #", "Order Date", "First Name", "Last Name", "Email", "Quantity", "Ticket Type", "Attendee #",
              "Barcode #", "Order Type", "Total Paid", "Attendee Status", "Company", "Job Title",
              "Welke sessie kies je in de middag?"]
    rows = [
        ["1001", "2026-03-01", "Anouk", "de Vries", "secretariaat@zaanstad.nl", "1", "Regular", "5001", "5001001",
         "Eventbrite Completed", "0.00", "Attending", "Gemeente Zaanstad", "Beleidsadviseur", "Europa"],
        ["1001", "2026-03-01", "Thijs", "ter Horst", "secretariaat@zaanstad.nl", "1", "Regular", "5002", "5001002",
         "Eventbrite Completed", "0.00", "Attending", "Gemeente Zaanstad", "Wethouder", "Wonen"],
        ["1002", "2026-03-02", "Eline", "Bakker", "eline@assen.nl", "1", "Early bird", "5003", "5002001",
         "Eventbrite Completed", "0.00", "Not Attending", "Gemeente Assen", "Raadslid", ""],
    ]
    report = importer.import_attendees(db, csv_bytes([header, *rows]), filename="attendees.csv")
    by_id = {row["registration_id"]: row for row in attendees(db)}
    assert {key: tuple(row[f] for f in FIELDS) for key, row in by_id.items()} == {
        "5001": ("Anouk de Vries", "secretariaat@zaanstad.nl", "Gemeente Zaanstad", "Beleidsadviseur", "registered"),
        "5002": ("Thijs ter Horst", "secretariaat@zaanstad.nl", "Gemeente Zaanstad", "Wethouder", "registered"),
        "5003": ("Eline Bakker", "eline@assen.nl", "Gemeente Assen", "Raadslid", "cancelled"),
    }
    assert choices(db) == {("Anouk de Vries", "Middag"): "Europa", ("Thijs ter Horst", "Middag"): "Wonen"}
    assert json.loads(by_id["5001"]["extra"])["Ticket Type"] == "Regular"
    assert json.loads(by_id["5001"]["extra"])["Order #"] == "1001"
    (shared,) = [w for w in report["warnings"] if w["kind"] == "shared_email"]
    assert [row["line"] for row in shared["rows"]] == [3]
    assert report["source"] == "eventbrite"


def test_eventbrite_buyer_only_export_warns_that_names_are_the_buyers(tmp_path):
    """Eventbrite's order export: Order #, Order Date, Buyer First Name, Buyer Last Name, Buyer Email, Total Paid."""
    db = make_db(tmp_path)
    header = ["Order #", "Order Date", "Buyer First Name", "Buyer Last Name", "Buyer Email", "Total Paid"]
    rows = [["1001", "2026-03-01", "Noëlle", "Jansen", "noelle@leiden.nl", "0.00"]]
    report = importer.import_attendees(db, csv_bytes([header, *rows]), filename="orders.csv")
    assert people(db) == {"noelle@leiden.nl": ("Noëlle Jansen", "noelle@leiden.nl", "", "", "registered")}
    assert any("buyer" in note for note in report["notes"])


PRETIX_HEADER = [
    "Order code", "Position ID", "Status", "Email", "Order date", "Product", "Variation", "Price",
    "Attendee name", "Attendee name: Given name", "Attendee name: Family name", "Attendee email", "Company",
    "Wat is je functie?", "Welke middagsessie kies je?", "Pseudonymization ID",
]
PRETIX_ROWS = [
    ["ABC12", "1", "paid", "secretaris@alkmaar.nl", "2026-03-01", "Deelnemer", "", "0.00", "Jan de Vries", "Jan",
     "de Vries", "jan.devries@alkmaar.nl", "Gemeente Alkmaar", "Griffier", "Europa", "X1"],
    ["ABC12", "2", "paid", "secretaris@alkmaar.nl", "2026-03-01", "Deelnemer", "", "0.00", "Ayşe Öztürk", "Ayşe",
     "Öztürk", "ayse@alkmaar.nl", "Gemeente Alkmaar", "Wethouder", "Wonen", "X2"],
    ["QRS34", "1", "canceled", "rene@oss.nl", "2026-03-02", "Deelnemer", "", "0.00", "René Café", "René", "Café",
     "rene@oss.nl", "Gemeente Oss", "Raadslid", "", "X3"],
    ["TUV56", "1", "pending", "zoe@ede.nl", "2026-03-03", "Deelnemer", "", "0.00", "Zoë van den Berg", "Zoë",
     "van den Berg", "zoe@ede.nl", "Gemeente Ede", "Beleidsmedewerker", "Europa", "X4"],
]
PRETIX_PEOPLE = {
    "jan.devries@alkmaar.nl": ("Jan de Vries", "jan.devries@alkmaar.nl", "Gemeente Alkmaar", "Griffier", "registered"),
    "ayse@alkmaar.nl": ("Ayşe Öztürk", "ayse@alkmaar.nl", "Gemeente Alkmaar", "Wethouder", "registered"),
    "rene@oss.nl": ("René Café", "rene@oss.nl", "Gemeente Oss", "Raadslid", "cancelled"),
    "zoe@ede.nl": ("Zoë van den Berg", "zoe@ede.nl", "Gemeente Ede", "Beleidsmedewerker", "registered"),
}
PRETIX_CHOICES = {("Jan de Vries", "Middag"): "Europa", ("Ayşe Öztürk", "Middag"): "Wonen",
                  ("Zoë van den Berg", "Middag"): "Europa"}


def test_pretix_order_positions_csv(tmp_path):
    """pretix's order data export, its order positions as CSV: the attendee's e-mail wins over the buyer's
    (a secretary bought two tickets); `paid` and `pending` register, `canceled` cancels; order code and
    position together are the registration id."""
    db = make_db(tmp_path)
    importer.import_attendees(db, csv_bytes([PRETIX_HEADER, *PRETIX_ROWS]), filename="positions.csv")
    assert people(db) == PRETIX_PEOPLE
    assert choices(db) == PRETIX_CHOICES
    ids = {row["email"]: row["registration_id"] for row in attendees(db)}
    assert ids["ayse@alkmaar.nl"] == "ABC12-2"
    assert json.loads(attendees(db)[0]["extra"])["Email"] == "secretaris@alkmaar.nl"


def test_pretix_order_data_workbook_reads_its_order_positions_sheet(tmp_path):
    """pretix's order data as an Excel workbook: "Orders" (the buyers) first, "Order positions" second."""
    db = make_db(tmp_path)
    orders = [["Order code", "Status", "Email", "Order date", "Total"], ["ABC12", "paid", "secretaris@alkmaar.nl",
                                                                            "2026-03-01", "0.00"]]
    data = xlsx_of({"Orders": orders, "Order positions": [PRETIX_HEADER, *PRETIX_ROWS]})
    report = importer.import_attendees(db, data, filename="orders.xlsx")
    assert report["sheet"] == "Order positions" and report["sheets"] == ["Orders", "Order positions"]
    assert people(db) == PRETIX_PEOPLE
    assert choices(db) == PRETIX_CHOICES


def test_indico_registrations(tmp_path):
    """Indico's registrations export: ID, Name, Email Address, Affiliation, Position, Registration date,
    Registration state (Completed, Pending, Withdrawn, Rejected), and a choice field named after the block."""
    db = make_db(tmp_path)
    header = ["ID", "Name", "Email Address", "Affiliation", "Position", "Registration date", "Registration state",
              "Ochtend"]
    rows = [
        ["12", "Sjoerd Mulder", "sjoerd@groningen.nl", "Gemeente Groningen", "Adviseur", "01/03/2026", "Completed",
         "Opening"],
        ["13", "Mohamed El Amrani", "mohamed@utrecht.nl", "Provincie Utrecht", "Projectleider", "02/03/2026",
         "Withdrawn", ""],
        ["14", "Fenna Visser", "fenna@vng.nl", "VNG", "Secretaris", "03/03/2026", "Rejected", ""],
        ["15", "Jan Willem de Boer", "jw@zwolle.nl", "Gemeente Zwolle", "Raadslid", "03/03/2026", "Pending",
         "Opening"],
    ]
    importer.import_attendees(db, csv_bytes([header, *rows]), filename="registrations.csv")
    assert people(db) == {
        "sjoerd@groningen.nl": ("Sjoerd Mulder", "sjoerd@groningen.nl", "Gemeente Groningen", "Adviseur", "registered"),
        "mohamed@utrecht.nl": ("Mohamed El Amrani", "mohamed@utrecht.nl", "Provincie Utrecht", "Projectleider",
                               "cancelled"),
        "fenna@vng.nl": ("Fenna Visser", "fenna@vng.nl", "VNG", "Secretaris", "cancelled"),
        "jw@zwolle.nl": ("Jan Willem de Boer", "jw@zwolle.nl", "Gemeente Zwolle", "Raadslid", "registered"),
    }
    assert choices(db) == {("Sjoerd Mulder", "Ochtend"): "Opening", ("Jan Willem de Boer", "Ochtend"): "Opening"}
    assert {row["registration_id"] for row in attendees(db)} == {"12", "13", "14", "15"}


MS_FORMS_META = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]


def test_microsoft_forms_anyone_can_respond(tmp_path):
    """Microsoft Forms' Excel export of a form anyone can answer: ID, Start time, Completion time, Email
    ("anonymous"), Name (empty), Last modified time, then one column per question, headed by its text."""
    db = make_db(tmp_path)
    header = MS_FORMS_META + ["Wat is je naam?", "Wat is je e-mailadres?", "Bij welke gemeente of organisatie werk je?",
                              "Wat is je functie of rol?", "Naar welke sessie wil je in de middag?"]
    rows = [
        [1, "3/1/26 9:02:11", "3/1/26 9:04:40", "anonymous", None, None, "Marieke Müller", "marieke@haarlem.nl",
         "Gemeente Haarlem", "Beleidsmedewerker wonen", "Wonen"],
        [2, "3/1/26 9:10:00", "3/1/26 9:12:13", "anonymous", None, None, "Pieter-Jan van Dijk", "pj@delft.nl",
         "Gemeente Delft", "Griffier", "Europa"],
        [3, "3/2/26 14:00:00", "3/2/26 14:03:00", "anonymous", None, None, "Sanne Smit", "sanne@vng.nl", "VNG",
         "Adviseur", "Wonen"],
    ]
    importer.import_attendees(db, xlsx_of({"Form1": [header, *rows]}), filename="Aanmelden.xlsx")
    assert people(db) == {
        "marieke@haarlem.nl": ("Marieke Müller", "marieke@haarlem.nl", "Gemeente Haarlem", "Beleidsmedewerker wonen",
                               "registered"),
        "pj@delft.nl": ("Pieter-Jan van Dijk", "pj@delft.nl", "Gemeente Delft", "Griffier", "registered"),
        "sanne@vng.nl": ("Sanne Smit", "sanne@vng.nl", "VNG", "Adviseur", "registered"),
    }
    assert choices(db) == {("Marieke Müller", "Middag"): "Wonen", ("Pieter-Jan van Dijk", "Middag"): "Europa",
                           ("Sanne Smit", "Middag"): "Wonen"}


def test_microsoft_forms_only_people_in_my_organisation(tmp_path):
    """Microsoft Forms restricted to the organisation: Email and Name are the responder's own; the questions
    ask the rest ("Bij welke gemeente werk je?", "Wat is je functie?", "Lunchwandeling")."""
    db = make_db(tmp_path)
    header = MS_FORMS_META + ["Bij welke gemeente werk je?", "Wat is je functie?", "Lunchwandeling"]
    rows = [
        [1, "3/1/26 9:02", "3/1/26 9:04", "k.dejong@zaanstad.nl", "Kees de Jong", None, "Zaanstad", "Strateeg",
         "Stadswandeling Monet"],
        [2, "3/1/26 9:10", "3/1/26 9:12", "l.bos@zaanstad.nl", "Lotte Bos", None, "Zaanstad", "Communicatie", ""],
    ]
    importer.import_attendees(db, xlsx_of({"Form1": [header, *rows]}), filename="Aanmelden.xlsx")
    assert people(db) == {
        "k.dejong@zaanstad.nl": ("Kees de Jong", "k.dejong@zaanstad.nl", "Zaanstad", "Strateeg", "registered"),
        "l.bos@zaanstad.nl": ("Lotte Bos", "l.bos@zaanstad.nl", "Zaanstad", "Communicatie", "registered"),
    }
    assert choices(db) == {("Kees de Jong", "Lunch"): "Stadswandeling Monet"}


def test_google_forms_with_a_resubmission(tmp_path):
    """Google Forms' responses as CSV (Dutch): Tijdstempel, E-mailadres, Naam, Organisatie, Functie, Ochtend.
    Bram sent the form twice: the last answers count, with a warning that names the row."""
    db = make_db(tmp_path)
    header = ["Tijdstempel", "E-mailadres", "Naam", "Organisatie", "Functie", "Ochtend"]
    rows = [
        ["2026/03/01 9:02:11 AM CET", "bram@leiden.nl", "Bram Koster", "Gemeente Leiden", "Adviseur", "Opening"],
        ["2026/03/01 9:05:40 AM CET", "iris@ede.nl", "Iris Meijer", "Gemeente Ede", "Wethouder", ""],
        ["2026/03/02 8:00:00 AM CET", "bram@leiden.nl", "Bram Koster", "Gemeente Leiden", "Senior adviseur", ""],
    ]
    report = importer.import_attendees(db, csv_bytes([header, *rows]), filename="Aanmeldingen.csv")
    assert people(db) == {
        "bram@leiden.nl": ("Bram Koster", "bram@leiden.nl", "Gemeente Leiden", "Senior adviseur", "registered"),
        "iris@ede.nl": ("Iris Meijer", "iris@ede.nl", "Gemeente Ede", "Wethouder", "registered"),
    }
    assert choices(db) == {}
    (same,) = report["warnings"]
    assert same["kind"] == "same_person" and [row["line"] for row in same["rows"]] == [4]


def hand_made_workbook():
    """A secretary's list: a title row, the header on row 4 (Voornaam, Tussenv., Naam as the Flemish surname,
    Gemeente merged down, Functie, Telefoon as a number shown with leading zero, Afgemeld, Middag), a struck-through
    row, a hidden row and a totals row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Deelnemers"
    sheet.append(["Deelnemerslijst netwerkdag 13 april"])
    sheet.append([])
    sheet.append([])
    sheet.append(["Voornaam", "Tussenv.", "Naam", "Gemeente", "Functie", "Telefoon", "Afgemeld", "Middag"])
    sheet.append(["Kees", "van der", "Meer", "Gemeente Purmerend", "Wethouder", 612345678, None, "Europa"])  # 5
    sheet.append(["Eva", None, "Claes", None, "Griffier", 687654321, None, "Wonen"])  # 6 (merged Gemeente)
    sheet.append(["Wim", "de", "Wit", None, "Raadslid", 600000001, "x", None])  # 7 (merged, cancelled)
    sheet.append(["Joke", None, "Smits", "Gemeente Edam", "Secretaris", 611111111, None, None])  # 8 struck
    sheet.append(["Hidde", None, "Verborgen", "Gemeente Edam", "Adviseur", 622222222, None, None])  # 9 hidden
    sheet.append(["Roos", None, "Kuipers", "Gemeente Edam", "Adviseur", 633333333, None, "Europa"])  # 10
    sheet.append(["Totaal aanmeldingen", None, None, None, None, None, None, 4])  # 11
    sheet.merge_cells("D5:D7")
    for cell in sheet[8]:
        cell.font = Font(strike=True)
    sheet.row_dimensions[9].hidden = True
    for row in range(5, 11):
        sheet.cell(row, 6).number_format = "0000000000"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_hand_made_workbook(tmp_path):
    db = make_db(tmp_path)
    report = importer.import_attendees(db, hand_made_workbook(), filename="deelnemers.xlsx")
    assert people(db) == {
        "Kees van der Meer": ("Kees van der Meer", None, "Gemeente Purmerend", "Wethouder", "registered"),
        "Eva Claes": ("Eva Claes", None, "Gemeente Purmerend", "Griffier", "registered"),
        "Wim de Wit": ("Wim de Wit", None, "Gemeente Purmerend", "Raadslid", "cancelled"),
        "Roos Kuipers": ("Roos Kuipers", None, "Gemeente Edam", "Adviseur", "registered"),
    }
    parts = {row["name"]: (row["first_name"], row["name_prefix"], row["last_name"]) for row in attendees(db)}
    assert parts["Kees van der Meer"] == ("Kees", "van der", "Meer") and parts["Eva Claes"] == ("Eva", "", "Claes")
    assert choices(db) == {("Kees van der Meer", "Middag"): "Europa", ("Eva Claes", "Middag"): "Wonen",
                           ("Roos Kuipers", "Middag"): "Europa"}
    assert json.loads(attendees(db)[0]["extra"]) == {"Telefoon": "0612345678"}
    skipped = {row["line"]: row["reason"] for row in report["skipped"]}
    assert skipped == {1: "title row above the header", 8: "struck through", 9: "hidden row",
                       11: "totals or footer row"}
    assert report["header_line"] == 4


def test_a_mac_roman_csv_is_read_as_mac_roman_and_its_names_shown_for_a_look(tmp_path):
    """Excel for Mac's "CSV" (MacRoman), semicolon-separated, with names a Windows-1252 reading would garble."""
    db = make_db(tmp_path)
    rows = [["Naam", "E-mail", "Organisatie", "Functie", "Status"],
            ["Zoë van Leeuwen", "zoe@x.nl", "Gemeente Zaanstad", "Adviseur", "aangemeld"],
            ["Renée Bos", "renee@x.nl", "Gemeente Oss", "Griffier", "afgemeld"],
            ["Marieke Müller", "marieke@x.nl", "VNG", "Secretaris", ""]]
    report = importer.import_attendees(db, csv_bytes(rows, ";", "mac_roman"), filename="lijst.csv")
    assert people(db) == {
        "zoe@x.nl": ("Zoë van Leeuwen", "zoe@x.nl", "Gemeente Zaanstad", "Adviseur", "registered"),
        "renee@x.nl": ("Renée Bos", "renee@x.nl", "Gemeente Oss", "Griffier", "cancelled"),
        "marieke@x.nl": ("Marieke Müller", "marieke@x.nl", "VNG", "Secretaris", "registered"),
    }
    assert report["encoding"] == "mac_roman"
    assert report["non_ascii_names"] == ["Zoë van Leeuwen", "Renée Bos", "Marieke Müller"]


def test_utf16_csvs_with_and_without_a_byte_order_mark(tmp_path):
    """Excel's "Unicode text" (UTF-16 with a byte order mark, tab-separated), and UTF-16 LE without one."""
    rows = [["Naam", "E-mail", "Organisatie", "Functie", "Middag"],
            ["Ayşe Çelik", "ayse@x.nl", "Gemeente Zaanstad", "Adviseur", "Europa"],
            ["Noëlle Dijkstra", "noelle@x.nl", "Gemeente Leiden", "Griffier", ""]]
    for number, encoding in enumerate(["utf-16", "utf-16-le"]):
        (tmp_path / str(number)).mkdir()
        db = make_db(tmp_path / str(number))
        importer.import_attendees(db, csv_bytes(rows, "\t", encoding), filename="lijst.txt")
        assert people(db) == {
            "ayse@x.nl": ("Ayşe Çelik", "ayse@x.nl", "Gemeente Zaanstad", "Adviseur", "registered"),
            "noelle@x.nl": ("Noëlle Dijkstra", "noelle@x.nl", "Gemeente Leiden", "Griffier", "registered"),
        }
        assert choices(db) == {("Ayşe Çelik", "Middag"): "Europa"}


def test_name_columns_combine_keeping_every_part(tmp_path):
    db = make_db(tmp_path)
    importer.import_attendees(db, csv_bytes([["Naam", "Tussenvoegsel", "Achternaam", "E-mail"],
                                             ["Anna", "van", "Dam", "anna@x.nl"]]), filename="a.csv")
    (row,) = attendees(db)
    assert (row["first_name"], row["name_prefix"], row["last_name"], row["name"]) == ("Anna", "van", "Dam",
                                                                                       "Anna van Dam")


def test_the_organisers_mapping_is_used_and_remembered_for_the_same_export(tmp_path):
    db = make_db(tmp_path)
    header = ["Naam", "E-mail", "Club"]
    first = csv_bytes([header, ["Jan Bos", "jan@x.nl", "Gemeente Edam"]])
    report = importer.import_attendees(db, first, filename="a.csv", dry_run=True)
    assert [column["target"] for column in report["columns"]] == ["name", "email", "extra"]
    importer.import_attendees(db, first, filename="a.csv", mapping={2: "organisation"})
    assert people(db)["jan@x.nl"][2] == "Gemeente Edam"
    # The next export with the same headers (in another order) gets the same mapping without asking.
    second = csv_bytes([["Club", "E-mail", "Naam"], ["VNG", "piet@x.nl", "Piet Bos"]])
    report = importer.import_attendees(db, second, filename="b.csv")
    assert [column["target"] for column in report["columns"]] == ["organisation", "email", "name"]
    assert people(db)["piet@x.nl"][2] == "VNG"


def test_cli_uses_the_same_recognition_prints_the_mapping_and_takes_sheet_and_map(demo_app, tmp_path):
    path = tmp_path / "orders.xlsx"
    path.write_bytes(xlsx_of({"Orders": [["Order code", "Email"], ["A1", "x@y.nl"]],
                              "Lijst": [["Naam", "E-mail", "Club"], ["Jan Bos", "jan@x.nl", "Gemeente Edam"]]}))
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["import", "attendees", str(path), "--sheet", "Lijst", "--map", "Club=organisation"])
    assert result.exit_code == 0, result.output
    assert "sheet: Lijst" in result.output and "column C 'Club': organisation" in result.output
    assert result.output.splitlines()[-1] == "attendees imported: 1 added, 0 updated, 0 unchanged, 0 cancelled"
    bad = runner.invoke(args=["import", "attendees", str(path), "--map", "Club=shoe size"])
    assert bad.exit_code == 1 and "is not a use a column can have" in bad.output


def test_the_preview_lists_every_warning_row_and_offers_the_sheets(import_client, demo_db):
    rows = [["Tijdstempel", "E-mailadres", "Naam", "Organisatie"]]
    for number in range(30):  # thirty people who each sent the form twice
        rows.append(["2026/03/01", f"p{number}@x.nl", f"Persoon {number}", "VNG"])
        rows.append(["2026/03/02", f"p{number}@x.nl", f"Persoon {number}", "Gemeente Edam"])
    page = upload(import_client, "attendees", "antwoorden.csv", csv_bytes(rows))
    assert 'name="token"' in page.text
    assert all(f"line {line}: also on line {line - 1}" in page.text for line in range(3, 62, 2))
    data = xlsx_of({"Orders": [["Order code", "Status"], ["A1", "paid"]],
                    "Lijst": [["Naam", "E-mail"], ["Jan Bos", "jan@x.nl"]]})
    page = upload(import_client, "attendees", "workbook.xlsx", data)
    assert '<option value="Lijst"' in page.text and 'Read from sheet "Orders".' in page.text
    kept = re.search(r'name="kept" value="([0-9a-f]+)"', page.text).group(1)
    page = import_client.post("/admin/import/preview", data={"kept": kept, "kind": "attendees",
                                                             "filename": "workbook.xlsx", "sheet": "Lijst"})
    assert 'Read from sheet "Lijst".' in page.text and "Jan Bos" in page.text
    token = re.search(r'name="token" value="([0-9a-f]+)"', page.text).group(1)
    assert '<input type="hidden" name="sheet" value="Lijst">' in page.text
    done = import_client.post("/admin/import/commit", data={"token": token, "kind": "attendees",
                                                           "filename": "workbook.xlsx", "sheet": "Lijst"})
    assert done.status_code == 303
    assert demo_db.execute("SELECT name FROM attendees WHERE email = 'jan@x.nl'").fetchone()[0] == "Jan Bos"


def test_a_microsoft_forms_answer_number_is_no_registration_id(tmp_path):
    db = make_db(tmp_path)
    header = MS_FORMS_META + ["Bij welke gemeente werk je?"]
    data = xlsx_of({"Form1": [header, [1, "3/1/26 9:02", "3/1/26 9:04", "k@x.nl", "Kees de Jong", None, "Edam"]]})
    importer.import_attendees(db, data, filename="Aanmelden.xlsx")
    (row,) = attendees(db)
    assert row["registration_id"] is None and json.loads(row["extra"])["ID"] == "1"


def test_a_column_that_only_mentions_a_block_stays_an_extra_field(tmp_path):
    db = make_db(tmp_path)
    importer.import_attendees(db, csv_bytes([["Naam", "E-mail", "Opmerking over de lunch"],
                                             ["Jan Bos", "jan@x.nl", "vegetarisch"]]), filename="a.csv")
    (row,) = attendees(db)
    assert json.loads(row["extra"]) == {"Opmerking over de lunch": "vegetarisch"} and choices(db) == {}


def warning_rows(report, kind):
    """The (line, detail) of every row of REPORT's warning of KIND."""
    return [(row["line"], row["detail"]) for warning in report["warnings"] if warning["kind"] == kind
            for row in warning["rows"]]


def test_a_session_that_is_not_in_its_block_imports_the_person_without_that_choice(tmp_path):
    """A typo or a session the program does not have: the person comes in, that choice does not, and every
    such row is named with its column, the value and the block's sessions. A choice made before stays."""
    db = make_db(tmp_path)
    importer.import_attendees(db, csv_bytes([["Naam", "E-mail", "Middag"], ["Jan Bos", "jan@x.nl", "Europa"]]),
                              filename="eerste.csv")
    rows = [["Naam", "E-mail", "Organisatie", "Ochtend", "Middag"],
            ["Jan Bos", "jan@x.nl", "VNG", "Opening", "Europa (vol)"],
            ["Piet Smit", "piet@x.nl", "Gemeente Edam", "Openingg", "Wonen"],
            ["Anouk Visser", "anouk@x.nl", "Gemeente Oss", "", ""]]
    report = importer.import_attendees(db, csv_bytes(rows), filename="tweede.csv")
    assert (report["added"], report["updated"], report["unchanged"], report["cancelled"]) == (2, 1, 0, 0)
    assert people(db) == {
        "jan@x.nl": ("Jan Bos", "jan@x.nl", "VNG", "", "registered"),
        "piet@x.nl": ("Piet Smit", "piet@x.nl", "Gemeente Edam", "", "registered"),
        "anouk@x.nl": ("Anouk Visser", "anouk@x.nl", "Gemeente Oss", "", "registered"),
    }
    assert choices(db) == {("Jan Bos", "Ochtend"): "Opening", ("Jan Bos", "Middag"): "Europa",
                           ("Piet Smit", "Middag"): "Wonen"}
    assert warning_rows(report, "unknown_session") == [
        (2, "column E (Middag): 'Europa (vol)'; the sessions of Middag are: Europa · Wonen"),
        (3, "column D (Ochtend): 'Openingg'; the sessions of Ochtend are: Opening"),
    ]
    assert [w["kind"] for w in report["warnings"]] == ["unknown_session"]


def test_the_cli_prints_every_session_warning_and_imports(demo_app, demo_db, tmp_path):
    path = tmp_path / "lijst.csv"
    path.write_bytes(csv_bytes([["Naam", "E-mail", "Middagsessies"], ["Jan Bos", "jan@x.nl", "Foo"],
                                ["Piet Smit", "piet@x.nl", "Europa"], ["Eva Claes", "eva@x.nl", "Bar"]]))
    result = demo_app.test_cli_runner().invoke(args=["import", "attendees", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("warning: Session choices that are not a session of their time block: these people are "
                        "imported without that choice (a choice they already had in that block stays). Correct "
                        "the file, or add the session to the program, and import it again.")
    assert lines[start + 1].startswith("  line 2: column C (Middagsessies): 'Foo'; the sessions of Middagsessies "
                                       "are: ") and "Europa" in lines[start + 1]
    assert lines[start + 2].startswith("  line 4: column C (Middagsessies): 'Bar'; the sessions of Middagsessies ")
    assert lines[-1] == "attendees imported: 3 added, 0 updated, 0 unchanged, 0 cancelled"
    chosen = dict(demo_db.execute(
        "SELECT attendees.email, sessions.title FROM attendees LEFT JOIN choices ON choices.attendee_id = attendees.id "
        "LEFT JOIN sessions ON sessions.id = choices.session_id WHERE attendees.email IN (?, ?, ?)",
        ["jan@x.nl", "piet@x.nl", "eva@x.nl"]).fetchall())
    assert chosen == {"jan@x.nl": None, "piet@x.nl": "Europa", "eva@x.nl": None}


def test_the_preview_lists_every_row_with_a_session_not_in_its_block(import_client, demo_db):
    rows = [["Naam", "E-mail", "Middagsessies"]]
    rows += [[f"Persoon {number}", f"p{number}@x.nl", f"Workshop {number}"] for number in range(30)]
    page = upload(import_client, "attendees", "antwoorden.csv", csv_bytes(rows))
    assert 'name="token"' in page.text  # a warning, not a problem: the file can be imported
    assert "Session choices that are not a session of their time block" in page.text
    for number in range(30):
        assert f"line {number + 2}: column C (Middagsessies): &#39;Workshop {number}&#39;; the sessions of " \
               "Middagsessies are: " in page.text
    token = re.search(r'name="token" value="([0-9a-f]+)"', page.text).group(1)
    done = import_client.post("/admin/import/commit", data={"token": token, "kind": "attendees",
                                                           "filename": "antwoorden.csv"})
    assert done.status_code == 303
    imported = demo_db.execute("SELECT count(*) FROM attendees WHERE email LIKE 'p%@x.nl'").fetchone()[0]
    assert imported == 30
    assert demo_db.execute("SELECT count(*) FROM choices JOIN attendees ON attendees.id = choices.attendee_id "
                           "WHERE attendees.email LIKE 'p%@x.nl'").fetchone()[0] == 0


def test_a_column_that_looks_like_a_session_choice_but_is_an_extra_field_is_flagged(tmp_path):
    """Microsoft Forms (organisation only) with session questions Kiosk cannot link: "Lunchwandeling" answered
    yes or no names the Lunch block; the morning question is filed as extra by the organiser; a second
    afternoon column answers with the afternoon's sessions while "Middag" already holds that block."""
    db = make_db(tmp_path)
    header = MS_FORMS_META + ["Lunchwandeling", "Naar welke sessie wil je in de ochtend?", "Middag",
                              "Tweede keus middag", "Dieetwensen"]
    rows = [[1, "3/1/26 9:02", "3/1/26 9:04", "k@x.nl", "Kees de Jong", None, "ja", "Opening", "Europa", "Wonen",
             "vegetarisch"],
            [2, "3/1/26 9:10", "3/1/26 9:12", "l@x.nl", "Lotte Bos", None, "nee", "Opening", "Wonen", "Europa", ""]]
    data = xlsx_of({"Form1": [header, *rows]})
    report = importer.import_attendees(db, data, filename="Aanmelden.xlsx", mapping={7: "extra"})
    middag = db.execute("SELECT id FROM blocks WHERE name = 'Middag'").fetchone()[0]
    assert [column["target"] for column in report["columns"][6:]] == ["extra", "extra", f"block:{middag}", "extra",
                                                                      "extra"]
    kept = "but is kept as an extra field: choose what it is below if it should be used."
    assert report["notes"] == [
        f"Column 'Lunchwandeling' looks like the session chosen in Lunch {kept}",
        f"Column 'Naar welke sessie wil je in de ochtend?' looks like the session chosen in Ochtend {kept}",
        f"Column 'Tweede keus middag' looks like the session chosen in Middag {kept}",
    ]
    assert choices(db) == {("Kees de Jong", "Middag"): "Europa", ("Lotte Bos", "Middag"): "Wonen"}
    extras = {row["name"]: json.loads(row["extra"]) for row in attendees(db)}
    assert extras["Kees de Jong"] == {"ID": "1", "Start time": "3/1/26 9:02", "Completion time": "3/1/26 9:04",
                                      "Lunchwandeling": "ja", "Naar welke sessie wil je in de ochtend?": "Opening",
                                      "Tweede keus middag": "Wonen", "Dieetwensen": "vegetarisch"}


def test_a_look_alike_note_goes_once_the_column_has_a_use(tmp_path, demo_app):
    """Organisation-only Microsoft Forms asking the e-mail again: flagged while it is extra, not once the organiser
    (here on the command line) has said what it is for."""
    path = tmp_path / "Aanmelden.xlsx"
    header = MS_FORMS_META + ["Wat is je e-mailadres voor de bevestiging?"]
    path.write_bytes(xlsx_of({"Form1": [header, [1, "3/1/26 9:02", "3/1/26 9:04", "k@x.nl", "Kees de Jong", None,
                                                 "kees@prive.nl"]]}))
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["import", "attendees", str(path)])
    assert result.exit_code == 0, result.output
    assert ("note: Column 'Wat is je e-mailadres voor de bevestiging?' looks like an e-mail address but is kept as "
            "an extra field: choose what it is below if it should be used.") in result.output.splitlines()
    result = runner.invoke(args=["import", "attendees", str(path), "--map",
                                 "Wat is je e-mailadres voor de bevestiging?=ignore"])
    assert result.exit_code == 0, result.output
    assert not [line for line in result.output.splitlines() if line.startswith("note:")]
