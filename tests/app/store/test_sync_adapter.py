"""The device side of sync on a real store: acknowledging a push (record_results) and applying pulled visits
with their rating cells (apply_changes)."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from app.store.models import Rating, Visit
from app.store.sync_adapter import DeviceSyncStore
from sync.client import Answer
from sync.protocol import Change, VisitData
from tests.support.storetest import count, outbox

AT = "2026-11-25T17:09:57.515698Z"


@pytest.fixture
def store(svc):
    return DeviceSyncStore(svc.engine, svc.catalog)


@pytest.fixture
def rated(svc, visit):
    """Outbox: 1 walk, 2 visit, 3 talk=some, 4 talk=most, 5 explain=all, 6 visit finished."""
    svc.rate(visit.id, "t.talk", "some")
    svc.rate(visit.id, "t.talk", "most")
    svc.rate(visit.id, "t.explain", "all")
    svc.finish_visit(visit.id)
    return visit


def _rows(data_dir) -> dict[int, str | None]:
    """seq -> rejected_reason of every outbox row."""
    from tests.support.storetest import connect

    with connect(data_dir) as con:
        return dict(con.execute("SELECT seq, rejected_reason FROM outbox ORDER BY seq").fetchall())


def test_a_rejected_cell_marks_every_entry_of_it_in_range_and_the_rest_of_the_range_is_dropped(store, rated,
                                                                                              data_dir):
    assert [e["kind"] for e in outbox(data_dir)] == ["walk", "visit", "rating", "rating", "rating", "visit"]
    store.record_results(2, 5, [Answer(4, "rejected", "t.talk is not on this rubric")])
    assert _rows(data_dir) == {1: None, 3: "t.talk is not on this rubric", 4: "t.talk is not on this rubric",
                               6: None}  # 1 and 6 were not acknowledged: out of range
    assert [e["seq"] for e in outbox(data_dir) if e["seq"] in (3, 4)] == [3, 4]


def test_a_rejection_does_not_reach_before_the_pushed_range(store, rated, data_dir):
    store.record_results(4, 6, [Answer(4, "rejected", "no")])
    assert _rows(data_dir) == {1: None, 2: None, 3: None, 4: "no"}


def test_duplicates_are_acknowledged_like_applied_and_to_seq_bounds_the_acknowledgement(store, rated, data_dir):
    store.record_results(1, 4, [Answer(2, "duplicate")])
    assert _rows(data_dir) == {5: None, 6: None}
    store.record_results(5, 6, [])
    assert _rows(data_dir) == {}


def test_a_rejected_entry_is_no_longer_pending_but_stays_with_its_reason(store, rated, data_dir):
    store.record_results(1, 6, [Answer(5, "rejected", "explain is closed")])
    assert store.pending(0, 100) == []
    assert [(e["kind"], e["seq"]) for e in outbox(data_dir)] == [("rating", 5)]


def _statements(engine) -> tuple[list[str], list[int]]:
    """The SQL the engine runs from now on, and a list that grows by one at each commit."""
    from sqlalchemy import event

    sql, commits = [], []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: sql.append(statement))
    event.listen(engine, "commit", lambda _c: commits.append(1))
    return sql, commits


def test_an_acknowledgement_is_plain_range_deletes_in_short_transactions_and_reads_nothing_back(store, rated,
                                                                                               data_dir, monkeypatch):
    from app.store import sync_adapter

    monkeypatch.setattr(sync_adapter, "ACK_CHUNK", 2)
    sql, commits = _statements(store.engine)
    store.record_results(1, 5, [])
    deletes = [q for q in sql if q.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 3 and len(commits) == 3  # seqs 1-2, 3-4, 5: one short transaction each
    assert all("RETURNING" not in q.upper() for q in deletes)
    assert not [q for q in sql if "outbox" in q and q.lstrip().upper().startswith("SELECT")]
    assert _rows(data_dir) == {6: None}  # only the acknowledged range went


def test_an_acknowledgement_leaves_its_connection_as_every_other_write_finds_it(store, rated, monkeypatch):
    # its chunks commit without their own fsync and with the automatic checkpoint off (the checkpoint runs between
    # them): a tap on the same pooled connection afterwards still commits with FULL and checkpoints as usual
    from app.store import sync_adapter

    from sqlalchemy import event

    monkeypatch.setattr(sync_adapter, "ACK_CHUNK", 2)
    used = []
    event.listen(store.engine, "checkout", lambda dbapi_con, _rec, _proxy: used.append(dbapi_con))
    store.record_results(1, 5, [])
    assert used
    for raw in used:  # back in the pool now
        assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == sync_adapter.WAL_AUTOCHECKPOINT


def test_a_chunked_acknowledgement_marks_rejections_before_any_entry_of_their_record_goes(store, rated, data_dir,
                                                                                         monkeypatch):
    from app.store import sync_adapter

    monkeypatch.setattr(sync_adapter, "ACK_CHUNK", 1)
    store.record_results(1, 6, [Answer(4, "rejected", "t.talk is closed")])
    # entries 3 and 4 are the record's (one rating cell): both kept with the reason, every other entry gone
    assert _rows(data_dir) == {3: "t.talk is closed", 4: "t.talk is closed"}


def _pulled_visit(visit_id: str, walk_id: str, cells: list, **fields) -> Change:
    data = VisitData(id=visit_id, walk_id=walk_id, visit_no=7, observer_id="u-other", grade="4",
                     subject="Math", **fields).model_dump(mode="json")
    return Change(kind="visit", record_id=visit_id, seq=1, data=data | {"cells": cells})


def test_a_pulled_visit_brings_its_cells_as_rating_rows(svc, store, walk):
    change = _pulled_visit("v-pulled", walk.id, [["t.talk", "most", False, False, AT],
                                                 ["t.objective", None, True, False, AT],
                                                 ["t.explain", None, False, True, AT]])
    assert store.apply_changes([change], cursor=12).stored == 4  # the visit and its three cells
    with Session(svc.engine) as s:
        talk = s.get(Rating, ("v-pulled", "t.talk"))
        assert (talk.visit_id, talk.lookfor_id, talk.value, talk.not_observed, talk.deleted) == \
            ("v-pulled", "t.talk", "most", False, False)
        assert talk.updated_at.replace(tzinfo=None).isoformat() == "2026-11-25T17:09:57.515698"
        assert s.get(Rating, ("v-pulled", "t.objective")).not_observed
        assert s.get(Rating, ("v-pulled", "t.explain")).deleted
        assert s.get(Visit, "v-pulled").visit_no == 7
    assert set(svc.ratings("v-pulled")) == {"t.talk", "t.objective"}
    assert store.cursor() == 12


def test_a_held_rating_is_not_overwritten_but_the_visits_other_cells_are_applied(svc, store, visit, data_dir):
    svc.rate(visit.id, "t.talk", "some")  # pending here; the visit itself too (started on this device)
    change = _pulled_visit(visit.id, visit.walk_id, [["t.talk", "all", False, False, AT],
                                                     ["t.explain", "none", False, False, AT]], note="server's")
    assert store.apply_changes([change], cursor=3).stored == 1
    assert svc.visit(visit.id).note == ""  # the local visit wins too
    assert {k: r.value for k, r in svc.ratings(visit.id).items()} == {"t.talk": "some", "t.explain": "none"}


def test_a_rejected_rating_holds_its_cell_as_a_pending_one_does(svc, store, visit, data_dir):
    svc.rate(visit.id, "t.talk", "some")
    (seq,) = [e["seq"] for e in outbox(data_dir) if e["kind"] == "rating"]
    store.record_results(1, seq, [Answer(seq, "rejected", "no")])
    change = _pulled_visit(visit.id, visit.walk_id, [["t.talk", "all", False, False, AT]])
    store.apply_changes([change], cursor=4)
    assert svc.ratings(visit.id)["t.talk"].value == "some"


def test_an_unreadable_cell_is_left_out_and_counted_and_the_page_and_cursor_land(svc, store, walk, data_dir):
    change = _pulled_visit("v-pulled", walk.id, [["t.talk", "most", False, False, AT], ["t.explain", 3],
                                                 ["t.objective", None, False, False, "2026-02-30T00:00:00Z"]])
    assert store.apply_changes([change], cursor=9) == (2, 2)  # the visit and its one readable cell; two skipped
    assert count(data_dir, "visit", "id = 'v-pulled'") == 1
    assert set(svc.ratings("v-pulled")) == {"t.talk"}
    assert store.cursor() == 9


def test_an_unreadable_record_is_left_out_and_the_rest_of_the_page_lands(store, walk, data_dir, caplog):
    bad = Change(kind="visit", record_id="v-bad", seq=1, data={"id": "v-bad", "walk_id": walk.id,
                                                               "cells": [["t.talk", "most", False, False, AT]]})
    good = _pulled_visit("v-good", walk.id, [])
    with caplog.at_level("WARNING", logger="learnwalk.sync"):
        got = store.apply_changes([bad, good], cursor=9)
    assert (got.stored, got.skipped) == (1, 1)  # v-good; the bad visit is left out with its cells
    assert count(data_dir, "visit", "id = 'v-bad'") == 0 and count(data_dir, "visit", "id = 'v-good'") == 1
    assert count(data_dir, "rating") == 0
    assert store.cursor() == 9
    assert "could not be read on this device and were left out" in caplog.text and "visit_no" in caplog.text


def test_the_sync_screen_says_how_many_pulled_changes_were_left_out(tmp_path):
    """A page with a visit this device cannot read: the round completes and the Sync screen says so in words."""
    import httpx

    from app.viewmodels.sync import SyncVM
    from sync.protocol import EnrollResponse
    from tests.support import serverproc as harness

    bad = {"id": "v-bad", "walk_id": "w1", "visit_no": 1, "observer_id": "u2", "started_at": "not a time"}

    def handler(request):
        return httpx.Response(200, json={"changes": [{"kind": "visit", "record_id": "v-bad", "seq": 3, "data": bad}],
                                         "cursor": 3, "more": False})

    dev = harness.new_device(tmp_path / "dev", transport=httpx.MockTransport(handler))
    dev.sync.store.save_enrollment("http://server.test", EnrollResponse(
        device_id="d1", token="t" * 43, user_id="u1", role="lead", district_id="x", district_name="Test"))
    said = SyncVM(dev.sync).sync_now()
    assert "Left out 1 change from the server that this device cannot read; update the app." in said
    assert dev.sync.store.cursor() == 3
    dev.engine.dispose()
