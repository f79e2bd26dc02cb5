"""The browser entry of the web build: the script the site starts runs `start()` (app/web/build.py writes it).

One tab only: every tab runs its own Python with its own in-memory copy of the store, and the last to flush
would silently overwrite the other's visits. So before anything touches the store the tab takes the Web Lock
"learnwalk-store" for its whole life; a tab that cannot take it shows one plain screen saying so and never opens
the store. Then: the browser's storage mounted at /data, the store opened there (FLET_APP_STORAGE_DATA, as in a
native build), every commit followed by a flush (app.store.durability, when present), and the same app as
`app.main.run`.
"""
from __future__ import annotations

import json
import logging
import os

import flet as ft

DATA = "/data"
LOCK_NAME = "learnwalk-store"
CONFIG_URL = "learnwalk-config.json"  # beside index.html; written by the build (build-web --server-url)
ALREADY_OPEN = ("learnwalk is already open in another tab or window of this browser. Close this one and use the "
                "other: two open copies would overwrite each other's visits.")
NO_LOCKS = ("This browser is too old to keep learnwalk's walks safe (it cannot tell open copies apart); update "
            "the tablet (iPadOS 15.4 or later) or its browser, then open learnwalk again.")
OPEN_FAILED = "learnwalk could not open its storage in this browser; reload the page, or reinstall the app."

MARK = "learnwalk start-up:"
log = logging.getLogger("learnwalk.app")
_held: list = []  # the lock callback's proxy: kept for the page's life, so the lock is never released

# Asks for the lock and answers `granted(true|false)` at once; when granted, the promise it returns never settles,
# so the browser keeps the lock until this tab (its Python worker) is gone.
_REQUEST_LOCK = """
return navigator.locks.request(name, {ifAvailable: true}, (lock) => {
  granted(lock !== null);
  return lock === null ? null : new Promise(() => {});
});
"""


async def hold_store_lock() -> bool:
    """Take this browser's one learnwalk lock for the life of the tab; False when another tab holds it."""
    import asyncio

    import js
    from pyodide.ffi import create_proxy

    from app.web.storage import BrowserStorageError

    if not getattr(js.navigator, "locks", None):
        raise BrowserStorageError(NO_LOCKS)
    answer = asyncio.get_running_loop().create_future()
    granted = create_proxy(lambda ok: answer.done() or answer.set_result(bool(ok)))
    _held.append(granted)
    js.Function.new("name", "granted", _REQUEST_LOCK)(LOCK_NAME, granted)
    return await answer


async def read_config() -> dict:
    """The site's learnwalk-config.json ({"server_url": ...}), or {} when the build wrote none."""
    try:
        from pyodide.http import pyfetch

        response = await pyfetch(CONFIG_URL)
        if not response.ok:
            return {}
        config = json.loads(await response.string())
        return config if isinstance(config, dict) else {}
    except Exception:  # no config is a normal build; a broken one must not stop the app
        log.warning("learnwalk-config.json could not be read; starting without a server address")
        return {}


def install_durability() -> None:
    """After this, every commit on the store schedules a flush to IndexedDB (app.store.durability)."""
    from app.web import storage

    try:
        from app.store import durability
    except ImportError:  # the durability hook lands separately; until then nothing flushes after a commit
        log.warning("app.store.durability is missing: commits are not flushed to the browser's storage")
        return
    durability.install(storage.flush)


def plain_screen(page: ft.Page, text: str, identifier: str) -> None:
    page.title = "learnwalk"
    page.add(ft.Semantics(identifier=identifier, live_region=True,
                          content=ft.Container(ft.Text(text, size=18), padding=24)))


class Boot:
    """One per tab (the worker has one session): opens the device in before_main, then hands over."""

    def __init__(self):
        self.main = None
        self.refusal: tuple[str, str] | None = None  # (sentence, semantics identifier) when the app cannot run

    async def before_main(self, page: ft.Page) -> None:
        from sync.errors import LearnwalkError

        try:
            if not await hold_store_lock():
                self.refusal = (ALREADY_OPEN, "already-open")
                return
            from app.web import storage

            await storage.mount(DATA)
            mark("storage mounted")
            os.environ["FLET_APP_STORAGE_DATA"] = DATA
            install_durability()
            from app.main import open_device, session_handlers
            from app.store.db import default_data_dir

            device = open_device(default_data_dir())
            mark("store open")
            config = await read_config()
            self.main, before_main = session_handlers(device, server_hint=str(config.get("server_url") or ""),
                                                      storage_persistent=await storage.persisted())
        except LearnwalkError as exc:
            self.refusal = (str(exc), "boot-error")
            return
        except Exception as exc:
            from app.device import where

            log.error("boot failed: %s at %s", type(exc).__name__, where(exc))
            self.refusal = (OPEN_FAILED, "boot-error")
            return
        await before_main(page)

    def run_main(self, page: ft.Page) -> None:
        if self.main is None:
            plain_screen(page, *(self.refusal or (OPEN_FAILED, "boot-error")))
            return
        self.main(page)
        mark("first screen built")


def mark(phase: str) -> None:
    """One line of the start-up timeline in the browser's console (bench/pwa.py reads it); nothing identifying."""
    try:
        import js

        js.console.info(f"{MARK} {phase}")
    except ImportError:  # not in a browser
        pass


def start() -> None:
    """Run the app in this tab (called by the site's launcher script)."""
    mark("python started")
    # The app's modules (SQLAlchemy, pydantic, flet's controls) load here, before ft.run: python.js starts this
    # worker while Flutter's engine is still loading, so this import overlaps it instead of following it.
    try:
        import app.main  # noqa: F401
    except Exception:  # before_main imports it again and shows the failure on the screen
        log.exception("the app's modules did not import")
    mark("modules imported")
    boot = Boot()
    ft.run(boot.run_main, before_main=boot.before_main)
