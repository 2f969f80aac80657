"""Check-ins held at a steady rate for longer than the 5-second open-loop runs of ./dev bench.

    .venv/bin/python benchmarks/bench_sustained.py                      # 1,000/s for 25 s, 3 runs
    .venv/bin/python benchmarks/bench_sustained.py --rate 500 --seconds 60 --runs 1

Builds a database as ./dev bench does (the demo program and 50,000 attendees imported from
CSV). Each run serves a fresh copy of it with `kiosk serve` on a loopback port, so every run
starts from the same database and an empty WAL, and 32 clients send check-ins of new badges
due at RATE a second in all, for SECONDS (open loop: a latency counts from when its scan was
due). Prints each run's figures, then the median of the runs. Load goes to 127.0.0.1 only,
and every run is bounded in requests and in seconds.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
from run import spread, start_server, stop_server, write_inputs  # noqa: E402

from bench_import import fresh_db  # noqa: E402
from kiosk.imports import importer  # noqa: E402
from kiosk.data import accounts  # noqa: E402

CLIENTS = 32
SLOW_MS = 25  # the door's target for the slowest 1%


def build(tmp, attendees):
    """The benchmark database at TMP/base.db; returns (station tokens, badge codes in random order)."""
    csv_path, _xlsx = write_inputs(tmp, attendees)
    db = fresh_db(tmp / "base.db")
    importer.import_attendees(db, csv_path)
    tokens = [accounts.add_station(db, f"Bench {n}", mode="entrance")[1] for n in range(CLIENTS)]
    codes = [row[0] for row in db.execute(
        """SELECT badges.code FROM badges JOIN attendees ON attendees.id = badges.attendee_id
           WHERE badges.replaced_at IS NULL AND attendees.status = 'registered' ORDER BY random()""")]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return tokens, codes


def one_run(tmp, tokens, codes, rate, seconds):
    run_dir = tmp / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    shutil.copy(tmp / "base.db", run_dir / "kiosk.db")
    process, port = start_server(run_dir, run_dir / "kiosk.db")
    try:
        loadgen.run(port, tokens, [[{"code": "K1-WARMUP"}] * 5 for _ in range(8)], max_seconds=10)
        lists = spread(codes[: rate * seconds], CLIENTS)
        result = loadgen.run(port, tokens, lists, rate=rate, max_seconds=seconds + 30, raw=True)
    finally:
        stop_server(process, run_dir)
    latencies = result.pop("latencies")
    result["slow_percent"] = 100 * sum(1 for latency in latencies if latency * 1000 > SLOW_MS) / max(1, len(latencies))
    result["max"] = max(latencies, default=0) * 1000
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=1000, help="check-ins a second, all clients together")
    parser.add_argument("--seconds", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kiosk-sustained-") as tmp:
        tmp = Path(tmp)
        tokens, codes = build(tmp, args.attendees)
        if len(codes) < args.rate * args.seconds:
            parser.error(f"{args.rate} a second for {args.seconds} s needs {args.rate * args.seconds} badges; "
                         f"the database has {len(codes)}")
        print(f"{args.rate} check-ins a second from {CLIENTS} clients for {args.seconds} s, "
              f"{args.attendees:,} attendees, {args.runs} run(s) on a fresh copy each")
        runs = []
        for number in range(1, args.runs + 1):
            result = one_run(tmp, tokens, codes, args.rate, args.seconds)
            runs.append(result)
            print(f"run {number}: {result['throughput']:,.0f}/s  p50 {result['p50']:.1f} ms  p95 {result['p95']:.1f} ms  "
                  f"p99 {result['p99']:.1f} ms  max {result['max']:.0f} ms  over {SLOW_MS} ms: {result['slow_percent']:.1f}%  "
                  f"errors {result['errors']}  {result['outcomes']}")
        figures = {key: statistics.median(run[key] for run in runs) for key in ("throughput", "p50", "p95", "p99")}
        print(f"median of {len(runs)}: {figures['throughput']:,.0f}/s  p50 {figures['p50']:.1f} ms  "
              f"p95 {figures['p95']:.1f} ms  p99 {figures['p99']:.1f} ms")
    return 1 if any(run["errors"] for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
