"""A write that waits past WRITER_WAIT_SECONDS for another writer answers "busy, try again" (503),
on the scan API (plain Flask and the fast path under `kiosk serve`) and on the pages; never a 500,
never a hang, and nothing is written."""

import threading
from contextlib import contextmanager

import pytest

from conftest import make_station, station_client
from kiosk.db import connect, immediate
from kiosk.serving import install
from tests.test_api import badge_code


@contextmanager
def another_writer(path):
    """Hold the database's write lock from another thread until the block ends."""
    holding, release = threading.Event(), threading.Event()

    def hold():
        db = connect(path)
        with immediate(db):
            holding.set()
            release.wait(10)
        db.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert holding.wait(5)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


def scans_written(db):
    return db.execute("SELECT count(*) FROM scans").fetchone()[0]


@pytest.mark.parametrize("served", [False, True], ids=["create_app alone", "kiosk serve's fast path"])
def test_a_scan_waiting_past_the_deadline_answers_503_busy(demo_app, demo_db, served):
    demo_app.config["WRITER_WAIT_SECONDS"] = 0.2
    if served:
        install(demo_app)
    _station, token, _secret = make_station(demo_db)
    code, before = badge_code(demo_db), scans_written(demo_db)
    with another_writer(demo_app.config["DATABASE"]):
        response = demo_app.test_client().post("/api/v1/scans", json={"code": code},
                                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "busy"
    assert response.headers["Retry-After"]
    assert scans_written(demo_db) == before
    # Once the other writer is done, the same scan goes through.
    again = demo_app.test_client().post("/api/v1/scans", json={"code": code}, headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 200 and again.get_json()["outcome"] == "checked_in"


def test_the_kiosk_page_says_busy_and_writes_nothing(demo_app, demo_db):
    demo_app.config["WRITER_WAIT_SECONDS"] = 0.2
    client, _station, _token = station_client(demo_app, demo_db)
    code, before = badge_code(demo_db), scans_written(demo_db)
    with another_writer(demo_app.config["DATABASE"]):
        response = client.post("/kiosk/scan", data={"code": code})
    assert response.status_code == 503
    # A kiosk screen speaks its station's language: the demo event's Dutch.
    assert "niet opgeslagen" in response.get_data(as_text=True)
    assert scans_written(demo_db) == before
