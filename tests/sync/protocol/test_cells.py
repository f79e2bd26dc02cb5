"""sync.protocol.cells: each fast path gives what its plain cell-by-cell reference gives, on any cells (good and
broken alike); the encodings carry a rating from the device's snapshot to the server and back unchanged; and no
function changes the lists it is handed."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

from sync.protocol import PULL_CELL_FIELDS, PUSH_CELL_FIELDS, rating_id
from sync.protocol.cells import (DELETED, LOOKFOR, OP_SEQ, STORED_CELL_FIELDS, UPDATED_AT, VALUE, BadCell, CellRow,
                                 all_good, all_good_reference, canonical_cell, cell_problem,
                                 cell_rows, envelope_ok, envelope_ok_reference, live_ratings, new_visit_cells,
                                 new_visit_cells_reference, pull_cells, pull_cells_reference, push_cell, rating_row,
                                 same_rating, stored_cell)

LOOKFORS = ["lf.a", "lf.b", "lf.c", "lf.B"]


# A small stand-in for the rule book's say on a cell (sync.protocol.rules compiles the real one per rubric and
# visit, and tests/sync/protocol/test_rules.py holds its triples equal to its checks): a scale map gives both the
# one-by-one check the codec calls and the accepted triples its column check is handed.
def accepted_triples(scales: dict) -> frozenset:
    return frozenset([(lf, v, False) for lf, (values, _) in scales.items() for v in values]
                     + [(lf, None, True) for lf, (_, no) in scales.items() if no])


def rubric_check(scales: dict):
    def check(op_seq, lf, value, no, deleted):
        if deleted:
            return None
        allowed = scales.get(lf)
        if allowed is None:
            return f"look-for {lf} is not in the walk's rubric"
        if no:
            return None if value is None and allowed[1] else f"{lf}: 'not observed' cannot be recorded"
        return None if value in allowed[0] else f"'{value}' is not on the scale of {lf}"
    return check
VALUES = ["1", "2", "3", "yes", "no"]

# the window a store accepts (sync.protocol.times): 2000-01-01 to a day past now
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime.now(timezone.utc).replace(tzinfo=None),
                        timezones=st.just(timezone.utc))
canonical_times = instants.map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
# what a device might send: the canonical text mostly, else other UTC forms, other zones, impossible dates, junk
any_times = st.one_of(
    canonical_times, canonical_times,
    instants.map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    instants.map(lambda t: t.isoformat()),
    instants.map(lambda t: t.astimezone(timezone(timedelta(hours=5))).isoformat()),
    st.sampled_from(["2026-02-30T09:30:00.000000Z", "2026-11-25T25:30:00.000000Z", "yesterday", "", None, 7]),
    # outside the window: a clock that was wrong, and times no database holds
    st.sampled_from(["0999-01-01T00:00:00.000000Z", "1970-01-01T00:00:00.000000Z", "1999-12-31T23:59:59.999999Z",
                     "9999-12-31T23:59:59.999999Z", "2999-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00"]),
)
lookfors = st.one_of(st.sampled_from(LOOKFORS), st.sampled_from(["", "x" * 81, "lf.zz", 7, None, "lf.a\x00"]))
values = st.one_of(st.none(), st.sampled_from(VALUES), st.sampled_from(["v" * 41, "", 3, ["3"], True, "1\x00"]))
flags = st.one_of(st.booleans(), st.booleans(), st.sampled_from([0, 1, None]))
op_seqs = st.one_of(st.integers(-1, 16), st.integers(-3, 2**31), st.sampled_from(["2", 2.0, True, None]))
scales = st.dictionaries(st.sampled_from(LOOKFORS), st.tuples(st.sets(st.sampled_from(VALUES)), st.booleans()))


@st.composite
def push_cells(draw, good_only: bool = False) -> list:
    if good_only:
        return [draw(st.integers(1, 10**6)), draw(st.sampled_from(LOOKFORS)), draw(st.sampled_from(VALUES)),
                False, False, draw(canonical_times)]
    cell = [draw(op_seqs), draw(lookfors), draw(values), draw(flags), draw(flags), draw(any_times)]
    width = draw(st.sampled_from([6, 6, 6, 6, 5, 7]))
    return (cell + ["extra"])[:width]


@st.composite
def good_visit(draw) -> tuple[dict, list]:
    """Scales where every look-for takes every value, and a visit's well-formed push cells, each look-for once."""
    lfs = draw(st.lists(st.sampled_from(LOOKFORS), min_size=1, unique=True))
    cells = [[q, lf, draw(st.sampled_from(VALUES)), False, False, draw(canonical_times)]
             for q, lf in enumerate(lfs, 1)]
    return {lf: (set(VALUES), True) for lf in LOOKFORS}, cells


def test_the_field_names_are_the_positions():
    assert PUSH_CELL_FIELDS[OP_SEQ] == "op_seq" and STORED_CELL_FIELDS[0] == "device"
    assert [PUSH_CELL_FIELDS[i] for i in (LOOKFOR, VALUE, DELETED, UPDATED_AT)] == \
        ["lookfor_id", "value", "deleted", "updated_at"]
    assert PULL_CELL_FIELDS == PUSH_CELL_FIELDS[1:] == STORED_CELL_FIELDS[1:]


def test_accepted_triples_are_every_scale_value_and_not_observed_where_allowed():
    assert accepted_triples({"lf.a": ({"1", "2"}, True), "lf.b": ({"yes"}, False)}) == {
        ("lf.a", "1", False), ("lf.a", "2", False), ("lf.a", None, True), ("lf.b", "yes", False)}


@settings(max_examples=400)
@given(st.lists(st.one_of(push_cells(), push_cells(good_only=True)), max_size=6), scales)
def test_the_column_checks_agree_with_the_checks_cell_by_cell(cells, scale_map):
    before = copy.deepcopy(cells)
    assert all_good(cells, accepted_triples(scale_map)) == all_good_reference(cells, rubric_check(scale_map))
    assert cells == before


@given(good_visit())
def test_well_formed_cells_on_their_scales_pass_the_column_checks(visit):
    scale_map, cells = visit
    assert all_good(cells, accepted_triples(scale_map))
    assert all(cell_problem(c, rubric_check(scale_map)) is None for c in cells)


@settings(max_examples=300)
@given(st.one_of(st.lists(st.one_of(push_cells(), st.just("cell"), st.just([]), st.lists(st.integers(), max_size=7)),
                         max_size=5),
                st.lists(st.integers(-1, 16).map(lambda q: [q, "lf.a", "1", False, False, "t"]), max_size=4)),
       st.integers(1, 5), st.integers(0, 10))
def test_the_envelope_check_agrees_with_its_reference(cells, lo, span):
    assert envelope_ok(cells, lo, lo + span) == envelope_ok_reference(cells, lo, lo + span)


@given(st.lists(push_cells(good_only=True), max_size=8))
def test_a_new_visit_is_stored_as_device_0_in_look_for_order_leaving_the_push_cells_alone(cells):
    before = copy.deepcopy(cells)
    stored = new_visit_cells(cells)
    assert [list(c) for c in stored] == new_visit_cells_reference(cells)
    assert [c[LOOKFOR] for c in stored] == sorted(c[LOOKFOR] for c in cells)
    assert cells == before


@given(st.lists(st.tuples(st.sampled_from(["d1", "d2", "d3"]), push_cells(good_only=True)), max_size=8),
       st.sampled_from(["d1", "d2", "d4"]))
def test_pull_cells_are_the_stored_cells_of_other_devices_without_their_writer(written, own):
    ids = sorted({d for d, _ in written})
    stored = [stored_cell(c, ids.index(d)) for d, c in written]
    before = copy.deepcopy(stored)
    assert pull_cells(stored, ids, own) == pull_cells_reference(stored, ids, own)
    assert stored == before


@settings(max_examples=200)
@given(st.sampled_from(LOOKFORS), st.one_of(st.none(), st.sampled_from(VALUES)), st.booleans(), st.booleans(),
       instants, st.sampled_from(["Z", "+00:00", ".000000Z"]))
def test_a_rating_goes_from_snapshot_to_server_and_back_to_a_device_unchanged(lf, value, no, deleted, at, zone):
    text = at.strftime("%Y-%m-%dT%H:%M:%S") + zone if zone != ".000000Z" else at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    snapshot = {"visit_id": "v1", "lookfor_id": lf, "value": value, "not_observed": no, "deleted": deleted,
                "updated_at": text, "id": rating_id("v1", lf)}
    visit_id, cell = push_cell(12, snapshot)
    assert (visit_id, cell) == ("v1", [12, lf, value, no, deleted, text])
    checked = canonical_cell(cell)
    assert cell[UPDATED_AT] == text  # the push cell is left as it came
    stored = new_visit_cells([checked])
    assert list(cell_rows(stored, ["dev-a"])) == [CellRow(lf, value, no, deleted, checked[UPDATED_AT], "dev-a")]
    assert same_rating(CellRow(lf, value, no, deleted, checked[UPDATED_AT], "dev-a"), cell)
    [pulled] = pull_cells(stored, ["dev-a"], "dev-b")
    row = rating_row("v1", pulled)
    assert row == {**snapshot, "updated_at": at.replace(microsecond=0) if zone != ".000000Z" else at}
    assert list(live_ratings(stored)) == ([] if deleted else [(lf, value, no)])


def test_a_pulled_cell_that_is_not_a_rating_is_refused_with_its_visit_named():
    good = ["lf.a", "3", False, False, "2026-11-25T09:30:00.000000Z"]
    for bad in (good[:4], [7, *good[1:]], [*good[:2], "no", *good[3:]], [*good[:4], "soon"], [*good[:4], None],
                "cells", None):
        try:
            rating_row("v9", bad)
        except BadCell as exc:
            assert "visit v9" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was taken as a rating")
