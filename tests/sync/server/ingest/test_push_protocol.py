"""Push over HTTP: replays change nothing and get the same answers, a gap before from_seq stops the push, each
refused record or cell is answered with its reason, limits answer 413."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from sync.client import SyncClient, batch_sizes
from sync.protocol import MAX_PUSH_ENTRIES
from sync.server.config import Settings
from sync.server.ingest.routes import MAX_CELLS_PER_VISIT
from sync.server.models import District, OpResult, Visit, Walk
from tests.support import serverproc as harness


def _server_state(db, district_id):
    """((walks, visits, cells), highest walk and visit numbers, the district counter, every stored cell)."""
    cells = db.cells(district_id)  # by (visit, look-for): fails on a cell stored twice
    with Session(db.engine) as s:
        counts = tuple(s.execute(select(func.count()).select_from(m).where(m.district_id == district_id)).scalar_one()
                       for m in (Walk, Visit)) + (len(cells),)
        seqs = tuple(s.execute(select(func.max(m.change_seq)).where(m.district_id == district_id)).scalar_one()
                     for m in (Walk, Visit))
        return counts, seqs, s.get(District, district_id).change_counter, cells


def _offline_visits(device, district, n=3):
    dev = device("observer")
    dev.sync.sync_once()
    walk = harness.new_walk(dev, district.school_id)
    harness.record_visits(dev, walk.id, n)
    return dev, dev.sync.store.pending(0, 10_000)


def test_replaying_a_push_batch_changes_nothing_and_returns_the_same_answers(server, server_db, district, device):
    dev, entries = _offline_visits(device, district)
    with harness.api(server.url, harness.token_of(dev)) as http:
        first = http.post("/api/v1/push", content=harness.push_body(entries))
        assert first.status_code == 200
        state = _server_state(server_db, district.id)
        again = http.post("/api/v1/push", content=harness.push_body(entries))
    assert again.status_code == 200
    assert again.json() == first.json()
    # 1 walk + 3 visits + 9 cells, each record once however many entries it had
    assert first.json() == {"last_op_seq": len(entries), "applied": 13, "results": []}
    assert _server_state(server_db, district.id) == state


def test_a_replayed_rejection_is_answered_with_the_same_reason(server, district, device):
    dev, entries = _offline_visits(device, district, n=1)
    bad = harness.harness_entry(entries[-1], data_json=json.dumps({"id": entries[-1].record_id}))
    body = harness.push_body(entries[:-1] + [bad])
    with harness.api(server.url, harness.token_of(dev)) as http:
        first = http.post("/api/v1/push", content=body).json()
        again = http.post("/api/v1/push", content=body).json()
    # the visit is refused, so are its cells (their visit is not on the server)
    visit = next(r for r in first["results"] if r["op_seq"] == entries[-1].seq)
    assert visit["status"] == "rejected" and "not well formed" in visit["reason"]
    cells = [r for r in first["results"] if r is not visit]
    assert len(cells) == 3 and all("which the server does not have" in r["reason"] for r in cells)
    assert again == first


def test_a_refused_cell_is_answered_alone_and_the_rest_of_its_visit_lands(server, server_db, district, device):
    dev, entries = _offline_visits(device, district, n=1)
    rating = next(e for e in entries if e.kind == "rating")
    snapshot = json.loads(rating.data_json)
    wrong = harness.harness_entry(rating, data_json=json.dumps({**snapshot, "value": "not-a-level"}))
    body = harness.push_body([wrong if e is rating else e for e in entries])
    with harness.api(server.url, harness.token_of(dev)) as http:
        answer = http.post("/api/v1/push", content=body).json()
    assert answer["results"] == [{"op_seq": rating.seq, "status": "rejected",
                                  "reason": f"'not-a-level' is not on the scale of {snapshot['lookfor_id']}."}]
    assert _server_state(server_db, district.id)[0] == (1, 1, 2)


def test_a_push_that_starts_after_a_gap_is_out_of_order_and_nothing_is_applied(server, server_db, district, device):
    dev, entries = _offline_visits(device, district, n=1)
    with harness.api(server.url, harness.token_of(dev)) as http:
        answer = http.post("/api/v1/push", content=harness.push_body(entries[1:])).json()
    assert answer == {"last_op_seq": 0, "applied": 0, "results": [
        {"op_seq": entries[1].seq, "status": "out_of_order", "reason": "expected op_seq 1 next"}]}
    assert _server_state(server_db, district.id)[0] == (0, 0, 0)
    dev.sync.sync_once()  # the device then sends from the start and everything lands
    assert _server_state(server_db, district.id)[0] == (1, 1, 3)


def test_a_push_naming_one_op_seq_twice_is_refused_with_422(server, district, device):
    dev, entries = _offline_visits(device, district, n=1)
    body = json.loads(harness.push_body(entries))
    body["notes"] = [[body["walks"][0][0], {"id": "x"}]]
    with harness.api(server.url, harness.token_of(dev)) as http:
        resp = http.post("/api/v1/push", content=json.dumps(body))
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "unique" in resp.json()["detail"]


def test_a_batch_overlapping_what_the_server_has_applies_only_the_new_changes(server, server_db, district, device):
    """An acknowledgement lost on the way back: the device sends the old entries again with new ones; the old
    ones get their first answers and are not applied again (a teammate's newer change is not overwritten)."""
    dev, entries = _offline_visits(device, district, n=1)
    with harness.api(server.url, harness.token_of(dev)) as http:
        first = http.post("/api/v1/push", content=harness.push_body(entries[:3])).json()
        both = http.post("/api/v1/push", content=harness.push_body(entries)).json()
    assert first["last_op_seq"] == entries[2].seq and both["last_op_seq"] == entries[-1].seq
    assert both["results"] == [] and _server_state(server_db, district.id)[0] == (1, 1, 3)


def test_a_push_over_the_byte_limit_gets_413_with_a_plain_message(server, district, device):
    dev = device("observer")
    big = b'{"from_seq":1,"to_seq":1,"walks":[' + b" " * (17 * 1024 * 1024) + b"]}"
    with harness.api(server.url, harness.token_of(dev)) as http:
        resp = http.post("/api/v1/push", content=big)
    assert resp.status_code == 413
    assert "smaller batches" in resp.json()["detail"]


@pytest.fixture
def small_server(db_url, server_db):
    proc = harness.ServerProc(db_url, env={"LEARNWALK_MAX_PUSH_ENTRIES": "7"}).start()
    yield proc
    proc.stop()


def test_the_client_splits_a_batch_the_server_refuses_as_too_large(small_server, server_db, district, tmp_path):
    user = district.user("observer")
    dev = harness.new_device(tmp_path / "dev", small_server.url, district.code(user))
    dev.sync.sync_once()
    walk = harness.new_walk(dev, district.school_id)
    harness.record_visits(dev, walk.id, 5)  # 1 walk + 5 x (start, 3 ratings, finish) = 26 entries
    report = dev.sync.sync_once()
    # split down to batches of at most 7 records and cells; a visit split across batches is sent in each
    assert (report.rejected, dev.sync.status().pending) == (0, 0) and report.applied >= 21
    assert _server_state(server_db, district.id)[0] == (1, 5, 15)
    assert server_db.rows(OpResult, OpResult.device_id == dev.sync.store.meta("device_id")["device_id"]) == []
    dev.engine.dispose()


def test_a_new_visit_s_cells_sent_in_two_groups_are_all_stored(server, server_db, district, device):
    """PushRequest allows one visit in two cell groups (the app sends one); every cell answered applied is kept."""
    dev, entries = _offline_visits(device, district, n=1)
    body = json.loads(harness.push_body(entries))
    ((vid, cells),) = body["cells"]
    body["cells"] = [[vid, cells[:1]], [vid, cells[1:]]]
    with harness.api(server.url, harness.token_of(dev)) as http:
        answer = http.post("/api/v1/push", content=json.dumps(body)).json()
    assert answer == {"last_op_seq": entries[-1].seq, "applied": 1 + 1 + 3, "results": []}
    assert sorted(lf for _, lf in server_db.cells(district.id)) == sorted(c[1] for c in cells)


def test_a_push_over_the_records_limit_gets_413_naming_the_limit(server, district, device):
    dev = device("observer")
    n = MAX_PUSH_ENTRIES + 1
    body = json.dumps({"from_seq": 1, "to_seq": n, "notes": [[q, {}] for q in range(1, n + 1)]}).encode()
    with harness.api(server.url, harness.token_of(dev)) as http:
        resp = http.post("/api/v1/push", content=body)
        assert resp.status_code == 413, resp.text
        assert f"has {n} records and cells; the limit is {MAX_PUSH_ENTRIES}" in resp.json()["detail"]
        assert http.get("/api/v1/changes").status_code == 200  # nothing of it was taken; the device syncs on


def test_a_visit_with_more_cells_than_a_rubric_has_look_fors_is_refused_with_422_naming_the_limit(server, district,
                                                                                                   device):
    dev = device("observer")
    n = MAX_CELLS_PER_VISIT + 1
    cells = [[q, f"lf-{q}", "yes", False, False, "2025-01-01T00:00:00Z"] for q in range(1, n + 1)]
    body = json.dumps({"from_seq": 1, "to_seq": n, "cells": [["v1", cells[:10]], ["v1", cells[10:]]]}).encode()
    with harness.api(server.url, harness.token_of(dev)) as http:
        resp = http.post("/api/v1/push", content=body)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert f"carries {n} rating cells for one visit; a visit has at most {MAX_CELLS_PER_VISIT}" in \
        resp.json()["detail"]


def test_a_devices_largest_batch_fits_under_the_servers_records_limit():
    # a batch of N outbox entries carries at most N records and cells, so the client's batches never meet 413
    # from the default limit (a server set lower gets its batches split: the test above)
    sizes = batch_sizes(SyncClient("http://127.0.0.1:9").batch_entries)
    assert max(next(sizes) for _ in range(10)) == Settings(db_url="sqlite://").max_push_entries == MAX_PUSH_ENTRIES
