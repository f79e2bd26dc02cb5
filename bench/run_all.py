"""Every benchmark of bench/, one after another (`make bench`), each one's own output as it runs, then one table: each
script, its time, whether it ran to the end, and its headline lines (those that name a goal).

    PYTHONPATH=. python bench/run_all.py [--only load,tap_latency,sync_push]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated script names (default: every bench/*.py)")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n]
    scripts = [HERE / f"{n}.py" for n in names] if names else \
        sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
    rows, failed = [], 0
    for script in scripts:
        print(f"== {script.relative_to(HERE.parent)}", flush=True)
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env)
        lines = []
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip())
        code = proc.wait()
        failed += code != 0
        headline = [ln.strip() for ln in lines if "goal" in ln.lower()] or (lines[-1:] if lines else [""])
        rows.append((script.stem, time.perf_counter() - started, "ok" if code == 0 else f"exit {code}", headline))
    print(f"\n{'bench':<14} {'seconds':>8} {'status':<8} headline")
    for name, seconds, status, headline in rows:
        for i, line in enumerate(headline):
            print(f"{name if i == 0 else '':<14} {f'{seconds:8.0f}' if i == 0 else '':>8} "
                  f"{status if i == 0 else '':<8} {line}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
