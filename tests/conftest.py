"""Shared fixtures: an app on a temporary database file, clients, the demo event, a live server."""

import hashlib
import io
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner, FlaskClient

from kiosk import create_app
from kiosk.cli import main as kiosk_cli
from kiosk.data import accounts
from kiosk.data import registration as registration_data
from kiosk.db import connect, migrate
from kiosk.serving import install

ROOT = Path(__file__).resolve().parent.parent
ORGANISER = ("organiser@example.org", "correct horse battery")
HOST = ("host@example.org", "host password 1")


class EnglishClient(FlaskClient):
    """Test clients read English unless a test asks for another language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        # werkzeug's test client puts a multipart body over 500 KB (an import upload) in a
        # temporary file it never closes; closed here, it does not surface later as a
        # ResourceWarning in whichever test the garbage collector happens to run in.
        body = response.request.environ.get("wsgi.input") if response.request else None
        if body is not None and not isinstance(body, io.BytesIO) and hasattr(body, "fileno"):
            body.close()
        return response


class KioskCliRunner(FlaskCliRunner):
    """runner.invoke(args=[...]) runs the `kiosk` command group against the test's app."""

    def invoke(self, cli=None, args=None, **kwargs):
        return super().invoke(cli or kiosk_cli, args, **kwargs)


def make_app(config):
    app = create_app(config)
    app.test_client_class = EnglishClient
    app.test_cli_runner_class = KioskCliRunner
    return app


@pytest.fixture
def app(tmp_path):
    app = make_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "kiosk.db"),
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "PUBLIC_URL": "http://kiosk.test",
        }
    )
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    database = connect(app.config["DATABASE"])
    yield database
    database.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The demo event built once; tests get a copy of the file."""
    from kiosk import demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    database = connect(path)
    migrate(database)
    demo.build_demo(database)
    accounts.add_user(database, *ORGANISER, "organiser")
    accounts.add_user(database, *HOST, "host")
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def demo_app(tmp_path, demo_template):
    path = tmp_path / "demo.db"  # apart from the empty `app` fixture's kiosk.db
    path.write_bytes(demo_template.read_bytes())
    return make_app(
        {
            "TESTING": True,
            "DATABASE": str(path),
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "PUBLIC_URL": "http://kiosk.test",
        }
    )


@pytest.fixture
def served_app(demo_app):
    """demo_app with what `kiosk serve` installs around it (kiosk.serving): the same object, served."""
    install(demo_app)
    return demo_app


@pytest.fixture
def demo_db(demo_app):
    database = connect(demo_app.config["DATABASE"])
    yield database
    database.close()


def login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def organiser_client(demo_app):
    client = demo_app.test_client()
    response = login(client, *ORGANISER)
    assert response.status_code == 303
    return client


@pytest.fixture
def host_client(demo_app):
    client = demo_app.test_client()
    assert login(client, *HOST).status_code == 303
    return client


def personal_pages(database, attendee_id, name="Wachtend Persoon"):
    """A registrant's page (ATTENDEE_ID waiting for a walk) and the waiting list page of someone without a
    registration (waiting for one session, given a place in another), under real tokens: a crawl's
    made-up token opens neither. Their addresses."""
    me, waiting = "crawl-registration-token", "crawl-waiting-token"
    registration_data.add_link(database, attendee_id, hashlib.sha256(me.encode()).hexdigest(), "nl")
    link_id = registration_data.add_waiting_link(database, hashlib.sha256(waiting.encode()).hexdigest(), "nl")
    person = {"name": name, "email": "waiting@example.org"}
    registration_data.add_waiting(database, 7, dict(person, attendee_id=attendee_id))
    registration_data.add_waiting(database, 8, dict(person, attendee_id=None, link_id=link_id))
    given = registration_data.add_waiting(database, 13, dict(person, attendee_id=None, link_id=link_id))
    registration_data.close_entry(database, given, promoted=True)
    return [f"/register/me/{me}", f"/register/waiting/{waiting}"]


def make_station(database, name="Entrance 1", **options):
    """A station on DATABASE; returns (station, api_token, pairing_secret)."""
    options.setdefault("mode", "entrance")
    return accounts.add_station(database, name, **options)


def station_client(app, database, name="Entrance 1", **options):
    """A test client paired as a station through its one-time link."""
    station, token, secret = make_station(database, name, **options)
    client = app.test_client()
    response = client.post(f"/pair/{secret}")
    assert response.status_code == 303, response.data
    return client, station, token


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """`kiosk serve` (granian) in a subprocess on a loopback port, on its own database file."""

    def __init__(self, database_path, instance_path, *, workers=1, threads=8, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_path = database_path
        environment = dict(os.environ, KIOSK_DB=str(database_path), KIOSK_INSTANCE=str(instance_path), **(env or {}))
        # To a file, not a pipe: nobody reads a pipe while the tests run, and a server that
        # wrote 64 KB to a full one would stop answering.
        self.log_path = Path(instance_path).parent / f"server-{self.port}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop() or close_log()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--threads", str(threads)],
            env=environment, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.wait_ready()

    def output(self):
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def close_log(self):
        self.log.close()

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited: " + self.output()[-3000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def stop(self, sig=None):
        import signal

        if self.process.poll() is None:
            self.process.send_signal(sig or signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.close_log()


@pytest.fixture
def live_server(tmp_path, demo_template):
    """The demo event served by `kiosk serve` on loopback."""
    path = tmp_path / "live.db"
    path.write_bytes(demo_template.read_bytes())
    server = LiveServer(path, tmp_path / "instance")
    yield server
    server.stop()


CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Only loopback resolves: a forgotten CDN URL fails loudly instead of reaching out.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
]


def chromium_or_skip():
    """Skip browser tests when Chromium is missing, except under CI where that is a failure."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; browser tests must run in CI")
        pytest.skip(f"Chromium not found at {CHROMIUM}")


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


def launch_chromium(playwright, extra_args=()):
    chromium_or_skip()
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + list(extra_args))


@pytest.fixture
def browser(playwright_instance):
    browser = launch_chromium(playwright_instance)
    yield browser
    browser.close()


def page_login(page, base_url, email, password):
    page.goto(base_url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/(\?.*)?$|.*/rooms/.*"))
