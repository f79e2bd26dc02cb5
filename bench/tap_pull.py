"""Taps during a big pull: the lead's device receives N visits x 25 ratings in the app's own round (a background
thread, as the app runs it) while the lead taps a rating every 20 ms in a visit of their own, on the same store.

The world is bench/sync_push.py's (an observer's N visits pushed to a real SQLite server on loopback; the lead on
the walk's team, enrolled, empty). Before the round the lead starts a walk and a visit of their own with the same
rubric; the same taps with no sync running are the baseline, measured in the same run. Goal: p95 <= 20 ms during
the pull, none refused. Run through bench/tap_latency.py:

    .venv/bin/python bench/tap_latency.py --pull-visits 10000
"""
from __future__ import annotations

import sqlite3
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import sync_push as world_of  # noqa: E402
from bench.tap_latency import _percentiles as _p  # noqa: E402
from bench.tap_latency import _tapping as _taps  # noqa: E402

TAP_EVERY_S = 0.020
GOAL_P95_MS = 20.0


def pull_case(base: Path, visits: int) -> bool:
    """Print the taps' figures during a `visits`-visit pull against the baseline; True if the goal is met."""
    from app.device import Device
    from rubrics import parse_rubric

    print(f"taps every {TAP_EVERY_S * 1000:.0f} ms during a {visits:,}-visit pull (the lead's first round, SQLite "
          "server on loopback):", flush=True)
    world = world_of.build_world(base, visits)
    server_db = base / "tap-server.sqlite"
    world_of.copy_db(world.server_pushed, server_db)
    world_of.copy_db(world.lead, base / "tap-lead" / "learnwalk.sqlite")
    with sqlite3.connect(server_db) as con:
        school_id = con.execute("SELECT id FROM school").fetchone()[0]
    proc, url = world_of.start_server(f"sqlite:///{server_db}")
    dev = Device.open(base / "tap-lead")
    try:
        dev.sync.store.set_meta(server_url=url)
        rubric = parse_rubric(world_of.bench_rubric(), source="bench-25.yaml")  # the version the server holds
        dev.catalog.register(rubric)
        lookfors = [lf.id for lf in rubric.lookfors]
        capture = dev.capture
        capture.add_school("Bench School", school_id=school_id)
        walk = capture.create_walk(school_id=school_id, rubric_id=rubric.id, rubric_version=rubric.version,
                                   focus=lookfors[:1])
        tapped = capture.start_visit(walk.id, grade="5", subject="Math")
        idle, idle_refused = _taps(capture, tapped.id, lookfors, lambda: True)
        done, failed, report = threading.Event(), [], []

        def round_() -> None:
            try:
                report.append(dev.sync.sync_once())
            except Exception as exc:  # noqa: BLE001 - reported below
                failed.append(exc)
            finally:
                done.set()

        worker = threading.Thread(target=round_)
        started = time.perf_counter()
        worker.start()
        busy, busy_refused = _taps(capture, tapped.id, lookfors, done.is_set)
        worker.join()
        seconds = time.perf_counter() - started
    finally:
        dev.close()
        world_of.stop(proc)
    pulled = report[0].pulled if report else 0
    i50, i95, i99 = _p(idle)
    b50, b95, b99 = _p(busy)
    print(f"  the round took {seconds:.1f} s and stored {pulled:,} rows"
          f"{'; FAILED: ' + str(failed[0]) if failed else ''}")
    print(f"  {'taps':<22} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'refused':>7}")
    for what, xs, (a, b, c), bad in (("no sync (baseline)", idle, (i50, i95, i99), idle_refused),
                                     ("during the pull", busy, (b50, b95, b99), busy_refused)):
        print(f"  {what:<22} {len(xs):>5} {a:7.2f} {b:7.2f} {c:7.2f} {max(xs):7.2f} {len(bad):>7}")
    ok = b95 <= GOAL_P95_MS and not busy_refused and not failed
    print(f"  p95 during the pull {b95:.1f} ms = {b95 / i95:.1f}x the baseline (goal <= {GOAL_P95_MS:g} ms, none "
          f"refused: {'met' if ok else 'NOT met'})", flush=True)
    return ok
