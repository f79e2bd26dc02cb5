"""The store's folder in the browser: Emscripten's IDBFS mounted at /data, copied to IndexedDB on flush.

In Pyodide every file lives in memory; a commit reaches IndexedDB only when `flush` (FS.syncfs) has finished
after it, so a commit is durable once the flush after it is done (docs/tablets.md). Only useful under Pyodide:
js and pyodide are imported inside the functions, so this module imports anywhere.
"""
from __future__ import annotations

import asyncio
import os

from sync.errors import LearnwalkError

_lock: asyncio.Lock | None = None  # two syncfs at once would interleave their IndexedDB transactions


class BrowserStorageError(LearnwalkError):
    """The browser's storage refused to keep or give back the walks."""


def _syncfs(populate: bool) -> asyncio.Future:
    """FS.syncfs as a future: populate=True copies IndexedDB into memory, False memory into IndexedDB."""
    import pyodide_js
    from pyodide.ffi import create_once_callable

    done = asyncio.get_running_loop().create_future()

    def finished(err=None) -> None:
        if done.done():
            return
        if err:
            done.set_exception(RuntimeError(str(err)))
        else:
            done.set_result(None)

    pyodide_js.FS.syncfs(populate, create_once_callable(finished))
    return done


async def _run(populate: bool, failure: str) -> None:
    global _lock
    if _lock is None:
        _lock = asyncio.Lock()
    async with _lock:
        try:
            await _syncfs(populate)
        except Exception as exc:
            raise BrowserStorageError(failure) from exc


async def mount(path: str = "/data") -> None:
    """Mount the browser's persistent file system at path and bring back what it kept."""
    import js
    import pyodide_js
    from pyodide.ffi import to_js

    fs = pyodide_js.FS
    os.makedirs(path, exist_ok=True)
    try:
        fs.mount(fs.filesystems.IDBFS, to_js({}, dict_converter=js.Object.fromEntries), path)
    except Exception as exc:
        raise BrowserStorageError(f"This browser would not open its storage for {path}; use the installed app "
                                  "in Safari or Chrome with private browsing off.") from exc
    await _run(True, "This browser could not read back the walks it keeps; close other tabs of learnwalk, "
                     "then reload the page.")


async def flush() -> None:
    """Copy the store's folder to the browser's IndexedDB; the commits before it are durable when it returns."""
    await _run(False, "This browser refused to save the last change (its storage may be full or blocked); free "
                      "space or leave private browsing, then tap again.")


async def persisted() -> bool:
    """Whether the browser agreed to keep this site's storage (the page asks with navigator.storage.persist()
    at every start; browsers grant it to installed apps). False when it refused or cannot say: the Walks screen
    then warns that unsynced visits could be deleted."""
    import js

    manager = getattr(js.navigator, "storage", None)
    if manager is None or not hasattr(manager, "persisted"):
        return False
    try:
        return bool(await manager.persisted())
    except Exception:  # a browser that cannot answer has promised nothing
        return False
