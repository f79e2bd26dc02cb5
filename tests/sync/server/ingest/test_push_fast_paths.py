"""The fast paths of push (orjson body, set checks of cells, hand-made ids) agree with what they stand for."""
from __future__ import annotations

import json
import uuid

import pytest

from rubrics import Domain, Level, LookFor, Rubric, Scale
from sync.protocol import _RATING_NS, rating_id
from sync.protocol.cells import all_good as _all_good, cell_problem
from sync.protocol.rules import rubric_rules
from sync.server.config import Settings
from sync.server.errors import ApiError
from sync.server.ingest import routes as routes_sync
from sync.server.ingest.routes import _parse_push
from sync.server.ingest.rules import CellRules

SETTINGS = Settings(db_url="sqlite://")
TS = "2026-11-25T09:30:00.123456Z"


def _body(from_seq=1, to_seq=3, **parts) -> bytes:
    return json.dumps({"from_seq": from_seq, "to_seq": to_seq, **parts}).encode()


def _as_parsed(raw: bytes):
    try:
        return _parse_push(raw, SETTINGS)
    except ApiError as exc:
        assert exc.status == 422
        return "invalid"


def _as_pydantic(raw: bytes, monkeypatch):
    """_parse_push with its orjson path turned off: every body goes through PushRequest."""
    with monkeypatch.context() as m:
        m.setattr(routes_sync, "_batch", lambda raw: None)
        return _as_parsed(raw)


CELL = [2, "lf.a", "3", False, False, TS]


@pytest.mark.parametrize("raw", [
    _body(walks=[[1, {"id": "w"}]], cells=[["v1", [CELL]]], notes=[[3, {"id": "n"}]]),
    _body(),                                            # nothing but the range: a valid (empty) push
    _body(from_seq="1"),                                # pydantic coerces a numeric string
    _body(from_seq=1.0), _body(from_seq=True), _body(from_seq=0), _body(from_seq=4, to_seq=3),
    _body(to_seq=2**31), _body(to_seq=1e30),
    _body(walks=[[0, {}]]), _body(walks=[[9, {}]]),      # op_seq outside from_seq..to_seq
    _body(walks=[["1", {}]]), _body(walks=[[1, []]]), _body(walks=[[1]]), _body(walks={}),
    _body(cells=[["", [CELL]]]), _body(cells=[["v" * 37, [CELL]]]), _body(cells=[["v1", [[]]]]),
    _body(cells=[["v1", [["2", "lf.a"]]]]), _body(cells=[["v1", CELL]]), _body(cells=[["v1", [CELL[:5]]]]),
    _body(cells=[["v1", [["2", *CELL[1:]]]]]),
    _body(cells=[["v1", [[2, "lf.a", 3, False, False, TS]]]]),  # a bad value is the cell's problem, not the body's
    b'{"from_seq":1,"to_seq":1,"notes":[[1,{"text":NaN}]]}',
    b'{"from_seq":1,"to_seq":1,"notes":[[1,{"text":"\\ud800"}]]}',
    b'{"from_seq":1,"to_seq":1,"notes":[[1,{"text":"\xe9"}]]}',
    b'{}', b'[]', b'', b'{"from_seq":1}',
])
def test_a_push_body_is_read_as_push_request_reads_it(raw, monkeypatch):
    assert repr(_as_parsed(raw)) == repr(_as_pydantic(raw, monkeypatch))  # repr: NaN equals itself


def test_the_body_limits_count_records_and_cells_and_each_op_seq_answers_once():
    body = _body(walks=[[1, {"id": "w"}]], cells=[["v1", [CELL]]])
    with pytest.raises(ApiError) as too_many:
        _parse_push(body, Settings(db_url="sqlite://", max_push_entries=1))
    assert too_many.value.status == 413 and "2 records and cells" in too_many.value.detail
    with pytest.raises(ApiError) as twice:
        _parse_push(_body(walks=[[2, {"id": "w"}]], cells=[["v1", [CELL]]]), SETTINGS)
    assert twice.value.status == 422 and "unique" in twice.value.detail


def test_rating_id_is_the_uuid5_of_its_cell():
    for i in range(2000):
        visit, lookfor = str(uuid.uuid4()), f"lf.{i}/é"
        assert rating_id(visit, lookfor) == str(uuid.uuid5(_RATING_NS, f"{visit}/{lookfor}"))


_RUBRIC = Rubric(id="fast", version=1, title="Fast paths", domains=[Domain(id="d", title="D")],
                 scales=[Scale(id="three", levels=[Level(value=v, label=v) for v in "123"]),
                         Scale(id="yes-no", levels=[Level(value=v, label=v) for v in ("yes", "no")],
                               not_observed=False)],
                 lookfors=[LookFor(id="lf.a", domain="d", text="A", label="A", scale="three"),
                           LookFor(id="lf.b", domain="d", text="B", label="B", scale="yes-no")])
SCALES = CellRules(rubric_rules(_RUBRIC), None, 0)  # the rule book's checks of a visit's cells


def _cell_problem(cell, rules):
    return cell_problem(cell, rules.problem)
TRIPLES = rubric_rules(_RUBRIC).triples(None)


@pytest.mark.parametrize("cell", [
    [1, "lf.a", "3", False, False, TS], [1, "lf.a", None, True, False, TS], [1, "lf.b", "no", False, False, TS],
    [1, "lf.b", None, True, False, TS], [1, "lf.a", "4", False, False, TS], [1, "lf.x", "1", False, False, TS],
    [1, "lf.a", "3", True, False, TS], [1, "lf.a", 3, False, False, TS], [1, "lf.a", ["3"], False, False, TS],
    [1, "lf.a", "3", 0, False, TS], [1, "lf.a", "3", False, 1, TS], [1, "lf.a", "3", False, False, "yesterday"],
    [1, "lf.a", "3", False, False, "2026-11-25T09:30:00+05:00"], [1, "lf.a", "3", False, False, None],
    [1, "lf.a", "3", False], [1, 7, "3", False, False, TS], [1, "", "3", False, False, TS],
    [1, "lf.a", None, False, True, TS],  # a tombstone: accepted, though the checks one by one see it
    [1, "lf.x", None, False, True, TS],  # a tombstone of a look-for the rubric does not have
])
def test_the_column_checks_accept_a_cell_exactly_when_the_one_by_one_checks_do(cell):
    one_by_one = _cell_problem(cell, SCALES) is None
    if len(cell) == 6 and cell[4] is True and one_by_one:  # tombstones always go one by one (they carry no value to check)
        assert not _all_good([cell], TRIPLES)
        return
    assert _all_good([cell], TRIPLES) == one_by_one
    # checked together with good cells (as a push checks all new visits of a walk at once): the same verdict
    assert _all_good([[1, "lf.a", "1", False, False, TS], cell, [3, "lf.b", "yes", False, False, TS]], TRIPLES) \
        == one_by_one


def test_a_refused_cell_is_told_why():
    assert "not on the scale of lf.a" in _cell_problem([1, "lf.a", "4", False, False, TS], SCALES)
    assert "not in the walk's rubric" in _cell_problem([1, "lf.x", "1", False, False, TS], SCALES)
    assert "'not observed' cannot" in _cell_problem([1, "lf.b", None, True, False, TS], SCALES)
    assert "UTC ISO date-time" in _cell_problem([1, "lf.a", "1", False, False, "yesterday"], SCALES)
