"""FairLock hands itself over in arrival order: a thread that releases and asks again queues behind a waiter."""
from __future__ import annotations

import threading
import time

from sync.fair_lock import FairLock


def _until(cond) -> None:
    deadline = time.monotonic() + 10
    while not cond():
        assert time.monotonic() < deadline, "the waiter never queued"
        time.sleep(0.001)


def test_a_released_lock_goes_to_the_thread_that_waited_not_to_the_one_that_asks_again():
    lock, order = FairLock(), []
    lock.acquire()

    def waiter() -> None:
        with lock:
            order.append("waiter")

    t = threading.Thread(target=waiter)
    t.start()
    _until(lambda: len(lock._waiters) == 1)
    lock.release()
    assert lock.acquire(timeout=0) is False  # the waiter is first in line, even before it has run
    assert lock.acquire(timeout=10) is True
    order.append("again")
    lock.release()
    t.join()
    assert order == ["waiter", "again"]


def test_a_waiter_that_times_out_leaves_the_line_and_the_next_one_gets_the_lock():
    lock, got = FairLock(), []
    lock.acquire()
    assert lock.acquire(timeout=0.01) is False and len(lock._waiters) == 0
    t = threading.Thread(target=lambda: got.append(lock.acquire(timeout=10)))
    t.start()
    _until(lambda: len(lock._waiters) == 1)
    lock.release()
    t.join()
    assert got == [True]
