"""Export speed and memory: 250,000 ratings to long CSV and XLSX, next to a bare streaming read of the same ratings.

    .venv/bin/python bench/export.py [--sizes 50000,250000] [--xlsxwriter]

Each measurement runs in its own process so its peak memory (VmHWM) is its own; memory is reported as the
peak minus the process's size after imports, at two sizes, to show it does not grow with the row count.
Goals: CSV <= 3 s and XLSX <= 20 s for 250,000 ratings. Figures, not asserts.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LOOKFORS = 10  # sample-district@1 has ten look-fors: 25,000 visits make 250,000 ratings


def _status_mb(key: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process; unlike ru_maxrss, VmHWM is not inherited from the parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def build(path: Path, ratings: int) -> str:
    """A server database holding one district with `ratings` ratings (direct bulk inserts: setup, not measured)."""
    from sqlalchemy import insert
    from sqlmodel import Session

    from rubrics import builtin_rubrics
    from sync.server import directory
    from sync.server.db import make_engine, writer
    from sync.server.ingest.cells import devices_text, encode
    from sync.server.models import Visit, VisitCells, Walk
    from sync.server.serve import prepare

    engine = make_engine(f"sqlite:///{path}")
    prepare(engine)
    with Session(writer(engine)) as s:
        d = directory.create_district(s, "Bench district")
        school = directory.create_school(s, d.id, "Bench school")
        s.commit()
        district_id, school_id = d.id, school.id
    lookfors = [lf.id for lf in builtin_rubrics()["sample-district@1"].lookfors][:LOOKFORS]
    rng = random.Random(7)
    now = datetime(2026, 9, 1, 8, tzinfo=timezone.utc)
    walks, visits, cells = [], [], []
    at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # a stored cell's time, as push stores it (sync.server.ingest.cells)
    devices = devices_text(["bench-device"])
    n_visits = ratings // len(lookfors)
    for v in range(n_visits):
        if v % 15 == 0:
            walk_id = f"w{v:08d}-0000-4000-8000-000000000000"[:36]
            walks.append({"id": walk_id, "school_id": school_id, "walk_date": date(2026, 9, 1) + timedelta(days=v // 150),
                          "rubric_id": "sample-district", "rubric_version": 1, "focus": [], "team": [],
                          "cycle_label": "Cycle 1", "phase": "baseline", "created_by": "u", "updated_at": now,
                          "deleted": False, "district_id": district_id, "change_seq": 0, "server_updated_at": now})
        visit_id = f"v{v:08d}-0000-4000-8000-000000000000"[:36]
        visits.append({"id": visit_id, "walk_id": walk_id, "visit_no": v % 15 + 1, "observer_id": "u",
                       "grade": rng.choice(["K", "3", "7", "10"]), "subject": "Math", "class_type": "general",
                       "student_count": None, "calibration_code": None, "note": "", "started_at": now,
                       "ended_at": None, "updated_at": now, "deleted": False, "district_id": district_id,
                       "change_seq": 0, "server_updated_at": now})
        # a visit's cells are one row with no scope columns of its own (sync.server.models.VisitCells)
        cells.append({"visit_id": visit_id, "devices": devices,
                      "cells": encode([[0, lf, "seen", False, False, at] for lf in sorted(lookfors)])})
    with engine.begin() as conn:
        conn.execute(insert(Walk), walks)
        conn.execute(insert(Visit), visits)
        for i in range(0, len(cells), 50_000):
            conn.execute(insert(VisitCells), cells[i:i + 50_000])
    with engine.connect() as conn:  # fold the WAL into the file, as a long-running server's checkpoints would
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return district_id


def measure(kind: str, db: str, district_id: str) -> dict:
    """Runs in a child process: one export (or the bare SELECT) to a temp file; time and memory."""
    from sync.server.ingest.cells import rows as cell_rows
    from sync.server.db import make_engine
    from sync.server.deps import Caller
    from sync.server.export import ExportFilters, iter_export, queries
    from sync.server.scope import Scope

    engine = make_engine(f"sqlite:///{db}")
    scope = Scope(Caller("", "bench", "admin", district_id))
    with engine.connect() as conn:  # warm the connection and the page cache, as a running server would be
        conn.exec_driver_sql("SELECT sum(length(cells)) FROM visit_cells").scalar()
    base = _status_mb("VmRSS")
    rows = size = 0
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        if kind == "select":  # the bare read: visit rows with their cells, each cell decoded (no formatting)
            with engine.connect() as conn:
                for v in conn.execution_options(yield_per=2000).execute(queries.ratings(scope, ExportFilters())):
                    for _ in cell_rows(v[-2], v[-1]):
                        rows += 1
        elif kind == "xlsxwriter":
            rows = _xlsxwriter(engine, scope, out)
        else:
            for chunk in iter_export(engine, kind, scope, ExportFilters()):
                out.write(chunk)
                size += len(chunk)
    seconds = time.perf_counter() - started
    return {"kind": kind, "seconds": round(seconds, 2), "rows": rows, "mb_out": round(size / 2**20, 1),
            "peak_growth_mb": round(_status_mb("VmHWM") - base, 1), "peak_mb": round(_status_mb("VmHWM"), 1)}


def _xlsxwriter(engine, scope, out) -> int:
    """The Ratings sheet alone through xlsxwriter's constant_memory mode: why export uses its own writer."""
    import xlsxwriter

    from sync.server.export import ExportFilters
    from sync.server.export.rows import LONG_COLUMNS
    from sync.server.export.source import ExportSource
    from sync.server.export.rows import long_values

    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("Ratings")
    sheet.write_row(0, 0, LONG_COLUMNS)
    n = 0
    with engine.connect() as conn:
        src = ExportSource(conn, scope, ExportFilters())
        for group in src.rating_groups():
            for r in group:
                n += 1
                sheet.write_row(n, 0, long_values(r, src.catalog.info(r[7], r[8], r[9])))
    book.close()
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50000,250000")
    ap.add_argument("--xlsxwriter", action="store_true", help="also time xlsxwriter constant_memory (slow)")
    ap.add_argument("--measure", nargs=3, metavar=("KIND", "DB", "DISTRICT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    kinds = ["select", "csv", "xlsx"] + (["xlsxwriter"] if args.xlsxwriter else [])
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for size in (int(x) for x in args.sizes.split(",")):
            db = Path(tmp) / f"server-{size}.sqlite"
            t = time.perf_counter()
            district = build(db, size)
            print(f"built {size:,} ratings in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            for kind in kinds:
                out = subprocess.run([sys.executable, __file__, "--measure", kind, str(db), district],
                                     capture_output=True, text=True, check=True)
                results[(size, kind)] = json.loads(out.stdout)
        print(f"{'ratings':>9} {'export':<11} {'seconds':>8} {'x SELECT':>9} {'peak MB':>8} {'growth MB':>10} {'out MB':>7}")
        for (size, kind), r in results.items():
            ratio = r["seconds"] / max(results[(size, "select")]["seconds"], 0.01)
            print(f"{size:>9,} {kind:<11} {r['seconds']:>8.2f} {ratio:>9.1f} {r['peak_mb']:>8.1f} "
                  f"{r['peak_growth_mb']:>10.1f} {r['mb_out']:>7.1f}")
        big = max(s for s, _ in results)
        print(f"goals at {big:,} ratings: csv <= 3 s ({results[(big, 'csv')]['seconds']:.2f} s), "
              f"xlsx <= 20 s ({results[(big, 'xlsx')]['seconds']:.2f} s)")


if __name__ == "__main__":
    main()
