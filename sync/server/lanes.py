"""Which pull pages are built at once: a small window at once, a large one in a lane of a few slots.

Building a large page is pure Python for tens of milliseconds (rows read, each record checked with the device's
record shape, the body encoded), all under one interpreter lock. Twenty such builds at once (twenty devices
syncing from the start, or one client that asks twenty times and never reads) took every worker thread and most
of the lock, and pushes waited behind them for seconds (bench/slow_readers.py). So a pull first reads how many
change numbers its window holds (at most one row each): a window of at most `pull_quick_changes` (a device that
syncs as it goes) is built at once; a larger one waits for a slot of the lane on the event loop, holding no
thread and no database connection, and at most `pull_builders` of them are built at once. The other worker
threads stay free for pushes and quick pulls. A page being written to a slow client holds no slot: the body is
built, the slot given back, then it is written.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import anyio
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

T = TypeVar("T")


def open_lanes(app, settings) -> None:
    """Called at start, inside the event loop (where anyio's primitives are made)."""
    app.state.pull_lane = anyio.Semaphore(settings.builders())


async def build_pull(request: Request, window: Callable[[], int], build: Callable[[], T]) -> T:
    """build() in a worker thread: in the same thread as window() (the change numbers the page may hold) when that
    is small, else once a slot of the pull lane is free (given back when build returns)."""
    quick = request.app.state.settings.pull_quick_changes

    def at_once():
        return (build(),) if window() <= quick else None

    done = await run_in_threadpool(at_once)
    if done is not None:
        return done[0]
    async with request.app.state.pull_lane:
        return await run_in_threadpool(build)
