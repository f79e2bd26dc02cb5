"""Slow readers beside working devices: N connections ask for a large pull page (several MB) and never read it,
while 10 devices push a visit and pull, round after round. Each repeat runs the same traffic twice on one server,
in alternating order: alone (the baseline of this run) and beside the stalled readers; prints the p95 and max of
pushes, of pulls and of all requests, the errors, the ratio to the baseline, the median over the repeats, and the
machine's load.

    PYTHONPATH=. python bench/slow_readers.py [--db postgresql+psycopg://...] [--stalled 20] [--repeats 3]
        [--reading]   also a phase where the N readers read their pages (the cost of building them, no stall)

Figures (docs/sync-protocol.md, "What a pull costs and what a slow reader holds") vary with the load of the
machine: compare the two phases of one run, never figures of different runs. `--env LEARNWALK_PULL_BUILDERS=16
--env LEARNWALK_PULL_QUICK_CHANGES=1000000000` turns the pull lane off, for the comparison.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import serverdata  # noqa: E402
from tests.support import serverproc as harness  # noqa: E402
from tests.support import slowreaders  # noqa: E402


def _readers(url: str, token: str, n: int) -> list[threading.Thread]:
    """n clients that ask for the same large page at once and read it whole."""
    def read():
        with serverdata.client(url, token) as c:
            c.timeout = 120
            c.get("/api/v1/changes", params={"since": 0})
    threads = [threading.Thread(target=read) for _ in range(n)]
    for t in threads:
        t.start()
    return threads


def phase(url: str, db, args, beside: str) -> dict:
    """One run of the traffic in a fresh district, beside nothing, stalled readers or reading readers."""
    _, admin, workers = slowreaders.district_with_a_large_page(url, db, args.workers)
    stalled: list[socket.socket] = []
    reading: list[threading.Thread] = []
    if beside == "stalled":
        stalled = slowreaders.stall(url, admin, args.stalled)
    elif beside == "reading":
        reading = _readers(url, admin, args.stalled)
    if beside != "none":
        time.sleep(args.settle)
    try:
        timed, errors = slowreaders.traffic_by_kind(url, workers, args.rounds)
    finally:
        for s in stalled:
            s.close()
        for t in reading:
            t.join()
    return {"push": timed["push"], "pull": timed["pull"], "all": timed["push"] + timed["pull"], "errors": errors}


def _ms(v: float) -> str:
    return f"{v * 1000:6.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="server database URL (default: a fresh SQLite file)")
    ap.add_argument("--stalled", type=int, default=20)
    ap.add_argument("--workers", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--settle", type=float, default=1.0, help="seconds between stalling and the traffic")
    ap.add_argument("--reading", action="store_true", help="also run beside readers that read their pages")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server (e.g. LEARNWALK_WORKERS=8)")
    args = ap.parse_args()
    kinds = ["none", "stalled"] + (["reading"] if args.reading else [])
    results: dict[str, list[dict]] = {k: [] for k in kinds}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'server.sqlite'}"
        db = harness.Db(url)
        server = harness.ServerProc(url, env=dict(e.split("=", 1) for e in args.env)).start()
        try:
            for r in range(args.repeats):
                order = kinds if r % 2 == 0 else kinds[::-1]  # alternate: neither phase always runs first
                for kind in order:
                    results[kind].append(phase(server.url, db, args, kind))
        finally:
            server.stop()
            db.engine.dispose()
    load_after = os.getloadavg()
    backend = db.engine.url.get_backend_name()
    print(f"{backend}: {args.workers} devices x {args.rounds} rounds (a push and its pulls each), {args.repeats} "
          f"repeats; beside {args.stalled} readers; load {load_before[0]:.1f} -> {load_after[0]:.1f} "
          f"(1-min average, {os.cpu_count()} cores)")
    print("beside        push p95   pull p95    all p95   all max  errors   (ms; median of the repeats)")
    base = None
    for kind in kinds:
        runs = results[kind]
        med = {k: statistics.median(slowreaders.p95(run[k]) for run in runs) for k in ("push", "pull", "all")}
        worst = statistics.median(max(run["all"]) for run in runs)
        errors = sum(len(run["errors"]) for run in runs)
        base = base or med
        ratio = f"  x{med['all'] / base['all']:.2f} of the baseline" if kind != "none" else ""
        print(f"{kind:10s} {_ms(med['push'])}     {_ms(med['pull'])}     {_ms(med['all'])}    {_ms(worst)}  "
              f"{errors:6d}{ratio}")
        for run in runs:
            for e in run["errors"][:3]:
                print("   ", e)
        print("           each repeat's all p95: " + ", ".join(_ms(slowreaders.p95(run["all"])).strip()
                                                            for run in runs))


if __name__ == "__main__":
    main()
