"""The program from a file: rooms, time blocks and the sessions in them, checked and written in one go.

Rooms match by name, blocks by name and sessions by block and title (all ignoring case and
accents). Sessions missing from the file are kept: attendees may have chosen them.
"""

import re

from flask_babel import gettext as _

from kiosk.data import imports as data
from kiosk.imports.columns import PROGRAM_HEADERS, cells_of, column_list, map_columns, skip_title_rows, targets_of
from kiosk.imports.report import PREVIEW_ROWS, ImportRejected
from kiosk.text import fold

KINDS = {
    "": "session", "session": "session", "sessie": "session", "workshop": "session", "themagroep": "session",
    "plenary": "plenary", "plenair": "plenary", "plenaire sessie": "plenary", "plenum": "plenary",
    "walk": "walk", "wandeling": "walk", "excursie": "walk", "tour": "walk", "rondleiding": "walk",
    "break": "break", "pauze": "break", "lunch": "break", "borrel": "break",
}
TIME_RE = re.compile(r"^(\d{1,2})[:.hu](\d{2})(?::\d{2})?$")
# Session fields a file may leave out, and the column each keeps when it does.
OPTIONAL_SESSION_FIELDS = (("meeting_point", "meeting_point"), ("place_limit", "place_limit"),
                           ("description", "description"), ("kind", "kind"), ("room", "room_id"))


def apply_program(db, table, *, dry_run=False):
    """Check the program TABLE against the database and write it; the caller holds the transaction."""
    table = skip_title_rows(table, PROGRAM_HEADERS, [("block", "title")])
    columns = map_columns(table.header, PROGRAM_HEADERS)
    fields = set(columns.values())
    _check_columns(table, fields)
    current = data.program(db)
    rooms = {fold(r["name"]): r for r in current["rooms"]}
    blocks = {fold(b["name"]): b for b in current["blocks"]}
    sessions = {(s["block_id"], fold(s["title"])): s for s in current["sessions"]}
    program = _ProgramChecks()
    targets, extras = targets_of(columns)
    for line, cells in table.rows:
        record, _extra = cells_of(cells, targets, extras)
        program.check_row(line, record)
    program.check_new(rooms, blocks)
    if program.problems:
        raise ImportRejected(program.problems)

    report = {"kind": "program", "dry_run": dry_run, "preview": [],
              **{what: {"added": 0, "updated": 0, "unchanged": 0} for what in ("sessions", "rooms", "blocks")}}
    room_ids = _write_rooms(db, program.rooms, rooms, report["rooms"], dry_run)
    block_ids = _write_blocks(db, program.blocks, blocks, report["blocks"], dry_run)
    for item in program.items:
        action = _write_session(db, item, fields, room_ids, block_ids[item["block"]], sessions, dry_run)
        report["sessions"][action] += 1
        if len(report["preview"]) < PREVIEW_ROWS:
            report["preview"].append({
                "line": item["line"], "action": action, "block": program.blocks[item["block"]]["name"],
                "title": item["title"], "kind": item["kind"],
                "room": program.rooms[item["room"]]["name"] if item["room"] else "",
                "place_limit": item["place_limit"],
            })
    if not dry_run:
        data.add_occupancy_rows(db)
    return report


def _check_columns(table, fields):
    """Reject TABLE unless it has a block and a session column, and rows."""
    line1 = table.header_line
    # Whole sentences, one per case, so a translation can word each its own way.
    columns_found = column_list(table.header)
    if "block" not in fields and "title" not in fields:
        raise ImportRejected([_(
            "line %(line)s: there is no Blok/Block or Sessie/Session column; the columns are: %(columns)s",
            line=line1, columns=columns_found,
        )])
    if "block" not in fields:
        raise ImportRejected([_(
            "line %(line)s: there is no Blok/Block column; the columns are: %(columns)s", line=line1, columns=columns_found
        )])
    if "title" not in fields:
        raise ImportRejected([_(
            "line %(line)s: there is no Sessie/Session column; the columns are: %(columns)s",
            line=line1, columns=columns_found,
        )])
    if not table.rows:
        raise ImportRejected([_("the file has a header on line %(line)s but no sessions", line=line1)])


def parse_time(text):
    """'9:30', '09.30', '9u30' or '09:30:00' as '09:30'; None when TEXT is not a time of day."""
    match = TIME_RE.match(text.strip())
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


def parse_count(text):
    """(number, True) for a whole number ('20', '20,0'), (None, True) for nothing, (None, False) otherwise."""
    text = text.strip()
    if not text:
        return None, True
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None, False
    if value < 0 or not value.is_integer():
        return None, False
    return int(value), True


class _ProgramChecks:
    """The rooms, blocks and sessions of a file, row by row, with every problem found."""

    def __init__(self):
        self.rooms, self.blocks, self.items, self.problems = {}, {}, [], []
        self.seen_sessions, self.room_use = {}, {}

    def check_row(self, line, record):
        """Read one row: its block (and times), its room (and capacity) and its session."""
        block_name = " ".join(record["block"].split())
        title = " ".join(record["title"].split())
        if not block_name:
            self.problems.append(_("line %(line)s: block is missing", line=line))
        if not title:
            self.problems.append(_("line %(line)s: session title is missing", line=line))
        kind = KINDS.get(fold(record.get("kind", "")))
        if kind is None:
            self.problems.append(_(
                "line %(line)s: kind '%(kind)s' is not one of plenary, session, walk, break "
                "(plenair, sessie, wandeling, pauze)",
                line=line, kind=record["kind"].strip(),
            ))
        times = self.times(line, record)
        if block_name:
            self.note_block(line, block_name, times)
        room_name = self.note_room(line, record)
        place_limit, ok = parse_count(record.get("place_limit", ""))
        if not ok:
            self.problems.append(_(
                "line %(line)s: place limit '%(limit)s' is not a whole number",
                line=line, limit=record["place_limit"].strip(),
            ))
        if block_name and title:
            self.note_session(line, block_name, title, room_name, kind)
        self.items.append({
            "line": line, "block": fold(block_name), "title": title, "kind": kind or "session",
            "room": fold(room_name) if room_name else None,
            "meeting_point": " ".join(record.get("meeting_point", "").split()) or None,
            "place_limit": place_limit, "description": record.get("description", "").strip(),
        })

    def times(self, line, record):
        """The row's start and end times that it has, each '09:30' or None when unreadable."""
        times = {}
        for field in ("starts_at", "ends_at"):
            raw = record.get(field, "").strip()
            if raw:
                times[field] = parse_time(raw)
                if times[field] is None and field == "starts_at":
                    self.problems.append(_(
                        "line %(line)s: start time '%(time)s' is not a time like 09:30", line=line, time=raw
                    ))
                elif times[field] is None:
                    self.problems.append(_(
                        "line %(line)s: end time '%(time)s' is not a time like 09:30", line=line, time=raw
                    ))
        if times.get("starts_at") and times.get("ends_at") and times["ends_at"] <= times["starts_at"]:
            self.problems.append(_(
                "line %(line)s: block ends at %(end)s, not after it starts at %(start)s",
                line=line, end=times["ends_at"], start=times["starts_at"],
            ))
        return times

    def note_block(self, line, block_name, times):
        """Remember the block and its times, checking them against what earlier rows said."""
        block = self.blocks.setdefault(fold(block_name), {"name": block_name, "line": line})
        for field, value in times.items():
            if value is None:
                continue
            if field in block and block[field][0] != value:
                known = {"line": line, "block": block_name, "first": block[field][0],
                         "first_line": block[field][1], "time": value}
                if field == "starts_at":
                    self.problems.append(_(
                        "line %(line)s: block '%(block)s' starts at %(first)s on line %(first_line)s "
                        "but at %(time)s here", **known,
                    ))
                else:
                    self.problems.append(_(
                        "line %(line)s: block '%(block)s' ends at %(first)s on line %(first_line)s "
                        "but at %(time)s here", **known,
                    ))
            block.setdefault(field, (value, line))

    def note_room(self, line, record):
        """Remember the row's room, its capacity and location; returns the room's name ('' for none)."""
        room_name = " ".join(record.get("room", "").split())
        capacity, ok = parse_count(record.get("capacity", ""))
        if not ok:
            self.problems.append(_(
                "line %(line)s: capacity '%(capacity)s' is not a whole number", line=line, capacity=record["capacity"].strip()
            ))
        if room_name:
            room = self.rooms.setdefault(fold(room_name), {"name": room_name, "line": line})
            if capacity is not None:
                if "capacity" in room and room["capacity"][0] != capacity:
                    self.problems.append(_(
                        "line %(line)s: room '%(room)s' has capacity %(first)s on line %(first_line)s "
                        "but %(capacity)s here",
                        line=line, room=room_name, first=room["capacity"][0], first_line=room["capacity"][1],
                        capacity=capacity,
                    ))
                room.setdefault("capacity", (capacity, line))
            location = " ".join(record.get("room_location", "").split())
            if location:
                room.setdefault("location", location)
        elif capacity is not None:
            self.problems.append(_("line %(line)s: a capacity is given but no room", line=line))
        return room_name

    def note_session(self, line, block_name, title, room_name, kind):
        """Check that the session is in the file once, and that its room holds nothing else in the block."""
        key = (fold(block_name), fold(title))
        if key in self.seen_sessions:
            self.problems.append(_(
                "line %(line)s: session '%(session)s' in block '%(block)s' is also on line %(other_line)s",
                line=line, session=title, block=block_name, other_line=self.seen_sessions[key],
            ))
        self.seen_sessions[key] = line
        if room_name and kind in ("session", "plenary"):
            use = (fold(block_name), fold(room_name))
            if use in self.room_use:
                other_title, other_line = self.room_use[use]
                self.problems.append(_(
                    "line %(line)s: room '%(room)s' already holds '%(session)s' (line %(other_line)s) "
                    "in block '%(block)s'",
                    line=line, room=room_name, session=other_title, other_line=other_line, block=block_name,
                ))
            else:
                self.room_use[use] = (title, line)

    def check_new(self, rooms, blocks):
        """Check that each room and block not yet in the database (ROOMS, BLOCKS) has what it needs."""
        for key, room in self.rooms.items():
            if key not in rooms and "capacity" not in room:
                self.problems.append(_(
                    "line %(line)s: room '%(room)s' is new and needs a capacity", line=room["line"], room=room["name"]
                ))
        for key, block in self.blocks.items():
            if key not in blocks and not ("starts_at" in block and "ends_at" in block):
                self.problems.append(_(
                    "line %(line)s: block '%(block)s' is new and needs a start and an end time",
                    line=block["line"], block=block["name"],
                ))


def _write_rooms(db, new_rooms, rooms, counts, dry_run):
    """Add or update the file's rooms; returns their ids by folded name (None for new ones in a dry run)."""
    room_ids = {}
    for key, room in new_rooms.items():
        old = rooms.get(key)
        values = {"name": room["name"]}
        values["capacity"] = room["capacity"][0] if "capacity" in room else old["capacity"]
        values["location"] = room.get("location", old["location"] if old else "")
        room_ids[key] = _upsert(db, "rooms", values, old, counts, dry_run)
    return room_ids


def _write_blocks(db, new_blocks, blocks, counts, dry_run):
    """Add or update the file's blocks; returns their ids by folded name (None for new ones in a dry run)."""
    block_ids = {}
    for key, block in new_blocks.items():
        old = blocks.get(key)
        values = {"name": block["name"]}
        for field in ("starts_at", "ends_at"):
            values[field] = block[field][0] if field in block else old[field]
        block_ids[key] = _upsert(db, "blocks", values, old, counts, dry_run)
    return block_ids


def _write_session(db, item, fields, room_ids, block_id, sessions, dry_run):
    """Add or update the session of ITEM; returns 'added', 'updated' or 'unchanged'."""
    values = {
        "block_id": block_id, "title": item["title"], "kind": item["kind"],
        "room_id": room_ids[item["room"]] if item["room"] else None,
        "meeting_point": item["meeting_point"] if "meeting_point" in fields else None,
        "place_limit": item["place_limit"] if "place_limit" in fields else None,
        "description": item["description"],
    }
    old = sessions.get((block_id, fold(item["title"]))) if block_id is not None else None
    if old is None:
        if not dry_run:
            data.save(db, "sessions", values)
        return "added"
    for field, column in OPTIONAL_SESSION_FIELDS:
        if field not in fields:
            values[column] = old[column]
    changed = any(values[k] != old[k] for k in values)
    if changed and not dry_run:
        data.save(db, "sessions", values, old["id"])
    return "updated" if changed else "unchanged"


def _upsert(db, table, values, old, counts, dry_run):
    """Insert VALUES, or update the OLD row when they differ; counts the action; returns the id."""
    if old is None:
        counts["added"] += 1
        return None if dry_run else data.save(db, table, values)
    changed = any(values[k] != old[k] for k in values)
    counts["updated" if changed else "unchanged"] += 1
    if changed and not dry_run:
        data.save(db, table, values, old["id"])
    return old["id"]
