"""Import speed: 50,000 attendees from CSV and XLSX into a database holding the demo program.

Run: .venv/bin/python benchmarks/bench_import.py [--rows 50000]
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

from kiosk import demo, importer  # noqa: E402
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


def timed(label, func):
    """Run FUNC and print its wall-clock time, with the CPU time beside it (other work on the machine shows as the gap)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = func()
    print(f"{label}: {time.perf_counter() - start:.2f} s (cpu {time.process_time() - cpu:.2f} s)", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    n = args.rows
    data = rows(n)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "attendees.csv"
        with open(csv_path, "w", newline="", encoding="utf-8-sig") as f:
            csv.writer(f, delimiter=";").writerows(data)
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        for row in data:
            sheet.append(row)
        xlsx_path = tmp / "attendees.xlsx"
        workbook.save(xlsx_path)

        db = fresh_db(tmp / "csv.db")
        timed(f"import csv {n} attendees", lambda: importer.import_attendees(db, csv_path))
        timed(f"re-import csv {n} attendees, unchanged", lambda: importer.import_attendees(db, csv_path))
        timed(f"dry run csv {n} attendees", lambda: importer.import_attendees(db, csv_path, dry_run=True))
        db.close()
        db = fresh_db(tmp / "xlsx.db")
        timed(f"read xlsx {n} rows", lambda: importer.read_table(xlsx_path))
        timed(f"import xlsx {n} attendees", lambda: importer.import_attendees(db, xlsx_path))
        db.close()


if __name__ == "__main__":
    main()
