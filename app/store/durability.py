"""When a commit is saved for good: at once on a disk; in the browser, only once its file system is flushed.

In the browser (the offline web app) SQLite writes to an in-memory file system that reaches the tablet's storage
(IndexedDB) only when it is flushed (`FS.syncfs`); a tab killed before that silently rolls the file back to the
last flush. The browser's boot calls `install(flush)`; from then on every commit on the device store schedules
one flush on the running event loop, and `await settled()` waits until every commit made before the call is
flushed, so a screen says "saved" only when it is. Without install (desktop, tests, web mode) nothing is
scheduled and `settled()` returns at once.

Flushes are coalesced: one runs at a time; commits made while it runs are covered by one more flush after it.
A flush copies the whole file system, so one success covers every earlier commit. A failed flush is kept: the
next commit retries it, and so does `settled()`, which raises it as a DurabilityError if the retry fails too.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from sync.errors import LearnwalkError

log = logging.getLogger("learnwalk.store")


class DurabilityError(LearnwalkError):
    """The browser did not write the store to the tablet's storage; what is on screen may be lost if the app
    closes before the next successful flush."""


class _Flusher:
    def __init__(self, flush: Callable[[], Awaitable[None]]):
        self.flush = flush
        self.committed = 0  # commits seen so far
        self.flushed = 0  # commits covered by the last successful flush
        self.error: BaseException | None = None  # the last flush's failure, until one succeeds
        self.task: asyncio.Task | None = None
        self.waiters: list[tuple[int, asyncio.Future]] = []  # (commits it waits for, settled()'s future)
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def kick(self) -> None:
        """Start the flush task unless one runs already (it sees the new commits before it stops)."""
        if self.running():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a commit outside the loop's thread or before the loop runs
            if self.loop is not None and not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self.kick)
            return  # else settled() starts it
        self.loop = loop
        self.task = loop.create_task(self._run())

    async def _run(self) -> None:
        while self.flushed < self.committed:
            target = self.committed  # commits after this point need one more flush
            try:
                await self.flush()
            except Exception as exc:  # kept for settled(); the next commit tries again
                self.error = exc
                log.warning("the store could not be flushed to the browser's storage (%s)", type(exc).__name__)
                self._answer(exc)
                return
            self.flushed, self.error = target, None
            self._answer(None)

    def _answer(self, failure: BaseException | None) -> None:
        """Release each settled() whose commits are flushed now; after a failure, fail the others (no flush
        is pending any more): a waiter never waits for commits made after its call."""
        keep = []
        for target, future in self.waiters:
            if future.done():  # its screen stopped waiting
                continue
            if target <= self.flushed:
                future.set_result(None)
            elif failure is not None:
                future.set_exception(_not_saved(failure))
            else:
                keep.append((target, future))
        self.waiters = keep


_flusher: _Flusher | None = None


def install(flush: Callable[[], Awaitable[None]]) -> None:
    """From now on, flush after every commit on the device store (the browser's boot calls this once)."""
    global _flusher
    _flusher = _Flusher(flush)


def uninstall() -> None:
    """Back to commits that are durable by themselves (tests)."""
    global _flusher
    _flusher = None


def installed() -> bool:
    return _flusher is not None


def committed(*_args) -> None:
    """A commit on the device store happened (app/store/db.py calls this; a SQLAlchemy "commit" listener)."""
    f = _flusher
    if f is None:
        return  # desktop: the commit is on disk already
    f.committed += 1
    f.kick()


async def settled() -> None:
    """Return once every commit made before the call is flushed; raise DurabilityError if that failed."""
    f = _flusher
    if f is None:
        return
    target = f.committed
    if f.flushed >= target:
        return
    if not f.running():
        f.kick()  # a kept failure is retried once here; also covers commits made before the loop ran
    future = asyncio.get_running_loop().create_future()
    f.waiters.append((target, future))
    await future  # cancelling this wait (the screen went away) leaves the flush running


def _not_saved(failure: BaseException) -> DurabilityError:
    error = DurabilityError("This visit could not be saved to the tablet's storage "
                            f"({_cause(failure)}); keep the app open, free some space on the tablet, "
                            "then tap again.")
    error.__cause__ = failure
    return error


def _cause(exc: BaseException) -> str:
    """The browser's own words, first line only (never data: a storage error names no record)."""
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else "the browser gave no reason"  # words, never a class name
