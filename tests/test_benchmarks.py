"""The benchmark command runs end to end at tiny sizes, so it never rots."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT, chromium_or_skip


@pytest.mark.slow
def test_benchmark_smoke_run_prints_every_figure(tmp_path):
    chromium_or_skip()
    out = tmp_path / "results.md"
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--smoke", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for figure in (
        "import 600 attendees from CSV (median of 1)",
        "attendee search",
        "check-in at 32 clients: p99 latency",
        "duplicate scan at 32 clients",
        "unknown code at 32 clients",
        "occupancy of all",
        "report page (GET /report): server time",
        "badge PDF, 20 badges, layout a6",
        "scan-to-welcome in Chromium",
        "server peak memory",
        "check-in at 32 clients, open loop 40/s: p99 latency",
        "registration form at 16 clients: p99 latency",
        "registration form: oversold",
        "ticket mail delivered to aiosmtpd",
        "machine speed, fixed Python loop, one process (at the start)",
        "machine speed, same loop, two processes at once, slower one (at the end)",
    ):
        assert figure in result.stdout, figure
    assert "failed" not in result.stdout and "errors" not in result.stdout
    assert "| figure | measured | target |" in out.read_text()


@pytest.mark.slow
def test_sustained_benchmark_smoke_run_prints_each_run_and_the_median():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_sustained.py", "--attendees", "600", "--rate", "60", "--seconds", "2", "--runs", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "60 check-ins a second from 32 clients for 2 s, 600 attendees, 2 run(s) on a fresh copy each"
    runs = [line for line in lines if line.startswith("run ")]
    assert len(runs) == 2 and all("errors 0" in line and "{'checked_in': 120}" in line for line in runs), runs
    assert lines[-1].startswith("median of 2: ")
    assert not result.stderr.strip(), result.stderr[-2000:]
