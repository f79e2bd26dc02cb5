"""Durability in the browser, on CPython: a real store, and a stand-in for the browser's file-system flush.

The real flush (FS.syncfs to IndexedDB) exists only in the browser, so here the flush is a counter that copies
the store file (SQLite's backup: a consistent copy, WAL included) to a "storage" file after an await: what the
copy holds is what a tablet would find after a reload. The browser check of the real flush is in the report of
issue 11 and, once built, the e2e browser test.
"""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from app.store import durability
from app.store.db import db_path
from app.store.services import ServiceError
from tests.support.storetest import make_service


class FakeStorage:
    """flush(): wait (asyncio.sleep, or until the test opens the gate), then copy the store file."""

    def __init__(self, data_dir, *, delay: float = 0.005, gated: bool = False):
        self.source, self.target = db_path(data_dir), data_dir.parent / "storage.sqlite"
        self.delay, self.gate = delay, asyncio.Queue() if gated else None
        self.flushes = self.in_flight = self.most_in_flight = 0
        self.fail_next = 0

    async def flush(self) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.get()
            else:
                await asyncio.sleep(self.delay)
            if self.fail_next:
                self.fail_next -= 1
                raise OSError("QuotaExceededError: the quota has been exceeded")
            src, dst = sqlite3.connect(self.source), sqlite3.connect(self.target)
            try:
                src.backup(dst)
            finally:
                src.close(), dst.close()
            self.flushes += 1
        finally:
            self.in_flight -= 1

    def open_gate(self) -> None:
        self.gate.put_nowait(None)

    def ratings(self) -> dict[str, str]:
        """lookfor_id -> value of the live ratings in the stored copy ({} before the first flush)."""
        if not self.target.exists():
            return {}
        con = sqlite3.connect(self.target)
        try:
            return dict(con.execute("SELECT lookfor_id, coalesce(value, 'na') FROM rating WHERE NOT deleted"))
        finally:
            con.close()


@pytest.fixture(autouse=True)
def _uninstall():
    yield
    durability.uninstall()


def test_without_install_commits_schedule_nothing_and_settled_returns_at_once(svc, visit):
    async def go():
        before = asyncio.all_tasks()
        svc.tap(visit.id, "t.talk", "most")
        assert asyncio.all_tasks() == before  # no flush task: desktop behaviour is unchanged
        await durability.settled()

    asyncio.run(go())
    assert not durability.installed()


def test_taps_in_a_row_share_one_flush_and_settled_sees_them_stored(svc, visit, data_dir):
    async def go():
        storage = FakeStorage(data_dir)
        durability.install(storage.flush)
        for lookfor, value in [("t.talk", "some"), ("t.explain", "most"), ("t.talk", "all"), ("t.objective", "seen")]:
            svc.tap(visit.id, lookfor, value)
        await durability.settled()
        return storage

    storage = asyncio.run(go())
    assert storage.flushes == 1
    assert storage.ratings() == {"t.talk": "all", "t.explain": "most", "t.objective": "seen"}


def test_a_commit_during_a_flush_gets_one_more_flush_after_it_never_two_at_once(svc, visit, data_dir):
    async def go():
        storage = FakeStorage(data_dir, gated=True)
        durability.install(storage.flush)
        svc.tap(visit.id, "t.talk", "some")
        first = asyncio.create_task(durability.settled())
        await asyncio.sleep(0)  # the flush starts and waits at the gate
        assert storage.in_flight == 1
        svc.tap(visit.id, "t.explain", "most")  # both during the running flush
        svc.tap(visit.id, "t.objective", "seen")
        second = asyncio.create_task(durability.settled())
        storage.open_gate()
        await first  # released by the first flush: it does not wait for commits made after its call
        assert storage.ratings()["t.talk"] == "some"
        # this copy may already hold the later taps (it was taken after them), but only a flush that started
        # after them is sure to: the second settled() waits for it
        assert not second.done() and storage.in_flight == 1
        storage.open_gate()
        await second
        return storage

    storage = asyncio.run(go())
    assert storage.flushes == 2 and storage.most_in_flight == 1
    assert storage.ratings() == {"t.talk": "some", "t.explain": "most", "t.objective": "seen"}


def test_settled_waits_for_its_own_commits_while_taps_keep_coming(svc, visit, data_dir):
    async def go():
        storage = FakeStorage(data_dir, gated=True)
        durability.install(storage.flush)
        values = ["none", "some", "most", "all"] * 3
        for v in values:  # each tap lands while the previous flush is still running
            svc.tap(visit.id, "t.talk", v)
            waiting = asyncio.create_task(durability.settled())
            await asyncio.sleep(0)
            storage.open_gate()
            await waiting
            assert storage.ratings() == {"t.talk": v}
        return storage

    storage = asyncio.run(go())
    assert storage.most_in_flight == 1


def test_a_failed_flush_is_raised_in_words_and_retried_at_the_next_commit(svc, visit, data_dir):
    async def go():
        storage = FakeStorage(data_dir, gated=True)
        storage.fail_next = 1
        durability.install(storage.flush)
        svc.tap(visit.id, "t.talk", "some")
        waiting = asyncio.create_task(durability.settled())
        await asyncio.sleep(0)
        storage.open_gate()
        with pytest.raises(durability.DurabilityError) as failed:
            await waiting
        assert storage.ratings() == {}
        svc.tap(visit.id, "t.explain", "most")  # the next commit retries, and covers the earlier one too
        waiting = asyncio.create_task(durability.settled())
        await asyncio.sleep(0)
        storage.open_gate()
        await waiting
        return storage, failed.value

    storage, error = asyncio.run(go())
    assert str(error) == ("This visit could not be saved to the tablet's storage (QuotaExceededError: the quota "
                          "has been exceeded); keep the app open, free some space on the tablet, then tap again.")
    assert isinstance(error, durability.LearnwalkError)
    assert storage.ratings() == {"t.talk": "some", "t.explain": "most"}


def test_a_kept_failure_is_raised_again_until_a_flush_succeeds(svc, visit, data_dir):
    async def go():
        storage = FakeStorage(data_dir)
        storage.fail_next = 2
        durability.install(storage.flush)
        svc.tap(visit.id, "t.talk", "some")
        with pytest.raises(durability.DurabilityError):
            await durability.settled()
        with pytest.raises(durability.DurabilityError):  # settled() retried once, which failed too
            await durability.settled()
        await durability.settled()  # the third attempt succeeds
        return storage

    storage = asyncio.run(go())
    assert storage.ratings() == {"t.talk": "some"}


def test_a_refused_tap_commits_nothing_and_flushes_nothing(svc, visit, data_dir):
    async def go():
        storage = FakeStorage(data_dir)
        durability.install(storage.flush)
        with pytest.raises(ServiceError):
            svc.tap(visit.id, "t.talk", "sometimes")  # not on the scale: rolled back
        await durability.settled()
        return storage

    assert asyncio.run(go()).flushes == 0


def test_opening_a_store_is_flushed_too(tmp_path):
    # the migration commits on the raw sqlite3 connection, outside SQLAlchemy's commit event
    data_dir = tmp_path / "device"

    async def go():
        storage = FakeStorage(data_dir)
        durability.install(storage.flush)
        service = make_service(data_dir)
        try:
            await durability.settled()
        finally:
            service.engine.dispose()
        return storage

    storage = asyncio.run(go())
    assert storage.flushes == 1
    con = sqlite3.connect(storage.target)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] >= 1
    finally:
        con.close()


def test_a_commit_made_before_the_loop_runs_is_flushed_by_settled(svc, visit, data_dir):
    storage = FakeStorage(data_dir)
    durability.install(storage.flush)  # outside any event loop, as a boot script may do
    svc.tap(visit.id, "t.talk", "most")

    async def go():
        await durability.settled()

    asyncio.run(go())
    assert storage.ratings() == {"t.talk": "most"}
