"""The outbox: every e-mail Kiosk sends, from the transaction that caused it to its delivery."""

import time

from kiosk.db import now_utc, one

STATUSES = ("waiting", "sending", "sent", "failed", "uncertain")
TICKET_KINDS = ("ticket", "promoted")


def enqueue(db, values):
    """Put a message (VALUES: kind, attendee_id, recipient, recipient_name, language, link_token, detail,
    message_id) in the outbox, inside the caller's transaction; returns its id."""
    # Plain SQL, not sqlite-utils' insert (which reads the table's columns first): this runs inside every
    # registration's write transaction (benchmarks/bench_registration.py).
    return db.execute(
        """INSERT INTO outbox (created_at, kind, attendee_id, recipient, recipient_name, language, link_token, detail,
                               message_id, status, next_attempt_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting', 0)""",
        [now_utc(), values["kind"], values.get("attendee_id"), values["recipient"], values.get("recipient_name", ""),
         values.get("language", "nl"), values.get("link_token"), values.get("detail", "{}"), values["message_id"]],
    ).lastrowid


def get(db, message_id):
    """One outbox row, or None."""
    return one(db, "SELECT * FROM outbox WHERE id = ?", [message_id])


def due(db, *, limit=50, ignore_backoff=False, after=0):
    """Waiting messages whose next attempt is due, oldest first; with IGNORE_BACKOFF every waiting one
    with an id above AFTER, in id order (a one-off flush pages through them, trying each once)."""
    if ignore_backoff:
        return list(db.query("SELECT * FROM outbox WHERE status = 'waiting' AND id > ? ORDER BY id LIMIT ?",
                             [after, limit]))
    return list(db.query("SELECT * FROM outbox WHERE status = 'waiting' AND next_attempt_at <= ? "
                         "ORDER BY next_attempt_at, id LIMIT ?", [time.time(), limit]))


def waiting_count(db):
    """How many messages wait to be sent."""
    return db.execute("SELECT count(*) FROM outbox WHERE status = 'waiting'").fetchone()[0]


def sending_count(db):
    """How many messages are marked as being handed to the server."""
    return db.execute("SELECT count(*) FROM outbox WHERE status = 'sending'").fetchone()[0]


def store_message(db, message_id, subject, raw):
    """Keep the built message RAW (bytes) of MESSAGE_ID: retries and resends send these bytes."""
    db.execute("UPDATE outbox SET subject = ?, message = ? WHERE id = ? AND message IS NULL", [subject, raw, message_id])


def mark_sending(db, message_id):
    """MESSAGE_ID goes to the mail server now (committed before the SMTP DATA); False if it was not waiting."""
    cursor = db.execute("UPDATE outbox SET status = 'sending', sending_at = ?, attempts = attempts + 1 "
                        "WHERE id = ? AND status = 'waiting'", [now_utc(), message_id])
    return cursor.rowcount == 1


def mark_sent(db, message_id):
    """The server accepted MESSAGE_ID."""
    db.execute("UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?", [now_utc(), message_id])


def retry_later(db, message_id, error, delay, *, counted=True):
    """MESSAGE_ID was not delivered (nothing reached the server's DATA): try again in DELAY seconds."""
    db.execute(
        f"UPDATE outbox SET status = 'waiting', last_error = ?, next_attempt_at = ?{', attempts = attempts + 1' if counted else ''} "
        "WHERE id = ?", [str(error)[:1000], time.time() + delay, message_id])


def mark_failed(db, message_id, error, *, refused=False):
    """The server refused MESSAGE_ID for good (REFUSED: it refused the recipient's address)."""
    db.execute("UPDATE outbox SET status = 'failed', last_error = ?, refused = ? WHERE id = ?",
               [str(error)[:1000], 1 if refused else 0, message_id])


def mark_interrupted(db):
    """Messages a sender was handing to the server when it stopped: 'uncertain', never sent again by
    itself; returns how many."""
    return db.execute("UPDATE outbox SET status = 'uncertain', last_error = coalesce(last_error, "
                      "'the sender stopped while the server was receiving this message') WHERE status = 'sending'").rowcount


def resend(db, message_id):
    """Send MESSAGE_ID again (the same bytes), at once; False when it is waiting or being sent."""
    return db.execute("UPDATE outbox SET status = 'waiting', next_attempt_at = 0, refused = 0 "
                      "WHERE id = ? AND status IN ('sent', 'failed', 'uncertain')", [message_id]).rowcount == 1


def counts(db):
    """{status: messages}."""
    found = dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
    return {status: found.get(status, 0) for status in STATUSES}


def listing(db, status=None, *, limit=100, offset=0):
    """Outbox rows (without their bytes), newest first, of STATUS when given."""
    where, params = ("WHERE status = ?", [status]) if status else ("", [])
    return list(db.query(
        f"""SELECT id, created_at, kind, attendee_id, recipient, recipient_name, subject, status, attempts,
                   next_attempt_at, last_error, refused, sent_at FROM outbox {where} ORDER BY id DESC LIMIT ? OFFSET ?""",
        params + [limit, offset]))


def of_attendee(db, attendee_id):
    """ATTENDEE_ID's messages, newest first."""
    return list(db.query(
        """SELECT id, created_at, kind, recipient, subject, status, attempts, last_error, refused, sent_at
           FROM outbox WHERE attendee_id = ? ORDER BY id DESC LIMIT 50""", [attendee_id]))


def refused_attendees(db, attendee_ids):
    """The ids among ATTENDEE_IDS whose address the mail server refused."""
    return {row[0] for row in db.execute(
        "SELECT DISTINCT attendee_id FROM outbox WHERE refused = 1 AND attendee_id IN (SELECT value FROM json_each(?))",
        [str(list(attendee_ids))])}


def without_ticket(db, attendee_ids=None):
    """Registered attendees with an e-mail address and no ticket in the outbox (of ATTENDEE_IDS when given)."""
    sql = """SELECT id FROM attendees WHERE status = 'registered' AND coalesce(email, '') != ''
             AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.attendee_id = attendees.id
                             AND outbox.kind IN ('ticket', 'promoted'))"""
    params = []
    if attendee_ids is not None:
        sql += " AND id IN (SELECT value FROM json_each(?))"
        params.append(str(sorted(attendee_ids)))
    return [row[0] for row in db.execute(sql + " ORDER BY id", params)]


def with_email(db, attendee_ids):
    """The registered ones among ATTENDEE_IDS that have an e-mail address."""
    return [row[0] for row in db.execute(
        """SELECT id FROM attendees WHERE status = 'registered' AND coalesce(email, '') != ''
           AND id IN (SELECT value FROM json_each(?)) ORDER BY id""", [str(sorted(attendee_ids))])]


def mark_uncertain(db, message_id, error):
    """The connection broke while the server received MESSAGE_ID: it may have arrived; never sent again by itself."""
    db.execute("UPDATE outbox SET status = 'uncertain', last_error = ? WHERE id = ?", [str(error)[:1000], message_id])


def back_to_waiting(db, message_id, error, delay):
    """The server refused MESSAGE_ID's DATA for now (4xx, it kept nothing): 'waiting' again, after DELAY seconds."""
    db.execute("UPDATE outbox SET status = 'waiting', last_error = ?, next_attempt_at = ? WHERE id = ?",
               [str(error)[:1000], time.time() + delay, message_id])
