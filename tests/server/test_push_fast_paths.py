"""The fast paths of push (orjson body, hand-made ids and answers) agree with the pydantic shapes they stand for."""
from __future__ import annotations

import json
import uuid

import pytest

from sync.client import _answers
from sync.protocol import PushRequest, PushResponse, rating_id
from sync.server.config import Settings
from sync.server.errors import ApiError
from sync.server.push_rules import cell_id
from sync.server.routes_sync import _parse_push

SETTINGS = Settings(db_url="sqlite://")


def _body(*entries) -> bytes:
    return json.dumps({"entries": list(entries)}).encode()


def _entry(op_seq=1, kind="note", record_id="n1", data=None) -> dict:
    return {"op_seq": op_seq, "kind": kind, "record_id": record_id, "data": {"id": record_id} if data is None else data}


def _as_pydantic(raw: bytes):
    try:
        return [(e.op_seq, e.kind, e.record_id, e.data) for e in PushRequest.model_validate_json(raw).entries]
    except ValueError:
        return "invalid"


def _as_parsed(raw: bytes):
    try:
        return [(e.op_seq, e.kind, e.record_id, e.data) for e in _parse_push(raw, SETTINGS)]
    except ApiError as exc:
        assert exc.status == 422
        return "invalid"


@pytest.mark.parametrize("raw", [
    _body(_entry(), _entry(2, "rating", "r1", {"id": "r1", "value": "3"})),
    _body(_entry(op_seq="1")),            # pydantic coerces a numeric string
    _body(_entry(op_seq=1.0)),
    _body(_entry(op_seq=True)),
    _body(_entry(op_seq=0)),
    _body(_entry(kind="school")),
    _body(_entry(record_id="")),
    _body(_entry(record_id="x" * 81)),
    _body(_entry(data=[1])),
    _body(dict(_entry(), extra="ignored")),
    b'{"entries":[{"op_seq":1,"kind":"note","record_id":"n1","data":{"text":NaN}}]}',
    b'{"entries":[{"op_seq":1,"kind":"note","record_id":"n1","data":{"text":"\\ud800"}}]}',
    b'{"entries":[{"op_seq":1,"kind":"note","record_id":"\xe9","data":{}}]}',
    b'{"entries":{}}', b'[]', b'', b'{"entries":[1]}',
])
def test_a_push_body_is_read_as_push_request_reads_it(raw):
    assert repr(_as_parsed(raw)) == repr(_as_pydantic(raw))  # repr: NaN equals itself


def test_the_fast_path_still_counts_entries_and_checks_their_order():
    with pytest.raises(ApiError) as too_many:
        _parse_push(_body(_entry(1), _entry(2)), Settings(db_url="sqlite://", max_push_entries=1))
    assert too_many.value.status == 413
    with pytest.raises(ApiError) as unordered:
        _parse_push(_body(_entry(2), _entry(1)), SETTINGS)
    assert unordered.value.status == 422


def test_cell_id_is_rating_id():
    for i in range(2000):
        visit, lookfor = str(uuid.uuid4()), f"lf.{i}/é"
        assert cell_id(visit, lookfor) == rating_id(visit, lookfor)


@pytest.mark.parametrize("answer", [
    {"results": [{"op_seq": 1, "status": "applied", "reason": None},
                 {"op_seq": 2, "status": "rejected", "reason": "why"}], "last_op_seq": 2},
    {"results": [{"op_seq": 1, "status": "applied"}], "last_op_seq": 1},   # reason may be left out
    {"results": [{"op_seq": "1", "status": "applied"}], "last_op_seq": 1},
    {"results": [{"op_seq": 1, "status": "gone"}], "last_op_seq": 1},
    {"results": [], "last_op_seq": "x"},
    {"results": [7], "last_op_seq": 1},
])
def test_a_push_answer_is_read_as_push_response_reads_it(answer):
    raw = json.dumps(answer).encode()
    try:
        expected = [(r.op_seq, r.status, r.reason) for r in PushResponse.model_validate_json(raw).results]
    except ValueError:
        expected = "invalid"
    try:
        got = [tuple(a) for a in _answers(raw)]
    except ValueError:
        got = "invalid"
    assert got == expected
