"""`kiosk serve`: granian on loopback, HTTPS with a certificate it makes and keeps.

`kiosk serve` in a subprocess: HTTPS with the certificate it makes and keeps across restarts
(verified by name and chain), an organiser's own certificate with a key in the older format, the
demo and first organiser on plain HTTP, and a worker killed with SIGKILL that is started again
and serves. It prints no warning about its 8 threads per worker. Four requests whose bodies
stall halfway leave the login page answering, and each, finished, is answered whole;
every accepted connection has TCP keepalive on (its timer read from /proc/net/tcp).
"""

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from kiosk.db import connect
from kiosk.serving.server import KEEPALIVE_IDLE_SECONDS, ensure_certificate
from tests.conftest import ROOT, free_port, make_station


def serve(tmp_path, *args):
    port = free_port()
    env = dict(os.environ, KIOSK_DB=str(tmp_path / "kiosk.db"), KIOSK_INSTANCE=str(tmp_path / "instance"))
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", *args],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port, env
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(process.stdout.read())


def stop(process):
    """Stop the server; returns what it printed."""
    process.terminate()
    output, _ = process.communicate(timeout=10)
    return output


def test_https_with_a_kept_certificate(tmp_path):
    process, port, env = serve(tmp_path, "--https", "--demo-if-empty")
    try:
        cert = tmp_path / "instance" / "kiosk-cert.pem"
        context = ssl.create_default_context(cafile=str(cert))  # verifies name and chain
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/login", context=context, timeout=10) as response:
            assert response.status == 200
            assert "Strict-Transport-Security" in response.headers
            cookie = response.headers.get("Set-Cookie", "")
            assert "Secure" in cookie and "HttpOnly" in cookie
        # Pairing links printed by the CLI use the HTTPS address the server runs at.
        station = subprocess.run(
            [sys.executable, "-m", "kiosk.cli", "station", "add", "Ingang", "--mode", "entrance"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert station.returncode == 0, station.stderr
        assert station.stdout.splitlines()[0].startswith(f"https://127.0.0.1:{port}/pair/")
    finally:
        stop(process)
    first = cert.read_bytes()
    process, port, env = serve(tmp_path, "--https")
    stop(process)
    assert cert.read_bytes() == first  # reused across restarts


def test_plain_http_serves_the_demo_and_prints_an_organiser(tmp_path):
    process, port, env = serve(tmp_path, "--demo-if-empty")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
            assert response.status == 200
    finally:
        output = stop(process)
    assert "Built the demo event" in output
    assert "e-mail:   organiser@example.org" in output
    assert "password: " in output
    assert "Python threads" not in output  # granian's warning about 8 threads on a small machine: see serve()


def test_https_with_the_organisers_own_certificate_and_a_key_in_the_older_format(tmp_path):
    """--cert and --key: a key in the traditional "BEGIN EC PRIVATE KEY" form serves as well as PKCS#8."""
    made = tmp_path / "made"
    made.mkdir()
    cert, pkcs8 = ensure_certificate(made)
    key = serialization.load_pem_private_key(pkcs8.read_bytes(), password=None)
    traditional = tmp_path / "venue.key"
    traditional.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    )
    assert b"BEGIN EC PRIVATE KEY" in traditional.read_bytes()
    process, port, _env = serve(tmp_path, "--cert", str(cert), "--key", str(traditional), "--demo-if-empty")
    try:
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/login", context=context, timeout=10) as response:
            assert response.status == 200
    finally:
        stop(process)


def test_a_worker_that_dies_is_replaced(tmp_path):
    """The server stays up all day: a killed worker process is started again and serves."""
    process, port, _env = serve(tmp_path, "--demo-if-empty")
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert children, "no worker process"
        os.kill(int(children[0]), signal.SIGKILL)
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "no worker came back"
            time.sleep(0.2)
        assert Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split() != children
    finally:
        stop(process)


def stalled_post(port, path, body, headers=""):
    """A connection that sends a POST's headers and half its body, then nothing more."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{headers}"
        f"Content-Length: {len(body)}\r\n\r\n".encode() + body[: len(body) // 2]
    )
    return sock


def read_answer(sock):
    """The whole HTTP answer on SOCK (headers and the body its Content-Length gives), as text."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: *(\d+)", head, re.IGNORECASE).group(1)) if head else 0
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return (head + b"\r\n\r\n" + rest).decode()


def test_uploads_that_stall_do_not_hold_up_the_other_pages(live_server):
    """A body that comes slowly or never (a tablet off the Wi-Fi mid-request) is waited for
    before the request takes one of the two places other requests share."""
    _station, token, _secret = make_station(connect(live_server.database_path), "Stalling")
    body = b'{"code": "K1-NOTAREALBADGECODE12"}'
    # A cookie sends the scan through Flask, like an organiser's form or upload.
    headers = f"Authorization: Bearer {token}\r\nCookie: theme=dark\r\n"
    stalled = [stalled_post(live_server.port, "/api/v1/scans", body, headers) for _ in range(4)]
    try:
        time.sleep(0.3)
        with urllib.request.urlopen(live_server.url + "/login", timeout=5) as response:
            assert response.status == 200
        # The rest comes after all: each scan is answered whole. Which of the four waited for a
        # turn (BODIES_PER_CLIENT is 3) depends on which thread granian gave it; that one is read
        # as soon as another is done, or refused 429 after a second of waiting.
        for sock in stalled:
            sock.sendall(body[len(body) // 2:])
        answers = [read_answer(sock) for sock in stalled]
        whole = [a for a in answers if a.startswith("HTTP/1.1 200") and '"outcome":"unknown"' in a]
        assert len(whole) >= 3 and all(a in whole or a.startswith("HTTP/1.1 429") for a in answers), answers
    finally:
        for sock in stalled:
            sock.close()


def test_connections_are_dropped_when_the_device_stops_answering(live_server):
    """TCP keepalive is on for every connection the server accepts (Linux shows its timer)."""
    with socket.create_connection(("127.0.0.1", live_server.port)) as sock:
        time.sleep(0.2)
        client_port = sock.getsockname()[1]
        timers = []
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local_port, remote_port = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
            if local_port == live_server.port and remote_port == client_port:  # the server's end
                timers.append(fields[5])
    assert len(timers) == 1
    kind, jiffies = timers[0].split(":")
    assert kind == "02"  # the keepalive timer
    assert 0 < int(jiffies, 16) / os.sysconf("SC_CLK_TCK") <= KEEPALIVE_IDLE_SECONDS


def test_a_restart_says_how_to_get_in_and_the_access_log_is_a_flag(tmp_path, monkeypatch):
    """Defect 14: the password shows only on the first start; a restart says how to get in. No access
    log by default; --access-log prints a line per request."""
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")  # the worker's log lines reach the pipe before it stops
    process, port, _env = serve(tmp_path, "--demo-if-empty")
    urllib.request.urlopen(f"http://127.0.0.1:{port}/login?quiet", timeout=10).close()
    first = stop(process)
    assert "password: " in first and "/login" not in first
    process, port, _env = serve(tmp_path, "--demo-if-empty", "--access-log")
    urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10).close()
    time.sleep(0.5)
    again = stop(process)
    assert "password: " not in again
    assert "kiosk user add" in again and "--role organiser" in again
    assert '"GET /login HTTP/1.1" 200' in again
