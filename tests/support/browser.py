"""The real app process driven in headless Chromium: fixtures (tests/browser/conftest.py uses them) and helpers.

Browser fixtures (reusable by every screen's browser test)
    app_process        factory: app_process(data_dir) starts `learnwalk app --web --port <free> --data-dir DIR`
                       and returns an AppProcess(url, proc, data_dir); .kill() sends SIGKILL; all are stopped at
                       teardown. Waits until the server answers.
    browser            one headless Debian Chromium per test module (/usr/bin/chromium).
    ui_page            factory: ui_page(url, width=800, height=1280) opens a new tab (a new Flet session) with a fixed
                       viewport, waits for the app and turns Flutter's accessibility tree on, so get_by_role,
                       get_by_label and [flt-semantics-identifier=...] selectors work. Returns the Playwright page;
                       page.outside_requests lists every URL it requested from anywhere but loopback.
                       Flutter's accessibility DOM can lag behind its own scrolling: give a long screen a tall
                       viewport (e.g. height=4800) rather than scroll, or use tap() below.
    Helpers: by_id(page, identifier) locates a control by its semantics identifier; tap(locator) scrolls it on
    screen, waits until Flutter has stopped moving it, then clicks (a click during a scroll can land on the widget
    that was there a frame earlier); focus_field(locator) taps a
    text field until it has focus (Flutter takes typing only then); type_into(page, label, text) focuses the field
    with that label and types.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# ---- the real app process ---------------------------------------------------------------------------------

def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"learnwalk app exited with status {proc.returncode} before it listened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"learnwalk app did not listen on port {port} within {timeout:.0f} s")


@dataclass
class AppProcess:
    url: str
    proc: subprocess.Popen
    data_dir: Path
    port: int

    def kill(self) -> None:
        """SIGKILL, as when a tablet's battery dies: nothing gets a chance to flush."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def learnwalk_exe() -> list[str]:
    exe = Path(sys.executable).with_name("learnwalk")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "app"]


@pytest.fixture
def app_process(tmp_path):
    started: list[AppProcess] = []

    def start(data_dir: Path | None = None, port: int | None = None, extra_env: dict | None = None) -> AppProcess:
        data_dir = Path(data_dir or tmp_path / "device")
        port = port or _port()
        env = {**os.environ, **(extra_env or {})}
        env.pop("FLET_APP_STORAGE_DATA", None)
        log = open(tmp_path / f"app-{port}-{len(started)}.log", "wb")
        proc = subprocess.Popen([*learnwalk_exe(), "app", "--web", "--port", str(port), "--data-dir", str(data_dir)],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        app = AppProcess(f"http://127.0.0.1:{port}/", proc, data_dir, port)
        started.append(app)
        _wait_listening(port, proc)
        return app

    yield start
    for app in started:
        app.stop()


# ---- the browser ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def ui_page(browser):
    contexts = []

    def open_page(url: str, width: int = 800, height: int = 1280):
        ctx = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(ctx)
        page = ctx.new_page()
        page.outside_requests = []  # what the page asked of anything but loopback (it must work offline)
        page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "blob:", "data:"))
                else page.outside_requests.append(r.url))
        page.goto(url)
        turn_on_semantics(page)
        return page

    yield open_page
    for ctx in contexts:
        ctx.close()


def turn_on_semantics(page, timeout: float = 30) -> None:
    """Wait for Flutter's engine, then turn its accessibility tree on (roles, labels, identifiers in the DOM)."""
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=timeout * 1000)
    page.locator("flt-semantics-placeholder").evaluate("el => el.click()")
    page.wait_for_selector("flt-semantics", state="attached", timeout=15_000)


def by_id(page, identifier: str):
    return page.locator(f'[flt-semantics-identifier="{identifier}"]')


def settle(locator, page=None) -> None:
    """Bring a control on screen and wait until Flutter has finished moving it.

    Flutter scrolls its canvas a few frames after the accessibility DOM scrolls; a click before that lands on
    whatever widget is under the pointer then (in one run: the note field of the card above).
    """
    locator.scroll_into_view_if_needed()
    page = page or locator.page
    last = None
    for _ in range(20):
        box = locator.bounding_box()
        if box is not None and box == last:
            return
        last = box
        page.wait_for_timeout(120)


def tap(locator) -> None:
    """Click a control the way a finger would: once it is on screen and still."""
    settle(locator)
    locator.click()


def focus_field(field) -> None:
    """Click a text field until it has focus: a click far down the page may first only scroll it into view,
    and Flutter takes typing (and shows a field's text in the DOM) only in the focused field."""
    for _ in range(5):
        tap(field)
        # Flutter moves the DOM focus to the field it really focused a moment later: check after that
        field.page.wait_for_timeout(150)
        if field.evaluate("el => document.activeElement === el"):
            return
        field.page.wait_for_timeout(200)
    raise AssertionError(f"the text field {field} did not take focus")


def type_into(page, label: str, text: str) -> None:
    from playwright.sync_api import expect

    field = page.get_by_label(label, exact=True)
    focus_field(field)
    field.fill(text)
    expect(field).to_have_value(text)


# ---- touch targets, measured in Flutter's semantics DOM ------------------------------------------------------

# every control a finger can use: Flutter gives each a role (or flt-tappable) on its flt-semantics node; text
# fields are input/textarea elements
INTERACTIVE = ("flt-semantics[role=button], flt-semantics[role=checkbox], flt-semantics[role=radio], "
               "flt-semantics[role=switch], flt-semantics[role=slider], flt-semantics[role=link], "
               "flt-semantics[role=tab], flt-semantics[role=menuitem], [flt-tappable], input, textarea")

_MEASURE = """([sel, bottom]) => [...document.querySelectorAll(sel)]
    .map(el => [el.getAttribute('aria-label') || el.getAttribute('flt-semantics-identifier')
                || el.textContent.trim().slice(0, 40) || el.tagName, el.getBoundingClientRect()])
    // only controls wholly on screen: one cut by an edge reports just its visible part
    .filter(([name, r]) => r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
                           && r.bottom <= bottom && r.right <= window.innerWidth + 0.5)
    .map(([name, r]) => [name, Math.round(r.width * 10) / 10, Math.round(r.height * 10) / 10])"""


def measure_targets(page, *, width: int, tall: int = 9000, min_size: float = 48) -> tuple[int, list[str]]:
    """(controls measured, those smaller than min_size x min_size) on the current screen laid out at this width.

    Measured in a viewport tall enough for the whole screen (the capture screen is about 7,000 px at phone
    width): a control scrolled half under a sticky header or the app bar, or cut by the bottom of a screen
    taller still, reports only its visible part, which is not its size; controls within a few pixels of the
    bottom edge are left out for that reason. The width decides the layout (columns,
    wrapping); the viewport is set back afterwards."""
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": tall})
    page.wait_for_timeout(800)  # the first frame after a resize can still show the previous layout
    found = page.evaluate(_MEASURE, [INTERACTIVE, tall - 16])
    page.set_viewport_size(before)
    page.wait_for_timeout(400)
    small = [f"{name} {w:g}x{h:g}" for name, w, h in found if w < min_size - 0.5 or h < min_size - 0.5]
    return len(found), small


def in_view(locator) -> bool:
    """Whether the control is wholly inside the viewport (not scrolled away)."""
    box = locator.bounding_box()
    size = locator.page.viewport_size
    return (box is not None and box["y"] >= 0 and box["x"] >= 0 and box["y"] + box["height"] <= size["height"]
            and box["x"] + box["width"] <= size["width"])


def files_under(folder) -> set[str]:
    """The files under a data folder, but the device store's own (its SQLite file, journal and lock files): a
    download must add none."""
    store = (".sqlite", ".sqlite-wal", ".sqlite-shm", ".sqlite-journal", ".lock", ".db", ".db-wal", ".db-shm")
    return {str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file() and not p.name.endswith(store)}
