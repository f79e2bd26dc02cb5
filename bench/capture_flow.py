"""Capture speed in the real app: a scripted visit rating 12 look-fors, driven in headless Chromium.

Prints the wall time from "New visit" to "Finish visit", the number of taps, and for each rating tap the time
until its row is committed in the device's SQLite file (p50/p95/max), plus the time until the screen shows it.
Figures, not asserts. Run: .venv/bin/python bench/capture_flow.py [--lookfors 12] [--runs 1]
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.device import Device  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VALUES = ["3", "4", "2", "1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the app did not listen on port {port}")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


def committed(db: sqlite3.Connection, lookfor_id: str, value: str, timeout: float = 10) -> float:
    """Poll the device file until the rating row is there; return when it was seen (monotonic)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = db.execute("select 1 from rating where lookfor_id = ? and value = ? and deleted = 0",
                         (lookfor_id, value)).fetchone()
        if row:
            return time.monotonic()
        time.sleep(0.002)
    raise SystemExit(f"the rating of {lookfor_id} was not committed within {timeout:.0f} s")


def run_once(browser, lookfors: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="lw-bench-"))
    service = Device.open(data).capture
    school = service.add_school("Bench Elementary")
    walk = service.create_walk(school_id=school.id, rubric_id="deeper-learning", rubric_version=1,
                               focus=["dl.interactive", "dl.affirming"])
    rubric = service.rubric_for(walk)
    # screen order: focus look-fors first, then the rest of the rubric, as the capture screen shows them
    visible = [lf.id for lf in rubric.lookfors if lf.applies_to("Math")]
    order = walk.focus + [i for i in visible if i not in walk.focus]
    scale = {lf.id: rubric.scale(lf.scale).values() for lf in rubric.lookfors}
    picks = [(i, VALUES[n % 4] if VALUES[n % 4] in scale[i] else scale[i][-1]) for n, i in enumerate(order[:lookfors])]
    service.engine.dispose()

    port = free_port()
    exe = Path(sys.executable).with_name("learnwalk")
    proc = subprocess.Popen([str(exe), "app", "--web", "--port", str(port), "--data-dir", str(data)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_listening(port)
        # tall enough that nothing scrolls: the figures are the app's, not the scrolling's
        ctx = browser.new_context(viewport={"width": 800, "height": 4800})
        page = ctx.new_page()
        page.goto(f"http://127.0.0.1:{port}/walks/{walk.id}")
        page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30_000)
        page.locator("flt-semantics-placeholder").evaluate("el => el.click()")
        page.get_by_role("button", name="New visit").wait_for(timeout=30_000)
        db = sqlite3.connect(f"file:{data / 'learnwalk.sqlite'}?mode=ro", uri=True, check_same_thread=False)

        def by_id(i):
            return page.locator(f'[flt-semantics-identifier="{i}"]')

        def shown(i):
            by_id(i).and_(page.locator('[aria-checked="true"]')).wait_for(timeout=10_000)

        taps, commit_ms, screen_ms = 0, [], []
        t0 = time.monotonic()
        page.get_by_role("button", name="New visit").click()
        taps += 1
        by_id("grade:4").wait_for(timeout=10_000)
        opened = time.monotonic() - t0
        for chip in ("grade:4", "subject:Math"):
            by_id(chip).click()
            taps += 1
            shown(chip)
        for lookfor_id, value in picks:
            ident = f"rate:{lookfor_id}:{value}"
            box = by_id(ident).bounding_box()  # located first, so the clock starts at the finger's tap
            t = time.monotonic()
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            taps += 1
            commit_ms.append((committed(db, lookfor_id, value) - t) * 1000)
            shown(ident)
            screen_ms.append((time.monotonic() - t) * 1000)
        t_finish = time.monotonic()
        page.get_by_role("button", name="Finish visit").click()
        taps += 1
        page.get_by_role("button", name="New visit").wait_for(timeout=10_000)
        wall = time.monotonic() - t0
        back = time.monotonic() - t_finish
        ended = db.execute("select count(*) from visit where ended_at is not null").fetchone()[0]
        db.close()
        ctx.close()
        return {"wall_s": wall, "open_s": opened, "back_s": back, "taps": taps, "rated": len(picks),
                "commit_ms": commit_ms, "screen_ms": screen_ms, "finished": ended}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lookfors", type=int, default=12)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        results = [run_once(browser, args.lookfors) for _ in range(args.runs)]
        browser.close()
    commits = [x for r in results for x in r["commit_ms"]]
    screens = [x for r in results for x in r["screen_ms"]]
    for n, r in enumerate(results, 1):
        print(f"run {n}: New visit -> Finish visit {r['wall_s']:.2f} s wall, {r['taps']} taps for {r['rated']} "
              f"look-fors rated (rated + {r['taps'] - r['rated']}), visit finished: {bool(r['finished'])}; "
              f"capture screen open {r['open_s']:.2f} s, back on the walk {r['back_s']:.2f} s")
    print(f"tap -> row committed (ms, n={len(commits)}): p50 {statistics.median(commits):.1f}  "
          f"p95 {pct(commits, 95):.1f}  max {max(commits):.1f}")
    print(f"tap -> screen shows it (ms, n={len(screens)}): p50 {statistics.median(screens):.1f}  "
          f"p95 {pct(screens, 95):.1f}  max {max(screens):.1f}")


if __name__ == "__main__":
    main()
