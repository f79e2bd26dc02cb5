"""Pull: the changes a caller may see after their cursor, in change_seq order, a page at a time.

The window is (cursor, H] where H is the district counter read first: every change numbered up to H has
committed (sync.server.seq), so the cursor handed back never passes a change that becomes visible later.
A device does not receive rows it wrote itself (it holds them already, or a newer pending version).

Rating cells travel inside their visit (protocol v2): a push that changes a cell also gives its visit a new
number, so a visit is in the window whenever one of its cells changed. A visit is sent when another device
wrote it or one of its cells, with every cell of it another device wrote, not only those numbered after the
cursor: a cursor handed back by a cut page (more=true) can pass a cell whose visit has since moved to a
higher number (a later cell of it changed), and that cell would then never be sent. Only the device's own
cells are left out. A page is bounded by weight (a visit counts 1 + its cells) and never splits a visit or a
number. A visit's cells are one visit_cells row, read only through sync.server.ingest.cells.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, or_, select
from sqlmodel import Session

from sync.protocol import RECORD_SHAPES, Change, PullResponse
from sync.protocol.cells import pull_cells
from sync.server import seq
from sync.server.deps import Caller
from sync.server.ingest.cells import decode, devices_text
from sync.server.models import DistrictSettings, EvidenceNote, RubricVersion, School, Visit, VisitCells, Walk
from sync.server.scope import Scope

_SETTINGS_FIELDS = ("small_cell_threshold", "record_class_type", "allow_identifying_fields")
_CELL_CHUNK = 500  # visit ids per cell query: well under every bound-parameter limit
_CELLS = VisitCells.__table__


def _jsonable(v):
    return v.isoformat() if isinstance(v, (datetime, date)) else v


def _record(kind: str):
    fields = tuple(RECORD_SHAPES[kind].model_fields)

    def build(row) -> tuple[str, dict]:
        return row["id"], {f: _jsonable(row[f]) for f in fields}
    return build


def _school(row) -> tuple[str, dict]:
    return row["id"], {"id": row["id"], "name": row["name"], "district_id": row["district_id"]}


def _rubric(row) -> tuple[str, dict]:
    key = f"{row['rubric_id']}@{row['version']}"
    return key, {"rubric_id": row["rubric_id"], "version": row["version"], "yaml_text": row["yaml_text"],
                 "content_hash": row["content_hash"]}


def _settings(row) -> tuple[str, dict]:
    return row["district_id"], {f: row[f] for f in _SETTINGS_FIELDS}


class _Window:
    """One pull's window (since, hi] for one caller: the bound it may hand back shrinks as sources fill up."""

    def __init__(self, s: Session, caller: Caller, since: int, hi: int, limit: int):
        self.s, self.caller, self.since, self.hi, self.limit = s, caller, since, hi, limit
        self.scope = Scope(caller)
        self.own_devices = devices_text([caller.device_id])  # a visit_cells row holding only this device's cells
        self.bound = hi
        self.rows: list[tuple[int, int, str, str, dict]] = []  # (seq, weight, kind, record_id, data)

    def base(self, model, *extra):
        return (self.scope.select(model, model.__table__)
                .where(model.change_seq > self.since, model.change_seq <= self.hi, *extra))

    def add(self, kind: str, build, rows, weights=None) -> None:
        for i, r in enumerate(rows):
            rid, data = build(r)
            self.rows.append((r["change_seq"], weights[i] if weights else 1, kind, rid, data))

    def plain(self, kind: str, model, build, *extra) -> None:
        """A source of one-weight rows: at most `limit`, cut before its last number unless that is all of it."""
        base = self.base(model, *extra)
        got = list(self.s.execute(base.order_by(model.change_seq).limit(self.limit)).mappings())
        if len(got) == self.limit:  # this source has more: its last number may be only partly read
            last = got[-1]["change_seq"]
            if last - 1 > self.since:
                got = [r for r in got if r["change_seq"] < last]
                self.bound = min(self.bound, last - 1)
            else:  # one number covers the whole page (a re-numbered walk): take all of it
                got = list(self.s.execute(base.where(model.change_seq == last)).mappings())
                self.bound = min(self.bound, last)
        self.add(kind, build, got)

    def cells(self, visit_ids: list[str]) -> dict[str, list[list]]:
        """The cells of these (already scoped) visits that other devices wrote, by visit id, each visit's in
        look-for order as stored (why not only those after the cursor: module docstring). No Scope clause: the
        visit ids come from a scoped query."""
        out: dict[str, list[list]] = {v: [] for v in visit_ids}
        own, mine = self.caller.device_id, self.own_devices
        conn = self.s.connection()  # plain rows: the ORM's row handling would cost more than the query
        for i in range(0, len(visit_ids), _CELL_CHUNK):
            q = select(_CELLS.c.visit_id, _CELLS.c.devices, _CELLS.c.cells).where(
                _CELLS.c.visit_id.in_(visit_ids[i:i + _CELL_CHUNK]), _CELLS.c.devices != mine)
            for vid, devices, stored in conn.execute(q):
                ids, cells = decode(devices, stored)
                out[vid] = pull_cells(cells, ids, own)
        return out

    def visits(self) -> None:
        """Visits in the window another device wrote, or with a cell another device wrote, with those cells."""
        # a cell by another device <=> the row's devices list is not exactly [own] (compact JSON compared as
        # text: one key lookup per visit, no decoding in SQL)
        others_cell = exists().where(_CELLS.c.visit_id == Visit.id, _CELLS.c.devices != self.own_devices)
        base = self.base(Visit, or_(Visit.device_id != self.caller.device_id, others_cell))
        got = list(self.s.execute(base.order_by(Visit.change_seq).limit(self.limit)).mappings())
        full = len(got) == self.limit
        # cells are read a chunk of visits at a time, only until the page's weight is reached; each chunk is
        # sized from the cells per visit seen so far, so few cells are read beyond the page
        taken, cells, weight, size = [], {}, 0, 32
        while len(taken) < len(got) and weight <= self.limit:
            chunk = got[len(taken):len(taken) + size]
            cells.update(self.cells([r["id"] for r in chunk]))
            for r in chunk:
                weight += 1 + len(cells[r["id"]])
                taken.append(r)
                if weight > self.limit:
                    break
            per_visit = weight / len(taken)
            size = min(_CELL_CHUNK, max(16, int((self.limit - weight) / per_visit) + 8))
        if weight > self.limit or full:
            # the last number read may be only partly read (or only partly taken): stop before it, unless
            # it is the first number read, which is then taken whole however heavy (a re-numbered walk)
            last = taken[-1]["change_seq"]
            if got[0]["change_seq"] < last:
                taken = [r for r in taken if r["change_seq"] < last]
                self.bound = min(self.bound, last - 1)
            else:
                taken = list(self.s.execute(base.where(Visit.change_seq == last).order_by(Visit.id)).mappings())
                missing = [r["id"] for r in taken if r["id"] not in cells]
                cells.update(self.cells(missing))
                self.bound = min(self.bound, last)

        def build(r) -> tuple[str, dict]:
            rid, data = _VISIT(r)
            data["cells"] = cells[rid]
            return rid, data
        self.add("visit", build, taken, [1 + len(cells[r["id"]]) for r in taken])

    def page(self) -> PullResponse:
        rows = sorted((r for r in self.rows if r[0] <= self.bound), key=lambda r: r[0])
        end, weight = 0, 0
        while end < len(rows) and (end == 0 or weight + rows[end][1] <= self.limit):
            weight += rows[end][1]
            end += 1
        while end < len(rows) and rows[end][0] == rows[end - 1][0]:  # a page ends on a whole number
            end += 1
        if end < len(rows):
            rows, cursor, more = rows[:end], rows[end - 1][0], True
        else:  # every row up to the bound fits
            cursor, more = self.bound, self.bound < self.hi
        changes = [Change(kind=k, record_id=rid, seq=n, data=d) for n, _, k, rid, d in rows]
        return PullResponse(changes=changes, cursor=cursor, more=more)


_VISIT = _record("visit")


def changes_since(s: Session, caller: Caller, since: int, limit: int) -> PullResponse:
    hi = seq.high_water(s, caller.district_id)
    if since < 0 or since > hi:  # a cursor from another server or a restored database: start over
        return PullResponse(changes=[], cursor=0, more=False, reset_required=True)
    if since == hi:
        return PullResponse(changes=[], cursor=hi, more=False)
    w = _Window(s, caller, since, hi, limit)
    own = caller.device_id
    w.plain("walk", Walk, _record("walk"), Walk.device_id != own)
    w.visits()
    w.plain("note", EvidenceNote, _record("note"), EvidenceNote.device_id != own)
    w.plain("school", School, _school)
    w.plain("rubric", RubricVersion, _rubric)
    w.plain("settings", DistrictSettings, _settings)
    return w.page()
