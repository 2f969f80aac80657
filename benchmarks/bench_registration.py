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
import multiprocessing
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

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


def client(port, forms, results):
    """One browser-like client: the page once (cookie, CSRF token), then each of FORMS posted in turn."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/register")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    for form in forms:
        body = urlencode(dict(form, csrf_token=token))
        started = time.perf_counter()
        connection.request("POST", "/register", body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        elapsed = (time.perf_counter() - started) * 1000
        outcome = "registered" if response.status == 303 else ("offered" if 'id="waitlist-offer"' in text else
                                                               f"other {response.status}")
        results.append((elapsed, outcome))


def _client_process(port, form_lists, queue):
    """One load process: a thread per client (two processes, as benchmarks/loadgen.py, so one
    process's GIL does not add to the latencies measured)."""
    results = []
    threads = [threading.Thread(target=client, args=(port, forms, results)) for forms in form_lists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    queue.put(results)


def registrations(port, block, session, count, processes=2):
    """COUNT sign-ups through the form from CLIENTS clients at once; figures and outcomes."""
    forms = [{"name": f"Bench Persoon {i}", "email": f"bench{i}@example.org", "organisation": "Bench",
              "consent": "yes", f"block-{block}": str(session)} for i in range(count)]
    per_client = [forms[i::CLIENTS] for i in range(CLIENTS)]
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_client_process, args=(port, per_client[p::processes], queue))
               for p in range(processes)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    results = []
    for _worker in workers:
        results += queue.get(timeout=600)
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join(30)
    latencies = sorted(r[0] for r in results)
    outcomes = {}
    for _ms, outcome in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    registered = sorted(r[0] for r in results if r[1] == "registered") or [0]
    return {"throughput": len(results) / elapsed, "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "outcomes": outcomes,
            "p99_registered": registered[min(len(registered) - 1, int(len(registered) * 0.99))]}


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
              f"{sum(v for k, v in figures['outcomes'].items() if k.startswith('other'))} other; "
              f"oversold {max(given - places, 0)} ({given} given of {places} places); "
              f"p99 of the registered alone {figures['p99_registered']:.1f} ms")
        waiting, sent, elapsed, received = mail_delivery(db_path, tmp)
        print(f"mail delivered to aiosmtpd: {sent} of {waiting} in {elapsed:.2f} s, {sent / elapsed:.1f}/s, "
              f"received {received}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
