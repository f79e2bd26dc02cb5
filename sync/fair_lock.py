"""FairLock: a lock that hands itself to its waiters in the order they came (threading.Lock does not).

Used where one thread writes in a loop beside others that must not starve: with threading.Lock the thread that
just released can take the lock again before a woken waiter runs, so the device's acknowledgement, chunk after
chunk, kept a tap waiting for all of them, and on the server one push could be overtaken by many later ones.
"""
from __future__ import annotations

import threading
from collections import deque


class FairLock:
    def __init__(self):
        self._cv = threading.Condition(threading.Lock())
        self._held = False
        self._waiters: deque[object] = deque()

    def acquire(self, timeout: float | None = None) -> bool:
        """Take the lock after every thread already waiting; False if `timeout` seconds passed first."""
        with self._cv:
            if not self._held and not self._waiters:
                self._held = True
                return True
            me = object()
            self._waiters.append(me)
            if self._cv.wait_for(lambda: not self._held and self._waiters[0] is me, timeout):
                self._waiters.popleft()
                self._held = True
                return True
            self._waiters.remove(me)
            self._cv.notify_all()  # the one behind may be first now
            return False

    @property
    def waiting(self) -> bool:
        """Whether a thread is waiting for the lock now (read without the lock: a hint, right at the moment read)."""
        return bool(self._waiters)

    def release(self) -> None:
        with self._cv:
            self._held = False
            self._cv.notify_all()

    def __enter__(self) -> "FairLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
