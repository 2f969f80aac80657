"""Import speed: 50,000 attendees from CSV and XLSX into a database holding the demo program.

Run: .venv/bin/python benchmarks/bench_import.py [--rows 50000] [--repeat 3] [--no-xlsx]
Prints one figure per line.
"""

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk import demo
from kiosk.imports import importer  # noqa: E402
from kiosk.db import connect, migrate  # noqa: E402


def fresh_db(path):
    """A database with the demo program and no attendees."""
    db = connect(path)
    migrate(db)
    demo.build_demo(db, attendees=0)
    return db


def rows(count, seed=1):
    """COUNT attendee rows with a full name, e-mail, organisation, role, id and a choice per block."""
    rng = random.Random(seed)
    first = ["Anouk", "Zoë", "Thijs", "Noëlle", "Sjoerd", "Eline", "René", "Jan Willem", "Ayşe", "Mohamed"]
    last = ["van den Berg", "de Vries", "ter Horst", "El Amrani", "Çelik", "Öztürk", "Jansen", "in 't Veld"]
    by_block = {}
    for session in demo.SESSIONS:
        by_block.setdefault(session[0], []).append(session[1])
    blocks = [name for name, _s, _e in demo.BLOCKS]
    header = ["Registratienummer", "Naam", "E-mail", "Organisatie", "Functie", "Status", *blocks, "Dieetwensen"]
    out = [header]
    for n in range(count):
        out.append([
            f"R{n:06d}", f"{rng.choice(first)} {rng.choice(last)}", f"person{n}@example.org",
            f"Gemeente {rng.choice(demo.MUNICIPALITIES)}", "lid themagroep", "aangemeld",
            *(rng.choice(by_block[b]) for b in blocks), rng.choice(["", "vegetarisch"]),
        ])
    return out


def write_xlsx(data, path):
    """DATA (rows, header first) as an .xlsx file at PATH."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in data:
        sheet.append(row)
    workbook.save(path)
    return path


def timed(label, func, repeat=1, setup=None):
    """Run FUNC REPEAT times (after SETUP each time) and print the best wall-clock time with its CPU time.

    The best run is the one least disturbed by other work on the machine; a wall time far above
    the CPU time means the machine was busy.
    """
    best = None
    for _ in range(repeat):
        argument = setup() if setup else None
        start, cpu = time.perf_counter(), time.process_time()
        func(argument) if setup else func()
        run = (time.perf_counter() - start, time.process_time() - cpu)
        best = min(best or run, run)
    note = f"best of {repeat}, " if repeat > 1 else ""
    print(f"{label}: {best[0]:.2f} s ({note}cpu {best[1]:.2f} s)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="CSV runs; the best is printed")
    parser.add_argument("--no-xlsx", action="store_true", help="Skip the (slow) XLSX import")
    args = parser.parse_args()
    n = args.rows
    data = rows(n)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "attendees.csv"
        with open(csv_path, "w", newline="", encoding="utf-8-sig") as f:
            csv.writer(f, delimiter=";").writerows(data)
        databases = []

        def new_db():
            if databases:
                databases.pop().close()
            databases.append(fresh_db(tmp / f"csv{time.monotonic_ns()}.db"))
            return databases[-1]

        timed(f"import csv {n} attendees", lambda db: importer.import_attendees(db, csv_path),
              repeat=args.repeat, setup=new_db)
        db = databases[-1]
        timed(f"re-import csv {n} attendees, unchanged", lambda: importer.import_attendees(db, csv_path),
              repeat=args.repeat)
        timed(f"dry run csv {n} attendees", lambda: importer.import_attendees(db, csv_path, dry_run=True),
              repeat=args.repeat)
        db.close()
        if args.no_xlsx:
            return
        xlsx_path = write_xlsx(data, tmp / "attendees.xlsx")
        db = fresh_db(tmp / "xlsx.db")
        timed(f"import xlsx {n} attendees", lambda: importer.import_attendees(db, xlsx_path))
        db.close()


if __name__ == "__main__":
    main()
