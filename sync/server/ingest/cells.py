"""A visit's rating cells as the server stores them: one row per visit (VisitCells), not one per cell.

    devices: JSON list of the device ids that wrote the visit's current cells, e.g. ["d1"] (compact text)
    cells:   JSON list of stored cells (sync.protocol.cells: [device index, lookfor_id, value, not_observed,
             deleted, updated_at]), sorted by lookfor_id; updated_at in the canonical UTC text; deleted cells
             are tombstones

A push writes one row per visit however many cells it carries (a 25-cell visit is one b-tree entry instead of
25), which is what lets a push of 1,000 visits finish in a fraction of a second. The stored cell is the push
cell with its op_seq replaced by the device index, so a new visit's cells are stored nearly as they arrived.
This module holds the row (its JSON text, its device list, merging a push into it); the cell itself is
sync.protocol.cells. Pulls and exports read the row only through `decode`/`rows` here.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple

import orjson

from sync.protocol.cells import DEVICE, LOOKFOR, CellRow, cell_row, cell_rows, new_visit_cells, stored_cell

__all__ = ["CellRow", "Merged", "decode", "devices_text", "encode", "merge", "new_visit", "rows"]


def devices_text(devices: list[str]) -> str:
    """The `devices` column: compact JSON, so a query can compare it with devices_text([own]) as text."""
    return orjson.dumps(devices).decode()


def encode(cells: list) -> str:
    return orjson.dumps(cells).decode()


def new_visit(cells: list[list]) -> str:
    """The `cells` column of a visit whose checked push cells all come from one device (its `devices` is [that
    device]); the push cells are left as they are."""
    return encode(new_visit_cells(cells))


def decode(devices: str, cells: str) -> tuple[list[str], list[list]]:
    return orjson.loads(devices), orjson.loads(cells)


def rows(devices: str, cells: str) -> Iterator[CellRow]:
    """Every stored cell of a visit (tombstones too), by look-for id, with its writer's device id."""
    ids, stored = decode(devices, cells)
    return cell_rows(stored, ids)


class Merged(NamedTuple):
    devices: str
    cells: str
    replaced: list[tuple[CellRow, list]]  # (the cell before, the push cell after) where another device wrote it
    edited: list[tuple[CellRow, list]] = []  # the same, where this device wrote it: an edit of its own synced cell


def merge(devices: str | None, cells: str | None, changes: list[list], device_id: str) -> Merged:
    """The visit's cells after `changes` (checked push cells, each look-for once) from device_id: a change
    replaces its look-for's cell whoever wrote it (last writer wins in arrival order). Devices no longer
    holding any cell are dropped from the list. Neither the changes nor anything else handed in is changed."""
    ids, stored = decode(devices, cells) if cells is not None else ([], [])
    by_lf = {c[LOOKFOR]: (ids[c[DEVICE]], c) for c in stored}  # look-for -> (its writer, its cell)
    replaced, edited = [], []
    for ch in changes:
        writer, was = by_lf.get(ch[LOOKFOR], (None, None))
        if was is not None:
            (edited if writer == device_id else replaced).append((cell_row(was, ids), ch))
        by_lf[ch[LOOKFOR]] = (device_id, ch)
    kept = sorted({writer for writer, _ in by_lf.values()})
    index = {d: i for i, d in enumerate(kept)}
    out = [stored_cell(c, index[writer]) for _, (writer, c) in sorted(by_lf.items())]
    return Merged(devices_text(kept), encode(out), replaced, edited)
