"""Badge codes: opaque random tokens behind a version prefix, reissue and lookup."""

import secrets

from kiosk.db import now_utc, one

# No 0/O, 1/I/L, U: nothing that reads as something else on a printed badge.
ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_PREFIX = "K1-"
RANDOM_LENGTH = 17  # 17 characters of a 30-letter alphabet = 83 bits
SHORT_LENGTH = 8


def new_code():
    """A fresh badge code: 'K1-' + 17 random characters (QR version 1, error correction M)."""
    return CODE_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


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
    badge_id = db["badges"].insert(
        {"attendee_id": attendee_id, "code": code, "short_code": short, "issued_at": now, "replaced_at": None}
    ).last_pk
    return {"id": badge_id, "attendee_id": attendee_id, "code": code, "short_code": short, "issued_at": now}


def find_badge(db, code):
    """The badge (current or replaced) with this full or short code, joined with its attendee, or None."""
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
            WHERE badges.{column} = ?""",
        [normal],
    )


def current_badge(db, attendee_id):
    """The attendee's badge in use, or None."""
    rows = list(
        db.query(
            "SELECT * FROM badges WHERE attendee_id = ? AND replaced_at IS NULL", [attendee_id]
        )
    )
    return rows[0] if rows else None
