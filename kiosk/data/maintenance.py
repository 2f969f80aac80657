"""Keeping the data safe and then forgetting it: online backups and the post-event purge (`kiosk backup`, `kiosk purge`)."""

import os
import re
import sqlite3
import tempfile
from pathlib import Path

from kiosk.data.audit import record
from kiosk.db import immediate, now_utc

EMAIL_PATTERN = re.compile(r"[^\s@,;<>\"']+@[^\s@,;<>\"']+")
REMOVED = "[removed]"


def backup(db, target):
    """Copy DB to TARGET with SQLite's online backup API; returns the target's page count.

    The copy is written beside TARGET and renamed over it when complete, so TARGET is
    never half a database. It is made in one step, inside one read transaction: in WAL
    mode that does not hold up the server's writers, and the copy is one consistent
    snapshot (a copy in several steps would restart each time a scan is written).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    try:
        copy = sqlite3.connect(partial)
        try:
            db.conn.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
            page_count = copy.execute("PRAGMA page_count").fetchone()[0]
        finally:
            copy.close()
        if check != "ok":
            raise RuntimeError(f"the copy failed its integrity check: {check}")
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return page_count


def purge(db):
    """Remove personal data after the event and keep anonymous counts; returns what was done.

    Kept: attendees as bare ids with organisation and status, their session choices,
    every scan with its time, room, outcome and pseudonymous attendee id, presence and
    occupancy, so the statistics (arrivals per organisation, per room, per hour) still add up.
    Removed: names, e-mail addresses, registration ids, roles, extra columns, badges
    (codes and print log), scanned codes and stored answers, names, e-mail addresses and badge
    codes in audit details, the rate-limit table (client addresses), the outbox, the waiting
    lists and the personal registration links.
    """
    with immediate(db):
        people = list(db.query("SELECT id, name, first_name, last_name, email, registration_id FROM attendees"))
        identifying = {
            value.strip()
            for person in people
            for value in (person["name"], person["email"], person["registration_id"])
            if value and len(value.strip()) >= 3
        }
        # People who only waited (never registered) are named in the audit log too.
        identifying.update(value.strip() for row in db.execute("SELECT name, email FROM waiting_list") for value in row
                           if value and len(value.strip()) >= 3)
        # Badge codes too: a reissue line names the old and the new code.
        identifying.update(code for row in db.execute("SELECT code, short_code FROM badges") for code in row)
        audit_changed = 0
        for row in list(db.query("SELECT id, detail FROM audit_log WHERE detail != ''")):
            detail = _scrub(row["detail"], identifying)
            if detail != row["detail"]:
                db.execute("UPDATE audit_log SET detail = ? WHERE id = ?", [detail, row["id"]])
                audit_changed += 1
        db.execute(
            """UPDATE attendees SET registration_id = NULL, first_name = '', name_prefix = '', last_name = '',
                      name = 'attendee ' || id, email = NULL, role = '', extra = '{}', search_text = '',
                      updated_at = ?""",
            [now_utc()],
        )
        badges = db.execute("SELECT count(*) FROM badges").fetchone()[0]
        db.execute("DELETE FROM badges")  # the print log goes with them (ON DELETE CASCADE)
        scans = db.execute(
            "UPDATE scans SET code = NULL, response = NULL WHERE code IS NOT NULL OR response IS NOT NULL"
        ).rowcount
        db.execute("DELETE FROM rate_limits")
        # Mail and waiting lists hold names, addresses and personal links.
        db.execute("DELETE FROM outbox")
        db.execute("DELETE FROM waiting_list")
        db.execute("DELETE FROM registration_links")
        db.execute("DELETE FROM waiting_links")
        record(db, "cli", "purge personal data", f"{len(people)} attendees")
    # Deleted rows linger in free pages and the WAL until they are rewritten.
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"attendees": len(people), "badges": badges, "scans": scans, "audit": audit_changed}


def _scrub(text, identifying):
    """TEXT with every identifying value and e-mail address replaced."""
    for value in sorted(identifying, key=len, reverse=True):
        if value in text:
            text = text.replace(value, REMOVED)
    return EMAIL_PATTERN.sub(REMOVED, text)
