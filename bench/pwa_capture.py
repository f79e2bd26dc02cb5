"""The offline web app at work: tap to durable commit in the browser, and syncing a 40-visit walk from it.

    .venv/bin/python bench/pwa_capture.py [--dist FOLDER] [--visits 40]

Against a real `learnwalk serve` (SQLite) on loopback, in headless Chromium, on the built site (built first when
--dist is not given). A tap is a mouse click on the chip, as the e2e tests tap, timed inside the page from its
pointerdown to the moment the chip turns aria-checked: the app does that only after the commit AND the browser file-system flush
(app/store/durability.settled()), so it is the time until the tap is durable, as the observer sees it. Rating taps
and grade/subject taps are reported apart (p50, p95). `--visits` visits (grade, subject, 3 ratings each) are
recorded with the server stopped; then the server is started and "Sync now" is timed from the click to "Synced:" on
the screen: the first round sends the walk, the next ones are the idle rounds a lead sees.
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

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support import serverproc as harness  # noqa: E402
from tests.support.browser import by_id, settle, type_into  # noqa: E402
from tests.support.pwa import PwaBrowser, StaticServer, rating_choices, site_with_server  # noqa: E402

# armed before a finger-like click (Playwright's mouse, as the e2e tests tap): resolves with the ms from the
# pointerdown on the chip until the chip reports aria-checked=true (the app shows it once durable). A DOM
# el.click() is not a tap here: a chip named with its look-for is a checkbox node whose tap target is a child node
ARM_TAP = """(ident) => {
  const sel = `[flt-semantics-identifier="${ident}"]`;
  let t0 = null;
  window.addEventListener('pointerdown', () => { t0 = performance.now(); }, {capture: true, once: true});
  window.__tapped = new Promise((resolve, reject) => {
    const deadline = performance.now() + 30000;
    const poll = () => {
      const el = document.querySelector(sel);
      if (t0 !== null && el && el.getAttribute('aria-checked') === 'true') return resolve(performance.now() - t0);
      if (performance.now() > deadline) return reject(new Error(
        t0 === null ? 'no pointerdown within 30 s: ' + ident : 'no aria-checked within 30 s: ' + ident));
      requestAnimationFrame(poll);
    };
    poll();
  });
}"""
FOCUS = ["Students learn with each other", "Affirming environment"]


def timed_tap(page, ident: str) -> float:
    """ms from the pointerdown of a click on the chip until it shows chosen (durable)."""
    chip = by_id(page, ident)
    settle(chip)  # on screen and still, so the click lands on the chip (tests/support/browser.py)
    page.evaluate(ARM_TAP, ident)
    chip.click()
    return page.evaluate("() => window.__tapped")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", type=Path)
    ap.add_argument("--visits", type=int, default=40)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pwa-capture-"))
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
                page.set_viewport_size({"width": 800, "height": 4800})
                page.wait_for_timeout(1000)
                page.get_by_role("checkbox", name="Lincoln Elementary").click()
                for name in FOCUS:
                    page.get_by_label(name, exact=True).click()
                page.get_by_role("button", name="Start walk").click()

                taps: list[float] = []
                fields: list[float] = []
                for n in range(1, args.visits + 1):
                    page.get_by_role("button", name="New visit").click()
                    page.get_by_text(f"Visit {n}", exact=True).wait_for(timeout=60_000)
                    fields.append(timed_tap(page, "grade:4"))
                    fields.append(timed_tap(page, "subject:Math"))
                    page.wait_for_timeout(300)
                    choices = rating_choices(page)
                    for lookfor in list(choices)[:3]:
                        value = next(v for v in choices[lookfor] if v != "na")
                        taps.append(timed_tap(page, f"rate:{lookfor}:{value}"))
                    page.get_by_role("button", name="Finish visit").click()
                    finish_anyway = page.get_by_role("button", name="Finish anyway")
                    finish_anyway.wait_for(timeout=30_000)  # not every look-for rated: the app asks once
                    finish_anyway.click()
                    page.get_by_role("button", name="New visit").wait_for(timeout=60_000)
                    print(f"  visit {n}: {len(taps)} taps so far", file=sys.stderr, flush=True)

                server.start(port=port)
                page.set_viewport_size({"width": 800, "height": 1280})
                page.get_by_label("Back", exact=True).click()
                rounds = []
                for _ in range(3):  # the first sends the walk; later rounds are the idle round a lead sees
                    page.get_by_label("Sync", exact=True).click()  # a fresh screen: no message from before
                    page.get_by_role("button", name="Sync now").wait_for(timeout=30_000)
                    t0 = time.monotonic()
                    page.get_by_role("button", name="Sync now").click()
                    by_id(page, "message").filter(has_text="Synced:").wait_for(timeout=180_000)
                    rounds.append(time.monotonic() - t0)
                    page.get_by_label("Back", exact=True).click()
                memory = {k: v for k, v in b.processes().items()}
            finally:
                b.close()
    finally:
        server.stop()
        site.stop()
    print(f"tap to durable (click -> chip shown, after commit + file-system flush), ms, n={len(taps)}: "
          f"p50 {statistics.median(taps):.0f}  p95 {pct(taps, 0.95):.0f}  max {max(taps):.0f}  (goal p95 <= 50)")
    print(f"grade/subject tap to durable, ms, n={len(fields)}: p50 {statistics.median(fields):.0f}  "
          f"p95 {pct(fields, 0.95):.0f}")
    print(f"sync now, {args.visits}-visit walk: first round {rounds[0]:.2f} s, idle rounds "
          f"{', '.join(f'{r:.2f}' for r in rounds[1:])} s (click -> 'Synced:' on screen)")
    print(f"browser processes at the end: {len(memory)}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")


if __name__ == "__main__":
    main()
