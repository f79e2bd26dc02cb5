"""Tap latency: one rating commit through CaptureService next to a raw sqlite3 insert+commit, FULL vs NORMAL.

Every figure comes from this run on this machine: the raw insert+commit is the baseline (the floor SQLite and
the disk set), and the service's ratio to it is the cost of our layers (ORM, checks, outbox row). The goal is a
service p95 of at most 5 ms with synchronous=FULL (what the app uses).

    .venv/bin/python bench/tap_latency.py [--taps 1000] [--dir FOLDER] [--pull-visits 10000]

cpu ms is this process's CPU time per call (mean): the part of a tap that does not depend on the disk.
--dir chooses the disk: the default is a temporary folder; on tmpfs fsync is free and FULL looks like NORMAL.
Taps during a big pull (--pull-visits, 0 skips it): bench/tap_pull.py.
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event  # noqa: E402

from app.device import Device  # noqa: E402
from rubrics import Domain, Level, LookFor, Rubric, Scale  # noqa: E402

RUBRIC = Rubric(  # 20 look-fors on a four-level scale, like a real walk tool
    id="bench", version=1, title="Bench",
    scales=[Scale(id="four", levels=[Level(value=str(v), label=str(v)) for v in range(1, 5)])],
    domains=[Domain(id="d", title="D")],
    lookfors=[LookFor(id=f"b.{i}", domain="d", text=f"Look-for {i}", label=f"L{i}", scale="four")
              for i in range(20)],
)
GOAL_P95_MS = 5.0


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[94], q[98]


def service_taps(folder: Path, sync: str, taps: int) -> list[float]:
    device = Device.open(folder)
    engine = device.engine
    # the store sets FULL on connect; a later listener overrides it for this run only
    event.listen(engine, "connect", lambda con, _r: con.execute(f"PRAGMA synchronous={sync}"))
    engine.dispose()
    svc = device.capture
    svc.catalog.register(RUBRIC)
    school = svc.add_school("Bench School")
    walk = svc.create_walk(school_id=school.id, rubric_id="bench", rubric_version=1, focus=["b.0", "b.1"])
    visit = svc.start_visit(walk.id, grade="5", subject="Math")
    with engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA synchronous").scalar() == {"FULL": 2, "NORMAL": 1}[sync]
    out, cpu = [], 0.0
    for i in range(taps + 20):
        lf, value = f"b.{i % 20}", str(1 + (i // 20) % 4)  # every tap changes its cell: a real write each time
        t0, c0 = time.perf_counter(), time.process_time()
        svc.tap(visit.id, lf, value)
        out.append((time.perf_counter() - t0) * 1000)
        cpu += (time.process_time() - c0) * 1000 if i >= 20 else 0.0
    engine.dispose()
    return out[20:], cpu / taps  # warm-up: first cells, caches


def raw_inserts(folder: Path, sync: str, taps: int) -> list[float]:
    folder.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(folder / "raw.sqlite", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA synchronous={sync}")
    con.execute("CREATE TABLE cell (id TEXT PRIMARY KEY, visit_id TEXT, lookfor_id TEXT, value TEXT)")
    out, cpu = [], 0.0
    for i in range(taps + 20):
        t0, c0 = time.perf_counter(), time.process_time()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT OR REPLACE INTO cell VALUES (?, 'v', ?, ?)", (f"c{i % 20}", f"b.{i % 20}", str(i % 4)))
        con.execute("COMMIT")
        out.append((time.perf_counter() - t0) * 1000)
        cpu += (time.process_time() - c0) * 1000 if i >= 20 else 0.0
    con.close()
    return out[20:], cpu / taps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--taps", type=int, default=1000)
    ap.add_argument("--dir", type=Path, default=None, help="folder for the test files (default: a temp folder)")
    ap.add_argument("--pull-visits", type=int, default=10_000, help="visits pulled while tapping (0: skip)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="tap-latency-", dir=args.dir))

    rows = []
    try:
        for sync in ("FULL", "NORMAL"):
            raw_ms, raw_cpu = raw_inserts(base / f"raw-{sync}", sync, args.taps)
            svc_ms, svc_cpu = service_taps(base / f"svc-{sync}", sync, args.taps)
            raw = _percentiles(raw_ms)
            rows.append(("raw sqlite3 insert+commit", sync, raw, raw, raw_cpu))
            rows.append(("CaptureService.tap", sync, _percentiles(svc_ms), raw, svc_cpu))
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print(f"{args.taps} taps each, on the file system of {base.parent}")
    print(f"{'what':<27} {'sync':<7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'p50 x raw':>10} {'p95 x raw':>10}"
          f" {'cpu ms':>7}")
    for what, sync, (p50, p95, p99), (r50, r95, _), cpu in rows:
        print(f"{what:<27} {sync:<7} {p50:7.2f} {p95:7.2f} {p99:7.2f} {p50 / r50:10.1f} {p95 / r95:10.1f}"
              f" {cpu:7.2f}")
    full = rows[1][2][1]
    normal = rows[3][2][1]
    verdict = "met" if full <= GOAL_P95_MS else "NOT met"
    print(f"service p95 with FULL: {full:.2f} ms (goal <= {GOAL_P95_MS} ms: {verdict}); "
          f"FULL costs {full - normal:+.2f} ms at p95 over NORMAL ({full / normal:.1f}x)")
    if args.pull_visits:
        from bench.tap_pull import pull_case

        with tempfile.TemporaryDirectory(prefix="tap-pull-", dir=args.dir) as d:
            pull_case(Path(d), args.pull_visits)


if __name__ == "__main__":
    main()
