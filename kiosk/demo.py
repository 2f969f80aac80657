"""The embedded demo event: the second G40 civil-service network day in Zaanstad, with fictional attendees.

The demo is built THROUGH the importer: the program and the attendees are written as
CSV files in memory (Dutch headers, semicolons, a Status and a Dieetwensen column) and
read back by kiosk.importer, so every demo build exercises the path organisers use,
including name handling, session choices per block and bulk badge issue.
"""

import csv
import io
import random
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.data import event_data
from kiosk.data.event_data import has_event  # noqa: F401  (callers ask the demo module)
from kiosk.data.imports import add_occupancy_rows
from kiosk.db import immediate, use_event
from kiosk.imports import importer
from kiosk.text import fold

DATA = Path(__file__).parent / "demo_data"

EVENT = {
    "name": "Tweede ambtelijke netwerkdag G40",
    "venue": "Stadhuis Zaanstad, Stadhuisplein 100, Zaandam",
    "timezone": "Europe/Amsterdam",
    "language": "nl",
}

# The 41 members of the G40 city network (Amstelveen joined on 1 July 2022; the name stayed).
MUNICIPALITIES = [
    "Alkmaar", "Almelo", "Almere", "Alphen aan den Rijn", "Amersfoort", "Amstelveen", "Apeldoorn", "Arnhem",
    "Assen", "Breda", "Delft", "Deventer", "Dordrecht", "Ede", "Eindhoven", "Emmen", "Enschede", "Gouda",
    "Groningen", "Haarlem", "Haarlemmermeer", "Heerlen", "Helmond", "Hengelo", "'s-Hertogenbosch", "Hilversum",
    "Hoorn", "Leeuwarden", "Leiden", "Lelystad", "Maastricht", "Nijmegen", "Oss", "Roosendaal", "Schiedam",
    "Sittard-Geleen", "Tilburg", "Venlo", "Zaanstad", "Zoetermeer", "Zwolle",
]
PARTNERS = [
    ("G40 Stedennetwerk", "g40stedennetwerk.nl"),
    ("Platform31", "platform31.nl"),
    ("VNG", "vng.nl"),
    ("Planbureau voor de Leefomgeving", "pbl.nl"),
]

# name, capacity, location
ROOMS = [
    ("Raadzaal", 200, "1e verdieping"),
    ("Burgerzaal", 380, "begane grond"),
    ("Trouwzaal", 80, "begane grond"),
    ("Commissiekamer 1", 60, "1e verdieping"),
    ("Commissiekamer 2", 48, "1e verdieping"),
    ("Zaal Zaan", 40, "2e verdieping"),
    ("Zaal Gouw", 30, "2e verdieping"),
    ("Zaal Hemmes", 30, "2e verdieping"),
    ("Zaal Wormer", 36, "2e verdieping"),
    ("Burgemeesterskamer", 20, "3e verdieping"),
]

BLOCKS = [
    ("Opening", "09:30", "10:45"),
    ("Ochtendsessies", "11:00", "12:15"),
    ("Lunch", "12:15", "13:30"),
    ("Middagsessies", "13:30", "15:00"),
    ("Afsluiting", "15:15", "16:30"),
]

# block, title, kind, room, place limit, meeting point, share of attendees choosing it, description
SESSIONS = [
    ("Opening", "Opening en Ruimtelijke Verkenning 2050 (PBL)", "plenary", "Burgerzaal", None, None, 0.95,
     "David Hamers (PBL) presenteert de Ruimtelijke Verkenning 2023: vier scenario's voor de inrichting van "
     "Nederland in 2050, met scenariokaarten. Ruimte voor vragen."),
    ("Ochtendsessies", "Sociale Pijler", "session", "Trouwzaal", None, None, 0.29,
     "De VNG licht het Platform Sociaal Domein toe; daarna in gesprek over de toegang en de lokale teams "
     "bij gemeenten."),
    ("Ochtendsessies", "Fysieke Pijler", "session", "Raadzaal", None, None, 0.34,
     "De laatste ontwikkelingen op woningmarkt, leefomgeving, stedelijke transformatie en duurzaamheid, "
     "met een presentatie van Platform31."),
    ("Ochtendsessies", "Pijler Economie en Werk", "session", "Commissiekamer 1", None, None, 0.24,
     "Interactieve werksessie met Emil Evenhuis (PBL): wat betekenen de ruimtelijke scenario's voor werken, "
     "binnensteden, het MKB en de human capital agenda's?"),
    ("Ochtendsessies", "Lobbyistenoverleg", "session", "Burgemeesterskamer", None, None, 0.01,
     "Op basis van de jaarplannen van themagroepen en pijlers: de belangrijkste lobbyonderwerpen en hoe we "
     "elkaars netwerken inzetten."),
    ("Lunch", "Lunch", "break", "Burgerzaal", None, None, 0.62,
     "Lunch in de Burgerzaal."),
    ("Lunch", "Stadswandeling Monet", "walk", None, 25, "Hal stadhuis, bij de balie", 0.10,
     "Het Zaandam van 1871 door de ogen van Monet: langs het Blauwe Huis naar het MonetAtelier."),
    ("Lunch", "Stadswandeling MAAK Centrum", "walk", None, 25, "Hoofdingang stadhuis", 0.07,
     "Gebiedsontwikkeling in het centrum, Inverdan en de oostkant van de Zaan: terugblik en vooruitblik."),
    ("Lunch", "Stadswandeling Zaanse Houtbouw", "walk", None, 25, "Gedempte Gracht, bij de trap", 0.09,
     "Van nieuwe 'houten' panden op de Gedempte Gracht via de Hooghe Dijk naar het Czaar Peterhuisje, "
     "met oud-raadslid Louis Groen."),
    ("Middagsessies", "Wonen, welzijn, zorg – Woningmarkt", "session", "Raadzaal", None, None, 0.16,
     "Een thuis voor iedereen: Netty van Triest (Platform31) over het koplopersprogramma en de wet "
     "Versterking regie volkshuisvesting."),
    ("Middagsessies", "Slimme duurzame verstedelijking – Leefomgeving en stedelijke transformatie", "session",
     "Trouwzaal", None, None, 0.15,
     "Bodem en Water sturend: wat vraagt het van gemeenten, en regie op de ondergrond met de "
     "basisregistratie ondergrond (BRO)."),
    ("Middagsessies", "Vergunninghouders en asiel", "session", "Commissiekamer 1", None, None, 0.10,
     "Werksessie: een integraal lokaal programma van opvang tot en met integratie."),
    ("Middagsessies", "Zorg, jeugd en onderwijs", "session", "Commissiekamer 2", None, None, 0.16,
     "Regulier overleg van de themagroep ZJO: actualiteit, onderwijstafel, IZA/GALA en de kernboodschap Jeugd."),
    ("Middagsessies", "MKB en economische vernieuwing", "session", "Zaal Zaan", None, None, 0.08,
     "Maatwerk voor de MKB-ondernemer en betere regionale ondernemersdienstverlening."),
    ("Middagsessies", "Sterke keten", "session", "Zaal Gouw", None, None, 0.07,
     "Arbeidsmigratie in de G40 vanuit inburgering, wonen en werk, en het Plan van Aanpak Statushouders "
     "aan het Werk."),
    ("Middagsessies", "Vitale binnensteden en werklocaties", "session", "Zaal Hemmes", None, None, 0.10,
     "Platform31 over knelpunten en kansen voor toekomstbestendige werklocaties in tien steden."),
    ("Middagsessies", "Europa", "session", "Burgemeesterskamer", None, None, 0.05,
     "Simone Goedings (VNG) over het onderzoek naar europeanisering van gemeenten; het jaarplan."),
    ("Middagsessies", "Bijeenkomst Circulariteit (met themagroep Duurzaamheid)", "session", "Zaal Wormer", None,
     None, 0.08,
     "Tilburg en Cirkelstad over circulair bouwen en het programma Samen Versnellen; de themagroep "
     "Duurzaamheid sluit aan."),
    ("Afsluiting", "Afsluiting en netwerkborrel", "plenary", "Burgerzaal", None, None, 0.70,
     "Terugblik op de dag en borrel."),
]

ROLES = [
    ("lid themagroep", 0.55), ("pijlervertegenwoordiger", 0.2), ("coördinator", 0.12), ("lobbyist", 0.06),
    ("beleidsadviseur", 0.07),
]
DIETS = [("", 0.8), ("vegetarisch", 0.12), ("veganistisch", 0.03), ("glutenvrij", 0.03), ("halal", 0.02)]


def today_in_amsterdam():
    """The date at the venue, so the demo's sessions run 'now' for whoever tries it."""
    return datetime.now(ZoneInfo(EVENT["timezone"])).date()


def program_csv():
    """The demo program as a semicolon CSV with Dutch headers, as an organiser would write it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Blok", "Begin", "Einde", "Sessie", "Soort", "Zaal", "Capaciteit", "Verdieping", "Plaatsen",
                     "Verzamelpunt", "Omschrijving"])
    times = {name: (start, end) for name, start, end in BLOCKS}
    rooms = {name: (capacity, location) for name, capacity, location in ROOMS}
    kinds = {"plenary": "plenair", "session": "sessie", "walk": "wandeling", "break": "pauze"}
    for block, title, kind, room, limit, meeting_point, _share, description in SESSIONS:
        capacity, location = rooms[room] if room else ("", "")
        writer.writerow([block, *times[block], title, kinds[kind], room or "", capacity, location,
                         limit or "", meeting_point or "", description])
    return out.getvalue().encode("utf-8")


def _names(filename):
    lines = (DATA / filename).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _weighted(rng, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights)[0]


def _email_part(text):
    return "".join(c for c in fold(text) if c.isalnum() or c in ".-")


def attendees_csv(*, attendees=350, seed=13):
    """ATTENDEES fictional people from the G40 cities as a semicolon CSV, the same for the same SEED."""
    rng = random.Random(seed)
    first_names = _names("voornamen.txt")
    surnames = [line.split("|") if "|" in line else ["", line] for line in _names("achternamen.txt")]
    # The host city and the big ones send more people.
    weights = [6 if m == "Zaanstad" else 2 if m in ("Almere", "Groningen", "Tilburg", "Breda", "Eindhoven") else 1
               for m in MUNICIPALITIES]
    by_block = {}
    for session in SESSIONS:
        by_block.setdefault(session[0], []).append((session[1], session[6]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    block_names = [name for name, _s, _e in BLOCKS]
    writer.writerow(["Registratienummer", "Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres", "Gemeente",
                     "Functie", "Status", *block_names, "Dieetwensen"])
    used_emails = set()
    for number in range(1, attendees + 1):
        first = rng.choice(first_names)
        prefix, last = rng.choice(surnames)
        if rng.random() < 0.04:
            organisation, domain = rng.choice(PARTNERS)
        else:
            municipality = rng.choices(MUNICIPALITIES, weights)[0]
            organisation = f"Gemeente {municipality}"
            domain = _email_part(municipality.replace("'", "").replace(" ", "")) + ".nl"
        local = _email_part(first.replace(" ", "")) + "." + _email_part((prefix + last).replace(" ", "").replace("'", ""))
        email, n = f"{local}@{domain}", 2
        while email in used_emails:
            email, n = f"{local}{n}@{domain}", n + 1
        used_emails.add(email)
        role = _weighted(rng, ROLES)
        status = "geannuleerd" if rng.random() < 0.025 else "aangemeld"
        choices = []
        for block in block_names:
            options = by_block[block]
            if block == "Ochtendsessies" and role == "lobbyist":
                choices.append("Lobbyistenoverleg")
                continue
            # Shares below 1 leave the rest without a choice for that block (arriving late, leaving early).
            rest = max(0.0, 1 - sum(share for _t, share in options))
            choices.append(_weighted(rng, options + [("", rest)]))
        writer.writerow([f"NWD-{number:04d}", first, prefix, last, email, organisation, role, status, *choices,
                         _weighted(rng, DIETS)])
    return out.getvalue().encode("utf-8")


def build_demo(db, *, event_date=None, attendees=350, seed=13):
    """Replace the event data in DB with the demo event, in one transaction; returns the counts.

    Accounts (users) and the audit log are kept, so an organiser who rebuilds the demo stays
    logged in; stations go, because they belong to the event's rooms.
    """
    if event_date is None:
        event_date = today_in_amsterdam()
    if isinstance(event_date, str):
        event_date = date.fromisoformat(event_date)
    program = importer.read_table(program_csv(), "programma.csv")
    people = importer.read_table(attendees_csv(attendees=attendees, seed=seed), "deelnemers.csv") if attendees else None
    with immediate(db):
        event_data.clear(db)
        event_data.insert_event(db, dict(EVENT, id=1, date=event_date.isoformat()))
        use_event(db, 1)  # the demo is the install's only event
        importer.apply_program(db, program)
        added = importer.apply_attendees(db, people)["added"] if people else 0
        add_occupancy_rows(db)
        importer.record_audit(db, "demo", "build demo", f"{added} attendees, event date {event_date}")
    return event_data.counts(db)
