"""Which column is which: the Dutch and English headers organisers use, title rows above them, a row's cells."""

import re

from flask_babel import gettext as _

from kiosk.imports.reading import Table
from kiosk.imports.recognise import ALIASES
from kiosk.text import fold

# The attendees' headers live with the rest of their recognition (kiosk.imports.recognise).
ATTENDEE_HEADERS = ALIASES

PROGRAM_HEADERS = {
    "block": ["blok", "block", "tijdblok", "time block", "dagdeel"],
    "starts_at": ["begin", "start", "starttijd", "start time", "begintijd", "van", "from"],
    "ends_at": ["einde", "end", "eindtijd", "end time", "tot", "to"],
    "title": ["sessie", "session", "titel", "title", "onderdeel", "programmaonderdeel", "naam", "name"],
    "kind": ["soort", "kind", "type"],
    "room": ["zaal", "room", "ruimte", "locatie", "location"],
    "capacity": ["capaciteit", "capacity", "zaalcapaciteit", "room capacity"],
    "place_limit": ["plaatsen", "places", "place limit", "maximum", "max", "max deelnemers", "max attendees", "aantal plaatsen"],
    "meeting_point": ["verzamelpunt", "meeting point", "verzamelplaats", "startpunt"],
    "description": ["omschrijving", "description", "toelichting", "beschrijving"],
    "room_location": ["verdieping", "floor", "zaallocatie", "room location"],
}


def column_list(header):
    """The header's column names for a problem message: 'Naam, E-mail', or 'none'."""
    return ", ".join(h for h in header if h) or _("none")


def _header_key(text):
    """A header as it is looked up: folded, without spaces and punctuation ('E-mail' -> 'email')."""
    return re.sub(r"[\s\-_.:/]+", "", fold((text or "").replace("\ufeff", "")))


def map_columns(header, known, blocks=None):
    """Column index -> field name, 'block:<id>' or 'extra:<header>'; a field's first column wins."""
    lookup = {_header_key(alias): field for field, aliases in known.items() for alias in aliases}
    block_lookup = {_header_key(b["name"]): b for b in (blocks or [])}
    columns, used, extra_names = {}, set(), set()
    for index, title in enumerate(header):
        key = _header_key(title)
        field = lookup.get(key)
        if field and field not in used:
            columns[index] = field
            used.add(field)
        elif key in block_lookup and f"block:{block_lookup[key]['id']}" not in used:
            columns[index] = f"block:{block_lookup[key]['id']}"
            used.add(columns[index])
        else:
            name = (title or "").strip() or f"column {index + 1}"
            while name in extra_names:
                name += "'"
            extra_names.add(name)
            columns[index] = "extra:" + name
    return columns


def skip_title_rows(table, known, needed, look=10):
    """TABLE with its header moved down past title rows ('Deelnemerslijst 13 april') when the first row is not one."""
    def is_header(cells):
        fields = set(map_columns(cells, known).values())
        return any(all(field in fields for field in group) for group in needed)

    if is_header(table.header):
        return table
    for position, (line, cells) in enumerate(table.rows[:look]):
        if is_header(cells):
            titles = [(table.header_line, "title", table.header)]
            titles += [(title_line, "title", title_cells) for title_line, title_cells in table.rows[:position]]
            skipped = titles + [entry for entry in table.skipped if entry[0] > line]
            return Table(cells, table.rows[position + 1:], line, skipped=skipped, sheet=table.sheet,
                         sheets=table.sheets, encoding=table.encoding)
    return table


def targets_of(columns):
    """What cells_of needs from COLUMNS (made by map_columns): every column's target, and the 'extra:' ones."""
    targets = list(columns.values())
    return targets, [target for target in targets if target[:6] == "extra:"]


def cells_of(row_cells, targets, extras):
    """One row as {target: text} and {unknown header: stripped text}; TARGETS and EXTRAS come from targets_of."""
    width, expected = len(row_cells), len(targets)
    if width < expected:
        row_cells = row_cells + [""] * (expected - width)
    record = dict(zip(targets, row_cells))  # extra:… keys stay in too; nothing reads them from here
    extra = {target[6:]: record[target].strip() for target in extras}
    # Cells beyond the header are data nobody named; keep them rather than lose them.
    for index in range(expected, width):
        if row_cells[index].strip():
            extra[f"column {index + 1}"] = row_cells[index].strip()
    return record, extra
