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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import sync_push as world_of  # noqa: E402
from bench.tap_latency import TAP_EVERY_S, print_taps, taps_during  # noqa: E402
from bench.tap_latency import _tapping as _taps  # noqa: E402


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
        during = taps_during(capture, tapped.id, lookfors, dev.sync.sync_once)
    finally:
        dev.close()
        world_of.stop(proc)
    pulled = during.result.pulled if during.result is not None else 0
    print(f"  the round took {during.seconds:.1f} s and stored {pulled:,} rows"
          f"{'; FAILED: ' + str(during.error) if during.error else ''}")
    return print_taps("during the pull", idle, idle_refused, during)
