"""Badge codes: opaque random tokens behind a version prefix, reissue and lookup."""

import secrets

from kiosk.db import now_utc, one

# No 0/O, 1/I/L, U: nothing that reads as something else on a printed badge.
ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_PREFIX = "K1-"
RANDOM_LENGTH = 17  # 17 characters of a 30-letter alphabet = 83 bits
SHORT_LENGTH = 8


# Bytes 0..239 map evenly onto the 30 letters; 240..255 are dropped so every letter stays equally likely.
_UNBIASED = 256 - 256 % len(ALPHABET)
_BYTE_TO_LETTER = bytes(ord(ALPHABET[b % len(ALPHABET)]) if b < _UNBIASED else 0 for b in range(256))
_REJECTED = bytes(range(_UNBIASED, 256))


def new_code():
    """A fresh badge code: 'K1-' + 17 random characters (QR version 1, error correction M)."""
    return new_codes(1)[0]


def new_codes(count):
    """COUNT fresh badge codes from one urandom call: an import issues thousands (benchmarks/bench_import.py)."""
    letters = b""
    needed = count * RANDOM_LENGTH
    while len(letters) < needed:
        raw = secrets.token_bytes((needed - len(letters)) * 9 // 8 + 32)
        letters += raw.translate(_BYTE_TO_LETTER, _REJECTED)
    text = letters[:needed].decode("ascii")
    return [CODE_PREFIX + text[i:i + RANDOM_LENGTH] for i in range(0, needed, RANDOM_LENGTH)]


def short_form(code):
    """The part typed at the desk, 'ABCD-EFGH'."""
    short = code[len(CODE_PREFIX):][:SHORT_LENGTH]
    return short[:4] + "-" + short[4:]


def normalise(raw):
    """What a scanner or a person typed, as a full code or a short code (or None when it cannot be one)."""
    if not isinstance(raw, str) or len(raw) > 200:
        return None
    text = "".join(raw.split()).upper().replace("-", "")
    if not text or any(c not in ALPHABET and c not in "K1" for c in text):
        return None
    if text.startswith("K1") and len(text) == 2 + RANDOM_LENGTH:
        return CODE_PREFIX + text[2:]
    if len(text) == SHORT_LENGTH:
        return text[:4] + "-" + text[4:]
    return None


def issue_badge(db, attendee_id):
    """Give ATTENDEE_ID a new badge, replacing the one they had; returns the new badge row."""
    now = now_utc()
    db.execute(
        "UPDATE badges SET replaced_at = ? WHERE attendee_id = ? AND replaced_at IS NULL",
        [now, attendee_id],
    )
    while True:
        code = new_code()
        short = short_form(code)
        exists = db.execute(
            "SELECT 1 FROM badges WHERE code = ? OR short_code = ?", [code, short]
        ).fetchone()
        if not exists:
            break
    badge_id = db.execute(
        "INSERT INTO badges (attendee_id, code, short_code, issued_at, replaced_at) VALUES (?, ?, ?, ?, NULL)",
        [attendee_id, code, short, now],
    ).lastrowid
    return {"id": badge_id, "attendee_id": attendee_id, "code": code, "short_code": short, "issued_at": now}


def issue_badges(db, attendee_ids, *, now=None):
    """Give each of ATTENDEE_IDS (none of whom has a current badge) a new badge; returns the count.

    issue_badge for a whole import: the codes in use are read once instead of one query per
    new code, and the badges go in with one executemany (benchmarks/bench_import.py).
    """
    if not attendee_ids:
        return 0
    now = now or now_utc()
    codes, shorts = set(), set()
    for code, short in db.execute("SELECT code, short_code FROM badges"):
        codes.add(code)
        shorts.add(short)
    records, fresh = [], []
    for attendee_id in attendee_ids:
        while True:
            if not fresh:
                fresh = new_codes(len(attendee_ids) - len(records) + 8)
            code = fresh.pop()
            short = short_form(code)
            if code not in codes and short not in shorts:
                break
        codes.add(code)
        shorts.add(short)
        records.append((attendee_id, code, short, now))
    db.conn.executemany("INSERT INTO badges (attendee_id, code, short_code, issued_at) VALUES (?, ?, ?, ?)", records)
    return len(records)


def find_badge(db, code):
    """The badge (current or replaced) with this full or short code, joined with its attendee, or None.

    Only a badge of DB's event is found: one of another event is an unknown code here (at a station
    of event 2, a badge of event 1 checks nobody in). The check is one integer compare in the same read.
    """
    normal = normalise(code)
    if normal is None:
        return None
    column = "code" if normal.startswith(CODE_PREFIX) else "short_code"
    return one(
        db,
        f"""SELECT badges.id AS badge_id, badges.code, badges.short_code, badges.replaced_at,
                   attendees.id AS attendee_id, attendees.name, attendees.organisation,
                   attendees.role, attendees.status
            FROM badges JOIN attendees ON attendees.id = badges.attendee_id
            WHERE badges.{column} = ? AND attendees.event_id = ?""",
        [normal, db.event_id],
    )


def current_badge(db, attendee_id):
    """The attendee's badge in use, or None."""
    rows = list(
        db.query(
            "SELECT * FROM badges WHERE attendee_id = ? AND replaced_at IS NULL", [attendee_id]
        )
    )
    return rows[0] if rows else None
