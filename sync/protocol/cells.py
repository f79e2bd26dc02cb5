"""The rating cell, the one place its fields are named by position: its push, stored and pull encodings and checks.

A rating travels and is stored as a short positional list, not an object: a push carries tens of thousands
of cells, and a list per cell is what keeps parsing, checking and storing them cheap. Three encodings:

    push cell    [op_seq, lookfor_id, value, not_observed, deleted, updated_at]   device -> server
    stored cell  [device, lookfor_id, value, not_observed, deleted, updated_at]   the server's visit_cells row
    pull cell    [lookfor_id, value, not_observed, deleted, updated_at]           server -> device

(value: text or null; not_observed, deleted: booleans; updated_at: UTC text, canonical once stored:
2026-11-25T09:30:00.000000Z; `device` indexes the row's device list, sync.server.ingest.cells.) The push and stored
cells share positions 1..5, so one becomes the other by its first item. Nothing here changes a list it is
handed. Fast paths (column-wise checks) sit beside a plain cell-by-cell reference that tests/sync/protocol holds equal.
"""
from __future__ import annotations

import re
from collections import deque
from datetime import datetime
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from sync.protocol import rating_id
from sync.protocol import times

PUSH_CELL_FIELDS = ("op_seq", "lookfor_id", "value", "not_observed", "deleted", "updated_at")
STORED_CELL_FIELDS = ("device", *PUSH_CELL_FIELDS[1:])
PULL_CELL_FIELDS = PUSH_CELL_FIELDS[1:]

# positions in a push or stored cell (a pull cell is the same without the first)
OP_SEQ = DEVICE = 0
LOOKFOR, VALUE, NOT_OBSERVED, DELETED, UPDATED_AT = 1, 2, 3, 4, 5
WIDTH = len(PUSH_CELL_FIELDS)

# PUSH_CELL_FIELDS: (int, str, str | None, bool, bool, ISO UTC text). Only op_seq is part of the envelope: a cell
# whose other fields are wrong is answered "rejected" with its reason, not refused with the whole body
PushCell = tuple[int, Any, Any, Any, Any, Any]

op_seq_of = itemgetter(OP_SEQ)
lookfor_of = itemgetter(LOOKFOR)

# the rubric's say on one cell (sync.protocol.rules, per visit): (op_seq, lookfor_id, value, not_observed, deleted)
# -> the reason it is refused, or None; the codec checks only the cell's form
RubricCheck = Callable[[int, Any, Any, bool, bool], "str | None"]


def op_seqs(cells: Iterable[list]) -> list[int]:
    return list(map(op_seq_of, cells))


# ---- device -> push --------------------------------------------------------------------------------

def push_cell(op_seq: int, rating: dict) -> tuple[str, list]:
    """(visit id, push cell) of a rating snapshot (RatingData as JSON). KeyError or TypeError if it is not a whole
    rating (the caller says which change)."""
    return rating["visit_id"], [op_seq, rating["lookfor_id"], rating["value"], rating["not_observed"],
                                rating["deleted"], rating["updated_at"]]


# ---- the push envelope and the checks of each cell --------------------------------------------------

def envelope_ok(cells: list, lo: int, hi: int) -> bool:
    """Whether every cell is a list of six whose op_seq is a number in lo..hi (the rest is each cell's own
    problem, answered "rejected"). Column by column: map and set run in C, about 5x the loop below."""
    if not cells:
        return True
    if set(map(type, cells)) != {list} or set(map(len, cells)) != {WIDTH}:
        return False
    seqs = op_seqs(cells)
    return set(map(type, seqs)) == {int} and min(seqs) >= lo and max(seqs) <= hi


def envelope_ok_reference(cells: list, lo: int, hi: int) -> bool:
    """envelope_ok, cell by cell."""
    return all(type(c) is list and len(c) == WIDTH and type(c[OP_SEQ]) is int and lo <= c[OP_SEQ] <= hi
               for c in cells)


def cell_problem(c: list, rubric: RubricCheck) -> str | None:
    """Why this push cell cannot be taken, or None: its form here (text a database can hold, a time inside the
    window a store accepts), then what the rubric says of it (the rule book's check for its visit). Checked by
    hand: a push carries tens of thousands of cells."""
    if len(c) != WIDTH:
        return "a rating cell must be [" + ", ".join(PUSH_CELL_FIELDS) + "]"
    lf, value, no, deleted, ts = c[LOOKFOR], c[VALUE], c[NOT_OBSERVED], c[DELETED], c[UPDATED_AT]
    if type(lf) is not str or not 0 < len(lf) <= 80:
        return "a rating's look-for id must be text of 1 to 80 characters"
    if "\x00" in lf:
        return f"a rating's look-for id {_nul_shown(lf)} holds a NUL character (\\x00), which cannot be stored; " \
               "remove it"
    if not (value is None or (type(value) is str and len(value) <= 40)):
        return f"{lf}: the value must be text of at most 40 characters or null"
    if value is not None and "\x00" in value:
        return f"{lf}: the value {_nul_shown(value)} holds a NUL character (\\x00), which cannot be stored; remove it"
    if type(no) is not bool or type(deleted) is not bool:
        return f"{lf}: not_observed and deleted must be true or false"
    if type(ts) is not str or not times.UTC_TEXT.fullmatch(ts):
        return f"{lf}: updated_at must be a UTC ISO date-time such as {times.EXAMPLE}"
    try:
        times.parse(ts)
    except times.BadTime:
        return f"{lf}: updated_at {ts} is not a real date and time"
    try:
        times.accepted_utc(ts, "updated_at")
    except times.BadTime as why:  # outside the window a store accepts: the device's clock was wrong
        return f"{lf}: {why}"
    return rubric(c[OP_SEQ], lf, value, no, deleted)


def _nul_shown(text: str) -> str:
    """Text holding a NUL as a reason may show it (the reason is stored too)."""
    return "'" + text.replace("\x00", "\\x00") + "'"


_CANONICAL_TIMES = re.compile(f"{times.CANONICAL}(?:\\|{times.CANONICAL})*")


def all_good(cells: list, triples: frozenset) -> bool:
    """Whether every push cell is well formed, accepted by the rubric (triples: the rule book's accepted
    (look-for, value, not_observed) for the visit, sync.protocol.rules.RubricRules.triples), not a tombstone
    and timed in the canonical text, checked column by column in C (set and map operations): the common case of a
    push, measured several times faster than cell_problem on each. False sends the cells through cell_problem one
    by one, which finds the reason for each refused cell. (Each look-for once per visit is the caller's check.)"""
    if not cells:
        return True
    if set(map(len, cells)) != {WIDTH}:
        return False
    _, lfs, values, nos, dels, stamps = zip(*cells)
    if set(map(type, nos)) != {bool} or set(map(type, dels)) != {bool} or any(dels):
        return False
    try:
        if not set(zip(lfs, values, nos)) <= triples:
            return False
    except TypeError:  # an unhashable value (a list...): not a scale value
        return False
    # one regex run over the times joined: every one in the canonical form the app sends, stored as is
    if set(map(type, stamps)) != {str} or _CANONICAL_TIMES.fullmatch("|".join(stamps)) is None:
        return False
    # inside the window a store accepts: canonical texts are in one form, so their text order is their time order
    # (min and max in C; a year-999 time must not be stored, or no device could read it back)
    if min(stamps) < times.EARLIEST_TEXT or max(stamps) > times.latest_text():
        return False
    try:  # a real instant too (no 30 February), or the database could not read it back
        deque(map(datetime.fromisoformat, stamps), maxlen=0)
    except ValueError:
        return False
    return True


def all_good_reference(cells: list, rubric: RubricCheck) -> bool:
    """all_good, cell by cell: no problem (the time inside the window too), not a tombstone, the time in canonical
    text (rubric: the check whose accepted triples all_good is given)."""
    return all(cell_problem(c, rubric) is None and not c[DELETED] and times.is_canonical(c[UPDATED_AT])
               for c in cells)


def canonical_cell(c: list) -> list:
    """A checked push cell (cell_problem None) with its time in the canonical text it is stored in (a new list)."""
    return [*c[:UPDATED_AT], times.canonical(c[UPDATED_AT])]


# ---- push -> stored --------------------------------------------------------------------------------

def stored_cell(c: list, device: Any) -> list:
    """A push cell (or a stored one) as a stored cell of this device (a new list)."""
    return [device, *c[LOOKFOR:]]


def new_visit_cells(cells: list) -> list:
    """The stored cells of a new visit whose checked push cells all come from one device (device 0 of its list),
    in look-for order; the push cells are left as they are. Unpacked in a comprehension: as fast as the in-place
    rewrite it replaced (bench/sync_push.py), and twice as fast as stored_cell on each."""
    out = [(0, lf, value, no, deleted, at) for _, lf, value, no, deleted, at in cells]
    out.sort(key=lookfor_of)
    return out


def new_visit_cells_reference(cells: list) -> list:
    """new_visit_cells, cell by cell."""
    return sorted((stored_cell(c, 0) for c in cells), key=lookfor_of)


class CellRow(NamedTuple):
    """A stored cell read with its writer's device id."""
    lookfor_id: str
    value: str | None
    not_observed: bool
    deleted: bool
    updated_at: str
    device_id: str


def cell_row(c: list, device_ids: list[str]) -> CellRow:
    """A stored cell as a CellRow (device_ids: its row's device list)."""
    return CellRow(c[LOOKFOR], c[VALUE], c[NOT_OBSERVED], c[DELETED], c[UPDATED_AT], device_ids[c[DEVICE]])


def cell_rows(stored: list, device_ids: list[str]) -> Iterator[CellRow]:
    for c in stored:
        yield cell_row(c, device_ids)


def rating_fields(c: list) -> dict:
    """The rating a push or stored cell holds (as an audit entry records it)."""
    return {"value": c[VALUE], "not_observed": c[NOT_OBSERVED], "deleted": c[DELETED]}


def same_rating(row: CellRow, c: list) -> bool:
    """Whether a checked push cell says what a stored cell says (times compared as instants)."""
    return (row.value, row.not_observed, row.deleted) == (c[VALUE], c[NOT_OBSERVED], c[DELETED]) \
        and times.as_utc(row.updated_at, "updated_at") == times.as_utc(c[UPDATED_AT], "updated_at")


def live_ratings(stored: list) -> Iterator[tuple[str, str | None, bool]]:
    """(lookfor_id, value, not_observed) of each stored cell that is not a tombstone, without its writer."""
    for c in stored:
        if not c[DELETED]:
            yield c[LOOKFOR], c[VALUE], c[NOT_OBSERVED]


# ---- stored -> pull -> device -----------------------------------------------------------------------

def pull_cells(stored: list, device_ids: list[str], leave_out: str) -> list[list]:
    """The pull cells of a visit's stored cells, in their stored order, leaving out those device `leave_out`
    wrote (it holds them already). Times go out as stored: the canonical text, read by fromisoformat."""
    return [c[LOOKFOR:] for c in stored if device_ids[c[DEVICE]] != leave_out]


def pull_cells_reference(stored: list, device_ids: list[str], leave_out: str) -> list[list]:
    """pull_cells through CellRow, one cell at a time."""
    return [[r.lookfor_id, r.value, r.not_observed, r.deleted, r.updated_at]
            for r in cell_rows(stored, device_ids) if r.device_id != leave_out]


class BadCell(ValueError):
    """A pulled cell that is not a rating this app can store."""


def rating_row(visit_id: str, cell: Any) -> dict:
    """The device's Rating row (RatingData fields) of a pulled cell. Checked by hand: a pull page may hold tens of
    thousands of cells, and a model per cell would cost more than storing them. BadCell if it is not one."""
    try:
        lookfor_id, value, not_observed, deleted, updated_at = cell
    except (TypeError, ValueError):
        raise BadCell(f"a rating of visit {visit_id} is not [" + ", ".join(PULL_CELL_FIELDS) + "]") from None
    if not (type(lookfor_id) is str and (value is None or type(value) is str)
            and type(not_observed) is bool and type(deleted) is bool and type(updated_at) is str):
        raise BadCell(f"a rating of visit {visit_id} has a field of the wrong type")
    try:
        at = times.parse(updated_at, "updated_at")
    except times.BadTime as why:
        raise BadCell(f"a rating of visit {visit_id}: {why}") from None
    return {"id": rating_id(visit_id, lookfor_id), "visit_id": visit_id, "lookfor_id": lookfor_id,
            "value": value, "not_observed": not_observed, "deleted": deleted, "updated_at": at}
