"""The offline web app (learnwalk build-web): build size, cold and warm time to interactive, page memory.

    .venv/bin/python bench/pwa.py [--dist FOLDER] [--cold 3] [--warm 3]

Without --dist it builds the site first (timed; wheels from the build's cache). Cold: a new Chromium profile,
nothing cached, from navigation to the Walks screen's "New walk" in the accessibility tree (Pyodide boot, the
app's imports, the store opened). Warm: the same profile reloaded once the service worker has cached the site.
Memory: PSS of Chromium's renderer process (the page, its Python worker and CanvasKit) from /proc, and the
page's JS heap from CDP, after the warm loads. Figures are medians; the machine's load average is printed too.
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

from tests.support.pwa import PwaBrowser, StaticServer  # noqa: E402


def dir_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def pss_mb(browser: PwaBrowser) -> dict[str, float]:
    """PSS by Chromium process type, for the processes of this browser."""
    out: dict[str, float] = {}
    for pid, kind in browser.processes().items():
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        pss = next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
        out[kind] = out.get(kind, 0) + pss / 1024
    return {k: round(v) for k, v in out.items()}


def interactive_s(browser: PwaBrowser, url: str, page=None) -> tuple[float, object]:
    t0 = time.monotonic()
    page = browser.open(url, page=page)
    return time.monotonic() - t0, page


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", type=Path)
    ap.add_argument("--cold", type=int, default=3)
    ap.add_argument("--warm", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pwa-"))
    if args.dist is None:
        from tests.support.pwa import build_site

        figures = build_site(work / "site")
        args.dist = work / "site"
        print(f"build: {figures['seconds']} s (wheels cached), .pyc: {figures['pyc']}")
    print(f"site: {dir_mb(args.dist)} MB in {sum(1 for p in args.dist.rglob('*') if p.is_file())} files; "
          f"app.tar.gz {round((args.dist / 'app.tar.gz').stat().st_size / 2**20, 1)} MB")
    server = StaticServer(args.dist).start()
    try:
        with sync_playwright() as pw:
            cold = []
            for i in range(args.cold):
                b = PwaBrowser(pw, work / f"cold-{i}")
                try:
                    cold.append(interactive_s(b, server.url)[0])
                    print(f"  cold run {i + 1}: {cold[-1]:.1f} s", file=sys.stderr, flush=True)
                finally:
                    b.close()
            b = PwaBrowser(pw, work / "warm")
            try:
                _, page = interactive_s(b, server.url)
                b.wait_offline_ready(page)
                print("  service worker ready", file=sys.stderr, flush=True)
                warm = []
                for _ in range(args.warm):
                    warm.append(interactive_s(b, server.url, page=page)[0])
                    print(f"  warm run {len(warm)}: {warm[-1]:.1f} s", file=sys.stderr, flush=True)
                time.sleep(1.0)
                memory = pss_mb(b)
                cdp = b.ctx.new_cdp_session(page)
                cdp.send("Performance.enable")
                heap = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                outside = b.outside
            finally:
                b.close()
    finally:
        server.stop()
    print(f"cold to interactive (s, n={len(cold)}): median {statistics.median(cold):.1f}  "
          f"runs {', '.join(f'{t:.1f}' for t in cold)}")
    print(f"warm to interactive (s, n={len(warm)}): median {statistics.median(warm):.1f}  "
          f"runs {', '.join(f'{t:.1f}' for t in warm)}  (goal <= 5 s)")
    print(f"memory after the warm loads: renderer PSS {memory.get('renderer')} MB, whole Chromium "
          f"{sum(memory.values())} MB; page JS heap {heap.get('JSHeapUsedSize', 0) / 2**20:.0f} MB")
    print(f"requests off loopback: {len(outside)}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
