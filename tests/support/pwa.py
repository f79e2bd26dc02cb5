"""The built offline web app (app/web/build.py) served from a static folder and opened in headless Chromium.

Fixtures and helpers (tests/browser/test_pwa_build_browser.py uses them; an end-to-end test reuses them):
    pwa_dist           session fixture: the site, built once per session into build/test-pwa/<hash of the
                       sources>, so an unchanged tree reuses the last build (wheels cached in build/test-pwa/wheels)
    site_with_server(dist, dest, server_url)   a copy of the site whose Settings offers server_url
    StaticServer(folder)   a separate `python -m http.server` process on a loopback port: .start(), .stop()
                       (a stopped server's port is kept, so .start() again serves the same origin), .url
    pwa_browser        factory: pwa_browser(profile_dir) launches Debian Chromium on a persistent profile (so
                       IndexedDB, Cache Storage and the service worker survive a relaunch) with every request
                       off loopback sent to a black-hole proxy that records and refuses it; .close() at teardown
    PwaBrowser.open(url) opens a tab, turns Flutter's semantics tree on and waits for the Walks screen (or
                       the identifier given); .outside lists what anything tried to reach off loopback;
                       .wait_offline_ready(page) waits until the service worker has cached the site; .kill()
                       SIGKILLs the browser and .launch() reopens the same profile; .processes() for memory.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, ROOT, _port, by_id, turn_on_semantics

CACHE = ROOT / "build" / "test-pwa"
SOURCES = ["app", "sync", "rubrics"]
# Chromium's own background traffic (updater, sign-in, autofill hints): sent with or without any page open
CHROMIUM_SERVICES = ("update.googleapis.com", "accounts.google.com", "clients2.google.com",
                     "content-autofill.googleapis.com", "optimizationguide-pa.googleapis.com",
                     "safebrowsing.googleapis.com")
LOAD_TIMEOUT = 180  # seconds; a cold start is 8-14 s on this 2-core machine, far more under a full suite


def sources_hash() -> str:
    """What the build reads from this tree (client packages, pins, worker) plus the flet-web in use."""
    import flet_web

    digest = hashlib.sha256(str(Path(flet_web.__file__).parent).encode())
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build_site(out: Path, server_url: str | None = None) -> dict:
    from app.web.build import build_web

    return build_web(out, server_url=server_url, cache=CACHE / "wheels")


@pytest.fixture(scope="session")
def pwa_dist() -> Path:
    site = CACHE / sources_hash()
    CACHE.mkdir(parents=True, exist_ok=True)
    # pytest -n 2 runs a session per worker: one builds, the other waits for it and reuses the site
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (site / "flutter_service_worker.js").exists():
            for old in CACHE.glob("*"):
                if old.name != "wheels" and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
            build_site(site)
    return site


def site_with_server(dist: Path, dest: Path, server_url: str) -> Path:
    """A copy of the built site that offers server_url on Settings (its config and service worker redone)."""
    from app.web.postprocess import postprocess

    shutil.copytree(dist, dest)
    postprocess(dest, server_url=server_url)
    return dest


class StaticServer:
    """The site on http://127.0.0.1:<port>/ from a separate process, as a district's static host would."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder, self.port = Path(folder), port or _port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "StaticServer":
        self.proc = subprocess.Popen([sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
                                      "--directory", str(self.folder)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the static server did not listen on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


class BlackHole:
    """A proxy that records the first line of every request sent to it and answers none (closes)."""

    def __init__(self):
        self.seen: list[str] = []
        seen = self.seen

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                try:
                    line = self.request.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
                except OSError:
                    line = "?"
                seen.append(line)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class PwaBrowser:
    """Chromium on one persistent profile; what it tried to reach off loopback is in .outside."""

    def __init__(self, playwright, profile: Path):
        self.playwright, self.profile = playwright, Path(profile)
        self.hole = BlackHole()
        self.requests: list[str] = []
        self.ctx = None
        self.launch()

    def launch(self) -> None:
        self.ctx = self.playwright.chromium.launch_persistent_context(
            str(self.profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            service_workers="allow", viewport={"width": 800, "height": 1280},
            proxy={"server": f"http://127.0.0.1:{self.hole.port}", "bypass": "127.0.0.1,localhost,[::1]"})
        self.ctx.on("request", lambda r: self.requests.append(r.url))

    @property
    def outside(self) -> list[str]:
        """What the app asked of anywhere but loopback: the pages' and workers' requests, and whatever reached
        the proxy but Chromium's own services (its updater and sign-in, which no page asked for)."""
        page_seen = [u for u in self.requests if u.startswith("http") and not u.startswith(
            ("http://127.0.0.1", "http://localhost", "http://[::1]"))]
        return page_seen + [line for line in self.hole.seen if not any(h in line for h in CHROMIUM_SERVICES)]

    def open(self, url: str, *, until: str | None = "new-walk", page=None):
        """Open url in a tab (a new one unless page is given), semantics on, until that identifier shows."""
        if page is None:
            page = self.ctx.pages[0] if len(self.ctx.pages) == 1 and self.ctx.pages[0].url == "about:blank" \
                else self.ctx.new_page()
        page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT * 1000)
        turn_on_semantics(page, timeout=LOAD_TIMEOUT)
        if until:
            by_id(page, until).wait_for(timeout=LOAD_TIMEOUT * 1000)
        return page

    def wait_offline_ready(self, page, timeout: float = 120) -> dict:
        """Until the service worker is active, controls the page and has cached every file of the site."""
        deadline = time.monotonic() + timeout
        state: dict = {}
        while time.monotonic() < deadline:
            state = page.evaluate("""async () => {
                const reg = await navigator.serviceWorker.getRegistration();
                const keys = (await caches.keys()).filter((k) => k.startsWith('learnwalk-'));
                let entries = 0;
                for (const k of keys) entries += (await (await caches.open(k)).keys()).length;
                return {active: !!(reg && reg.active && reg.active.state === 'activated'),
                        controlled: !!navigator.serviceWorker.controller, caches: keys, entries};
            }""")
            if state["active"] and state["controlled"] and len(state["caches"]) == 1 and state["entries"] > 0:
                return state
            time.sleep(0.5)
        raise AssertionError(f"the service worker did not get ready: {state}")

    def processes(self) -> dict[int, str]:
        """pid -> Chromium process type ("browser", "renderer", "gpu-process", ...) of this profile's browser."""
        procs = {}
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                procs[int(d.name)] = (cmd, ppid)
        found = {pid: "browser" for pid, (cmd, _) in procs.items()
                 if f"--user-data-dir={self.profile}" in cmd and "--type=" not in cmd}
        todo = list(found)
        while todo:
            parent = todo.pop()
            for pid, (cmd, ppid) in procs.items():
                if ppid == parent and pid not in found:
                    m = re.search(r"--type=(\S+)", cmd)
                    found[pid] = m.group(1) if m else "browser"
                    todo.append(pid)
        return found

    def kill(self) -> None:
        """SIGKILL the browser, as when a tablet's battery dies; .launch() opens the same profile again."""
        for pid, kind in self.processes().items():
            if kind == "browser":
                os.kill(pid, signal.SIGKILL)
        try:
            self.ctx.close()
        except Exception:  # the connection is gone with the browser
            pass

    def close(self) -> None:
        try:
            self.ctx.close()
        finally:
            self.hole.close()


RATE_IDS = """() => [...document.querySelectorAll('[flt-semantics-identifier^="rate:"]')]
    .map((el) => el.getAttribute('flt-semantics-identifier'))"""


def rating_choices(page) -> dict[str, list[str]]:
    """look-for id -> the choice values the visit screen shows (rate:<look-for>:<value>; 'na' = Not observed)."""
    out: dict[str, list[str]] = {}
    for ident in page.evaluate(RATE_IDS):
        _, lookfor, value = ident.split(":", 2)
        out.setdefault(lookfor, []).append(value)
    return out


@pytest.fixture
def pwa_browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    opened: list[PwaBrowser] = []
    with sync_playwright() as pw:
        def launch(profile: Path) -> PwaBrowser:
            b = PwaBrowser(pw, profile)
            opened.append(b)
            return b

        yield launch
        for b in opened:
            b.close()


@pytest.fixture
def static_site():
    """factory: static_site(folder) -> a started StaticServer; all are stopped at teardown."""
    servers: list[StaticServer] = []

    def start(folder: Path) -> StaticServer:
        servers.append(StaticServer(folder).start())
        return servers[-1]

    yield start
    for s in servers:
        s.stop()
