"""Registration figures: sign-ups per second through the public form (plain HTTP, CSRF and cookies as a
browser sends them) at 16 clients against `kiosk serve`, none oversold; and tickets per second delivered
from the outbox to a local SMTP server (aiosmtpd on loopback).

    .venv/bin/python benchmarks/bench_registration.py [--registrations N]

The database is the demo event plus a block whose one session has fewer places than there are
sign-ups, so the runs also check that a full session is never oversold: exactly its places are
given, everyone else is offered the waiting list.
"""

import argparse
import http.client
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import loadgen  # noqa: E402
from kiosk import create_app, demo  # noqa: E402
from kiosk.db import connect, migrate  # noqa: E402
from kiosk.mail import sender  # noqa: E402
from mailserver import MailServer  # noqa: E402

CLIENTS = 16


def build_db(path, places):
    """The demo event, registration open, and a block 'Bench' with one session of PLACES places."""
    db = connect(path)
    migrate(db)
    demo.build_demo(db)
    db.execute("UPDATE event SET registration_open = 1")
    block = db["blocks"].insert({"name": "Bench", "starts_at": "17:00", "ends_at": "18:00"}).last_pk
    session = db["sessions"].insert({"block_id": block, "title": "Bench walk", "kind": "walk", "place_limit": places}).last_pk
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return block, session


def start_server(tmp, db_path, port):
    env = dict(os.environ, KIOSK_DB=str(db_path), KIOSK_INSTANCE=str(tmp / "instance"),
               KIOSK_REGISTER_LIMIT="[1000000000, 60]",
               # Sixteen clients on one address: the per-address limit on bodies in flight would answer 429.
               KIOSK_BODIES_PER_CLIENT="64", KIOSK_PUBLIC_URL=f"http://127.0.0.1:{port}")
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - the server's for its lifetime
    process = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/register")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def browser_session(port):
    """(cookie, CSRF token) of one browser that opened the form: each client signs up as its own browser."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/register")
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    return cookie, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def form_request(port, form, cookie, token):
    """POST /register of FORM as a browser sends it, written out whole for benchmarks/loadgen.py."""
    body = urlencode(dict(form, csrf_token=token)).encode()
    head = (f"POST /register HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def form_outcome(status, body):
    """A sign-up's outcome: registered (the redirect to the ticket page), offered the waiting list, or None."""
    if status == 303:
        return "registered"
    if status == 200 and b'id="waitlist-offer"' in body:
        return "offered"
    return None


def registrations(port, block, session, count):
    """COUNT sign-ups through the form from CLIENTS clients at once, in a closed loop
    (benchmarks/loadgen.py: one event loop per load process, so the client's own threads add
    nothing to a latency); figures and outcomes."""
    forms = [{"name": f"Bench Persoon {i}", "email": f"bench{i}@example.org", "organisation": "Bench",
              "consent": "yes", f"block-{block}": str(session)} for i in range(count)]
    sessions = [browser_session(port) for _ in range(CLIENTS)]
    requests = [[form_request(port, form, *sessions[c]) for form in forms[c::CLIENTS]] for c in range(CLIENTS)]
    result = loadgen.run(port, [None], requests, path="/register", max_seconds=300, raw=True, classify=form_outcome)
    latencies = sorted(seconds * 1000 for seconds in result["latencies"])
    registered = sorted(seconds * 1000 for seconds in result["by_outcome"].get("registered", [])) or [0]
    offered = sorted(seconds * 1000 for seconds in result["by_outcome"].get("offered", [])) or [0]
    outcomes = dict(result["outcomes"], other=result["errors"])
    return {"throughput": result["throughput"], "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "outcomes": outcomes,
            "p99_registered": registered[min(len(registered) - 1, int(len(registered) * 0.99))],
            "p99_offered": offered[min(len(offered) - 1, int(len(offered) * 0.99))]}


SMTP_SERVER = """
import sys, time
sys.path.insert(0, sys.argv[2])
from mailserver import MailServer
server = MailServer(port=int(sys.argv[1]), parse=False).start()
print("ready", flush=True)
sys.stdin.read()
time.sleep(0.5)
print(len(server.inbox.messages), flush=True)
server.stop()
"""


def mail_delivery(db_path, tmp):
    """Deliver the outbox in one flush to aiosmtpd on loopback, in a process of its own (as a real server
    would be); (waiting, sent, seconds, received)."""
    port = MailServer().port
    server = subprocess.Popen([sys.executable, "-c", SMTP_SERVER, str(port), str(ROOT / "tests")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        config = dict(MailServer(port=port).config)
        app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "bench", "PUBLIC_URL": "http://127.0.0.1", **config})
        waiting = sqlite3.connect(db_path).execute("SELECT count(*) FROM outbox WHERE status = 'waiting'").fetchone()[0]
        started = time.perf_counter()
        with app.test_request_context(base_url="http://127.0.0.1"):
            result = sender.flush(app, wait=10)
        elapsed = time.perf_counter() - started
        received = int(server.communicate("", timeout=30)[0].strip())
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return waiting, result["sent"], elapsed, received


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=2000)
    args = parser.parse_args(argv)
    places = args.registrations * 3 // 4
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-registration-") as tmp:
        tmp = Path(tmp)
        db_path = tmp / "registration.db"
        block, session = build_db(db_path, places)
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        process = start_server(tmp, db_path, port)
        try:
            figures = registrations(port, block, session, args.registrations)
        finally:
            process.terminate()
            process.wait(15)
        given = sqlite3.connect(db_path).execute("SELECT count(*) FROM choices WHERE session_id = ?", [session]).fetchone()[0]
        print(f"registration form at {CLIENTS} clients: {figures['throughput']:.1f}/s p50 {figures['p50']:.1f} ms "
              f"p99 {figures['p99']:.1f} ms")
        print(f"registration outcomes: {figures['outcomes'].get('registered', 0)} registered, "
              f"{figures['outcomes'].get('offered', 0)} offered the waiting list, "
              f"{figures['outcomes']['other']} other; "
              f"oversold {max(given - places, 0)} ({given} given of {places} places); "
              f"p99 of the registered alone {figures['p99_registered']:.1f} ms, of the waiting list offers "
              f"(the whole form again) {figures['p99_offered']:.1f} ms")
        waiting, sent, elapsed, received = mail_delivery(db_path, tmp)
        print(f"mail delivered to aiosmtpd: {sent} of {waiting} in {elapsed:.2f} s, {sent / elapsed:.1f}/s, "
              f"received {received}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
