"""CPU per registration POST, in-process: cProfile and process time of POST /register through Flask's
test client against the registration benchmark's database (the demo event plus a session with places
for three posts in four), the way bench_registration.py mixes sign-ups and waiting-list offers.

    .venv/bin/python benchmarks/profile_registration.py [POSTS] [--profile]

Process time of one request, not a load test: it says what each request costs, whatever else runs
on the machine (each run differs a little on a shared VM: run it a few times, and compare medians).
"""

import argparse
import cProfile
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_registration import build_db  # noqa: E402
from kiosk import create_app  # noqa: E402

WARM_UP = 50


def run(posts, profile):
    """Post WARM_UP sign-ups, then POSTS more (measured); {outcome: [ms]} and the profiler, if any."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registration.db"
        block, session = build_db(path, posts * 3 // 4 + WARM_UP)
        app = create_app({"DATABASE": str(path), "SECRET_KEY": "profile", "PUBLIC_URL": "http://127.0.0.1",
                          "REGISTER_LIMIT": (10**9, 60)})
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/register").get_data(as_text=True)).group(1)

        def post(i):
            return client.post("/register", data={"name": f"Bench Persoon {i}", "email": f"bench{i}@example.org",
                                                  "organisation": "Bench", "consent": "yes",
                                                  f"block-{block}": str(session), "csrf_token": token})

        for i in range(WARM_UP):  # templates compiled, catalogs loaded
            assert post(i).status_code == 303
        times, profiler = {"registered": [], "offered": []}, cProfile.Profile() if profile else None
        for i in range(WARM_UP, WARM_UP + posts):
            if profiler:
                profiler.enable()
            started = time.process_time()
            response = post(i)
            elapsed = time.process_time() - started
            if profiler:
                profiler.disable()
            outcome = "registered" if response.status_code == 303 else "offered"
            assert outcome == "registered" or 'id="waitlist-offer"' in response.get_data(as_text=True)
            times[outcome].append(elapsed * 1000)
    return times, profiler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posts", type=int, nargs="?", default=400)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    args = parser.parse_args(argv)
    times, profiler = run(args.posts, args.profile)
    for outcome, values in times.items():
        values.sort()
        if values:
            print(f"POST /register, {outcome}: {len(values)} posts, CPU median {values[len(values) // 2]:.2f} ms, "
                  f"mean {sum(values) / len(values):.2f} ms, p90 {values[int(len(values) * 0.9)]:.2f} ms")
    if profiler:
        stats = pstats.Stats(profiler)
        print(f"{stats.total_calls} function calls")
        stats.sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
