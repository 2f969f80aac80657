"""What each column of an attendee file is for: the exports of Eventbrite, pretix, Indico, Microsoft and Google
Forms and hand-made Dutch lists, recognised by their headers, the words of a form's questions and the answers.

A column's target is a field ('name', 'first_name', 'name_prefix', 'last_name', 'email',
'organisation', 'role', 'registration_id', 'status', 'cancelled'), 'block:<id>' (the session
chosen in that time block), 'extra' (kept with the attendee under its header) or 'ignore'.
"""

import hashlib
import re

from kiosk.text import fold

FIELDS = ("name", "first_name", "name_prefix", "last_name", "email", "organisation", "role", "registration_id",
          "status", "cancelled")
NAME_FIELDS = ("name", "first_name", "name_prefix", "last_name")

# Header -> (field, rank): a lower rank wins when several columns could be the same field.
# Modelled on: Eventbrite's attendee summary ("Attendee #", "Attendee Status", "Company", "Job Title") and
# order export ("Buyer First Name"); pretix's order positions and check-in lists ("Order code", "Position ID",
# "Attendee name: Given name", "Attendee email", "Company"); Indico's registrations ("ID", "Email Address",
# "Affiliation", "Position", "Registration state"); Microsoft and Google Forms; Dutch and Flemish lists.
ALIASES = {
    "name": ["naam", "name", "volledige naam", "full name", "naam deelnemer", "deelnemer", "attendee",
             "attendee name", "deelnemersnaam", "naam en achternaam", "voor- en achternaam"],
    "first_name": ["voornaam", "first name", "firstname", "given name", "roepnaam", "attendee name: given name",
                   "attendee first name", "voornaam deelnemer"],
    "name_prefix": ["tussenvoegsel", "tussenvoegsels", "tussenv", "tussenv.", "voorvoegsel", "prefix", "name prefix",
                    "attendee name: prefix"],
    "last_name": ["achternaam", "last name", "lastname", "surname", "family name", "familienaam",
                  "attendee name: family name", "attendee last name", "achternaam deelnemer"],
    "email": ["attendee email", "attendee e-mail", "e-mail deelnemer", "e-mailadres deelnemer", "email deelnemer",
              "e-mail", "e-mailadres", "email", "emailadres", "email address", "e-mail address", "mail",
              "mailadres"],
    "organisation": ["organisatie", "gemeente", "organisation", "organization", "company", "bedrijf", "instelling",
                     "gemeente/organisatie", "organisatie / gemeente", "organisatie/gemeente", "werkgever",
                     "affiliation", "attendee company", "organisatienaam"],
    "role": ["functie", "rol", "role", "function", "job title", "functietitel", "position", "functie/rol"],
    "registration_id": ["attendee #", "attendee no.", "registration id", "registratienummer", "registratie-id",
                        "registratie id", "registration number", "ticket id", "ticketnummer", "ticket number",
                        "ticket code", "registration", "order code", "order #", "order", "ordernummer",
                        "order number", "order id", "bestelnummer", "ticket", "id"],
    "status": ["attendee status", "registration state", "registration status", "status", "inschrijvingsstatus"],
    "cancelled": ["afgemeld", "geannuleerd", "afgemeld?", "geannuleerd?", "afmelding", "cancelled", "canceled"],
}
BUYER_ALIASES = {"buyer first name": "first_name", "buyer last name": "last_name", "buyer name": "name",
                 "buyer email": "email", "koper voornaam": "first_name", "koper achternaam": "last_name",
                 "koper e-mail": "email"}
ORDER_HEADERS = {"ordercode", "order#", "order", "ordernummer", "ordernumber", "orderid", "bestelnummer"}
POSITION_HEADERS = {"positionid", "positieid", "positie"}
# Words in a form's question that say what it asks, in the order they are tried.
QUESTION_WORDS = [
    ("email", ("email", "mailadres", "emailadres")),
    ("organisation", ("gemeente", "organisatie", "organisation", "organization", "werkgever", "bedrijf",
                      "company", "employer", "affiliation", "instelling")),
    ("role", ("functie", "rol", "role", "position", "job")),
    ("name", ("naam", "name")),
]
ANONYMOUS = {"", "anonymous", "anoniem"}


def header_key(text):
    """A header as it is looked up: folded, without spaces and punctuation ('E-mail' -> 'email')."""
    return re.sub(r"[\s\-_.:/]+", "", fold((text or "").replace("\ufeff", "")))


_LOOKUP = {header_key(alias): (field, rank) for field, aliases in ALIASES.items()
           for rank, alias in enumerate(aliases)}
_BUYER = {header_key(alias): field for alias, field in BUYER_ALIASES.items()}


def signature(header):
    """What identifies an export's set of headers, for the mapping remembered for it."""
    keys = sorted(header_key(title) for title in header)
    return hashlib.sha256("\x1f".join(keys).encode()).hexdigest()


class Mapping:
    """Column index -> target, with the notes recognition made (buyer-only names, look-alike columns)."""

    def __init__(self, targets, notes=(), source=None):
        self.targets, self.notes, self.source = targets, list(notes), source

    def fields(self):
        return set(self.targets)

    def by_header(self, header):
        """{header key: target} for remembering this mapping."""
        return {header_key(title) or f"#{index}": self.targets[index] for index, title in enumerate(header)}


def recognise(header, samples, blocks, sessions, remembered=None, overrides=None):
    """The Mapping of HEADER, judged by headers, SAMPLES (the first rows' cells), BLOCKS and their SESSIONS.

    REMEMBERED ({header key: target}, from an earlier import of the same export) and OVERRIDES
    ({column index or header: target}, the organiser's choices) win over recognition, in that order.
    """
    columns = [[row[index].strip() if index < len(row) else "" for row in samples] for index in range(len(header))]
    source = _source(header)
    targets, notes = _by_headers(header, columns)
    if source == "microsoft_forms":  # its ID numbers the form's answers 1, 2, 3: no registration's id
        targets = ["extra" if header_key(title) == "id" and target == "registration_id" else target
                   for title, target in zip(header, targets)]
    _questions(header, columns, targets, notes, blocks, sessions)
    _names(targets)
    for index, title in enumerate(header):
        chosen = (remembered or {}).get(header_key(title) or f"#{index}")
        if chosen is not None and _valid(chosen, blocks):
            targets[index] = chosen
    keys = [header_key(title) for title in header]
    for column, chosen in (overrides or {}).items():
        index = column if isinstance(column, int) else next(
            (i for i, key in enumerate(keys) if key == header_key(column)), -1)
        if 0 <= index < len(targets) and _valid(chosen, blocks):
            targets[index] = chosen
    # Look-alikes are judged on the final targets: a column the organiser filed as extra is flagged too.
    notes = [note for note in notes
             if not note.startswith("looks_like:") or targets[int(note.split(":")[1])] == "extra"]
    notes += _session_look_alikes(header, columns, targets, blocks, sessions)
    return Mapping(targets, notes, source)


def is_target(target):
    """Whether TARGET is a use a column can have (a block's id is checked when the file is read)."""
    return target in FIELDS or target in ("extra", "ignore") or re.fullmatch(r"block:[0-9]{1,9}", target) is not None


def _valid(target, blocks):
    return target in FIELDS or target in ("extra", "ignore") or target in {f"block:{b['id']}" for b in blocks}


def _by_headers(header, columns):
    """Targets by exact header, the best-ranked column per field; buyer columns only when no attendee's."""
    best, buyer, notes = {}, {}, []
    keys = [header_key(title) for title in header]
    for index, key in enumerate(keys):
        found = _LOOKUP.get(key)
        if found and key == "ticket" and not _looks_like_ids(columns[index]):
            found = None  # a ticket type ("Regular", "Early bird"), not a ticket's number
        if found and (found[0] not in best or found[1] < best[found[0]][1]):
            best[found[0]] = (index, found[1])
        if key in _BUYER:
            buyer.setdefault(_BUYER[key], index)
    targets = ["extra"] * len(header)
    for field, (index, _rank) in best.items():
        targets[index] = field
    if not any(field in best for field in NAME_FIELDS) and buyer:
        for field, index in buyer.items():
            targets[index] = field
        notes.append("buyer_names")
    elif "email" not in best and "email" in buyer:
        targets[buyer["email"]] = "email"
        notes.append("buyer_email")
    # pretix: an order holds several positions, so its code and the position's number together are the id.
    order = next((i for i, key in enumerate(keys) if key in ORDER_HEADERS), None)
    position = next((i for i, key in enumerate(keys) if key in POSITION_HEADERS), None)
    if order is not None and position is not None and targets[order] in ("registration_id", "extra"):
        targets[order] = targets[position] = "registration_id"
    return targets, notes


def _looks_like_ids(values):
    filled = [value for value in values if value]
    return bool(filled) and len(set(filled)) == len(filled) and all(any(c.isdigit() for c in v) for v in filled)


def _questions(header, columns, targets, notes, blocks, sessions):
    """Form questions ('Bij welke gemeente werk je?') and session choices, by their words and answers."""
    titles = _titles(sessions)
    used_blocks = {target for target in targets if target.startswith("block:")}
    for index, title in enumerate(header):
        if targets[index] != "extra":
            continue
        block = _block_of(header_key(title), columns[index], blocks, titles, used_blocks)
        if block is not None:
            targets[index] = block
            used_blocks.add(block)
            continue
        field = _question_field(title)
        if field is None:
            continue
        holder = next((i for i, target in enumerate(targets) if target == field), None)
        if holder is None:
            targets[index] = field
        elif all(fold(value) in ANONYMOUS for value in columns[holder]) and columns[index]:
            targets[holder], targets[index] = "ignore", field  # Microsoft Forms' "Email: anonymous"
        else:
            notes.append(f"looks_like:{index}:{field}")


def _block_of(key, values, blocks, titles, used):
    """'block:<id>' when a column's answers are a time block's sessions, and its header is that block's name,
    holds it ('Lunchwandeling') or asks a question; a header that only mentions a block stays extra."""
    answers = [fold(value).strip() for value in values if value]
    for block in blocks:
        target = f"block:{block['id']}"
        if target in used:
            continue
        name = header_key(block["name"])
        if key == name:
            return target
        known = titles.get(block["id"], set())
        matching = sum(answer in known for answer in answers)
        if matching and (matching * 2 > len(answers) or (len(name) >= 4 and name in key)):
            return target
    return None


def _session_look_alikes(header, columns, targets, blocks, sessions):
    """'looks_like_session:<column>:<block id>' for each extra column whose answers are mostly a block's
    session titles, or whose header names a block ('Naar welke sessie wil je in de ochtend?')."""
    titles = _titles(sessions)
    notes = []
    for index, title in enumerate(header):
        if targets[index] != "extra":
            continue
        answers = [fold(value).strip() for value in columns[index] if value]
        counts = [(sum(answer in titles.get(block["id"], ()) for answer in answers), block["id"]) for block in blocks]
        matching, block_id = max(counts, default=(0, None))
        if not matching * 2 > len(answers):
            key = header_key(title)
            block_id = next((block["id"] for block in blocks
                             if len(header_key(block["name"])) >= 4 and header_key(block["name"]) in key), None)
        if block_id is not None:
            notes.append(f"looks_like_session:{index}:{block_id}")
    return notes


def _titles(sessions):
    """{block id: the folded titles of its sessions}."""
    titles = {}
    for session in sessions:
        titles.setdefault(session["block_id"], set()).add(fold(session["title"]).strip())
    return titles


def _question_field(title):
    words = set(re.findall(r"[a-z0-9]+", fold(title).replace("e-mail", "email")))
    if len(words) < 2:
        return None  # one unknown word is a column of its own, not a question
    for field, keys in QUESTION_WORDS:
        if words & set(keys) or any(word.startswith(keys) for word in words if field != "name"):
            return field
    return None


def _names(targets):
    """Flemish 'Voornaam' + 'Naam' (Naam is the surname); 'Naam' + 'Achternaam' (Naam is the first name)."""
    if "name" in targets:
        index = targets.index("name")
        if "first_name" in targets and "last_name" not in targets:
            targets[index] = "last_name"
        elif "last_name" in targets and "first_name" not in targets:
            targets[index] = "first_name"


def _source(header):
    """Which tool made the file, as far as its headers tell ('eventbrite', 'pretix', ...), or None."""
    keys = {header_key(title) for title in header}
    if {"attendee#", "attendeestatus"} & keys or "buyerfirstname" in keys:
        return "eventbrite"
    if keys & POSITION_HEADERS or "attendeenamegivenname" in keys or "pseudonymizationid" in keys:
        return "pretix"
    if "registrationstate" in keys:
        return "indico"
    if {"starttime", "completiontime"} <= keys or {"begintijd", "tijdvanvoltooien"} <= keys:
        return "microsoft_forms"
    if "tijdstempel" in keys or "timestamp" in keys:
        return "google_forms"
    return None

