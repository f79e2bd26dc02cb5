"""A visit's rating cells as the server stores them: one row per visit (VisitCells), not one per cell.

    devices: JSON list of the device ids that wrote the visit's current cells, e.g. ["d1"] (compact text)
    cells:   JSON list of [device index, lookfor_id, value, not_observed, deleted, updated_at], sorted by
             lookfor_id; updated_at is UTC text (2026-11-25T09:30:00.000000Z); deleted cells are tombstones

A push writes one row per visit however many cells it carries (a 25-cell visit is one b-tree entry instead of
25), which is what lets a push of 1,000 visits finish in a fraction of a second. The layout is the push wire's
cell with its op_seq replaced by the device index, so a new visit's cells are stored nearly as they arrived.
Pulls and exports read cells only through `decode`/`rows` here.
"""
from __future__ import annotations

from operator import itemgetter
from typing import Iterator, NamedTuple

import orjson

_BY_LOOKFOR = itemgetter(1)


class CellRow(NamedTuple):
    lookfor_id: str
    value: str | None
    not_observed: bool
    deleted: bool
    updated_at: str
    device_id: str


def devices_text(devices: list[str]) -> str:
    """The `devices` column: compact JSON, so a query can compare it with devices_text([own]) as text."""
    return orjson.dumps(devices).decode()


def encode(cells: list[list]) -> str:
    return orjson.dumps(cells).decode()


def new_visit(cells: list[list]) -> str:
    """The `cells` column of a visit whose cells all come from one device (its `devices` is [that device]): the
    wire cells [op_seq, lookfor_id, value, not_observed, deleted, updated_at] become stored cells by setting
    their first item to device 0 (in place: the caller hands them over)."""
    for c in cells:
        c[0] = 0
    cells.sort(key=_BY_LOOKFOR)
    return encode(cells)


def decode(devices: str, cells: str) -> tuple[list[str], list[list]]:
    return orjson.loads(devices), orjson.loads(cells)


def rows(devices: str, cells: str) -> Iterator[CellRow]:
    """Every stored cell of a visit (tombstones too), by look-for id, with its writer's device id."""
    ids, stored = decode(devices, cells)
    for d, lf, value, no, deleted, at in stored:
        yield CellRow(lf, value, no, deleted, at, ids[d])


class Merged(NamedTuple):
    devices: str
    cells: str
    replaced: list[tuple[CellRow, list]]  # (the cell before, the wire cell after) where another device wrote it


def merge(devices: str | None, cells: str | None, changes: list[list], device_id: str) -> Merged:
    """The visit's cells after `changes` (checked wire cells, each look-for once) from device_id: a change
    replaces its look-for's cell whoever wrote it (last writer wins in arrival order). Devices no longer
    holding any cell are dropped from the list."""
    ids, stored = decode(devices, cells) if cells is not None else ([], [])
    by_lf = {c[1]: c for c in stored}
    replaced = []
    for ch in changes:
        old = by_lf.get(ch[1])
        if old is not None and ids[old[0]] != device_id:
            replaced.append((CellRow(old[1], old[2], old[3], old[4], old[5], ids[old[0]]), ch))
        by_lf[ch[1]] = [device_id, *ch[1:]]  # device id for now; renumbered below
    for c in by_lf.values():
        if type(c[0]) is int:
            c[0] = ids[c[0]]
    kept = sorted({c[0] for c in by_lf.values()})
    index = {d: i for i, d in enumerate(kept)}
    out = sorted(by_lf.values(), key=_BY_LOOKFOR)
    for c in out:
        c[0] = index[c[0]]
    return Merged(devices_text(kept), encode(out), replaced)
