"""The offline web app at work: tap to durable commit in the browser, and syncing a 40-visit walk from it.

    .venv/bin/python bench/pwa_capture.py [--dist FOLDER] [--visits 40] [--width 820 --height 1180]

Against a real `learnwalk serve` (SQLite) on loopback, in headless Chromium, on the built site (built first when
--dist is not given), in a tablet-sized viewport. A tap is a mouse click on the chip once it is on screen and
still, as the e2e tests tap. Two times per tap, both from its pointerdown in the page: durable, the end of the
first flush of the store to IndexedDB (FS.syncfs, timed inside the Python worker) that began after the worker
received the tap, which holds its commit; and shown, until the chip turns aria-checked, which for a rating the
app does only after that flush (app/store/durability.settled()), so shown - durable is the way back through
Flet to the screen. Rating taps and grade/subject taps are reported apart (p50, p95). `--visits` visits (grade,
subject, 3 ratings each) are recorded with the server stopped; then the server is started and "Sync now" is
timed from the click to "Synced:" on the screen, and what each round says it sent is printed: the first round
sends the walk, the next ones are the idle rounds a lead sees.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import Error as PlaywrightError, sync_playwright  # noqa: E402

from tests.support import serverproc as harness  # noqa: E402
from tests.support.browser import by_id, settle, tap, type_into  # noqa: E402
from tests.support.pwa import PwaBrowser, StaticServer, rating_choices, site_with_server  # noqa: E402

# armed before a finger-like click (Playwright's mouse, as the e2e tests tap): resolves with the pointerdown
# and the moment the chip reports aria-checked=true. A mouse click goes through Flutter's pointer handling as a
# finger does; a DOM el.click() is a screen reader's activation instead (and reached no chip named with its
# look-for until the chip was one node again). Times are absolute (timeOrigin + now) so they compare with the
# Python worker's.
ARM_TAP = """(ident) => {
  const sel = `[flt-semantics-identifier="${ident}"]`;
  const abs = () => performance.timeOrigin + performance.now();
  let t0 = null;
  window.addEventListener('pointerdown', () => { t0 = abs(); }, {capture: true, once: true});
  window.__tapped = new Promise((resolve, reject) => {
    const deadline = abs() + 30000;
    const poll = () => {
      const el = document.querySelector(sel);
      if (t0 !== null && el && el.getAttribute('aria-checked') === 'true') return resolve([t0, abs()]);
      if (abs() > deadline) return reject(new Error(
        t0 === null ? 'no pointerdown within 30 s: ' + ident : 'no aria-checked within 30 s: ' + ident));
      requestAnimationFrame(poll);
    };
    poll();
  });
}"""
# in the Python worker: when each message from the page arrived, and each flush of the store to IndexedDB
# (FS.syncfs to storage, app/web/storage.py) started and ended; read and emptied by FLUSHES
WORKER_HOOK = """() => {
  if (self.__flushes) return true;
  if (!self.pyodide) return false;
  const abs = () => performance.timeOrigin + performance.now();
  self.__flushes = []; self.__arrived = [];
  const fs = self.pyodide.FS, syncfs = fs.syncfs.bind(fs);
  fs.syncfs = (populate, done) => {
    if (populate) return syncfs(populate, done);
    const flush = [abs(), null];
    self.__flushes.push(flush);
    return syncfs(populate, (err) => { flush[1] = abs(); done(err); });
  };
  self.addEventListener('message', () => self.__arrived.push(abs()), {capture: true});
  return true;
}"""
FLUSHES = """() => {  // what arrived, and the flushes that ended, since the last call (one still running stays)
  const out = [self.__arrived, self.__flushes.filter((f) => f[1] !== null)];
  self.__arrived = []; self.__flushes = self.__flushes.filter((f) => f[1] === null);
  return out;
}"""
FOCUS = ["Students learn with each other", "Affirming environment"]


def steady_tap(locator, act=tap, tries: int = 5) -> None:
    """act (tap) again when Flutter replaced the node while it was being scrolled to (a screen that just
    changed): the locator finds the new one."""
    for n in range(tries):
        try:
            return act(locator)
        except PlaywrightError as exc:
            if "not attached" not in str(exc) or n == tries - 1:
                raise
            locator.page.wait_for_timeout(300)


def app_worker(page):
    """The page's Python worker, with WORKER_HOOK installed."""
    for w in page.workers:
        try:
            if w.evaluate(WORKER_HOOK):
                return w
        except Exception:  # another worker (the service worker's scope is not the page's): not it
            continue
    raise RuntimeError("the page has no Python worker with Pyodide running")


def timed_tap(page, worker, ident: str) -> tuple[float, float]:
    """(ms until the tap was durable, ms until the chip showed it chosen), both from the click's pointerdown.
    Durable: the end of the first flush to IndexedDB that began after the worker received the tap (its commit
    is in that flush; a rating chip shows chosen only after it, a grade chip at once)."""
    chip = by_id(page, ident)
    steady_tap(chip, act=settle)  # on screen and still, so the click lands on it (tests/support/browser.py)
    worker.evaluate(FLUSHES)
    page.evaluate(ARM_TAP, ident)
    chip.click()
    t0, shown = page.evaluate("() => window.__tapped")
    arrived, flushes = [], []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        more_arrived, more_flushes = worker.evaluate(FLUSHES)
        arrived += more_arrived
        flushes += more_flushes
        got = [t for t in arrived if t >= t0]
        after = [f for f in flushes if got and f[0] >= got[0]]
        if after:
            return after[0][1] - t0, shown - t0
        time.sleep(0.02)
    raise RuntimeError(f"no flush of the store after the tap on {ident} within 30 s")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", type=Path)
    ap.add_argument("--visits", type=int, default=40)
    ap.add_argument("--width", type=int, default=820, help="viewport; default an iPad Air held upright")
    ap.add_argument("--height", type=int, default=1180, help="4800 shows the whole capture screen at once, as "
                    "the e2e test does, but then every frame paints a canvas four times as tall")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pwa-capture-"))
    loads = [os.getloadavg()[0]]
    if args.dist is None:
        from tests.support.pwa import build_site

        build_site(work / "dist")
        args.dist = work / "dist"
    db_url = f"sqlite:///{work / 'server.sqlite'}"
    db = harness.Db(db_url)
    district = db.district()
    code = district.code(district.user("lead"))
    port = harness.free_port()
    site = StaticServer(site_with_server(args.dist, work / "site", f"http://127.0.0.1:{port}")).start()
    server = harness.ServerProc(db_url, env={"LEARNWALK_CORS_ORIGINS": site.url.rstrip("/")}).start(port=port)
    try:
        with sync_playwright() as pw:
            b = PwaBrowser(pw, work / "profile")
            try:
                page = b.open(site.url)
                page.get_by_label("Settings", exact=True).click()
                type_into(page, "Enrollment code", code)
                page.get_by_role("button", name="Enroll").click()
                by_id(page, "message").filter(has_text="Enrolled.").wait_for(timeout=60_000)
                page.get_by_label("Back", exact=True).click()
                page.get_by_role("button", name="New walk").click()
                page.get_by_role("checkbox", name="Lincoln Elementary").wait_for(timeout=60_000)
                server.stop()  # capture happens offline, as in a school without Wi-Fi
                page.set_viewport_size({"width": args.width, "height": args.height})
                page.wait_for_timeout(1000)
                steady_tap(page.get_by_role("checkbox", name="Lincoln Elementary"))
                for name in FOCUS:
                    steady_tap(page.get_by_label(name, exact=True))
                steady_tap(page.get_by_role("button", name="Start walk"))
                worker = app_worker(page)

                taps: list[tuple[float, float]] = []  # (durable, shown) per rating tap
                fields: list[tuple[float, float]] = []  # the same for grade and subject taps
                for n in range(1, args.visits + 1):
                    steady_tap(page.get_by_role("button", name="New visit"))
                    page.get_by_text(f"Visit {n}", exact=True).wait_for(timeout=60_000)
                    fields.append(timed_tap(page, worker, "grade:4"))
                    fields.append(timed_tap(page, worker, "subject:Math"))
                    page.wait_for_timeout(300)
                    choices = rating_choices(page)
                    for lookfor in list(choices)[:3]:
                        value = next(v for v in choices[lookfor] if v != "na")
                        taps.append(timed_tap(page, worker, f"rate:{lookfor}:{value}"))
                    steady_tap(page.get_by_role("button", name="Finish visit"))
                    finish_anyway = page.get_by_role("button", name="Finish anyway")
                    finish_anyway.wait_for(timeout=30_000)  # not every look-for rated: the app asks once
                    finish_anyway.click()
                    page.get_by_role("button", name="New visit").wait_for(timeout=60_000)
                    print(f"  visit {n}: {len(taps)} taps so far", file=sys.stderr, flush=True)

                server.start(port=port)
                page.set_viewport_size({"width": 800, "height": 1280})
                page.get_by_label("Back", exact=True).click()
                rounds, said = [], []
                for _ in range(3):  # the first sends the walk; later rounds are the idle round a lead sees
                    page.get_by_label("Sync", exact=True).click()  # a fresh screen: no message from before
                    page.get_by_role("button", name="Sync now").wait_for(timeout=30_000)
                    t0 = time.monotonic()
                    page.get_by_role("button", name="Sync now").click()
                    done = by_id(page, "message").filter(has_text="Synced:")
                    done.wait_for(timeout=180_000)
                    rounds.append(time.monotonic() - t0)
                    said.append(done.get_attribute("aria-label") or done.inner_text())  # what the round sent
                    page.get_by_label("Back", exact=True).click()
                memory = {k: v for k, v in b.processes().items()}
            finally:
                b.close()
    finally:
        server.stop()
        site.stop()
    for label, got in (("rating", taps), ("grade/subject", fields)):
        durable, shown = [d for d, _ in got], [v for _, v in got]
        print(f"{label} tap, ms from pointerdown, n={len(got)}: durable (flush after its commit ended) "
              f"p50 {statistics.median(durable):.0f} p95 {pct(durable, 0.95):.0f} max {max(durable):.0f}; "
              f"chip shown chosen p50 {statistics.median(shown):.0f} p95 {pct(shown, 0.95):.0f} "
              f"max {max(shown):.0f}  (goal: durable p95 <= 50)")
    print(f"sync now, {args.visits}-visit walk: first round {rounds[0]:.2f} s, idle rounds "
          f"{', '.join(f'{r:.2f}' for r in rounds[1:])} s (click -> 'Synced:' on screen)")
    for n, text in enumerate(said, 1):
        print(f"  round {n}: {text}")
    print(f"viewport {args.width}x{args.height}; browser processes at the end: {len(memory)}; load average "
          f"{loads[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (1 min) on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
