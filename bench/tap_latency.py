"""Tap latency: one rating commit through CaptureService next to a raw sqlite3 insert+commit, FULL vs NORMAL.

Every figure comes from this run on this machine: the raw insert+commit is the baseline (the floor SQLite and
the disk set), and the service's ratio to it is the cost of our layers (ORM, checks, outbox row). The goal is a
service p95 of at most 5 ms with synchronous=FULL (what the app uses).

    .venv/bin/python bench/tap_latency.py [--taps 1000] [--dir FOLDER] [--push-visits 10000] [--pull-visits 10000]

cpu ms is this process's CPU time per call (mean): the part of a tap that does not depend on the disk.
--dir chooses the disk: the default is a temporary folder; on tmpfs fsync is free and FULL looks like NORMAL.

Taps during a push: a device enrolled on a real server (SQLite, loopback) holds --push-visits finished visits x 25
ratings; the app's own round (SyncService.sync_once, in a background thread as the app runs it) pushes them while
the observer taps a rating every 20 ms in another visit. Each tap's time is printed against the same taps on the
same device with no sync running (the baseline, measured in the same run); the goal is a p95 of at most 20 ms
and no tap refused. Taps during a big pull (--pull-visits, 0 skips it): bench/tap_pull.py.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, NamedTuple

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
GOAL_DURING_SYNC_P95_MS = 20.0
TAP_EVERY_S = 0.020


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


def _seeded_device(base: Path, visits: int):
    """(server process, its Db, a device enrolled on it holding `visits` finished visits x 25 ratings, the walk)."""
    from bench.load import LOOKFORS, rubric_yaml
    from sync.server.deps import Caller
    from sync.server.directory.admin import publish_rubric
    from tests.support import serverproc as harness

    url = f"sqlite:///{base / 'server.sqlite'}"
    db = harness.Db(url)
    district = db.district()
    admin = district.user("admin")
    with db.write() as s:
        publish_rubric(s, Caller("bench", admin, "admin", district.id), rubric_yaml(), "load-25.yaml")
    server = harness.ServerProc(url).start()
    dev = harness.new_device(base / "device", server.url, district.code(district.user("observer")))
    dev.sync.sync_once()  # the school and the rubric
    capture = dev.capture
    lookfors = [lf.id for lf in capture.catalog.get("load-25", 1).lookfors]
    assert len(lookfors) == LOOKFORS
    with capture.batch():
        walk = capture.create_walk(school_id=district.school_id, rubric_id="load-25", rubric_version=1,
                                   focus=lookfors[:1])
    started = time.perf_counter()
    for first in range(0, visits, 200):
        with capture.batch():
            for i in range(first, min(visits, first + 200)):
                v = capture.start_visit(walk.id, grade="5", subject="Math")
                for j, lf in enumerate(lookfors):
                    capture.rate(v.id, lf, "1234"[(i + j) % 4])
                capture.finish_visit(v.id)
    print(f"  seeded {visits:,} visits x {LOOKFORS} ratings in {time.perf_counter() - started:.0f} s", flush=True)
    return server, db, dev, walk, lookfors


def _tapping(capture, visit_id: str, lookfors: list[str], until) -> tuple[list[float], list[str]]:
    """A tap every TAP_EVERY_S until until() is true (at least 50 taps); (each tap's ms, the refused taps' errors)."""
    out, refused, i = [], [], 0
    while i < 50 or not until():
        lf, value = lookfors[i % len(lookfors)], "1234"[(i // len(lookfors)) % 4]
        t0 = time.perf_counter()
        try:
            capture.tap(visit_id, lf, value)
        except Exception as exc:  # noqa: BLE001 - a refused tap is what this measures
            refused.append(type(exc).__name__)
        took = time.perf_counter() - t0
        out.append(took * 1000)
        i += 1
        time.sleep(max(0.0, TAP_EVERY_S - took))
    return out, refused


class DuringRound(NamedTuple):
    """Taps made while a sync round ran: each tap's ms, the refused taps' errors, the round's seconds, what the
    round returned (None if it failed) and its error (None if it went through)."""
    taps: list[float]
    refused: list[str]
    seconds: float
    result: object
    error: Exception | None


def taps_during(capture, visit_id: str, lookfors: list[str], round_: Callable[[], object]) -> DuringRound:
    """A tap every TAP_EVERY_S (as _tapping) while round_() runs in a background thread, as the app runs its
    rounds; until it has returned."""
    done, got, failed = threading.Event(), [], []

    def run() -> None:
        try:
            got.append(round_())
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            failed.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=run, name="sync-round")
    started = time.perf_counter()
    worker.start()
    busy, refused = _tapping(capture, visit_id, lookfors, done.is_set)
    worker.join()
    return DuringRound(busy, refused, time.perf_counter() - started, got[0] if got else None,
                       failed[0] if failed else None)


def print_taps(during_what: str, idle: list[float], idle_refused: list[str], during: DuringRound) -> bool:
    """The table of taps with no sync running against the taps during the round, and the verdict; True if the goal
    (p95 <= GOAL_DURING_SYNC_P95_MS, none refused, the round went through) is met."""
    i50, i95, i99 = _percentiles(idle)
    b50, b95, b99 = _percentiles(during.taps)
    print(f"  {'taps':<22} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'refused':>7}")
    for what, xs, (a, b, c), bad in (("no sync (baseline)", idle, (i50, i95, i99), idle_refused),
                                     (during_what, during.taps, (b50, b95, b99), during.refused)):
        print(f"  {what:<22} {len(xs):>5} {a:7.2f} {b:7.2f} {c:7.2f} {max(xs):7.2f} {len(bad):>7}")
    ok = b95 <= GOAL_DURING_SYNC_P95_MS and not during.refused and during.error is None
    load = os.getloadavg()
    print(f"  p95 {during_what} {b95:.1f} ms = {b95 / i95:.1f}x the baseline (goal <= {GOAL_DURING_SYNC_P95_MS:g} ms, "
          f"none refused: {'met' if ok else 'NOT met'}); load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    return ok


def push_case(base: Path, visits: int) -> None:
    """Taps during the app's own round pushing `visits` visits, against the same taps with no sync running."""
    print(f"taps every {TAP_EVERY_S * 1000:.0f} ms during a {visits:,}-visit push (the app's round, SQLite server "
          "on loopback):", flush=True)
    (base / "push").mkdir(parents=True, exist_ok=True)
    server, db, dev, walk, lookfors = _seeded_device(base / "push", visits)
    try:
        tapped = dev.capture.start_visit(walk.id, grade="5", subject="Math")
        idle, idle_refused = _tapping(dev.capture, tapped.id, lookfors, lambda: True)
        during = taps_during(dev.capture, tapped.id, lookfors, dev.sync.sync_once)
        left = dev.sync.status().pending
    finally:
        dev.sync.close()
        dev.engine.dispose()
        server.stop()
        db.engine.dispose()
    print(f"  the round took {during.seconds:.1f} s{'; FAILED: ' + str(during.error) if during.error else ''}; "
          f"{left} outbox entries left (the last taps')")
    print_taps("during the push", idle, idle_refused, during)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--taps", type=int, default=1000)
    ap.add_argument("--dir", type=Path, default=None, help="folder for the test files (default: a temp folder)")
    ap.add_argument("--push-visits", type=int, default=10_000, help="visits pushed while tapping (0: skip)")
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

    if args.push_visits:
        base = Path(tempfile.mkdtemp(prefix="tap-latency-", dir=args.dir))
        try:
            push_case(base, args.push_visits)
        finally:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
