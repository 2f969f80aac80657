"""The sender: delivers the outbox over SMTP, one sender at a time, never the same message twice.

At most once, on purpose. SMTP has no idempotency key: a server that received the whole
message but whose "250 OK" never reached us (a crash, a cut connection) has delivered it, and
sending it again would give the person two tickets. So a message is marked 'sending' in a
committed transaction right before its SMTP DATA, and 'sent' after the server's 250. Anything
that goes wrong before DATA (server down, refused login, a temporary refusal of the sender or
recipient) puts the message back to 'waiting' with a growing delay: nothing reached the
server, so trying again is safe. A message found 'sending' by a sender that starts (its
predecessor was killed during DATA), or whose connection broke during DATA, becomes
'uncertain': it is never sent again by itself, and the outbox page shows it to an organiser,
who can resend it. A permanent refusal of the recipient (5xx at RCPT: a bounce at the SMTP
stage) is 'failed' and marked refused, shown on the attendee and outbox pages.

One sender at a time: a sender holds an exclusive flock on a file beside the database (the
kernel drops it when the process dies), so `kiosk serve`'s workers each run a sender thread
but only the one holding the lock sends, and `kiosk mail send` waits its turn or says so.
"""

import fcntl
import logging
import os
import smtplib
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import current_app, request

from kiosk.data import outbox as data
from kiosk.db import get_db, immediate
from kiosk.mail import message
from kiosk.mail.outbox import build, configured, public_host, public_url

log = logging.getLogger(__name__)
BATCH = 50
TICK_SECONDS = 2.0
MAX_DELAY = 3600


def backoff(attempts):
    """Seconds to wait before attempt ATTEMPTS + 1: 30 s, doubling, at most an hour."""
    return min(30 * 2 ** max(attempts, 0), MAX_DELAY)


class SenderLock:
    """The exclusive right to send: a flock on DATABASE-mailer.lock, held until release or death."""

    def __init__(self, database):
        self.path = f"{database}-mailer.lock"
        self.fd = None

    def acquire(self):
        """Take the lock if nobody holds it; True when held."""
        if self.fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self):
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None


def connect_smtp(config):
    """An SMTP connection as KIOSK_SMTP_* say (TLS, login). Raises OSError or smtplib.SMTPException."""
    host, port, timeout = config["SMTP_HOST"], int(config["SMTP_PORT"]), float(config["SMTP_TIMEOUT"])
    mode = (config.get("SMTP_TLS") or "starttls").lower()
    if mode == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if mode == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    smtp.ehlo_or_helo_if_needed()
    if config.get("SMTP_USER"):
        smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
    return smtp


def send_due(*, ignore_backoff=False, limit=None):
    """Under the sender lock (taken by the caller): deliver what is due; returns counts by result."""
    db = get_db()
    result = {"sent": 0, "retry": 0, "failed": 0, "uncertain": 0}
    if data.sending_count(db):  # only a sender that died leaves these: we hold the lock now
        with immediate(db):
            result["uncertain"] = data.mark_interrupted(db)
    if not configured():
        return result
    smtp, after = None, 0
    # Messages are built (templates, QR, calendar: CPU) one ahead on a thread of their own while
    # this one waits for the mail server, so building and sending overlap
    # (benchmarks/bench_registration.py measures mails per second).
    app, base_url = current_app._get_current_object(), request.host_url
    builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-mail-build")
    try:
        while limit is None or result["sent"] + result["failed"] < limit:
            rows = data.due(db, limit=BATCH, ignore_backoff=ignore_backoff, after=after)
            if not rows:
                break
            if smtp is None:
                try:
                    smtp = connect_smtp(app.config)
                except (OSError, smtplib.SMTPException) as error:
                    _all_later(db, rows, f"mail server: {error}")
                    result["retry"] += len(rows)
                    return result
            built = [builder.submit(_build_apart, app, base_url, row) for row in rows]
            for row, raw in zip(rows, built):
                after = row["id"]
                if smtp is None:
                    try:
                        smtp = connect_smtp(app.config)
                    except (OSError, smtplib.SMTPException) as error:
                        _all_later(db, [r for r in rows if r["id"] >= row["id"]], f"mail server: {error}")
                        result["retry"] += 1
                        return result
                outcome = deliver(db, smtp, row, raw)
                result[outcome] += 1
                if outcome in ("retry", "uncertain"):  # the connection may be gone: a fresh one next time
                    smtp = _close(smtp)
    finally:
        builder.shutdown(wait=True, cancel_futures=True)
        _close(smtp)
    return result


def _build_apart(app, base_url, row):
    """ROW's bytes, built on the builder thread in a context (and database connection) of its own."""
    with app.test_request_context(base_url=base_url):
        return build(get_db(), row)


def _all_later(db, rows, error):
    with immediate(db):
        for row in rows:
            data.retry_later(db, row["id"], error, backoff(row["attempts"]))


def _close(smtp):
    if smtp is not None:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return None


# Long: one SMTP transaction with its states, kept together so the at-most-once order is visible.
def deliver(db, smtp, row, built=None):
    """Hand ROW to the server on SMTP: 'sent', 'retry', 'failed' or 'uncertain'. BUILT: a Future of its bytes."""
    try:
        raw = built.result() if built is not None else build(db, row)
        sender = message.sender_address(public_host()).addr_spec
        recipient = message.address("", row["recipient"]).addr_spec
    except Exception as error:  # a bad address, or a message that cannot be built: no use trying again
        if not isinstance(error, message.BadAddress):
            log.exception("outbox message %s cannot be built", row["id"])
        with immediate(db):
            data.mark_failed(db, row["id"], error)
        return "failed"
    try:
        code, answer = smtp.mail(sender)
        if code == 250:
            code, answer = smtp.rcpt(recipient)
            refused_recipient = code not in (250, 251)
        else:
            refused_recipient = False
        if code not in (250, 251):
            smtp.rset()
            return _refused(db, row, code, answer, refused_recipient)
    except (OSError, smtplib.SMTPException) as error:  # nothing reached DATA: safe to try again
        with immediate(db):
            data.retry_later(db, row["id"], f"mail server: {error}", backoff(row["attempts"]))
        return "retry"
    with immediate(db):
        if not data.mark_sending(db, row["id"]):  # resent or changed meanwhile: leave it
            smtp.rset()
            return "retry"
    try:
        code, answer = smtp.data(raw)
    except smtplib.SMTPDataError as error:  # refused before the message was sent (no 354)
        return _after_data_refused(db, row, error.smtp_code, error.smtp_error)
    except (OSError, smtplib.SMTPException) as error:  # the server may have it all: never again by itself
        with immediate(db):
            data.mark_uncertain(db, row["id"], f"interrupted while the server received it: {error}")
        return "uncertain"
    if code == 250:
        with immediate(db):
            data.mark_sent(db, row["id"])
        return "sent"
    return _after_data_refused(db, row, code, answer)


def _answer(code, answer):
    text = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
    return f"{code} {text}"


def _refused(db, row, code, answer, refused_recipient):
    """The server refused at MAIL or RCPT: temporary (4xx) waits, permanent (5xx) fails."""
    with immediate(db):
        if 400 <= code < 500:
            data.retry_later(db, row["id"], _answer(code, answer), backoff(row["attempts"]))
            return "retry"
        data.mark_failed(db, row["id"], _answer(code, answer), refused=refused_recipient)
    return "failed"


def _after_data_refused(db, row, code, answer):
    """The server answered DATA with a refusal: it did not take the message, so it may be tried again."""
    with immediate(db):
        if 400 <= code < 500:
            data.back_to_waiting(db, row["id"], _answer(code, answer), backoff(row["attempts"]))
            return "retry"
        data.mark_failed(db, row["id"], _answer(code, answer))
    return "failed"


def flush(app, *, wait=0.0):
    """`kiosk mail send`: take the sender lock (waiting up to WAIT seconds) and send everything waiting,
    back-off or not; None when another sender holds the lock."""
    lock = SenderLock(app.config["DATABASE"])
    deadline = time.monotonic() + wait
    while not lock.acquire():
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)
    try:
        return send_due(ignore_backoff=True)
    finally:
        lock.release()


def start_sender(app, every=TICK_SECONDS, stop=None):
    """A daemon thread that, while it holds the sender lock, sends what is due every EVERY seconds.

    Every `kiosk serve` worker starts one; the one that gets the lock sends, the others try for
    it each tick, so when that worker dies another takes over.
    """
    stop = stop or threading.Event()
    lock = SenderLock(app.config["DATABASE"])

    def loop():
        while not stop.wait(every):
            try:
                if lock.acquire():
                    with app.test_request_context(base_url=_base(app)):
                        send_due()
            except Exception:  # a busy database or a bad moment: the next tick tries again
                log.exception("the mail sender failed")
        lock.release()

    thread = threading.Thread(target=loop, name="kiosk-mail-sender", daemon=True)
    thread.start()
    return stop


def _base(app):
    with app.app_context():
        return public_url()
