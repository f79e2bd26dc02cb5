"""Sync push throughput: seed N visits x 25 ratings on a device, time one `sync` round to a fresh server.

For each size: a fresh `learnwalk serve` (SQLite file) on loopback, a district publishing a 25-look-for rubric,
an enrolled device seeded through the capture service, then one round (push + pull) timed end to end. Beside it,
in the same run, two raw floors (WAL, synchronous=FULL, one transaction each): sqlite3 executemany of the rows
the server stored (visits and their cells rows) into the same tables, and of the same visits with one row per
rating. Prints visits/s end to end, the server's own ingest time (from its Server-Timing header) and the
ratios floor/ingest (1.0 = as fast as a bare executemany). Each size is run
`--repeats` times from copies of the same seeded device and empty server; the best of each figure is printed.

    .venv/bin/python bench/sync_push.py [--sizes 1000,10000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlmodel import Session

from app.device import Device
from sync.client import SyncClient
from sync.server import directory
from sync.server.db import make_engine, writer
from sync.server.deps import Caller
from sync.server.directory.admin import publish_rubric
from sync.server.models import metadata
from sync.server.serve import prepare

LOOKFORS = 25
BATCH = 0  # outbox entries per push; 0 = the client's default (--batch)


def bench_rubric() -> str:
    lines = ["id: bench-25", "version: 1", "title: Benchmark rubric with 25 look-fors",
             "scales:", "  - id: four", "    levels:"]
    lines += [f"      - {{value: '{v}', label: 'Level {v}'}}" for v in "1234"]
    lines += ["domains:", "  - {id: all, title: All}", "lookfors:"]
    lines += [f"  - {{id: b.l{i:02d}, domain: all, text: 'Look-for {i}', label: 'L{i}', scale: four}}"
              for i in range(LOOKFORS)]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    exe = str(Path(sys.executable).with_name("learnwalk"))
    proc = subprocess.Popen([exe, "serve", "--db", db_url, "--port", str(port)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/api/v1/health", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def setup(tmp: Path, visits: int):
    db_url = f"sqlite:///{tmp / 'server.sqlite'}"
    engine = make_engine(db_url)
    prepare(engine)
    with Session(writer(engine), expire_on_commit=False) as s:
        district = directory.create_district(s, "Bench")
        school = directory.create_school(s, district.id, "Bench School")
        admin = directory.create_user(s, district.id, "admin", "admin@bench.example")
        observer = directory.create_user(s, district.id, "observer", "observer@bench.example")
        publish_rubric(s, Caller("bench", admin.id, "admin", district.id), bench_rubric(), "bench-25.yaml")
        code = directory.issue_code(s, observer.id)
        s.commit()
    engine.dispose()
    proc, url = start_server(db_url)
    device = Device.open(tmp / "device")
    catalog, capture, store = device.catalog, device.capture, device.sync.store
    with SyncClient(url) as c:
        store.save_enrollment(url, c.enroll(code))
    token = store.meta("token")["token"]
    with SyncClient(url, token) as c:
        c.sync(store)  # receive the school and the rubric
    rubric = catalog.get("bench-25", 1)
    started = time.perf_counter()
    with capture.batch():
        walk = capture.create_walk(school_id=school.id, rubric_id="bench-25", rubric_version=1,
                                   focus=[rubric.lookfors[0].id])
    for first in range(0, visits, 200):
        with capture.batch():
            for i in range(first, min(visits, first + 200)):
                v = capture.start_visit(walk.id, grade="5", subject="Math")
                for j, lf in enumerate(rubric.lookfors):
                    capture.rate(v.id, lf.id, "1234"[(i + j) % 4])
                capture.finish_visit(v.id)
    print(f"  seeded {visits} visits x {LOOKFORS} ratings in {time.perf_counter() - started:.1f} s", flush=True)
    return proc, url, token, store, db_url


def copy_db(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    a.backup(b)
    a.close()
    b.close()


def one_round(tmp: Path, rep: int, token: str) -> tuple[float, float, int, Path]:
    """A fresh copy of the seeded device and of the empty server; one timed round; returns its figures."""
    server_db = tmp / f"server-{rep}.sqlite"
    copy_db(tmp / "server-fresh.sqlite", server_db)
    copy_db(tmp / "device-seeded.sqlite", tmp / f"device-{rep}" / "learnwalk.sqlite")
    proc, url = start_server(f"sqlite:///{server_db}")
    device = Device.open(tmp / f"device-{rep}")
    store = device.sync.store  # the round goes through SyncClient itself: its figures are timed here
    try:
        entries = len(store.pending(0, 10**9))
        with SyncClient(url, token, **({"batch_entries": BATCH} if BATCH else {})) as client:
            started = time.perf_counter()
            report = client.sync(store)
            seconds = time.perf_counter() - started
            ingest = client.last_ingest_ms / 1000
        left = len(store.pending(0, 10**9))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        device.close()
    assert report.rejected == 0 and left == 0, (report, left)
    return seconds, ingest, entries, server_db


def _raw_db(tmp: Path, ddl: list[str]) -> sqlite3.Connection:
    con = sqlite3.connect(tmp / f"raw-{time.monotonic_ns()}.sqlite", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    for statement in ddl:
        con.execute(statement)
    return con


def _timed_insert(con: sqlite3.Connection, tables: list[tuple[str, list[tuple]]]) -> float:
    started = time.perf_counter()
    con.execute("BEGIN")
    for name, rows in tables:
        con.executemany(f"INSERT INTO {name} VALUES ({','.join('?' * len(rows[0]))})", rows)
    con.execute("COMMIT")
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def raw_floor(tmp: Path, server_db: Path) -> tuple[float, float]:
    """Seconds for a bare executemany of the rows the server stored (visits and their cells rows) into the same
    tables; and, for scale, of the same visits with one row per rating (25,000 rows) into a table keyed by
    (visit, look-for) like the server's rating table before cells were stored per visit."""
    from sqlalchemy import create_engine
    from sqlalchemy.schema import CreateTable

    src = sqlite3.connect(server_db)
    visits = src.execute("SELECT * FROM visit").fetchall()
    cells = src.execute("SELECT * FROM visit_cells").fetchall()
    src.close()
    dialect = create_engine("sqlite://").dialect
    ddl = [str(CreateTable(metadata.tables[t]).compile(dialect=dialect)) for t in ("visit", "visit_cells")]
    same = _timed_insert(_raw_db(tmp, ddl), [("visit", visits), ("visit_cells", cells)])
    ratings = [(vid, lf, value, no, at, deleted, 0, ids[d]) for vid, devices, text in cells
               for ids in [json.loads(devices)] for d, lf, value, no, deleted, at in json.loads(text)]
    per_rating = ("CREATE TABLE rating (visit_id VARCHAR(36) NOT NULL, lookfor_id VARCHAR(80) NOT NULL, "
                  "value VARCHAR(40), not_observed BOOLEAN NOT NULL, updated_at DATETIME NOT NULL, deleted BOOLEAN "
                  "NOT NULL, change_seq INTEGER NOT NULL, device_id VARCHAR(36) NOT NULL, "
                  "PRIMARY KEY (visit_id, lookfor_id)) WITHOUT ROWID")
    rows = _timed_insert(_raw_db(tmp, ddl[:1] + [per_rating]), [("visit", visits), ("rating", ratings)])
    return same, rows


def run(visits: int, repeats: int) -> None:
    print(f"{visits} visits:", flush=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        proc, url, token, store, db_url = setup(tmp, visits)
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        copy_db(tmp / "server.sqlite", tmp / "server-fresh.sqlite")
        copy_db(tmp / "device" / "learnwalk.sqlite", tmp / "device-seeded.sqlite")
        rounds, floors = [], []
        for rep in range(repeats):
            seconds, ingest, entries, server_db = one_round(tmp, rep, token)
            rounds.append((seconds, ingest))
            floors.append(raw_floor(tmp, server_db))
        seconds = min(r[0] for r in rounds)
        ingest = min(r[1] for r in rounds)
        floor = min(f[0] for f in floors)
        per_rating = min(f[1] for f in floors)
        print(f"  sync round (best of {repeats}): {entries} entries in {seconds:.2f} s = {visits / seconds:,.0f} "
              f"visits/s ({entries / seconds:,.0f} entries/s) end to end; all rounds: "
              + ", ".join(f"{r[0]:.2f}" for r in rounds) + " s")
        print(f"  server ingest {ingest:.3f} s; raw sqlite3 executemany of the same stored rows (visits, their cells "
              f"rows) {floor:.3f} s: ingest at {floor / ingest:.0%} of that floor; of one row per rating "
              f"({visits * LOOKFORS:,} rows) {per_rating:.3f} s: {per_rating / ingest:.0%} "
              f"(goals: >= 4,000 visits/s at 1,000; >= 30%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated visit counts")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per size (best is reported: load noise)")
    parser.add_argument("--batch", type=int, default=0, help="outbox entries per push (default: the client's)")
    args = parser.parse_args()
    global BATCH
    BATCH = args.batch
    print(f"bench/sync_push.py on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for n in (int(x) for x in args.sizes.split(",")):
        run(n, args.repeats)


if __name__ == "__main__":
    main()
