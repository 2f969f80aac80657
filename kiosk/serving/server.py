"""Serving Kiosk: granian, HTTPS on the venue network, the demo on first start."""

import datetime
import ipaddress
import logging
import secrets
import socket
import threading
import time
from pathlib import Path

import click

from kiosk import demo, serving
from kiosk.data import accounts
from kiosk.setup import service as setup_service
from kiosk.db import get_db
from kiosk.serving.sockets import own_tcp_sockets


def serve(app, *, host, port, workers, threads, use_https, cert=None, key=None, demo_if_empty=False, access_log=False):
    """Run the production server until interrupted.

    granian (a Rust HTTP server) forks WORKERS processes from this one, each running the
    already created APP in THREADS Python threads, with kiosk.serving installed around it. A
    worker's scans are answered in batches, one thread writing them all while the others wait
    (kiosk.serving.batches), so a worker can hold up to THREADS scans in one batch and still
    serve a long request (a badge PDF) beside it. ACCESS_LOG prints a line per request.
    """
    from granian.constants import Interfaces, SSLProtocols
    from granian.log import LogLevels
    from granian.server import Server

    serving.install(app)  # before the fork: every worker starts from the installed app
    instance = Path(app.instance_path)
    if demo_if_empty:
        _demo_if_empty(app)
    scheme = "https" if use_https else "http"
    if use_https:
        cert, key = (cert, key) if cert else ensure_certificate(instance)
    public_host = host if host not in ("0.0.0.0", "::") else lan_address()
    public_url = f"{scheme}://{public_host}:{port}"
    (instance / "public_url").write_text(public_url + "\n")
    _announce_setup(app)
    server = Server(
        "kiosk",  # only a label: the app object itself is handed to the workers below
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        log_level=LogLevels.info if access_log else LogLevels.warning,
        log_access=access_log,
        ssl_cert=Path(cert) if use_https else None,
        ssl_key=Path(key) if use_https else None,
        ssl_protocol_min=SSLProtocols.tls12,  # venue tablets are not all new
        workers_kill_timeout=5,
        # A worker that dies (killed, out of memory) is replaced: the door must keep answering all day.
        respawn_failed_workers=True,
        respawn_interval=1.0,
    )
    # granian warns when a worker has more threads than 2 per core + 1 (8 on a 2-core
    # machine): many threads would fight over the GIL. Here they do not: waiting scans hold
    # no GIL, and other requests run two at a time (kiosk.serving.admission).
    logging.getLogger("_granian").addFilter(lambda record: not record.getMessage().startswith("Configuration allows spawning"))
    click.echo(f"Kiosk serves {app.config['DATABASE']} at {public_url}  (Ctrl+C stops)")

    def worker_app():
        # Runs in each worker after the fork, so the worker gets its threads (the checkpointer) of its own.
        serving.start_worker(app)
        # The worker opens its listening socket after this returns.
        threading.Thread(target=keep_connections_alive, args=(port,), name="kiosk-keepalive", daemon=True).start()
        return app

    # Workers are forked from this process, so they start from the app created here.
    server.serve(target_loader=worker_app, wrap_loader=False)


# A tablet that leaves the venue's Wi-Fi in the middle of a request never closes its
# connection, and the server waits for the rest of the request with no time limit, holding
# one of its threads. TCP keepalive asks an idle connection's other end whether it is still
# there and drops the connection when nobody answers: after about a minute, not never.
KEEPALIVE_IDLE_SECONDS = 30
KEEPALIVE_INTERVAL_SECONDS = 10
KEEPALIVE_PROBES = 3


def keep_connections_alive(port, wait=10.0):
    """Turn TCP keepalive on for this process's listening sockets on PORT, once they exist
    (up to WAIT seconds); on Linux every connection accepted from them inherits it.

    Returns how many listening sockets it set.
    """
    deadline = time.monotonic() + wait
    while True:
        found = 0
        for sock in _listening_sockets(port):
            with sock:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL_SECONDS)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES)
                    # Unacknowledged data (an answer to a device that left) gives up as soon.
                    user_timeout = (KEEPALIVE_IDLE_SECONDS + KEEPALIVE_INTERVAL_SECONDS * KEEPALIVE_PROBES) * 1000
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, user_timeout)
                except OSError as exc:  # the server still serves; only dead connections stay open longer
                    logging.getLogger(__name__).warning("TCP keepalive could not be set: %s", exc)
                found += 1
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def _listening_sockets(port):
    """This process's listening TCP sockets on PORT (see sockets.own_tcp_sockets)."""
    return own_tcp_sockets(lambda sock: sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                           and sock.getsockname()[1] == port)


def _demo_if_empty(app):
    """Build the demo event and a first organiser when the database holds no event yet."""
    with app.app_context():
        db = get_db()
        if demo.has_event(db):
            if accounts.list_users(db):  # with no account yet, the set-up link printed next is the way in
                _how_to_get_in(app)
            return
        summary = demo.build_demo(db)
        click.echo(f"Built the demo event: {summary['attendees']} attendees, {summary['sessions']} sessions.")
        if not accounts.list_users(db):
            password = secrets.token_urlsafe(9)
            accounts.add_user(db, "organiser@example.org", password, "organiser")
            click.echo("First organiser — log in with:")
            click.echo("  e-mail:   organiser@example.org")
            click.echo(f"  password: {password}")


def _announce_setup(app):
    """Print a one-time set-up link when nobody can log in yet (a fresh install)."""
    with app.app_context():
        link = setup_service.announce(get_db())
    if link:
        click.echo("Kiosk is not set up yet. Open this one-time link to create the first organiser and the event:")
        click.echo(f"  {link}")


def _how_to_get_in(app):
    """On a restart the first organiser's password is not shown again: say how to get in."""
    click.echo("Log in with your organiser account (the password was printed on the first start).")
    click.echo("Lost it? Add another organiser:  "
               f"KIOSK_DB={app.config['DATABASE']} .venv/bin/kiosk user add you@example.org --role organiser")


def lan_address():
    """This machine's address on the local network (no packet is sent: UDP connect only picks a route)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, nothing is sent
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def ensure_certificate(instance):
    """A self-signed certificate for this machine, kept in the instance folder and reused."""
    cert_path, key_path = instance / "kiosk-cert.pem", instance / "kiosk-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    hostname = socket.gethostname()
    names = [x509.DNSName("localhost"), x509.DNSName(hostname)]
    for address in {"127.0.0.1", lan_address()}:
        names.append(x509.IPAddress(ipaddress.ip_address(address)))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Kiosk on {hostname}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
