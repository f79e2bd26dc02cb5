"""Run one bench script at an earlier commit and at the working tree, interleaved, and print medians side by side.

A refactor must not slow what the user waits for, and this 2-core machine's load drifts over minutes, so both
sides are measured in the same run, alternately (base, head, base, head...), each from its own checkout with
PYTHONPATH pointing at it. Every line the script prints that holds numbers is matched by its shape (the line
with its numbers blanked); each number's median over the rounds is printed for base and head with head/base.

    .venv/bin/python bench/compare.py --base HEAD~1 --rounds 3 bench/sync_push.py --sizes 1000
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _checkout(rev: str, into: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(into), rev], check=True)
    return into


def _run(tree: Path, script: str, args: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, script, *args], cwd=tree, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{script} failed in {tree}:\n{out.stderr[-2000:]}")
    return out.stdout


def _figures(text: str) -> dict[str, list[float]]:
    """Shape of each numeric line -> its numbers (a repeated shape gets a #n suffix)."""
    found: dict[str, list[float]] = {}
    for line in text.splitlines():
        numbers = [float(n.replace(",", "")) for n in _NUMBER.findall(line)]
        if not numbers:
            continue
        shape = _NUMBER.sub("#", line.strip())
        key, n = shape, 1
        while key in found:
            n += 1
            key = f"{shape} #{n}"
        found[key] = numbers
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD~1", help="the commit to compare against (default HEAD~1)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("script", help="a bench script path relative to the repository, e.g. bench/tally.py")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    a = ap.parse_args()
    runs: dict[str, list[dict[str, list[float]]]] = {"base": [], "head": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = _checkout(a.base, Path(tmp) / "base")
        try:
            for i in range(a.rounds):
                for side, tree in (("base", base), ("head", ROOT)):
                    runs[side].append(_figures(_run(tree, a.script, a.args)))
                    print(f"round {i + 1}/{a.rounds} {side} done", file=sys.stderr)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
    print(f"{a.script} {' '.join(a.args)}: medians of {a.rounds} interleaved rounds, base {a.base} vs working tree")
    for key in runs["head"][0]:
        if not all(key in r for r in runs["base"] + runs["head"]):
            continue
        cols = []
        for j in range(len(runs["head"][0][key])):
            try:
                b = statistics.median(r[key][j] for r in runs["base"])
                h = statistics.median(r[key][j] for r in runs["head"])
            except IndexError:
                break
            cols.append(f"{b:g} -> {h:g}" + (f" ({h / b:.2f}x)" if b else ""))
        print(f"  {key}\n      {' | '.join(cols)}")


if __name__ == "__main__":
    main()
