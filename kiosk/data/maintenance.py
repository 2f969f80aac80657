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


# The rows of DB's event (:event) in the tables purge changes: its attendees, and what follows from them.
_ATTENDEES = "SELECT id FROM attendees WHERE event_id = :event"
_SESSIONS = "SELECT sessions.id FROM sessions JOIN blocks ON blocks.id = sessions.block_id WHERE blocks.event_id = :event"


def purge(db):
    """Remove the personal data of DB's event after it and keep anonymous counts; returns what was done.

    Only that event's: another event's people, badges, scans, mail and waiting lists stay as they are.

    Kept: attendees as bare ids with organisation and status, their session choices,
    every scan with its time, room, outcome and pseudonymous attendee id, presence and
    occupancy, so the statistics (arrivals per organisation, per room, per hour) still add up.
    Removed: names, e-mail addresses, registration ids, roles, extra columns, badges
    (codes and print log), scanned codes and stored answers, names, e-mail addresses and badge
    codes in audit details, the rate-limit table (client addresses), the outbox, the waiting
    lists and the personal registration links.
    """
    event = {"event": db.event_id}
    with immediate(db):
        people, identifying = _identifying(db, event)
        audit_changed = 0
        for row in list(db.query("SELECT id, detail FROM audit_log WHERE detail != ''")):
            detail = _scrub(row["detail"], identifying)
            if detail != row["detail"]:
                db.execute("UPDATE audit_log SET detail = ? WHERE id = ?", [detail, row["id"]])
                audit_changed += 1
        db.execute(
            """UPDATE attendees SET registration_id = NULL, first_name = '', name_prefix = '', last_name = '',
                      name = 'attendee ' || id, email = NULL, role = '', extra = '{}', search_text = '',
                      updated_at = :now WHERE event_id = :event""",
            dict(event, now=now_utc()),
        )
        badges = db.execute(f"SELECT count(*) FROM badges WHERE attendee_id IN ({_ATTENDEES})", event).fetchone()[0]
        # The print log goes with them (ON DELETE CASCADE).
        db.execute(f"DELETE FROM badges WHERE attendee_id IN ({_ATTENDEES})", event)
        scans = db.execute(
            f"""UPDATE scans SET code = NULL, response = NULL WHERE (code IS NOT NULL OR response IS NOT NULL)
                AND (attendee_id IN ({_ATTENDEES}) OR room_id IN (SELECT id FROM rooms WHERE event_id = :event)
                     OR station_id IN (SELECT id FROM stations WHERE event_id = :event))""", event
        ).rowcount
        db.execute("DELETE FROM rate_limits")
        # Mail and waiting lists hold names, addresses and personal links. A mail to someone who only
        # waited has no attendee: it goes with the waiting list entry's address.
        db.execute(
            f"""DELETE FROM outbox WHERE attendee_id IN ({_ATTENDEES}) OR (attendee_id IS NULL AND recipient IN
                   (SELECT email FROM waiting_list WHERE session_id IN ({_SESSIONS})))""", event)
        db.execute(f"""DELETE FROM waiting_links WHERE id IN
                           (SELECT link_id FROM waiting_list WHERE session_id IN ({_SESSIONS}))""", event)
        db.execute(f"DELETE FROM waiting_list WHERE session_id IN ({_SESSIONS})", event)
        db.execute(f"DELETE FROM registration_links WHERE attendee_id IN ({_ATTENDEES})", event)
        # The report reads which event was purged from this line (kiosk.data.reports.purged_at).
        record(db, "cli", "purge personal data", f"{len(people)} attendees of event {db.event_id}")
    # Deleted rows linger in free pages and the WAL until they are rewritten.
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"attendees": len(people), "badges": badges, "scans": scans, "audit": audit_changed}


def _identifying(db, event):
    """(the people of EVENT, every name, address, registration id and badge code of theirs the audit log may hold)."""
    people = list(db.query(
        "SELECT id, name, first_name, last_name, email, registration_id FROM attendees WHERE event_id = :event", event))
    identifying = {
        value.strip()
        for person in people
        for value in (person["name"], person["email"], person["registration_id"])
        if value and len(value.strip()) >= 3
    }
    # People who only waited (never registered) are named in the audit log too.
    identifying.update(value.strip() for row in db.execute(
                           f"SELECT name, email FROM waiting_list WHERE session_id IN ({_SESSIONS})", event)
                       for value in row if value and len(value.strip()) >= 3)
    # Badge codes too: a reissue line names the old and the new code.
    identifying.update(code for row in db.execute(
        f"SELECT code, short_code FROM badges WHERE attendee_id IN ({_ATTENDEES})", event) for code in row)
    return people, identifying


def _scrub(text, identifying):
    """TEXT with every identifying value and e-mail address replaced."""
    for value in sorted(identifying, key=len, reverse=True):
        if value in text:
            text = text.replace(value, REMOVED)
    return EMAIL_PATTERN.sub(REMOVED, text)
