"""The entrance kiosk in real Chromium: camera scanning through a fake camera, handheld scanners, offline, a long day."""

import json
import random
import statistics
import time
import uuid

import pytest

from kiosk.data import accounts
from kiosk.data.badges import ALPHABET, issue_badge, short_form
from kiosk.data.scans import record_scan
from kiosk.db import connect, now_utc
from tests.conftest import LiveServer, launch_chromium
from tests.fakecam import camera_args, pair, write_y4m

pytestmark = pytest.mark.browser


def registered_badges(path, count, offset=0):
    """(name, code) of COUNT registered demo attendees with a current badge."""
    db = connect(path)
    try:
        return db.execute(
            """SELECT attendees.name, badges.code FROM badges JOIN attendees ON attendees.id = badges.attendee_id
               WHERE badges.replaced_at IS NULL AND attendees.status = 'registered'
               ORDER BY attendees.id LIMIT ? OFFSET ?""",
            [count, offset],
        ).fetchall()
    finally:
        db.close()


def add_station(path, name, **options):
    """A station on the live server's database; returns (station, pairing secret)."""
    db = connect(path)
    try:
        station, _token, secret = accounts.add_station(db, name, mode="entrance", language="en", **options)
        return station, secret
    finally:
        db.close()


def kiosk_data(page):
    return page.evaluate("() => ({...document.getElementById('kiosk').dataset})")


def shown(page, selector, timeout=10000):
    """Wait for the element at SELECTOR; on a timeout say what the kiosk showed instead."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(selector, timeout=timeout)
    except PlaywrightTimeout:
        state = kiosk_data(page)
        state.pop("cameraDeniedText", None), state.pop("cameraMissingText", None)
        raise AssertionError(f"{selector} not shown; kiosk {state}; result: {page.inner_text('#scan-result')!r}") from None
    return page.locator(selector)


def wedge(page, code, delay=8):
    """What a handheld scanner does: type the code fast and press Enter, into whatever has focus."""
    page.keyboard.type(code, delay=delay)
    page.keyboard.press("Enter")


@pytest.fixture
def kiosk_browser(playwright_instance, tmp_path):
    """Start Chromium with a fake camera showing VIDEO (a y4m path), or with no camera at all."""
    browsers = []

    def start(video=None, extra=()):
        args = (camera_args(video) if video else []) + list(extra)
        browser = launch_chromium(playwright_instance, args)
        browsers.append(browser)
        return browser

    yield start
    for browser in browsers:
        browser.close()


def test_camera_scan_shows_the_green_welcome(live_server, kiosk_browser, tmp_path):
    (name, code), = registered_badges(live_server.database_path, 1)
    station, secret = add_station(live_server.database_path, "Entrance 1")
    video = write_y4m(tmp_path / "badge.y4m", code, seconds=1, blank_seconds=0.5)
    page = kiosk_browser(video).new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    pair(page, live_server.url, secret)
    result = shown(page, "#scan-result.tone-ok", timeout=20000)
    assert f"Welcome, {name}" in result.inner_text()
    assert "Your program today" in result.inner_text()
    assert page.locator("#camera-hint").is_hidden()
    state = kiosk_data(page)
    assert state["camera"] == "open" and state["lastOutcome"] == "checked_in" and state["lastSound"] == "ok"
    db = connect(live_server.database_path)
    rows = db.execute(
        "SELECT outcome, client_scan_id FROM scans WHERE station_id = ? AND kind = 'scan'", [station["id"]]
    ).fetchall()
    db.close()
    # The badge stayed in view for many frames: one scan, carrying the page's own scan id.
    assert [row[0] for row in rows] == ["checked_in"] and rows[0][1]
    assert not errors


def test_an_ended_camera_track_is_reopened_and_scanning_goes_on(live_server, kiosk_browser, tmp_path):
    (name, code), = registered_badges(live_server.database_path, 1, offset=6)
    _station, secret = add_station(live_server.database_path, "Recovering")
    # Empty scene for 6 s, then the badge: it appears only after the camera was stopped and reopened.
    video = write_y4m(tmp_path / "late.y4m", code, seconds=1, blank_seconds=6, fps=10)
    page = kiosk_browser(video).new_page(viewport={"width": 1280, "height": 800})
    pair(page, live_server.url, secret)
    page.wait_for_selector("#kiosk[data-camera='open']", state="attached")
    page.evaluate("""() => { const video = document.getElementById('camera-video');
                             window.__oldStream = video.srcObject; video.srcObject.getVideoTracks()[0].stop(); }""")
    page.wait_for_function("""() => { const stream = document.getElementById('camera-video').srcObject;
        return stream && stream !== window.__oldStream && stream.getVideoTracks()[0].readyState === 'live'; }""",
                           timeout=10000)
    assert f"Welcome, {name}" in shown(page, "#scan-result.tone-ok", timeout=20000).inner_text()


def test_print_on_arrival_prints_the_badge_in_a_hidden_frame_and_logs_it(live_server, kiosk_browser, tmp_path):
    _name, code = registered_badges(live_server.database_path, 1, offset=7)[0]
    _station, secret = add_station(live_server.database_path, "Printing entrance", print_on_arrival=True)
    page = kiosk_browser(write_y4m(tmp_path / "empty.y4m", None)).new_page(viewport={"width": 1280, "height": 800})
    pair(page, live_server.url, secret)
    wedge(page, code)
    shown(page, "#scan-result.tone-ok")
    frame = page.wait_for_selector("iframe.print-frame", state="attached")
    assert frame.is_hidden()
    page.wait_for_function("() => document.querySelector('iframe.print-frame').contentDocument.body"
                           " && document.querySelector('iframe.print-frame').contentDocument.body.textContent.length > 0")
    assert short_form(code) in frame.content_frame().content()  # the badge module's label-62 print view
    deadline = time.monotonic() + 10
    logged = []
    while time.monotonic() < deadline and not logged:
        db = connect(live_server.database_path)
        logged = db.execute(
            """SELECT badge_prints.layout, badge_prints.printed_by FROM badge_prints
               JOIN badges ON badges.id = badge_prints.badge_id WHERE badges.code = ?""", [code]).fetchall()
        db.close()
        time.sleep(0.2)
    assert logged == [("label-62", "station:Printing entrance")]


def test_handheld_scanner_without_a_focused_field_says_already_checked_in(live_server, kiosk_browser, tmp_path):
    name, code = registered_badges(live_server.database_path, 1, offset=1)[0]
    station, secret = add_station(live_server.database_path, "Entrance 2")
    db = connect(live_server.database_path)
    record_scan(db, station=station, code=code, client_scan_id=uuid.uuid4().hex)
    db.close()
    video = write_y4m(tmp_path / "empty.y4m", None, seconds=1)  # the camera runs, sees nobody
    page = kiosk_browser(video).new_page(viewport={"width": 800, "height": 1280})
    pair(page, live_server.url, secret)
    page.wait_for_selector("#kiosk[data-camera='open']", state="attached")
    assert page.evaluate("document.activeElement === document.body")
    wedge(page, code)
    result = shown(page, "#scan-result.tone-warn")
    assert f"{name} is already checked in at" in result.inner_text()
    assert kiosk_data(page)["lastSound"] == "warn"
    assert page.locator("#scan-code").input_value() == ""  # nothing was typed into a field
    # The answer clears by itself back to the idle screen.
    page.wait_for_selector("#scan-result[data-outcome='idle']", timeout=15000)


def test_unknown_code_by_handheld_is_red_and_no_camera_shows_the_hint(live_server, kiosk_browser):
    _station, secret = add_station(live_server.database_path, "No camera")
    page = kiosk_browser(None, ["--use-fake-ui-for-media-stream"]).new_page(viewport={"width": 1280, "height": 800})
    pair(page, live_server.url, secret)
    page.wait_for_selector("#camera-hint", state="visible", timeout=10000)
    assert kiosk_data(page)["camera"] in ("missing", "denied")
    wedge(page, "K1-" + "Z" * 17)
    result = shown(page, "#scan-result.tone-bad")
    assert "Unknown code" in result.inner_text() and "registration desk" in result.inner_text()


CAMERA_IN_USE = "() => document.getElementById('camera-video').srcObject?.getVideoTracks()[0]?.getSettings().deviceId"


def test_staff_switch_cameras_and_the_station_keeps_the_choice(live_server, kiosk_browser):
    """A tablet with a front and a back camera: the switch cycles them, and the choice survives a reload."""
    station, secret = add_station(live_server.database_path, "Two cameras")
    # Chromium's fake capture with two devices: fake_device_0 and fake_device_1.
    page = kiosk_browser(None, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream=device-count=2"]).new_page()
    pair(page, live_server.url, secret)
    page.wait_for_selector("#kiosk[data-camera='open']", state="attached", timeout=10000)
    switch = page.locator("#camera-switch")
    switch.wait_for(state="visible", timeout=5000)
    first = page.evaluate(CAMERA_IN_USE)
    switch.click()
    page.wait_for_function(f"(first) => ({CAMERA_IN_USE})() && ({CAMERA_IN_USE})() !== first", arg=first, timeout=10000)
    second = page.evaluate(CAMERA_IN_USE)
    assert page.evaluate(f"() => localStorage.getItem('kiosk.camera.{station['id']}')") == second
    page.reload()
    page.wait_for_selector("#kiosk[data-camera='open']", state="attached", timeout=10000)
    page.wait_for_function(f"(second) => ({CAMERA_IN_USE})() === second", arg=second, timeout=10000)
    switch.click()  # and round again to the first
    page.wait_for_function(f"(first) => ({CAMERA_IN_USE})() === first", arg=first, timeout=10000)


def test_one_camera_shows_no_switch(live_server, kiosk_browser):
    _station, secret = add_station(live_server.database_path, "One camera")
    page = kiosk_browser(None, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]).new_page()
    pair(page, live_server.url, secret)
    page.wait_for_selector("#kiosk[data-camera='open']", state="attached", timeout=10000)
    page.wait_for_timeout(500)  # the switch is shown or hidden once the cameras are listed
    assert page.locator("#camera-switch").is_hidden()


def test_staffed_desk_undo_from_the_result_screen(live_server, kiosk_browser, tmp_path):
    name, code = registered_badges(live_server.database_path, 1, offset=2)[0]
    station, secret = add_station(live_server.database_path, "Desk", staffed=True)
    page = kiosk_browser(write_y4m(tmp_path / "empty.y4m", None)).new_page(viewport={"width": 1280, "height": 800})
    pair(page, live_server.url, secret)
    page.fill("#desk-search", name)
    page.locator("#search-results button", has_text="Check in").first.click()
    shown(page, "#scan-result.tone-ok")
    page.click("#scan-result .result-undo")
    shown(page, "#scan-result[data-outcome='undone']")
    assert name in page.inner_text("#scan-result")
    wedge(page, code)
    shown(page, "#scan-result[data-outcome='checked_in']")
    db = connect(live_server.database_path)
    kinds = db.execute("SELECT kind, outcome FROM scans WHERE station_id = ? ORDER BY id", [station["id"]]).fetchall()
    db.close()
    assert kinds == [("scan", "checked_in"), ("undo", "undone"), ("scan", "checked_in")]


def test_scans_while_offline_are_kept_and_sent_once_when_back(live_server, kiosk_browser, tmp_path):
    (name, code), (name2, code2), (name3, code3) = registered_badges(live_server.database_path, 3, offset=3)
    station, secret = add_station(live_server.database_path, "Entrance 3")
    browser = kiosk_browser(write_y4m(tmp_path / "empty.y4m", None))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    pair(page, live_server.url, secret)
    context.set_offline(True)
    wedge(page, code)
    shown(page, "#scan-result[data-outcome='queued']")
    status = page.locator("#connection-status.offline")
    status.wait_for()
    assert "No connection" in status.inner_text()
    wedge(page, code2)
    page.wait_for_selector("#connection-status[data-kept='2']", state="attached")
    kept = json.loads(page.evaluate(f"localStorage.getItem('kiosk.queue.{station['id']}')"))
    assert [item["code"] for item in kept] == [code, code2] and all(item["scan_id"] for item in kept)
    context.set_offline(False)
    page.wait_for_selector("#connection-status.online[data-kept='0']", state="attached", timeout=20000)
    assert page.evaluate(f"localStorage.getItem('kiosk.queue.{station['id']}')") is None
    db = connect(live_server.database_path)
    rows = db.execute(
        "SELECT code, outcome, client_scan_id FROM scans WHERE station_id = ? ORDER BY id", [station["id"]]
    ).fetchall()
    db.close()
    assert [(row[0], row[1]) for row in rows] == [(code, "checked_in"), (code2, "checked_in")]
    assert [row[2] for row in rows] == [item["scan_id"] for item in kept]
    # And the page works normally again.
    wedge(page, code3)
    assert name3 in shown(page, "#scan-result[data-outcome='checked_in']").inner_text()


SOAK_SCANS = 2000
SOAK_WINDOW = 200


def add_attendees(db, count):
    """COUNT extra attendees with badges, so a long soak has fresh people to check in."""
    now = now_utc()
    codes = []
    for number in range(count):
        attendee_id = db["attendees"].insert(
            {"name": f"Soak Person {number}", "first_name": "Soak", "last_name": f"Person {number}",
             "organisation": "Soak BV", "search_text": f"soak person {number}", "created_at": now, "updated_at": now}
        ).last_pk
        codes.append(issue_badge(db, attendee_id)["code"])
    return codes


# One batch of scans typed inside the page: each code as keydown events on the focused body and
# Enter, like a handheld scanner, then wait for the answer. Typing through CDP key by key took
# about 150 ms per code, which would make 2,000 scans last 8 minutes; the real-key path is
# covered by test_handheld_scanner_without_a_focused_field_says_already_checked_in.
TYPE_BATCH = """async codes => {
  const root = document.getElementById('kiosk');
  const answers = [];
  for (const code of codes) {
    const before = Number(root.dataset.answers || 0);
    const started = performance.now();
    for (const key of [...code, 'Enter']) {
      (document.activeElement || document.body).dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
    }
    while (Number(root.dataset.answers || 0) <= before) await new Promise(resolve => setTimeout(resolve, 1));
    answers.push([Number(root.dataset.lastAnswerMs), performance.now() - started, root.dataset.lastOutcome]);
  }
  return answers;
}"""


@pytest.mark.slow
def test_soak_two_thousand_scans_in_one_page(tmp_path, demo_template, kiosk_browser):
    path = tmp_path / "soak.db"
    path.write_bytes(demo_template.read_bytes())
    db = connect(path)
    station, _token, secret = accounts.add_station(db, "Soak", mode="entrance", language="en")
    other, _t, _s = accounts.add_station(db, "Earlier", mode="entrance", language="en")
    fresh = add_attendees(db, SOAK_SCANS // 3 + 10)
    already = [row[0] for row in db.execute(
        "SELECT badges.code FROM badges JOIN attendees ON attendees.id = badges.attendee_id "
        "WHERE attendees.status = 'registered' AND badges.replaced_at IS NULL AND attendees.organisation != 'Soak BV'")]
    for code in already:
        record_scan(db, station=other, code=code, client_scan_id=uuid.uuid4().hex)
    db.close()
    codes, expected = [], []
    for number in range(SOAK_SCANS):
        kind = number % 3
        if kind == 0:
            codes.append(fresh[number // 3])
        elif kind == 1:
            codes.append(already[(number // 3) % len(already)])  # each seen again only minutes later
        else:
            codes.append("K1-" + "".join(random.choice(ALPHABET) for _ in range(17)))
        expected.append(("checked_in", "already", "unknown")[kind])
    unlimited = json.dumps([10**9, 60])  # unknown codes would otherwise trip the guessing limit
    server = LiveServer(path, tmp_path / "instance",
                        env={"KIOSK_SCAN_GUESS_LIMIT": unlimited, "KIOSK_SCAN_GUESS_CLIENT_LIMIT": unlimited})
    try:
        # The camera runs all the time too (an empty scene), so its decode loop is part of the soak.
        browser = kiosk_browser(write_y4m(tmp_path / "empty.y4m", None, fps=5))
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        pair(page, server.url, secret)
        page.wait_for_selector("#kiosk[data-camera='open']", state="attached")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        cdp.send("HeapProfiler.enable")

        def metrics():
            cdp.send("HeapProfiler.collectGarbage")
            values = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            return {"heap_mb": values["JSHeapUsedSize"] / 2**20, "nodes": values["Nodes"],
                    "listeners": values["JSEventListeners"]}

        samples, answer_ms, page_ms = [(0, metrics())], [], []
        started = time.perf_counter()
        for first in range(0, SOAK_SCANS, SOAK_WINDOW):
            batch = page.evaluate(TYPE_BATCH, codes[first:first + SOAK_WINDOW])
            for offset, (ms, whole, outcome) in enumerate(batch):
                assert outcome == expected[first + offset], (first + offset, codes[first + offset], outcome)
                answer_ms.append(ms)
                page_ms.append(whole)
            samples.append((first + SOAK_WINDOW, metrics()))
        elapsed = time.perf_counter() - started
        final_status = page.inner_text("#connection-status")
    finally:
        server.stop()

    print(f"\nsoak: {SOAK_SCANS} scans in {elapsed:.1f} s ({SOAK_SCANS / elapsed:.1f} scans/s)")
    for index in range(SOAK_SCANS // SOAK_WINDOW):
        window = sorted(answer_ms[index * SOAK_WINDOW:(index + 1) * SOAK_WINDOW])
        whole = statistics.median(page_ms[index * SOAK_WINDOW:(index + 1) * SOAK_WINDOW])
        scans, sample = samples[index + 1]
        print(f"soak scans {scans - SOAK_WINDOW + 1:>4}-{scans:<4} answer median {statistics.median(window):5.1f} ms"
              f" p95 {window[int(len(window) * .95)]:5.1f} ms (typing+answer {whole:5.1f} ms)"
              f" | after GC: heap {sample['heap_mb']:.2f} MB, DOM nodes {sample['nodes']:.0f},"
              f" listeners {sample['listeners']:.0f}")
    first_median = statistics.median(answer_ms[:SOAK_WINDOW])
    last_median = statistics.median(answer_ms[-SOAK_WINDOW:])
    warm, end = samples[1][1], samples[-1][1]
    print(f"soak: answer median first {first_median:.1f} ms, last {last_median:.1f} ms; after warm-up: heap "
          f"{end['heap_mb'] - warm['heap_mb']:+.2f} MB, DOM nodes {end['nodes'] - warm['nodes']:+.0f}, "
          f"listeners {end['listeners'] - warm['listeners']:+.0f}")
    assert not errors
    assert "Online" in final_status
    assert last_median < 2 * max(first_median, 10), (first_median, last_median)
    assert end["heap_mb"] - warm["heap_mb"] < 3, samples
    # Old answers must leave the DOM and listeners must not pile up. Listener counts move by a few
    # dozen with requests in flight; one leaked per scan would be +1,800 here.
    assert end["nodes"] - warm["nodes"] < 100, samples
    assert end["listeners"] - warm["listeners"] < 50, samples
