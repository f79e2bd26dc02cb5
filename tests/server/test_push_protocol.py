"""Push over HTTP: replays change nothing and get the same answers, op_seq gaps stop processing, limits answer 413."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

import lw_serverproc as harness
from sync.server.models import District, OpResult, Rating, Visit, Walk


def _server_state(db, district_id):
    with Session(db.engine) as s:
        counts = tuple(s.execute(select(func.count()).select_from(m).where(m.district_id == district_id)).scalar_one()
                       for m in (Walk, Visit, Rating))
        seqs = tuple(s.execute(select(func.max(m.change_seq)).where(m.district_id == district_id)).scalar_one()
                     for m in (Walk, Visit, Rating))
        return counts, seqs, s.get(District, district_id).change_counter


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
    assert {r["status"] for r in first.json()["results"]} == {"applied"}
    assert _server_state(server_db, district.id) == state


def test_a_replayed_rejection_is_answered_with_the_same_reason(server, district, device):
    dev, entries = _offline_visits(device, district, n=1)
    bad = harness.harness_entry(entries[-1], data_json=json.dumps({"id": entries[-1].record_id}))
    body = harness.push_body(entries[:-1] + [bad])
    with harness.api(server.url, harness.token_of(dev)) as http:
        first = http.post("/api/v1/push", content=body).json()
        again = http.post("/api/v1/push", content=body).json()
    assert first["results"][-1]["status"] == "rejected" and "not well formed" in first["results"][-1]["reason"]
    assert again == first


def test_an_op_seq_that_skips_ahead_is_out_of_order_and_nothing_after_it_is_applied(server, server_db, district,
                                                                                     device):
    dev, entries = _offline_visits(device, district, n=1)
    with harness.api(server.url, harness.token_of(dev)) as http:
        answer = http.post("/api/v1/push", content=harness.push_body(entries[1:])).json()
    assert [r["status"] for r in answer["results"]] == ["out_of_order"] * (len(entries) - 1)
    assert answer["last_op_seq"] == 0
    assert _server_state(server_db, district.id)[0] == (0, 0, 0)
    dev.sync.sync_once()  # the device then sends from the start and everything lands
    assert _server_state(server_db, district.id)[0] == (1, 1, 3)


def test_entries_not_in_increasing_op_seq_order_are_refused_with_422(server, district, device):
    dev, entries = _offline_visits(device, district, n=1)
    with harness.api(server.url, harness.token_of(dev)) as http:
        resp = http.post("/api/v1/push", content=harness.push_body(list(reversed(entries))))
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "increasing op_seq" in resp.json()["detail"]


def test_a_push_over_the_byte_limit_gets_413_with_a_plain_message(server, district, device):
    dev = device("observer")
    big = b'{"entries":[' + b" " * (17 * 1024 * 1024) + b"]}"
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
    assert (report.applied, report.rejected, dev.sync.status().pending) == (26, 0, 0)
    assert _server_state(server_db, district.id)[0] == (1, 5, 15)
    assert server_db.rows(OpResult, OpResult.device_id == dev.sync.store.meta("device_id")["device_id"]) == []
    dev.engine.dispose()
