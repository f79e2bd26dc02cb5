"""Tally speed: a 40-visit walk (goal <= 20 ms) and a 10,000-visit walk (goal <= 250 ms).

Each figure is printed next to a bare `SELECT count(*)` over the same walk's ratings, measured in the same run
on the same file, so the ratio says what the GROUP BY, the calibration-pair rule and the shaping cost on this
machine. Run: .venv/bin/python bench/tally.py [--repeat N]
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import text

from app.debrief import walk_tally
from app.device import Device
from app.store.seed import seed
from app.store.services import CaptureService
from sync.protocol import CLASS_TYPES, GRADES, SUBJECTS, new_id, rating_id

RUBRIC = "deeper-learning@1"
COUNT_SQL = text("SELECT count(*) FROM rating JOIN visit ON visit.id = rating.visit_id "
                 "WHERE visit.walk_id = :w AND rating.deleted = 0 AND visit.deleted = 0")


def bulk_walk(service: CaptureService, visits: int, rng: random.Random) -> str:
    """A walk of many visits written in one transaction with executemany (a bench fixture, not a capture path)."""
    rubric_id, version = RUBRIC.split("@")
    rubric = service.catalog.get(rubric_id, int(version))
    service.add_school("Bench School", school_id="bench-school")
    walk = service.create_walk(school_id="bench-school", rubric_id=rubric.id, rubric_version=rubric.version,
                               focus=[lf.id for lf in rubric.lookfors[:2]], walk_date=date(2026, 10, 1))
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    vrows, rrows = [], []
    for n in range(1, visits + 1):
        vid = new_id()
        subject = rng.choice(SUBJECTS)
        vrows.append((vid, walk.id, n, f"user-{n % 3}", rng.choice(GRADES), subject, rng.choice(CLASS_TYPES),
                      None, "", now, now, now, 0))
        for lf in rubric.lookfors:
            if not lf.applies_to(subject):
                continue
            scale = rubric.scale(lf.scale)
            r = rng.random()
            if scale.not_observed and r < 0.1:
                rrows.append((rating_id(vid, lf.id), vid, lf.id, None, 1, now, 0))
            elif len(scale.levels) > 1 or r < 0.6:
                rrows.append((rating_id(vid, lf.id), vid, lf.id, rng.choice(scale.values()), 0, now, 0))
    with service.engine.begin() as con:
        con.exec_driver_sql("INSERT INTO visit (id, walk_id, visit_no, observer_id, grade, subject, class_type, "
                            "calibration_code, note, started_at, ended_at, updated_at, deleted) "
                            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", vrows)
        con.exec_driver_sql("INSERT INTO rating (id, visit_id, lookfor_id, value, not_observed, updated_at, deleted) "
                            "VALUES (?,?,?,?,?,?,?)", rrows)
    return walk.id


def timed(fn, repeat: int) -> float:
    fn()  # warm the page cache and the statement cache
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def measure(label: str, engine, catalog, walk_id: str, goal_ms: float, repeat: int) -> None:
    with engine.connect() as con:
        ratings = con.execute(COUNT_SQL, {"w": walk_id}).scalar_one()

        def bare():
            con.execute(COUNT_SQL, {"w": walk_id}).scalar_one()

        base = timed(bare, repeat)
    whole = timed(lambda: walk_tally(engine, catalog, walk_id), repeat)
    by_band = timed(lambda: walk_tally(engine, catalog, walk_id, by="grade_band"), repeat)
    verdict = "meets" if whole <= goal_ms else "MISSES"
    print(f"{label}: {ratings} ratings")
    print(f"  bare SELECT count(*)      {base:8.2f} ms")
    print(f"  walk tally                {whole:8.2f} ms  ratio {whole / base:5.1f}x  ({verdict} goal {goal_ms:.0f} ms)")
    print(f"  tally by grade band       {by_band:8.2f} ms  ratio {by_band / base:5.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--visits", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        device = Device.open(Path(tmp))
        engine, catalog, service = device.engine, device.catalog, device.capture
        seed(service, walks=1, visits=40, rubric_key=RUBRIC, seed=1)
        small = service.walks()[0].id
        t0 = time.perf_counter()
        big = bulk_walk(service, args.visits, random.Random(2))
        print(f"(built a {args.visits}-visit walk in {time.perf_counter() - t0:.1f} s)")
        measure("40-visit walk", engine, catalog, small, 20, args.repeat)
        measure(f"{args.visits}-visit walk", engine, catalog, big, 250, max(3, args.repeat // 3))


if __name__ == "__main__":
    main()
