"""The offline web app (learnwalk build-web): build size, cold and warm time to interactive, where the time goes,
page memory.

    .venv/bin/python bench/pwa.py [--dist FOLDER] [--baseline FOLDER] [--cold 3] [--warm 3]

Without --dist it builds the site first (timed; wheels from the build's cache). Cold: a new Chromium profile,
nothing cached, from navigation to the Walks screen's "New walk" in the accessibility tree (Pyodide boot, the
app's imports, the store opened). Warm: the same profile reloaded once the service worker has cached the site.
Each warm load's timeline comes from the console lines of the page and its Python worker (flet's own and the
"learnwalk start-up:" marks of app/web/boot.py), timed as they arrive. --baseline FOLDER (an earlier build):
its warm loads are interleaved with the site's, so both see the same machine load, and each phase is printed
as a ratio to the baseline's. Memory: PSS of Chromium's renderer process (the page, its Python worker and
CanvasKit) from /proc, and the page's JS heap from CDP, after the warm loads. Figures are medians; the machine's
load average is printed too.
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

# (phase name, the start of the console line that ends it); in the order they happen in a start
PHASES = [
    ("Flutter engine loaded", "Flutter app loaded"),
    ("Pyodide booted", "python_module_name:"),
    ("app.tar.gz unpacked", "Adding __pypackages__"),
    ("app modules imported", "learnwalk start-up: modules imported"),
    ("engine connected to Python", "Python worker initialized"),
    ("store open", "learnwalk start-up: store open"),
    ("first screen built", "learnwalk start-up: first screen built"),
]


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


class Timed:
    """A browser whose console lines (page and workers) are kept with their arrival time."""

    def __init__(self, browser: PwaBrowser):
        self.browser, self.lines, self.t0 = browser, [], 0.0
        browser.ctx.on("console", lambda m: self.lines.append((time.monotonic() - self.t0, m.text)))

    def load(self, url: str, page=None) -> tuple[float, dict[str, float], object]:
        """(seconds to interactive, seconds from navigation to the end of each phase seen, page)."""
        self.lines.clear()
        self.t0 = time.monotonic()
        page = self.browser.open(url, page=page)
        total = time.monotonic() - self.t0
        ends = {}
        for name, prefix in PHASES:
            seen = [t for t, text in self.lines if text.startswith(prefix)]
            if seen:
                ends[name] = seen[0]
        return total, ends, page


def timeline(runs: list[dict[str, float]], totals: list[float]) -> dict[str, float]:
    """Median end of each phase over the runs, plus interactive."""
    out = {}
    for name, _ in PHASES:
        seen = [r[name] for r in runs if name in r]
        if seen:
            out[name] = statistics.median(seen)
    out["interactive"] = statistics.median(totals)
    return out


def print_timeline(label: str, line: dict[str, float]) -> None:
    print(f"{label} (s from navigation, median end of each phase seen; its length in brackets)")
    prev = 0.0
    for name, end in line.items():
        print(f"  {name:28} {end:6.1f}  [{end - prev:5.1f}]")
        prev = end


def stage_ratios(site: dict[str, float], base: dict[str, float]) -> None:
    """Ratios of the lengths of the stages both timelines mark (a build without app/web/boot.py's marks has
    fewer): each stage runs from the previous common mark to this one."""
    prev_s = prev_b = 0.0
    parts = []
    for name in site:
        if name in base:
            ls, lb = site[name] - prev_s, base[name] - prev_b
            parts.append(f"{name} {ls:.1f}/{lb:.1f} s x{ls / lb:.2f}" if lb > 0 else f"{name} {ls:.1f}/{lb:.1f} s")
            prev_s, prev_b = site[name], base[name]
    print("stages, site/baseline: " + "; ".join(parts))


def warm_site(pw, work: Path, name: str, folder: Path) -> tuple[StaticServer, PwaBrowser, Timed, object]:
    server = StaticServer(folder).start()
    b = PwaBrowser(pw, work / f"warm-{name}")
    timed = Timed(b)
    _, _, page = timed.load(server.url)
    b.wait_offline_ready(page)
    print(f"  {name}: service worker ready", file=sys.stderr, flush=True)
    return server, b, timed, page


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", type=Path)
    ap.add_argument("--baseline", type=Path, help="an earlier build; its warm loads are interleaved")
    ap.add_argument("--cold", type=int, default=3)
    ap.add_argument("--warm", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pwa-"))
    if args.dist is None:
        from tests.support.pwa import build_site

        figures = build_site(work / "site")
        args.dist = work / "site"
        print(f"build: {figures['seconds']} s (wheels cached), .pyc: {figures['pyc']}")
    sites = {"site": args.dist, **({"baseline": args.baseline} if args.baseline else {})}
    for name, folder in sites.items():
        print(f"{name}: {dir_mb(folder)} MB in {sum(1 for p in folder.rglob('*') if p.is_file())} files; "
              f"app.tar.gz {round((folder / 'app.tar.gz').stat().st_size / 2**20, 1)} MB")
    loads = [os.getloadavg()[0]]
    with sync_playwright() as pw:
        cold = []
        server = StaticServer(args.dist).start()
        try:
            for i in range(args.cold):
                b = PwaBrowser(pw, work / f"cold-{i}")
                try:
                    cold.append(Timed(b).load(server.url)[0])
                    print(f"  cold run {i + 1}: {cold[-1]:.1f} s", file=sys.stderr, flush=True)
                finally:
                    b.close()
        finally:
            server.stop()
        opened = {name: warm_site(pw, work, name, folder) for name, folder in sites.items()}
        warm: dict[str, list] = {name: [] for name in sites}
        try:
            for i in range(args.warm):
                for name, (server, b, timed, page) in opened.items():
                    total, ends, _ = timed.load(server.url, page=page)
                    warm[name].append((total, ends))
                    loads.append(os.getloadavg()[0])
                    print(f"  {name} warm run {i + 1}: {total:.1f} s", file=sys.stderr, flush=True)
            time.sleep(1.0)
            server, b, timed, page = opened["site"]
            memory = pss_mb(b)
            cdp = b.ctx.new_cdp_session(page)
            cdp.send("Performance.enable")
            heap = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            outside = b.outside
        finally:
            for server, b, _, _ in opened.values():
                b.close()
                server.stop()
    if cold:
        print(f"cold to interactive (s, n={len(cold)}): median {statistics.median(cold):.1f}  "
              f"runs {', '.join(f'{t:.1f}' for t in cold)}")
    lines = {}
    for name, runs in warm.items():
        totals = [t for t, _ in runs]
        lines[name] = timeline([e for _, e in runs], totals)
        print(f"{name} warm to interactive (s, n={len(totals)}): median {statistics.median(totals):.1f}  "
              f"runs {', '.join(f'{t:.1f}' for t in totals)}  (goal <= 5 s)")
    if "baseline" in lines:
        print(f"warm ratio site/baseline: x{lines['site']['interactive'] / lines['baseline']['interactive']:.2f}")
    for name, line in lines.items():
        print_timeline(f"{name} warm timeline", line)
    if "baseline" in lines:
        stage_ratios(lines["site"], lines["baseline"])
    print(f"memory after the warm loads: renderer PSS {memory.get('renderer')} MB, whole Chromium "
          f"{sum(memory.values())} MB; page JS heap {heap.get('JSHeapUsedSize', 0) / 2**20:.0f} MB")
    print(f"requests off loopback: {len(outside)}; load average {min(loads):.1f}-{max(loads):.1f} during the runs "
          f"on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
