"""The v2 push body built from outbox entries, and the push answer read, without a server."""
from __future__ import annotations

import json

import orjson
import pytest

from sync.protocol import PushRequest, PushResponse, rating_id
from sync.push_wire import PendingEntry, build_push, read_answer

AT = "2026-11-25T17:09:57.515698Z"


def snap(kind: str, record_id: str, seq: int, text: str) -> PendingEntry:
    """A walk, visit or note entry whose snapshot text is given as the outbox holds it."""
    return PendingEntry(seq, kind, record_id, text)


def cell(seq: int, visit_id: str, lookfor_id: str, value: str | None = "3", *, not_observed=False, deleted=False,
         updated_at: str = AT) -> PendingEntry:
    """A rating entry as the capture service writes it (json.dumps: spaces after separators)."""
    rid = rating_id(visit_id, lookfor_id)
    return PendingEntry(seq, "rating", rid, json.dumps(
        {"visit_id": visit_id, "lookfor_id": lookfor_id, "value": value, "not_observed": not_observed,
         "updated_at": updated_at, "deleted": deleted, "id": rid}))


def test_each_record_travels_once_in_its_latest_state_with_the_seq_of_its_latest_entry():
    entries = [
        snap("walk", "w1", 1, '{"id": "w1", "focus": []}'),
        snap("visit", "v1", 2, '{"id": "v1", "note": ""}'),
        cell(3, "v1", "lf.a", "1"),
        cell(4, "v1", "lf.b", "2"),
        snap("note", "n1", 5, '{"id": "n1", "text": "first"}'),
        snap("visit", "v1", 6, '{"id": "v1", "note": "finished"}'),
        cell(7, "v1", "lf.a", None, not_observed=True),
        cell(8, "v2", "lf.a", None, deleted=True),
        snap("note", "n1", 9, '{"id": "n1", "text": "second"}'),
    ]
    batch = build_push(entries)
    assert (batch.from_seq, batch.to_seq, batch.items) == (1, 9, 6)  # w1, v1, n1 and three cells
    assert orjson.loads(batch.body) == {
        "from_seq": 1, "to_seq": 9,
        "walks": [[1, {"id": "w1", "focus": []}]],
        "visits": [[6, {"id": "v1", "note": "finished"}]],
        "cells": [["v1", [[4, "lf.b", "2", False, False, AT], [7, "lf.a", None, True, False, AT]]],
                  ["v2", [[8, "lf.a", None, False, True, AT]]]],
        "notes": [[9, {"id": "n1", "text": "second"}]],
    }
    PushRequest.model_validate_json(batch.body)  # the server's model reads it


def test_records_of_a_kind_go_in_the_order_of_their_latest_entries():
    entries = [snap("visit", "v1", 10, '{"id": "v1"}'), snap("visit", "v2", 11, '{"id": "v2"}'),
               snap("visit", "v1", 12, '{"id": "v1", "x": 1}')]
    assert [q for q, _ in orjson.loads(build_push(entries).body)["visits"]] == [11, 12]


def test_cells_are_grouped_by_visit_in_the_order_of_each_visits_first_cell_and_in_seq_order_within():
    entries = [cell(3, "v2", "lf.a"), cell(4, "v1", "lf.a"), cell(5, "v2", "lf.b"), cell(6, "v1", "lf.b"),
               cell(7, "v2", "lf.c")]
    cells = orjson.loads(build_push(entries).body)["cells"]
    assert [(vid, [c[0] for c in group]) for vid, group in cells] == [("v2", [3, 5, 7]), ("v1", [4, 6])]


def test_snapshots_pass_through_byte_for_byte_and_cell_times_keep_their_text():
    odd = '{"id":"n1",   "text": "caf\\u00e9 \\"quoted\\"",\n "visit_id": "v1"}'
    entries = [snap("note", "n1", 41, odd), cell(42, "v1", "lf.a", updated_at="2026-11-25T17:09:57+00:00")]
    body = build_push(entries).body
    assert b"[41," + odd.encode() + b"]" in body
    assert orjson.loads(body)["cells"][0][1][0][5] == "2026-11-25T17:09:57+00:00"
    assert (build_push(entries).from_seq, build_push(entries).to_seq) == (41, 42)


def test_the_rating_id_is_not_sent():
    entry = cell(1, "v1", "lf.a")
    assert entry.record_id.encode() not in build_push([entry]).body


def test_an_empty_batch_or_an_unknown_kind_is_refused_in_words():
    with pytest.raises(ValueError, match="at least one"):
        build_push([])
    with pytest.raises(ValueError, match="cannot send"):
        build_push([snap("school", "s1", 1, "{}")])
    with pytest.raises(ValueError, match="not a whole rating"):
        build_push([PendingEntry(1, "rating", "r1", '{"id": "r1"}')])


@pytest.mark.parametrize("answer", [
    {"last_op_seq": 9, "applied": 7, "results": []},
    {"last_op_seq": 9, "applied": 5, "results": [{"op_seq": 3, "status": "rejected", "reason": "why"},
                                                 {"op_seq": 4, "status": "duplicate"}]},
    {"last_op_seq": 39, "applied": 0, "results": [{"op_seq": 41, "status": "out_of_order",
                                                   "reason": "expected op_seq 40 next"}]},
    {"last_op_seq": 9, "results": []},                                   # applied may be left out
    {"last_op_seq": 9, "applied": "7", "results": []},
    {"last_op_seq": 9, "applied": 1, "results": [{"op_seq": 3, "status": "gone"}]},
    {"last_op_seq": 9, "applied": 1, "results": [7]},
    {"applied": 1, "results": []},
])
def test_a_push_answer_is_read_as_push_response_reads_it(answer):
    raw = json.dumps(answer).encode()
    try:
        r = PushResponse.model_validate_json(raw)
        expected = (r.last_op_seq, r.applied, [(a.op_seq, a.status, a.reason) for a in r.results])
    except ValueError:
        expected = "invalid"
    try:
        got = read_answer(raw)
        got = (got.last_op_seq, got.applied, [tuple(a) for a in got.results])
    except ValueError:
        got = "invalid"
    assert got == expected
