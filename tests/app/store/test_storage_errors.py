"""A write that SQLite refuses (disk full, lock held too long) raises a plain error and changes nothing."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event

from app.store.db import StoreError, db_path
from app.store.services import ServiceError, StorageBusy, StorageFull
from tests.support.storetest import connect, make_service, outbox


def _snapshot(data_dir):
    with connect(data_dir) as con:
        return {t: [tuple(r) for r in con.execute(f"SELECT * FROM {t} ORDER BY 1")]
                for t in ("walk", "visit", "rating", "evidence_note", "outbox")}


def _cap_file_size(svc, extra_pages: int = 0) -> None:
    """Make the file 'full' at its current size: SQLite answers SQLITE_FULL as on a full disk."""
    svc.engine.dispose()  # every connection from now on carries the cap
    with sqlite3.connect(svc.engine.url.database) as con:
        con.execute("VACUUM")  # no free pages left inside the file (a migration that drops an index leaves one)
        pages = con.execute("PRAGMA page_count").fetchone()[0]
    event.listen(svc.engine, "connect",
                 lambda dbapi_con, _r: dbapi_con.execute(f"PRAGMA max_page_count = {pages + extra_pages}"))


def test_a_full_disk_refuses_a_note_with_a_plain_sentence_and_saves_nothing(svc, visit, data_dir):
    svc.rate(visit.id, "t.talk", "some")
    before = _snapshot(data_dir)
    _cap_file_size(svc)
    with pytest.raises(StorageFull) as caught:
        svc.add_note(visit.id, "Students explained their strategy to a partner. " * 80)  # within the note limit
    assert str(caught.value) == ("The device storage is full; free some space on this device and try again "
                                 "(nothing was saved for this change).")
    assert isinstance(caught.value, ServiceError) and isinstance(caught.value, StoreError)
    assert _snapshot(data_dir) == before
    with connect(data_dir) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_taps_until_the_disk_is_full_keep_every_saved_tap_and_none_of_the_refused(svc, walk, data_dir):
    _cap_file_size(svc, extra_pages=2)
    saved = []
    with pytest.raises(StorageFull):
        for _ in range(10_000):
            v = svc.start_visit(walk.id, grade="5", subject="ELA")
            saved.append(("visit", v.id))
            svc.tap(v.id, "t.talk", "most")
            saved.append(("rating", v.id))
    assert len(saved) > 4  # some taps fitted before the cap
    entries = outbox(data_dir)
    visit_ids = {e["record_id"] for e in entries if e["kind"] == "visit"}
    rated = {e["data"]["visit_id"] for e in entries if e["kind"] == "rating"}
    assert visit_ids == {vid for kind, vid in saved if kind == "visit"}
    assert rated == {vid for kind, vid in saved if kind == "rating"}
    with connect(data_dir) as con:
        assert con.execute("SELECT count(*) FROM visit").fetchone()[0] == len(visit_ids)
        assert con.execute("SELECT count(*) FROM rating").fetchone()[0] == len(rated)


def test_after_space_is_freed_the_same_action_succeeds(svc, visit, data_dir):
    _cap_file_size(svc)
    text = "Anchor chart used " * 220  # within the note limit (sync.protocol.rules.NOTE_MAX)
    with pytest.raises(StorageFull):
        svc.add_note(visit.id, text)
    svc.engine.dispose()
    again = make_service(data_dir)  # a new start of the app without the cap
    try:
        again.add_note(visit.id, text)
        assert [n.text for n in again.notes(visit.id)] == [text.strip()]
    finally:
        again.engine.dispose()


def test_a_write_lock_held_elsewhere_gives_busy_and_saves_nothing(svc, visit, data_dir):
    svc.engine.dispose()
    event.listen(svc.engine, "connect", lambda c, _r: c.execute("PRAGMA busy_timeout = 50"))
    holder = sqlite3.connect(db_path(data_dir), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        before = len(outbox(data_dir))
        with pytest.raises(StorageBusy, match="busy with another task; try again"):
            svc.rate(visit.id, "t.talk", "all")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(outbox(data_dir)) == before
    assert svc.rate(visit.id, "t.talk", "all").value == "all"


def test_a_batch_is_all_or_nothing_even_when_the_caller_catches_the_error(svc, walk, data_dir):
    before = _snapshot(data_dir)
    with pytest.raises(ServiceError, match="nothing of the batch was saved"):
        with svc.batch():
            v = svc.start_visit(walk.id)
            svc.rate(v.id, "t.talk", "some")
            try:
                svc.rate(v.id, "t.talk", "loud")
            except ServiceError:
                pass
    assert _snapshot(data_dir) == before
    with svc.batch():
        v = svc.start_visit(walk.id)
        svc.rate(v.id, "t.talk", "some")
    assert [e["kind"] for e in outbox(data_dir)][-2:] == ["visit", "rating"]


def test_another_threads_tap_during_a_batch_waits_for_it_and_is_not_part_of_it(svc, walk, visit, data_dir):
    import threading
    done = threading.Event()
    errors = []

    def tap_elsewhere():
        try:
            svc.tap(visit.id, "t.explain", "all")
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        done.set()

    with pytest.raises(RuntimeError):
        with svc.batch():
            v = svc.start_visit(walk.id)
            worker = threading.Thread(target=tap_elsewhere)
            worker.start()
            assert not done.wait(0.3)  # queued on the write lock, not joined into this batch
            raise RuntimeError("the batch's caller gives up")
    worker.join(10)
    assert errors == [] and done.is_set()
    assert v.id not in {e["record_id"] for e in outbox(data_dir)}  # the batch rolled back...
    assert svc.ratings(visit.id)["t.explain"].value == "all"  # ...the other thread's tap did not


def test_a_batch_that_meets_a_full_disk_raises_storage_full_and_saves_nothing(svc, walk, data_dir):
    before = _snapshot(data_dir)
    _cap_file_size(svc)
    with pytest.raises(StorageFull):
        with svc.batch():
            for _ in range(50):
                v = svc.start_visit(walk.id, subject="ELA")
                svc.rate(v.id, "t.talk", "some")
                svc.add_note(v.id, "Partners compared their answers")
    assert _snapshot(data_dir) == before
