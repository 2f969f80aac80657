"""A real SMTP server in-process (aiosmtpd) on a loopback port, for the registration and mail tests."""

import asyncio
import email
import email.policy
import socket
import threading
import time

from aiosmtpd.controller import Controller


class Inbox:
    """aiosmtpd's handler: keeps every message it accepted; can refuse recipients and hold DATA."""

    def __init__(self, parse=True):
        self.parse = parse  # False: keep the bytes only (the mail benchmark measures the sender, not this)
        self.messages = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.release.set()
        self.in_data = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Kept as soon as the whole message is in, as a real server queues it: a client that dies
        # before the "250" below has still delivered it.
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default)
                                 if self.parse else envelope.content)
        self.in_data.set()
        deadline = time.monotonic() + 30
        while not self.release.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return "250 OK: queued"

    def wait_for(self, count, timeout=15):
        """Wait until COUNT messages arrived (bounded); returns them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            return list(self.messages)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """An aiosmtpd Controller on 127.0.0.1:PORT that can be stopped and started again on the same port."""

    def __init__(self, port=None, parse=True):
        self.port = port or free_port()
        self.inbox = Inbox(parse)
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def config(self):
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_TLS": "none", "SMTP_TIMEOUT": 5,
                "MAIL_FROM": "G40 Netwerkdag <aanmelden@example.org>"}
