"""A pulled page on a real store: the fast cell path stores exactly what the reference path stores, and a page that
fails half-way leaves neither its rows nor its cursor."""
from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from app.store import pulled_page
from app.store import sync_adapter
from app.store.sync_adapter import DeviceSyncStore
from sync.protocol import Change, NoteData, VisitData, WalkData
from tests.support.storetest import connect, count, make_service

AT = "2026-11-25T17:09:57.515698Z"
LOOKFORS = ["t.talk", "t.explain", "t.objective", "t.math"]


def _visit(visit_id: str, walk_id: str, cells: list, no: int = 7) -> Change:
    data = VisitData(id=visit_id, walk_id=walk_id, visit_no=no, observer_id="u-other", grade="4",
                     subject="Math").model_dump(mode="json")
    return Change(kind="visit", record_id=visit_id, seq=no, data=data | {"cells": cells})


def _table(data_dir, name: str) -> list[tuple]:
    with connect(data_dir) as con:
        return [tuple(r) for r in con.execute(f"SELECT * FROM {name} ORDER BY id").fetchall()]


class Two:
    """Two stores, the same walk on each: one applies pages the fast way, the other the reference way."""

    def __init__(self, root):
        self.dirs = root / "fast", root / "reference"
        self.svcs = [make_service(d) for d in self.dirs]
        self.stores = [DeviceSyncStore(s.engine, s.catalog) for s in self.svcs]
        for svc in self.svcs:
            svc.add_school("Lincoln Elementary", school_id="s-1")
        self.walk = self.svcs[0].create_walk(school_id="s-1", rubric_id="test-walk", rubric_version=1,
                                             focus=["t.talk"])
        with connect(self.dirs[0]) as a, connect(self.dirs[1]) as b:
            row = a.execute("SELECT * FROM walk").fetchone()
            b.execute(f"INSERT INTO walk VALUES ({','.join('?' * len(row))})", tuple(row))

    def apply(self, changes: list[Change], cursor: int) -> tuple:
        fast, ref = self.stores
        page = pulled_page.prepare(changes, fast.catalog)
        got_fast = fast.apply_changes(page, cursor)
        got_ref = ref.apply_changes(pulled_page.prepare(changes, ref.catalog, fast=False), cursor)
        assert got_fast == got_ref
        for table in ("rating", "visit"):
            assert _table(self.dirs[0], table) == _table(self.dirs[1], table)
        return page, got_fast

    def close(self):
        for svc in self.svcs:
            svc.engine.dispose()


@pytest.fixture
def two(tmp_path):
    t = Two(tmp_path)
    yield t
    t.close()


def test_common_cells_take_the_fast_path_and_store_the_reference_rows(two):
    cells = [["t.talk", "most", False, False, AT], ["t.objective", None, True, False, AT],
             ["t.explain", None, False, True, "2000-01-01T00:00:00.000000Z"]]
    page, got = two.apply([_visit("v-1", two.walk.id, cells), _visit("v-2", two.walk.id, [], no=8)], cursor=5)
    assert page.fast_cells is not None and got == (5, 0)
    with connect(two.dirs[0]) as con:
        assert con.execute("SELECT updated_at FROM rating WHERE lookfor_id = 't.talk'").fetchone()[0] == \
            "2026-11-25 17:09:57.515698"  # the text SQLAlchemy's DateTime writes and reads back
    # pulled again with other values: updated in place, the same on both paths
    cells[0][1], cells[0][4] = "all", "2026-11-26T08:00:00.000001Z"
    page, got = two.apply([_visit("v-1", two.walk.id, cells)], cursor=6)
    assert page.fast_cells is not None and got == (4, 0)
    assert two.svcs[0].ratings("v-1")["t.talk"].value == "all"


@pytest.mark.parametrize("bad", [
    "2026-02-30T00:00:00.000000Z",  # the canonical form, but no such day: datetime.fromisoformat refuses it
    "2026-11-25T24:00:00.000000Z",
    "0000-01-01T00:00:00.000000Z",
])
def test_a_canonical_text_that_is_no_real_time_falls_back_to_the_codec_which_leaves_that_cell_out(two, bad):
    cells = [["t.talk", "most", False, False, AT], ["t.explain", "some", False, False, bad]]
    page, got = two.apply([_visit("v-1", two.walk.id, cells)], cursor=3)
    assert got == (2, 1)  # the visit and its good cell; the bad one counted
    assert set(two.svcs[0].ratings("v-1")) == {"t.talk"}


@pytest.mark.parametrize("cells", [
    [["t.talk", "most", False, False, "2026-11-25T17:09:57Z"]],  # a time in another ISO form: the codec reads it
    [["t.talk", "most", False, False, "2026-11-25T17:09:57.515698+00:00"]],
    [["t.talk", 3, False, False, AT]],
    [["t.talk", "most", 0, False, AT]],
    [["t.talk", "most", False, False]],
    [["t.talk", "most", False, False, AT], "not a cell"],
])
def test_cells_not_in_the_common_form_take_the_reference_path(two, cells):
    page, _ = two.apply([_visit("v-1", two.walk.id, cells)], cursor=3)
    assert page.fast_cells is None


def test_a_rating_with_a_pending_local_change_is_kept_on_both_paths(two):
    local = two.svcs[0].start_visit(two.walk.id, grade="4", subject="Math")
    with connect(two.dirs[0]) as a, connect(two.dirs[1]) as b:  # the same pending visit and tap on both stores
        two.svcs[0].rate(local.id, "t.talk", "some")
        for table in ("visit", "rating", "outbox"):
            b.execute(f"DELETE FROM {table}")
            for row in a.execute(f"SELECT * FROM {table}").fetchall():
                b.execute(f"INSERT INTO {table} VALUES ({','.join('?' * len(row))})", tuple(row))
    cells = [["t.talk", "all", False, False, AT], ["t.explain", "none", False, False, AT]]
    page, got = two.apply([_visit(local.id, two.walk.id, cells)], cursor=4)
    assert page.fast_cells is not None and got.stored == 1  # only t.explain: the visit and t.talk are held
    assert {k: r.value for k, r in two.svcs[0].ratings(local.id).items()} == {"t.talk": "some", "t.explain": "none"}


_times = st.one_of(
    st.datetimes(min_value=__import__("datetime").datetime(1, 1, 1)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    st.sampled_from(["2026-02-29T00:00:00.000000Z", "2024-02-29T23:59:59.999999Z", "2026-11-25T09:30:00Z",
                     "2026-13-01T00:00:00.000000Z", "not a time"]))
_cells = st.lists(st.tuples(st.sampled_from(LOOKFORS), st.one_of(st.none(), st.sampled_from(["none", "most", "x"])),
                            st.booleans(), st.booleans(), _times).map(list),
                  max_size=4, unique_by=lambda c: c[0])


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pages=st.lists(st.lists(_cells, min_size=1, max_size=3), min_size=1, max_size=3))
def test_the_fast_path_and_the_reference_store_the_same_rows_for_any_pages(two, pages):
    for n, visits in enumerate(pages):
        two.apply([_visit(f"v-{i}", two.walk.id, cells, no=i + 1) for i, cells in enumerate(visits)], cursor=n + 1)


_aware = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                     timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))]))
_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)


@st.composite
def _records(draw, walk_id: str) -> list[Change]:
    """A page of walks, visits and notes with every field drawn (times in any offset, absent optional values)."""
    out, seq = [], 0
    for i in range(draw(st.integers(1, 4))):
        seq += 1
        walk = WalkData(id=f"w-{i}", school_id="s-1", walk_date=draw(st.dates()), rubric_id="test-walk",
                        rubric_version=1, focus=draw(st.lists(st.sampled_from(LOOKFORS), max_size=2)),
                        team=draw(st.lists(_text, max_size=2)), cycle_label=draw(_text),
                        updated_at=draw(_aware), deleted=draw(st.booleans()))
        out.append(Change(kind="walk", record_id=walk.id, seq=seq, data=walk.model_dump(mode="json")))
    for i in range(draw(st.integers(1, 4))):
        seq += 1
        visit = VisitData(id=f"v-{i}", walk_id=walk_id, visit_no=i + 1, observer_id=draw(_text),
                          grade=draw(st.one_of(st.none(), st.sampled_from(["K", "4"]))),
                          subject=draw(st.one_of(st.none(), _text)),
                          student_count=draw(st.one_of(st.none(), st.integers(0, 40))), note=draw(_text),
                          started_at=draw(_aware), ended_at=draw(st.one_of(st.none(), _aware)),
                          updated_at=draw(_aware), deleted=draw(st.booleans()))
        out.append(Change(kind="visit", record_id=visit.id, seq=seq, data=visit.model_dump(mode="json") | {"cells": []}))
        seq += 1
        note = NoteData(id=f"n-{i}", visit_id=visit.id, lookfor_id=draw(st.one_of(st.none(), st.sampled_from(LOOKFORS))),
                        text=draw(_text), updated_at=draw(_aware))
        out.append(Change(kind="note", record_id=note.id, seq=seq, data=note.model_dump(mode="json")))
    return out


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_fast_upsert_and_the_reference_store_the_same_records(two, data):
    """Walks, visits and notes, new and then pulled again with other values: the same rows both ways."""
    for cursor in (1, 2):
        two.apply(data.draw(_records(two.walk.id)), cursor=cursor)
        for table in ("walk", "evidence_note"):
            assert _table(two.dirs[0], table) == _table(two.dirs[1], table)


# ---- a page in parts: what a failure half-way leaves, and the page pulled again --------------------------------

@pytest.fixture
def svc_store(tmp_path):
    svc = make_service(tmp_path / "device")
    svc.add_school("Lincoln Elementary", school_id="s-1")
    walk = svc.create_walk(school_id="s-1", rubric_id="test-walk", rubric_version=1, focus=["t.talk"])
    yield svc, DeviceSyncStore(svc.engine, svc.catalog), walk, tmp_path / "device"
    svc.engine.dispose()


def _big_page(walk_id: str, visits: int, value: str = "most") -> list[Change]:
    return [_visit(f"v-{i:04d}", walk_id, [[lf, value, False, False, AT] for lf in LOOKFORS], no=i + 1)
            for i in range(visits)]


@pytest.fixture
def parts_of_100(monkeypatch):
    """Pages cut in parts of 100 rows (20 visits of 4 cells), so small pages have several, each committed as if a
    tap were waiting after every one."""
    monkeypatch.setattr(sync_adapter, "PULL_PART_ROWS", 100)
    monkeypatch.setattr(sync_adapter, "PULL_PARTS_COMMIT_ALWAYS", True)


def _whole(tmp_path, walk_row: tuple, pages: list[list[Change]]) -> dict[str, list[tuple]]:
    """The tables of a store that applied these pages each in one transaction, nothing failing."""
    svc = make_service(tmp_path / "whole")
    try:
        svc.add_school("Lincoln Elementary", school_id="s-1")
        with connect(tmp_path / "whole") as con:
            con.execute(f"INSERT INTO walk VALUES ({','.join('?' * len(walk_row))})", walk_row)
        store = DeviceSyncStore(svc.engine, svc.catalog)
        for n, page in enumerate(pages, 1):
            store.apply_changes(pulled_page.prepare(page, svc.catalog), cursor=n)
        return {t: _table(tmp_path / "whole", t) for t in ("visit", "rating")}
    finally:
        svc.engine.dispose()


def test_a_page_is_written_in_parts_of_whole_visits_with_its_cursor_in_the_last(svc_store, parts_of_100):
    svc, store, walk, data_dir = svc_store
    page = pulled_page.prepare(_big_page(walk.id, 50), svc.catalog)
    parts = pulled_page.split(page, 100)
    assert [len(p.records) for p in parts] == [20, 20, 10]  # 5 rows a visit, a part closed once it reaches 100
    for part in parts:  # each visit's cells in its own visit's part
        assert {r[1] for r in part.fast_cells} == {c.record_id for c, _ in part.records}
    commits = []
    event.listen(svc.engine, "commit", lambda conn: commits.append(1))
    assert store.apply_changes(page, cursor=9).stored == 50 * 5
    assert len(commits) == 3 and store.cursor() == 9 and count(data_dir, "rating") == 50 * 4


def test_a_page_whose_disk_fills_half_way_keeps_its_cursor_and_pulled_again_ends_as_if_whole(svc_store, tmp_path,
                                                                                           parts_of_100):
    svc, store, walk, data_dir = svc_store
    store.apply_changes([], cursor=3)
    with connect(data_dir) as con:
        pages_now = con.execute("PRAGMA page_count").fetchone()[0]
        walk_row = tuple(con.execute("SELECT * FROM walk").fetchone())
    # the store may grow by a few pages only: the first parts fit, a later one does not (SQLITE_FULL)
    def limit(c, _r):
        c.execute(f"PRAGMA max_page_count = {pages_now + 12}")
    event.listen(svc.engine, "connect", limit)
    svc.engine.dispose()
    page = _big_page(walk.id, 400)
    with pytest.raises(Exception) as failed:
        store.apply_changes(page, cursor=9)
    assert "full" in str(failed.value).lower()
    assert 0 < count(data_dir, "visit") < 400  # parts before the full one stayed, whole visits with their cells
    assert count(data_dir, "rating") == 4 * count(data_dir, "visit")
    assert store.cursor() == 3  # the page was not taken: the next round pulls it again
    event.remove(svc.engine, "connect", limit)
    svc.engine.dispose()
    assert store.apply_changes(page, cursor=9).stored == 400 * 5
    assert store.cursor() == 9
    assert {t: _table(data_dir, t) for t in ("visit", "rating")} == _whole(tmp_path, walk_row, [page])


def test_a_page_that_fails_at_its_cursor_keeps_the_old_one_and_pulled_again_ends_as_if_whole(svc_store, tmp_path,
                                                                                            parts_of_100):
    """Killed between parts (here: the last part, with the cursor, refused): the page comes again, newer where the
    server has news, and every row ends as the page (or the newer one) says: applying a page twice is harmless."""
    svc, store, walk, data_dir = svc_store
    store.apply_changes([], cursor=3)
    with connect(data_dir) as con:  # the cursor write, the page's last statement, is refused
        walk_row = tuple(con.execute("SELECT * FROM walk").fetchone())
        con.execute("CREATE TRIGGER no_cursor BEFORE UPDATE ON meta WHEN NEW.key = 'pull_cursor' "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    first = _big_page(walk.id, 50)
    with pytest.raises(Exception, match="refused"):
        store.apply_changes(first, cursor=9)
    assert count(data_dir, "visit") == 40 and count(data_dir, "rating") == 40 * 4  # two of three parts landed
    with connect(data_dir) as con:
        con.execute("DROP TRIGGER no_cursor")
    assert store.cursor() == 3
    again = _big_page(walk.id, 50, value="all")  # pulled again after another device changed every rating
    assert store.apply_changes(again, cursor=9).stored == 50 * 5
    assert store.cursor() == 9
    assert {t: _table(data_dir, t) for t in ("visit", "rating")} == _whole(tmp_path, walk_row, [first, again])


def test_prepare_reads_nothing_from_the_store(svc_store, tmp_path):
    """The page is read and checked with the store locked by another writer: prepare never waits for it."""
    svc, store, walk, data_dir = svc_store
    con = sqlite3.connect(data_dir / "learnwalk.sqlite", isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    try:
        page = store.prepare_changes(_big_page(walk.id, 3))
    finally:
        con.execute("ROLLBACK")
        con.close()
    assert len(page.fast_cells) == 12


def test_a_page_commits_without_its_own_fsync_and_every_connection_is_full_again_after(svc_store):
    """A pulled page is committed with synchronous=NORMAL (the server still holds it); the connection goes back to
    the pool FULL, so the tap that uses it next is durable when it returns."""
    svc, store, walk, data_dir = svc_store
    seen = []
    event.listen(svc.engine, "commit", lambda conn: seen.append(conn.exec_driver_sql("PRAGMA synchronous").scalar()))
    store.apply_changes(_big_page(walk.id, 2), cursor=4)
    svc.rate(svc.start_visit(walk.id, grade="4", subject="Math").id, "t.talk", "some")
    assert seen[0] == 1 and set(seen[1:]) == {2}  # NORMAL for the page, FULL for the visit and the tap after it
    assert store.cursor() == 4


def test_a_tap_waiting_during_a_page_goes_between_two_parts_and_the_page_is_one_transaction_otherwise(svc_store,
                                                                                                     monkeypatch):
    svc, store, walk, data_dir = svc_store
    monkeypatch.setattr(sync_adapter, "PULL_PART_ROWS", 100)
    mine = svc.start_visit(walk.id, grade="4", subject="Math")
    commits: list[str] = []
    event.listen(svc.engine, "commit", lambda conn: commits.append(threading.current_thread().name))
    store.apply_changes(_big_page(walk.id, 50), cursor=5)
    assert commits == ["MainThread"]  # nobody waited: one transaction, as before parts

    commits.clear()
    gate = svc.engine.raw_connection().driver_connection.gate
    tap = threading.Thread(target=svc.rate, args=(mine.id, "t.talk", "some"), name="tap")

    def tap_once_the_page_writes(conn, cursor, statement, *_):  # the first part's cells: the page holds the gate
        if statement == pulled_page.FAST_RATINGS_SQL and not tap.is_alive() and tap.ident is None:
            tap.start()
            while not gate.waiting:
                time.sleep(0.001)
    event.listen(svc.engine, "before_cursor_execute", tap_once_the_page_writes)
    store.apply_changes(_big_page(walk.id, 50, value="all"), cursor=6)
    tap.join()
    assert commits[:2] == ["MainThread", "tap"] and commits[-1] == "MainThread"  # the tap went after one part
    assert store.cursor() == 6 and svc.ratings(mine.id)["t.talk"].value == "some"
    assert count(data_dir, "rating") == 50 * 4 + 1
