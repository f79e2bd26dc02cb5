"""The randomized sync fault suite from one command: trials per fault kind, and records lost, duplicated, wrong.

    python bench/faults.py --trials 1000 [--backend sqlite|postgres|both] [--seed 0]

Each backend gets a real `learnwalk serve` (an SQLite file, or a scratch PostgreSQL database on 127.0.0.1:5432)
and a fault-injecting proxy; the trials (tests/support/faulttrials.py: the kinds and what each does) are split
evenly across the backends. Exit 1 if any record was lost, duplicated or wrong, or a device never finished.
tests/faults/test_fault_trials.py runs a short slice with a fixed seed as a normal test.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support, from a checkout

from tests.support import serverproc as harness  # noqa: E402
from tests.support.faulttrials import Trials  # noqa: E402


def run_backend(backend: str, trials: int, seed: int, tmp: Path) -> tuple[str, object]:
    drop = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'server.sqlite'}"
    else:
        why = harness.pg_reachable()
        if why:
            raise SystemExit(why)
        url, drop = harness.pg_scratch_db()
    db = harness.Db(url)
    server = harness.ServerProc(url).start()
    # the harness pipes the server's stderr for short tests; a thousand trials of request logs would fill the
    # pipe and block the server on a log write, so read it away here
    threading.Thread(target=lambda: [None for _ in iter(lambda: server.proc.stderr.read(65536), b"")],
                     daemon=True).start()
    runner = Trials(server.port, db, tmp / backend, seed=seed)
    (tmp / backend).mkdir(exist_ok=True)
    try:
        done = 0
        while done < trials:  # in steps, with a running total: a long run shows where it is
            step = min(50, trials - done)
            tally = runner.run_many(step, start=done)
            done += step
            print(f"{backend}: {done} trials, lost {sum(tally.lost.values())}, duplicated "
                  f"{sum(tally.duplicated.values())}, wrong {sum(tally.wrong.values())}", flush=True)
        return backend, runner.tally
    finally:
        runner.close()
        server.stop()
        db.engine.dispose()
        if drop:
            drop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=1000, help="trials in all, split across the backends")
    ap.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    started = time.perf_counter()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="lw-faults-") as tmp:
        for i, backend in enumerate(backends):
            share = args.trials // len(backends) + (1 if i < args.trials % len(backends) else 0)
            name, tally = run_backend(backend, share, args.seed + i, Path(tmp))
            print("\n".join(tally.lines(name)), flush=True)
            bad += tally.bad
    print(f"{args.trials} trials in {time.perf_counter() - started:.0f} s; "
          f"{'0 lost, 0 duplicated, 0 wrong' if not bad else f'{bad} BAD'}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
