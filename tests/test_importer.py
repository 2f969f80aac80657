"""Attendee and program import: formats, headers, names, re-import, all-or-nothing rejection."""

import io
import json
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from kiosk.imports import importer
from kiosk.data.badges import normalise
from kiosk.db import connect, migrate
from kiosk.text import UNDECOMPOSED_LETTERS, search_text
from test_i18n import compiled_catalogs  # noqa: F401  (the .mo files the Dutch tests read)

PROGRAM = """\
Blok;Begin;Einde;Sessie;Soort;Zaal;Capaciteit;Plaatsen;Verzamelpunt;Omschrijving
Ochtend;09:30;10:45;Opening;plenair;Raadzaal;200;;;Welkom en PBL
Middag;13:30;15:00;Europa;sessie;Burgemeesterskamer;20;;;Themagroep Europa
Middag;13:30;15:00;Wonen;sessie;Trouwzaal;80;;;
Lunch;12:15;13:30;Stadswandeling Monet;wandeling;;;25;Hal stadhuis;Het Zaandam van 1871
Lunch;12:15;13:30;Lunch;pauze;Foyer;300;;;
"""


def make_db(tmp_path, program=True):
    """A fresh database, with the small program above unless PROGRAM is false."""
    db = connect(tmp_path / "k.db")
    migrate(db)
    if program:
        importer.import_program(db, PROGRAM.encode(), filename="programma.csv")
    return db


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def dump(db):
    """Every table's rows, schema included: two equal dumps mean an unchanged database."""
    return "\n".join(db.conn.iterdump())


def attendees(db):
    return list(db.query("SELECT * FROM attendees ORDER BY id"))


def choices(db):
    return {
        (row["name"], row["block"]): row["title"]
        for row in db.query(
            """SELECT attendees.name, blocks.name AS block, sessions.title FROM choices
               JOIN attendees ON attendees.id = choices.attendee_id
               JOIN blocks ON blocks.id = choices.block_id JOIN sessions ON sessions.id = choices.session_id"""
        )
    }


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_with_any_delimiter(tmp_path, delimiter):
    db = make_db(tmp_path)
    lines = [["Naam", "E-mail", "Organisatie"], ["Jan de Vries", "jan@alkmaar.nl", "Gemeente Alkmaar, afdeling X"],
             ["Eline Bakker", "eline@assen.nl", "Gemeente Assen"]]
    text = "\n".join(delimiter.join(f'"{c}"' if delimiter in c or "," in c else c for c in row) for row in lines)
    report = importer.import_attendees(db, write(tmp_path, "a.csv", text + "\n"))
    assert report["added"] == 2
    rows = attendees(db)
    assert [r["name"] for r in rows] == ["Jan de Vries", "Eline Bakker"]
    assert rows[0]["organisation"] == "Gemeente Alkmaar, afdeling X"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_encodings(tmp_path, encoding):
    db = make_db(tmp_path)
    text = "Naam;E-mailadres\r\nZoë Noëlle van den Berg;zoe@zaanstad.nl\r\nRené Café;rene@x.nl\r\n"
    importer.import_attendees(db, write(tmp_path, "a.csv", text, encoding))
    rows = attendees(db)
    assert [r["name"] for r in rows] == ["Zoë Noëlle van den Berg", "René Café"]
    assert rows[0]["first_name"] == "Zoë Noëlle" and rows[0]["name_prefix"] == "van den"
    assert rows[0]["search_text"] == "zoe noelle van den berg zoe@zaanstad.nl"


def test_excel_sep_line(tmp_path):
    db = make_db(tmp_path)
    text = "sep=,\nNaam,E-mail,Opmerking (a;b;c)\nJan,jan@x.nl,\nPiet,not-an-email,\n"
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_attendees(db, write(tmp_path, "a.csv", text))
    # Excel's sep= line wins over counting (the header has more semicolons); it is line 1, so the bad row is line 4.
    assert rejected.value.problems == ["line 4: e-mail 'not-an-email' is not a valid address"]


def xlsx_bytes(rows, gap_after=None):
    workbook = Workbook()
    sheet = workbook.active
    for number, row in enumerate(rows, start=1):
        sheet.append(row)
        if number == gap_after:
            sheet.append([])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx(tmp_path):
    db = make_db(tmp_path)
    data = xlsx_bytes([
        ["Voornaam", "Tussenvoegsel", "Achternaam", "E-mail", "Registratienummer", "Ochtend", "Capaciteit?"],
        ["Thijs", "ter", "Horst", "thijs@ede.nl", 1001, "Opening", 3.0],
        ["Ayşe", None, "Öztürk", "ayse@oss.nl", 1002, None, None],
    ])
    path = tmp_path / "deelnemers.xlsx"
    path.write_bytes(data)
    report = importer.import_attendees(db, path)
    assert report["added"] == 2
    rows = attendees(db)
    assert rows[0]["name"] == "Thijs ter Horst" and rows[0]["registration_id"] == "1001"
    assert json.loads(rows[0]["extra"]) == {"Capaciteit?": "3"}
    assert rows[1]["name"] == "Ayşe Öztürk"
    assert choices(db) == {("Thijs ter Horst", "Ochtend"): "Opening"}


def test_xlsx_line_numbers_count_blank_rows(tmp_path):
    db = make_db(tmp_path)
    data = xlsx_bytes([["Naam", "E-mail"], ["Jan", "jan@x.nl"], ["Piet", "piet@"]], gap_after=2)
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_attendees(db, io.BytesIO(data), filename="upload.xlsx")
    assert rejected.value.problems == ["line 4: e-mail 'piet@' is not a valid address"]


@pytest.mark.parametrize(
    "header",
    [
        "Naam,E-mail,Organisatie,Functie,Registratienummer,Status",
        "name,email,organization,role,registration id,status",
        " NAAM , E-MAILADRES , Gemeente , Rol , Registratie-ID , STATUS ",
        "Name,Email,Organisation,Role,Ticket,Status",
    ],
)
def test_headers_in_dutch_or_english_any_case(tmp_path, header):
    db = make_db(tmp_path)
    text = header + "\nJan Willem de Vries,jw@alkmaar.nl,Gemeente Alkmaar,lobbyist,R-1,geannuleerd\n"
    importer.import_attendees(db, write(tmp_path, "a.csv", text))
    (row,) = attendees(db)
    assert (row["first_name"], row["name_prefix"], row["last_name"]) == ("Jan Willem", "de", "Vries")
    assert row["email"] == "jw@alkmaar.nl"
    assert row["organisation"] == "Gemeente Alkmaar" and row["role"] == "lobbyist"
    assert row["registration_id"] == "R-1" and row["status"] == "cancelled"
    assert row["extra"] == "{}"


@pytest.mark.parametrize(
    "full, parts",
    [
        ("Jan van der Berg", ("Jan", "van der", "Berg")),
        ("Jan Willem de Vries", ("Jan Willem", "de", "Vries")),
        ("Karel in 't Veld", ("Karel", "in 't", "Veld")),
        ("Piet ter Horst", ("Piet", "ter", "Horst")),
        ("Sjoerd uit den Bogaard", ("Sjoerd", "uit den", "Bogaard")),
        ("Eline Van Dijk", ("Eline", "Van", "Dijk")),
        ("Yasmina El Amrani", ("Yasmina", "", "El Amrani")),
        ("Anna Maria Jansen", ("Anna Maria", "", "Jansen")),
        ("Emre Çelik", ("Emre", "", "Çelik")),
        ("Berg, Jan van der", ("Jan", "van der", "Berg")),
        ("  Noëlle   de  Wit ", ("Noëlle", "de", "Wit")),
        ("Madonna", ("Madonna", "", "")),
        ("Marie Le Pen", ("Marie", "Le", "Pen")),
    ],
)
def test_split_name(full, parts):
    assert importer.split_name(full) == parts


def test_unknown_columns_are_kept_in_extra(tmp_path):
    db = make_db(tmp_path)
    text = "Naam;Dieetwensen;Parkeren;\nJan;vegetarisch;;\nPiet;;ja;los\n"
    importer.import_attendees(db, write(tmp_path, "a.csv", text))
    extras = [json.loads(r["extra"]) for r in attendees(db)]
    assert extras == [{"Dieetwensen": "vegetarisch"}, {"Parkeren": "ja", "column 4": "los"}]


def test_choices_per_block(tmp_path):
    db = make_db(tmp_path)
    text = (
        "Naam,E-mail,Ochtend,middag,LUNCH\n"
        "Jan,jan@x.nl,Opening,europa,Stadswandeling Monet\n"
        "Piet,piet@x.nl,,Wonen,lunch\n"
    )
    importer.import_attendees(db, write(tmp_path, "a.csv", text))
    assert choices(db) == {
        ("Jan", "Ochtend"): "Opening", ("Jan", "Middag"): "Europa", ("Jan", "Lunch"): "Stadswandeling Monet",
        ("Piet", "Middag"): "Wonen", ("Piet", "Lunch"): "Lunch",
    }
    # A later file with only the Middag column replaces that block and leaves the others alone.
    importer.import_attendees(db, write(tmp_path, "b.csv", "E-mail,Naam,Middag\njan@x.nl,Jan,Wonen\npiet@x.nl,Piet,\n"))
    assert choices(db) == {
        ("Jan", "Ochtend"): "Opening", ("Jan", "Middag"): "Wonen", ("Jan", "Lunch"): "Stadswandeling Monet",
        ("Piet", "Lunch"): "Lunch",
    }


def test_reimport_updates_instead_of_duplicating(tmp_path):
    db = make_db(tmp_path)
    first = (
        "Registratienummer;Naam;E-mail;Gemeente;Status;Middag\n"
        "R1;Jan de Vries;jan@alkmaar.nl;Gemeente Alkmaar;aangemeld;Europa\n"
        "R2;Eline Bakker;eline@assen.nl;Gemeente Assen;aangemeld;Wonen\n"
        "R3;Sjoerd Smit;sjoerd@ede.nl;Gemeente Ede;aangemeld;\n"
        ";Anouk Visser;anouk@oss.nl;Gemeente Oss;aangemeld;\n"
        "R5;Thijs Bos;thijs@hoorn.nl;Gemeente Hoorn;aangemeld;\n"
    )
    report = importer.import_attendees(db, write(tmp_path, "v1.csv", first))
    assert (report["added"], report["updated"], report["unchanged"], report["cancelled"]) == (5, 0, 0, 0)
    badges_before = {r["attendee_id"]: r["code"] for r in db.query("SELECT * FROM badges")}
    ids_before = {r["email"]: r["id"] for r in attendees(db)}

    second = (
        "Registratienummer;Naam;E-mail;Gemeente;Status;Middag\n"
        "R1;Jan de Vries;jan@alkmaar.nl;Gemeente Alkmaar;aangemeld;Europa\n"  # unchanged
        "R2;Eline Bakker;ELINE@assen.nl;Gemeente Zwolle;aangemeld;Wonen\n"  # moved: updated
        "R3;Sjoerd Smit;sjoerd@ede.nl;Gemeente Ede;geannuleerd;\n"  # cancelled
        "R4;Anouk Visser;Anouk@OSS.nl;Gemeente Oss;aangemeld;\n"  # matched on e-mail, gains an id
        "R6;Zoë Çelik;zoe@almere.nl;Gemeente Almere;aangemeld;Wonen\n"  # new
    )
    report = importer.import_attendees(db, write(tmp_path, "v2.csv", second))
    assert (report["added"], report["updated"], report["unchanged"], report["cancelled"]) == (1, 2, 1, 1)
    assert summary_counts(importer.summary_line(report)) == "1 added, 2 updated, 1 unchanged, 1 cancelled"
    rows = {r["registration_id"]: r for r in attendees(db)}
    assert len(rows) == 6  # Thijs (R5) is missing from v2 and stays, not cancelled
    assert rows["R5"]["status"] == "registered"
    assert rows["R3"]["status"] == "cancelled"
    assert rows["R2"]["organisation"] == "Gemeente Zwolle"
    assert rows["R4"]["id"] == ids_before["anouk@oss.nl"]
    badges_after = {r["attendee_id"]: r["code"] for r in db.query("SELECT * FROM badges WHERE replaced_at IS NULL")}
    assert {k: badges_after[k] for k in badges_before} == badges_before
    assert len(badges_after) == 6 and db.execute("SELECT count(*) FROM badges").fetchone()[0] == 6

    report = importer.import_attendees(db, write(tmp_path, "v2.csv", second))
    assert (report["added"], report["updated"], report["unchanged"], report["cancelled"]) == (0, 0, 5, 0)


def summary_counts(line):
    return line.split(": ", 1)[1]


def test_dry_run_writes_nothing_and_previews(tmp_path):
    db = make_db(tmp_path)
    importer.import_attendees(db, write(tmp_path, "a.csv", "Naam,E-mail\nJan,jan@x.nl\n"))
    before = dump(db)
    text = "Naam,E-mail,Status\nJan,jan@x.nl,afgemeld\nPiet,piet@x.nl,\n"
    report = importer.import_attendees(db, write(tmp_path, "b.csv", text), dry_run=True)
    assert dump(db) == before
    assert [(p["line"], p["name"], p["action"]) for p in report["preview"]] == [
        (2, "Jan", "cancelled"), (3, "Piet", "added"),
    ]
    assert importer.summary_line(report) == "attendees checked (dry run): 1 added, 0 updated, 0 unchanged, 1 cancelled"
    assert report["changes"] == report["preview"]


def test_bad_rows_reject_everything_with_line_numbers(tmp_path):
    db = make_db(tmp_path)
    importer.import_attendees(db, write(tmp_path, "a.csv", "Naam,E-mail\nJan,jan@x.nl\n"))
    before = dump(db)
    text = (
        "Registratienummer,Naam,E-mail,Opmerking,Middag,Status\n"  # 1
        "R1,Piet Bakker,piet@x.nl,,Europa,\n"  # 2 fine
        'R2,Anouk,anouk@x.nl,"twee\nregels",Wonen,\n'  # 3-4 fine, quoted newline
        "R3,,leeg@x.nl,,,\n"  # 5 name missing
        "R4,Eline,eline@,,,\n"  # 6 bad e-mail
        "R5,Sjoerd,sjoerd@x.nl,,Foo,\n"  # 7 unknown session: a warning, not a problem
        "R1,Thijs,thijs@x.nl,,,\n"  # 8 duplicate registration id
        "R7,Zoë,PIET@x.nl,,,\n"  # 9 Piet's e-mail on another person: a warning, not a problem
        "R8,René,rene@x.nl,,,misschien\n"  # 10 unknown status
    )
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_attendees(db, write(tmp_path, "bad.csv", text))
    problems = rejected.value.problems
    assert problems == [
        "line 5: name is missing",
        "line 6: e-mail 'eline@' is not a valid address",
        "line 8: registration id 'R1' is also on line 2",
        "line 10: status 'misschien' is not one of registered, cancelled (aangemeld, geannuleerd, afgemeld)",
    ]
    assert rejected.value.describe().splitlines()[0] == "import rejected: 4 problems"
    assert rejected.value.describe().splitlines()[1:] == problems
    # The rejected file's preview still lists its warnings, every row of them.
    warnings = {w["kind"]: w["rows"] for w in rejected.value.preview["warnings"]}
    assert warnings == {
        "unknown_session": [
            {"line": 7, "detail": "column E (Middag): 'Foo'; the sessions of Middag are: Europa · Wonen"},
        ],
        "shared_email": [{"line": 9, "detail": "PIET@x.nl, also on line 2"}],
    }
    assert dump(db) == before


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("a.csv", b"", "the file is empty"),
        ("a.csv", b"\r\n\r\n", "the file is empty"),
        ("a.pdf", b"%PDF-1.4 ...", "cannot read .pdf files: upload a CSV or XLSX file"),
        ("a.csv", b"\x00\x01\x02binary", "the file is not a text (CSV) file: upload a CSV or XLSX file"),
        ("a.csv", b"Naam\n\x81\x8d\x90\n", "the file's characters cannot be read: save it as CSV UTF-8 or as .xlsx"),
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
         "this is an old Excel .xls file or a password-protected workbook: save it as .xlsx or CSV without a password"),
        ("a.xlsx", b"Naam\nJan\n", "the file is named .xlsx but is not an Excel workbook"),
        ("a.xlsx", b"PK\x03\x04broken zip", "the file is not a readable XLSX workbook (BadZipFile)"),
        ("a.csv", b"Naam,E-mail\n", "the file has a header on line 1 but no attendees"),
        ("a.csv", b"Wie,Mail\nJan,jan@x.nl\n",
         "line 1: there is no name column (Naam/Name, or Voornaam/First name and Achternaam/Last name); "
         "the columns are: Wie, Mail"),
    ],
)
def test_unreadable_files_are_rejected_clearly(tmp_path, name, data, message):
    db = make_db(tmp_path)
    before = dump(db)
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_attendees(db, io.BytesIO(data), filename=name)
    assert rejected.value.problems == [message]
    assert dump(db) == before


def test_every_new_attendee_gets_a_valid_badge(tmp_path):
    db = make_db(tmp_path)
    text = "Naam\n" + "".join(f"Persoon {n},\n".replace(",", "") for n in range(300))
    importer.import_attendees(db, write(tmp_path, "a.csv", text))
    rows = list(db.query("SELECT attendee_id, code, short_code FROM badges"))
    assert len(rows) == 300 and len({r["attendee_id"] for r in rows}) == 300
    for row in rows:
        assert normalise(row["code"]) == row["code"]
        assert normalise(row["short_code"]) == row["short_code"] == row["code"][3:7] + "-" + row["code"][7:11]


def test_program_import_and_update(tmp_path):
    db = make_db(tmp_path, program=False)
    report = importer.import_program(db, write(tmp_path, "p.csv", PROGRAM))
    assert report["sessions"] == {"added": 5, "updated": 0, "unchanged": 0}
    assert report["rooms"]["added"] == 4 and report["blocks"]["added"] == 3
    walk = next(db.query("SELECT * FROM sessions WHERE title = 'Stadswandeling Monet'"))
    assert (walk["kind"], walk["place_limit"], walk["meeting_point"], walk["room_id"]) == ("walk", 25, "Hal stadhuis", None)
    assert db.execute("SELECT count(*) FROM occupancy").fetchone()[0] == 4
    assert dict(db.execute("SELECT name, starts_at FROM blocks").fetchall())["Middag"] == "13:30"

    update = (
        "Block,Start,End,Title,Kind,Room,Capacity,Place limit\n"
        "middag,13:45,15:00,europa,session,Burgemeesterskamer,24,\n"
        "Middag,,,Circulariteit,session,Zaal Wormer,36,\n"
    )
    report = importer.import_program(db, write(tmp_path, "p2.csv", update))
    # Matching ignores case; the new spelling of the title is taken, so Europa counts as updated.
    assert report["sessions"] == {"added": 1, "updated": 1, "unchanged": 0}
    assert report["rooms"] == {"added": 1, "updated": 1, "unchanged": 0}
    assert report["blocks"] == {"added": 0, "updated": 1, "unchanged": 0}
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 6
    assert db.execute("SELECT capacity FROM rooms WHERE name = 'Burgemeesterskamer'").fetchone()[0] == 24
    assert "sessions 1 added, 1 updated, 0 unchanged" in importer.summary_line(report)


def test_program_problems_reject_everything(tmp_path):
    db = make_db(tmp_path)
    before = dump(db)
    bad = (
        "Blok;Begin;Einde;Sessie;Soort;Zaal;Capaciteit;Plaatsen\n"  # 1
        "Avond;19:00;18:00;Diner;diner;Restaurant;;\n"  # 2
        "Middag;13:30;15:30;Sterke keten;sessie;Zaal Gouw;30;veel\n"  # 3
        ";;;Zonder blok;;;;\n"  # 4
        "Middag;;;Europa;sessie;Burgemeesterskamer;25;\n"  # 5
        "Middag;;;Nog een;sessie;Zaal Gouw;30;\n"  # 6
        "Middag;;;Europa;sessie;;;\n"  # 7
        "Ochtend;9u30;10.45;Koffie;pauze;Foyer;300;\n"  # 8: fine
    )
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_program(db, write(tmp_path, "p.csv", bad))
    assert rejected.value.problems == [
        "line 2: kind 'diner' is not one of plenary, session, walk, break (plenair, sessie, wandeling, pauze)",
        "line 2: block ends at 18:00, not after it starts at 19:00",
        "line 3: place limit 'veel' is not a whole number",
        "line 4: block is missing",
        "line 6: room 'Zaal Gouw' already holds 'Sterke keten' (line 3) in block 'Middag'",
        "line 7: session 'Europa' in block 'Middag' is also on line 5",
        "line 2: room 'Restaurant' is new and needs a capacity",
    ]
    assert dump(db) == before


def folded_by_definition(text):
    """kiosk.text.fold as its docstring defines it, without the import's shortcuts (ASCII, word cache)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.translate(UNDECOMPOSED_LETTERS).casefold().split())


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text(), st.one_of(st.none(), st.text()))
def test_fast_search_text_matches_the_definition(name, organisation, email):
    expected = folded_by_definition(" ".join(part for part in (name, organisation, email or "") if part))
    assert search_text(name, organisation, email) == expected


@pytest.fixture
def import_client(organiser_client, demo_app, tmp_path):
    """An organiser on the demo event, with uploads kept in a temporary folder."""
    demo_app.config["IMPORT_FOLDER"] = str(tmp_path / "uploads")
    return organiser_client


def upload(client, kind, name, data):
    return client.post(
        "/admin/import/preview", data={"kind": kind, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_page_needs_an_organiser(demo_app, host_client, import_client):
    assert demo_app.test_client().get("/admin/import").status_code in (302, 303, 401)
    assert host_client.get("/admin/import").status_code == 403
    page = import_client.get("/admin/import")
    assert page.status_code == 200 and b'type="file"' in page.data and b'name="csrf_token"' in page.data


def test_preview_then_commit(import_client, demo_db, tmp_path):
    before = dump(demo_db)
    text = "Naam;E-mail;Middagsessies\nNoëlle de Wit;noelle@leiden.nl;Europa\n".encode("cp1252")
    preview = upload(import_client, "attendees", "nieuw.csv", text)
    assert preview.status_code == 200
    assert "Noëlle de Wit" in preview.text and 'name="token"' in preview.text
    assert dump(demo_db) == before
    token = re.search(r'name="token" value="([0-9a-f]+)"', preview.text).group(1)
    assert len(list((tmp_path / "uploads").iterdir())) == 1

    done = import_client.post("/admin/import/commit", data={"token": token, "kind": "attendees", "filename": "nieuw.csv"})
    assert done.status_code == 303
    assert list((tmp_path / "uploads").iterdir()) == []
    (row,) = demo_db.query("SELECT * FROM attendees WHERE email = 'noelle@leiden.nl'")
    assert row["name"] == "Noëlle de Wit"
    (audit,) = demo_db.query("SELECT * FROM audit_log WHERE action = 'import attendees'")
    assert audit["detail"] == "nieuw.csv: attendees imported: 1 added, 0 updated, 0 unchanged, 0 cancelled"
    # The same token cannot import twice.
    again = import_client.post("/admin/import/commit", data={"token": token, "kind": "attendees"})
    assert again.status_code == 303 and demo_db.execute("SELECT count(*) FROM attendees").fetchone()[0] == 351


def test_preview_lists_every_problem(import_client, demo_db):
    before = dump(demo_db)
    text = b"Naam,E-mail,Middagsessies\n,a@b.nl,\nJan,jan@,Foo\n"
    page = upload(import_client, "attendees", "fout.csv", text)
    assert page.status_code == 200
    assert "line 2: name is missing" in page.text
    assert "line 3: e-mail &#39;jan@&#39; is not a valid address" in page.text
    assert "line 3: column C (Middagsessies): &#39;Foo&#39;; the sessions of Middagsessies are: " in page.text
    assert 'name="token"' not in page.text
    assert dump(demo_db) == before


def test_program_preview(import_client):
    page = upload(import_client, "program", "programma.xlsx", xlsx_bytes([
        ["Blok", "Sessie", "Zaal", "Capaciteit"], ["Middagsessies", "Europa", "Burgemeesterskamer", 20],
        ["Middagsessies", "Nieuw overleg", "Zaal Zaan", 40],
    ]))
    assert page.status_code == 200
    assert "Nieuw overleg" in page.text and 'name="token"' in page.text


@pytest.mark.parametrize("kind", ["attendees", "program"])
def test_example_files_import_cleanly(import_client, demo_db, kind):
    example = import_client.get(f"/admin/import/example-{kind}.csv")
    assert example.status_code == 200 and example.mimetype == "text/csv"
    runner = importer.import_attendees if kind == "attendees" else importer.import_program
    runner(demo_db, example.data, filename="example.csv", dry_run=True)


SECRETARY = "secretariaat@zaanstad.nl"
SHARED = (
    "Naam;E-mail;Organisatie;Functie\n"
    f"Anouk de Vries;{SECRETARY};Gemeente Zaanstad;Beleidsadviseur\n"
    f"Thijs ter Horst;{SECRETARY};Gemeente Zaanstad;Wethouder\n"
    "Eline Bakker;eline@assen.nl;Gemeente Assen;Raadslid\n"
)


def people_of(db):
    """{id: (name, e-mail, organisation, role, registration id)} of every attendee."""
    return {row["id"]: (row["name"], row["email"], row["organisation"], row["role"], row["registration_id"])
            for row in attendees(db)}


def test_one_email_on_several_people_imports_each_and_a_reimport_finds_each_by_email_and_name(tmp_path):
    """A hand-made list without registration ids where a secretary's address is on two colleagues."""
    db = make_db(tmp_path)
    report = importer.import_attendees(db, write(tmp_path, "a.csv", SHARED))
    assert (report["added"], report["updated"], report["unchanged"]) == (3, 0, 0)
    assert [(w["kind"], w["rows"]) for w in report["warnings"]] == [
        ("shared_email", [{"line": 3, "detail": f"{SECRETARY}, also on line 2"}]),
    ]
    first = people_of(db)
    assert sorted(first.values()) == [
        ("Anouk de Vries", SECRETARY, "Gemeente Zaanstad", "Beleidsadviseur", None),
        ("Eline Bakker", "eline@assen.nl", "Gemeente Assen", "Raadslid", None),
        ("Thijs ter Horst", SECRETARY, "Gemeente Zaanstad", "Wethouder", None),
    ]
    report = importer.import_attendees(db, write(tmp_path, "a.csv", SHARED))
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 3)
    assert people_of(db) == first
    # Thijs first now, with another role: his own attendee is updated, Anouk's is not touched.
    reordered = (
        "Naam;E-mail;Organisatie;Functie\n"
        f"Thijs ter Horst;{SECRETARY};Gemeente Zaanstad;Burgemeester\n"
        f"Anouk de Vries;{SECRETARY};Gemeente Zaanstad;Beleidsadviseur\n"
    )
    report = importer.import_attendees(db, write(tmp_path, "b.csv", reordered))
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 1, 1)
    thijs = next(i for i, person in first.items() if person[0] == "Thijs ter Horst")
    assert people_of(db) == {**first, thijs: ("Thijs ter Horst", SECRETARY, "Gemeente Zaanstad", "Burgemeester", None)}
    # A third colleague on the same address is a new person, not a rename of one of the two.
    report = importer.import_attendees(db, write(tmp_path, "c.csv", f"Naam;E-mail\nSanne Smit;{SECRETARY}\n"))
    assert (report["added"], report["updated"], report["unchanged"]) == (1, 0, 0)
    assert sorted(p[0] for p in people_of(db).values()) == ["Anouk de Vries", "Eline Bakker", "Sanne Smit",
                                                              "Thijs ter Horst"]


def test_the_same_person_twice_among_people_sharing_an_email_imports_their_last_row(tmp_path):
    db = make_db(tmp_path)
    text = SHARED + f"Anouk de Vries;{SECRETARY};Gemeente Zaanstad;Senior beleidsadviseur\n"
    report = importer.import_attendees(db, write(tmp_path, "a.csv", text))
    assert [(w["kind"], w["rows"]) for w in report["warnings"]] == [
        ("shared_email", [{"line": 3, "detail": f"{SECRETARY}, also on line 2"}]),
        ("same_person", [{"line": 5, "detail": "also on line 2"}]),
    ]
    assert sorted(people_of(db).values()) == [
        ("Anouk de Vries", SECRETARY, "Gemeente Zaanstad", "Senior beleidsadviseur", None),
        ("Eline Bakker", "eline@assen.nl", "Gemeente Assen", "Raadslid", None),
        ("Thijs ter Horst", SECRETARY, "Gemeente Zaanstad", "Wethouder", None),
    ]


def test_people_sharing_an_email_are_matched_on_registration_id(tmp_path):
    db = make_db(tmp_path)
    header = "Registratienummer;Naam;E-mail\n"
    importer.import_attendees(db, write(tmp_path, "a.csv", f"{header}R1;Anouk de Vries;{SECRETARY}\n"))
    # A ticket the secretary bought for a colleague, in an export of its own: another registration id is
    # another person, not a rename of the one attendee with that e-mail.
    report = importer.import_attendees(db, write(tmp_path, "b.csv", f"{header}R2;Thijs ter Horst;{SECRETARY}\n"))
    assert (report["added"], report["updated"]) == (1, 0)
    ids = {person[4]: attendee_id for attendee_id, person in people_of(db).items()}
    assert people_of(db) == {ids["R1"]: ("Anouk de Vries", SECRETARY, "", "", "R1"),
                             ids["R2"]: ("Thijs ter Horst", SECRETARY, "", "", "R2")}
    # Both in one file, R2's name corrected: each matched on their registration id.
    both = f"{header}R2;Thijs van der Horst;{SECRETARY}\nR1;Anouk de Vries;{SECRETARY}\n"
    report = importer.import_attendees(db, write(tmp_path, "c.csv", both))
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 1, 1)
    assert [w["kind"] for w in report["warnings"]] == ["shared_email"]
    assert people_of(db) == {ids["R1"]: ("Anouk de Vries", SECRETARY, "", "", "R1"),
                             ids["R2"]: ("Thijs van der Horst", SECRETARY, "", "", "R2")}


def test_a_person_with_their_own_email_is_still_found_by_it_under_a_new_name(tmp_path):
    """What a re-import did before one e-mail could be on several people, it still does for an e-mail of one."""
    db = make_db(tmp_path)
    importer.import_attendees(db, write(tmp_path, "a.csv", "Naam,E-mail\nAnna Jansen,anna@x.nl\n"))
    (before,) = attendees(db)
    report = importer.import_attendees(db, write(tmp_path, "b.csv", "Naam,E-mail\nAnna de Vries-Jansen,ANNA@x.nl\n"))
    assert (report["added"], report["updated"]) == (0, 1)
    (after,) = attendees(db)
    assert (after["id"], after["name"], after["email"]) == (before["id"], "Anna de Vries-Jansen", "ANNA@x.nl")


def test_reimport_with_full_names_keeps_name_parts(tmp_path):
    db = make_db(tmp_path)
    importer.import_attendees(db, write(tmp_path, "a.csv", "Voornaam,Achternaam,E-mail\nAnna,Maria Jansen,anna@x.nl\n"))
    report = importer.import_attendees(db, write(tmp_path, "b.csv", "Naam,E-mail\nAnna Maria Jansen,anna@x.nl\n"))
    assert report["unchanged"] == 1
    (row,) = attendees(db)
    assert (row["first_name"], row["last_name"]) == ("Anna", "Maria Jansen")


def test_extra_fields_merge_on_reimport(tmp_path):
    db = make_db(tmp_path)
    importer.import_attendees(db, write(tmp_path, "a.csv", "Naam,E-mail,Dieet,Parkeren\nJan,jan@x.nl,vegan,ja\n"))
    db.execute("""UPDATE attendees SET extra = '{"Parkeren":"ja","Dieet":"vegan"}'""")  # same object, other spelling
    report = importer.import_attendees(db, write(tmp_path, "b.csv", "Naam,E-mail,Dieet\nJan,jan@x.nl,vegan\n"))
    assert report["unchanged"] == 1
    report = importer.import_attendees(db, write(tmp_path, "c.csv", "Naam,E-mail,Dieet,Taxi\nJan,jan@x.nl,,ja\n"))
    assert report["updated"] == 1
    assert json.loads(attendees(db)[0]["extra"]) == {"Parkeren": "ja", "Taxi": "ja"}


def test_title_rows_above_the_header_are_skipped(tmp_path):
    db = make_db(tmp_path)
    data = xlsx_bytes([["Deelnemerslijst netwerkdag"], ["export 12-04"], [], ["Naam", "E-mail"], ["Jan", "jan@"]])
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_attendees(db, io.BytesIO(data), filename="lijst.xlsx")
    assert rejected.value.problems == ["line 5: e-mail 'jan@' is not a valid address"]


def test_cells_are_trimmed(tmp_path):
    db = make_db(tmp_path)
    text = "Naam , E-mail ,Middag , Notitie\n  Jan  Bos , jan@x.nl ,  Europa  ,  hallo  \n"
    importer.import_attendees(db, write(tmp_path, "a.csv", text))
    (row,) = attendees(db)
    assert (row["name"], row["email"], json.loads(row["extra"])) == ("Jan Bos", "jan@x.nl", {"Notitie": "hallo"})
    assert choices(db) == {("Jan Bos", "Middag"): "Europa"}


def test_preview_problems_in_the_organisers_language(compiled_catalogs, import_client, demo_db):
    assert import_client.post("/language", data={"language": "nl"}).status_code in (302, 303)
    page = upload(import_client, "attendees", "fout.csv", b"Naam,E-mail,Middagsessies\n,a@b.nl,\nJan,jan@,Foo\n")
    assert page.status_code == 200
    assert "regel 2: de naam ontbreekt" in page.text
    assert "regel 3: e-mail &#39;jan@&#39; is geen geldig adres" in page.text
    assert "regel 3: kolom C (Middagsessies): &#39;Foo&#39;; de sessies van Middagsessies zijn: " in page.text
    assert "name is missing" not in page.text


def test_preview_shows_the_kind_in_words(compiled_catalogs, import_client):
    import_client.post("/language", data={"language": "nl"})
    page = upload(import_client, "program", "programma.csv", b"Blok;Sessie;Soort\nMiddagsessies;Rondje Zaan;wandeling\n")
    assert page.status_code == 200 and "<td>wandeling</td>" in page.text
    import_client.post("/language", data={"language": "en"})
    page = upload(import_client, "program", "programma.csv", b"Blok;Sessie;Soort\nMiddagsessies;Rondje Zaan;plenair\n")
    assert "<td>plenary</td>" in page.text


def test_cli_prints_problems_in_english(compiled_catalogs, demo_app, tmp_path, monkeypatch):
    """Scripts parse these lines: the CLI stays English whatever the event's default language."""
    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    bad = write(tmp_path, "fout.csv", "Naam,E-mail,Middagsessies\n,a@b.nl,\nJan,jan@,Foo\n")
    result = demo_app.test_cli_runner().invoke(args=["import", "attendees", str(bad)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "import rejected: 2 problems",
        "line 2: name is missing",
        "line 3: e-mail 'jan@' is not a valid address",
    ]


@pytest.mark.parametrize("column, value, message", [
    ("Capaciteit", "9223372036854775808", "line 2: capacity '9223372036854775808' is more than 1000000"),
    ("Plaatsen", "1e30", "line 2: place limit '1e30' is more than 1000000"),
])
def test_a_number_too_big_for_the_database_is_a_problem_in_the_preview(import_client, demo_db, column, value, message):
    text = f"Blok;Sessie;Zaal;{column}\nMiddagsessies;Groot;Zaal Zaan;{value}\n".encode()
    page = upload(import_client, "program", "programma.csv", text)
    assert page.status_code == 200
    assert message.replace("'", "&#39;") in page.text and 'name="token"' not in page.text


def test_kept_previews_are_bounded_in_number_and_size(import_client, tmp_path, monkeypatch):
    from kiosk.imports import views

    def preview(number):
        text = f"Naam;E-mail\nPersoon {number};p{number}@example.org\n".encode()
        page = upload(import_client, "attendees", f"deelnemers{number}.csv", text)
        return re.search(r'name="token" value="([0-9a-f]+)"', page.text).group(1)

    tokens = [preview(number) for number in range(views.KEEP_PREVIEWS + 3)]
    kept = sorted(path.name.split("-")[0] for path in (tmp_path / "uploads").iterdir())
    assert kept == sorted(tokens[-views.KEEP_PREVIEWS:])  # the oldest went first
    expired = import_client.post("/admin/import/commit", data={"token": tokens[0], "kind": "attendees"})
    assert expired.status_code == 303 and "/admin/import" in expired.headers["Location"]

    monkeypatch.setattr(views, "KEEP_BYTES", 200)  # room for about three of these uploads
    preview("big")
    sizes = [path.stat().st_size for path in (tmp_path / "uploads").iterdir()]
    assert sum(sizes) <= 200 and len(sizes) >= 1
