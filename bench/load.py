"""Many devices pushing at once: 20, 50 and 100 devices x 20 visits x 25 ratings against a real server, SQLite and
PostgreSQL; prints errors, p50/p95/max of a push, visits/s, and whether every visit was stored exactly once.

    PYTHONPATH=. python bench/load.py [--devices 20,50,100] [--visits 20] [--runs 3] [--backends sqlite,postgresql]

Each device is enrolled on the server and sends one push of its walk (first run), 20 new visits and their 500
cells, in the wire shape the app builds (sync.push_wire), all devices released together; a push's time runs from
that release to its answer. The same pushes are also sent one after another in the same run (the serial baseline):
"x serial" is the concurrent throughput over it (below 1.0: concurrency costs more than it brings). Each figure is
the median of --runs runs; the devices' bodies are built before the clock, so the figures are the server's.
Afterwards the district's stored visits are counted: each pushed visit once, with its 25 cells.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import orjson  # noqa: E402
from sqlmodel import Session, func, select  # noqa: E402

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION  # noqa: E402
from sync.server.deps import Caller  # noqa: E402
from sync.server.directory.admin import publish_rubric  # noqa: E402
from sync.server.models import Visit  # noqa: E402
from tests.support import serverproc as harness  # noqa: E402

LOOKFORS = 25
AT = "2026-11-25T09:30:00.000000Z"
GOAL_P95_S = 1.0


def rubric_yaml() -> str:
    lines = ["id: load-25", "version: 1", "title: Load rubric with 25 look-fors", "scales:", "  - id: four",
             "    levels:"]
    lines += [f"      - {{value: '{v}', label: 'Level {v}'}}" for v in "1234"]
    lines += ["domains:", "  - {id: all, title: All}", "lookfors:"]
    lines += [f"  - {{id: l.{i:02d}, domain: all, text: 'Look-for {i}', label: 'L{i}', scale: four}}"
              for i in range(LOOKFORS)]
    return "\n".join(lines) + "\n"


@dataclass
class Sim:
    """One enrolled device: its token, user, the op_seq it has reached, and the visits it pushed."""
    token: str
    user_id: str
    school_id: str
    seq: int = 0
    walk_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    pushed: list[str] = field(default_factory=list)

    def body(self, visits: int) -> bytes:
        first, walks, vs, cells = self.seq + 1, [], [], []
        if self.seq == 0:
            self.seq += 1
            walks.append([self.seq, {"id": self.walk_id, "school_id": self.school_id, "walk_date": "2026-11-25",
                                     "rubric_id": "load-25", "rubric_version": 1, "focus": ["l.00"], "team": [],
                                     "phase": "baseline", "created_by": self.user_id, "updated_at": AT}])
        for _ in range(visits):
            vid = str(uuid.uuid4())
            self.seq += 1
            vs.append([self.seq, {"id": vid, "walk_id": self.walk_id, "visit_no": self.seq,
                                  "observer_id": self.user_id, "grade": "5", "subject": "Math", "started_at": AT,
                                  "updated_at": AT}])
            group = []
            for i in range(LOOKFORS):
                self.seq += 1
                group.append([self.seq, f"l.{i:02d}", "1234"[i % 4], False, False, AT])
            cells.append([vid, group])
            self.pushed.append(vid)
        return orjson.dumps({"from_seq": first, "to_seq": self.seq, "walks": walks, "visits": vs, "cells": cells,
                             "notes": []})


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=120, headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION),
                                                             "Authorization": f"Bearer {token}",
                                                             "Content-Type": "application/json"})


def _send(http: httpx.Client, body: bytes) -> str | None:
    """None when the push landed whole, else the error in a few words."""
    try:
        r = http.post("/api/v1/push", content=body)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    if r.status_code != 200:
        return f"{r.status_code} {r.text[:80]}"
    answer = r.json()
    return None if answer["results"] == [] else f"answered {answer['results'][:1]}"


def concurrent(url: str, sims: list[Sim], visits: int) -> tuple[list[float], list[str], float]:
    """Every device pushes at once; (each push's seconds from the release, the errors, the wall seconds)."""
    bodies = [s.body(visits) for s in sims]
    clients = [_client(url, s.token) for s in sims]
    gate = threading.Barrier(len(sims) + 1)
    times: list[float] = [0.0] * len(sims)
    errors: list[str] = []
    start = [0.0]

    def device(i: int) -> None:
        gate.wait()
        err = _send(clients[i], bodies[i])
        times[i] = time.perf_counter() - start[0]
        if err:
            errors.append(err)

    threads = [threading.Thread(target=device, args=(i,)) for i in range(len(sims))]
    for t in threads:
        t.start()
    start[0] = time.perf_counter()
    gate.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start[0]
    for c in clients:
        c.close()
    return times, errors, wall


def serial(url: str, sims: list[Sim], visits: int) -> tuple[list[str], float]:
    bodies = [s.body(visits) for s in sims]
    clients = [_client(url, s.token) for s in sims]
    errors = []
    started = time.perf_counter()
    for c, b in zip(clients, bodies):
        err = _send(c, b)
        if err:
            errors.append(err)
    wall = time.perf_counter() - started
    for c in clients:
        c.close()
    return errors, wall


def stored_once(db: harness.Db, district_id: str, sims: list[Sim]) -> str:
    """'yes' when every pushed visit is stored once with its 25 cells, else what is wrong."""
    pushed = [v for s in sims for v in s.pushed]
    with Session(db.engine) as s:
        rows = s.exec(select(Visit.id, func.count()).where(Visit.district_id == district_id)
                      .group_by(Visit.id)).all()
    counts = dict(rows)
    if len(counts) != len(set(pushed)) or set(counts) != set(pushed) or any(n != 1 for n in counts.values()):
        return f"NO: {len(counts)} visits stored for {len(pushed)} pushed"
    cells = db.cells(district_id)
    if len(cells) != len(pushed) * LOOKFORS:
        return f"NO: {len(cells)} cells stored for {len(pushed) * LOOKFORS}"
    return "yes"


def devices_of(url: str, db: harness.Db, n: int):
    d = db.district()
    admin = d.user("admin")
    with db.write() as s:
        publish_rubric(s, Caller("bench", admin, "admin", d.id), rubric_yaml(), "load-25.yaml")
    sims = []
    with httpx.Client(base_url=url, headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)}, timeout=60) as http:
        for _ in range(n):
            e = http.post("/api/v1/enroll", json={"code": d.code(d.user("observer")), "device_name": "Load"}).json()
            sims.append(Sim(e["token"], e["user_id"], d.school_id))
    return d, sims


def run_backend(backend: str, sizes: list[int], visits: int, runs: int, tmp: Path) -> list[tuple]:
    if backend == "sqlite":
        url, drop = f"sqlite:///{tmp / 'load.sqlite'}", (lambda: None)
    else:
        why = harness.pg_reachable()
        if why:
            print(f"  {backend}: skipped ({why})")
            return []
        url, drop = harness.pg_scratch_db()
    db = harness.Db(url)
    server = harness.ServerProc(url).start()
    out = []
    try:
        for n in sizes:
            district, sims = devices_of(server.url, db, n)
            p50s, p95s, maxes, rates, ratios, errors = [], [], [], [], [], []
            for _ in range(runs):
                times, errs, wall = concurrent(server.url, sims, visits)
                s_errs, s_wall = serial(server.url, sims, visits)
                times.sort()
                p50s.append(statistics.median(times))
                p95s.append(statistics.quantiles(times, n=100, method="inclusive")[94])
                maxes.append(times[-1])
                rates.append(n * visits / wall)
                ratios.append((n * visits / wall) / (n * visits / s_wall))
                errors += errs + s_errs
            once = stored_once(db, district.id, sims)
            row = (backend, n, len(errors), statistics.median(p50s), statistics.median(p95s),
                   statistics.median(maxes), statistics.median(rates), statistics.median(ratios), once)
            out.append(row)
            print(_line(row), flush=True)
            for e in errors[:3]:
                print("     error:", e)
    finally:
        server.stop()
        db.engine.dispose()
        drop()
    return out


HEADER = (f"{'backend':<11} {'devices':>7} {'errors':>6} {'p50 s':>6} {'p95 s':>6} {'max s':>6} {'visits/s':>9} "
          f"{'x serial':>8}  stored once")


def _line(row: tuple) -> str:
    backend, n, errors, p50, p95, mx, rate, ratio, once = row
    return (f"{backend:<11} {n:>7} {errors:>6} {p50:6.2f} {p95:6.2f} {mx:6.2f} {rate:9,.0f} {ratio:8.2f}  {once}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default="20,50,100")
    ap.add_argument("--visits", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args()
    sizes = [int(x) for x in args.devices.split(",")]
    print(f"bench/load.py: devices x {args.visits} visits x {LOOKFORS} ratings pushing at once, median of "
          f"{args.runs} runs")
    print(HEADER, flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            rows += run_backend(backend, sizes, args.visits, args.runs, Path(tmp))
    worst = [r for r in rows if r[1] == max(sizes)]
    for r in worst:
        ok = r[2] == 0 and r[4] <= GOAL_P95_S and r[8] == "yes"
        print(f"{r[0]}, {r[1]} devices: p95 {r[4]:.2f} s, {r[2]} errors (goal: p95 <= {GOAL_P95_S:g} s, 0 errors, "
              f"each visit once): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
