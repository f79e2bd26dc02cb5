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

Nothing stored can stop a round: each record about to be sent is checked with the shape the device reads it
with (sync.protocol.RECORD_SHAPES), each cell with the device's codec (sync.protocol.cells.rating_row), and a row
whose stored values the database driver cannot even read (a time out of every range) is read alone. What fails is
left out of the page, but still counts where the page is cut (a skipped row keeps its number, so paging loses
nothing), and is reported once per record in the audit log (action "pull.skipped"): the entry is its own marker.
"""
from __future__ import annotations

from collections import deque
from datetime import date, datetime

from pydantic import ValidationError
from sqlalchemy import exists, or_, select, text, tuple_
from sqlalchemy.exc import DataError
from sqlmodel import Session

from sync.protocol import RECORD_SHAPES, Change, PullResponse, rating_id
from sync.protocol.cells import PULL_CELL_FIELDS, BadCell, pull_cells, rating_row
from sync.server import seq
from sync.server.db import writer
from sync.server.deps import Caller
from sync.server.directory import audit
from sync.server.ingest.cells import decode, devices_text
from sync.server.models import (AuditLog, DistrictSettings, EvidenceNote, RubricVersion, School, Visit, VisitCells,
                                Walk)
from sync.server.models import Cycle
from sync.server.scope import Scope

_SETTINGS_FIELDS = ("small_cell_threshold", "record_class_type", "allow_identifying_fields")
_CELL_CHUNK = 500  # visit ids per cell query: well under every bound-parameter limit
_CELLS = VisitCells.__table__
SKIPPED = "pull.skipped"  # the audit action of a stored record (or cell) no device could read
_UNREADABLE = (ValueError, OverflowError, DataError)  # a stored value the driver cannot turn into Python
_GONE = "_unreadable"  # marks a row read as its keys only (its stored values could not be read)

# a skip: (kind, record_id, reason in words, what else says which one) - ids and field names, nothing identifying
Skip = tuple[str, str, str, dict]


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


def _key(kind: str, row) -> str:
    """The record id of a row that could not be built."""
    if kind == "rubric":
        return f"{row['rubric_id']}@{row['version']}"
    return row["district_id"] if kind == "settings" else row["id"]


def _shape_problem(kind: str, data: dict) -> str | None:
    """Why the device could not read this record (it reads it with its record shape, as here), or None. About 6 us
    a record and 2 us a cell (rating_row), measured: a 5,000-change page is checked in about 10 ms."""
    shape = RECORD_SHAPES.get(kind)
    if shape is None:
        return None
    try:
        shape.model_validate({k: v for k, v in data.items() if k != "cells"})
    except ValidationError as exc:
        err = exc.errors()[0]  # the field and what is wrong with it, never the value
        where = ".".join(str(p) for p in err.get("loc", ())) or "record"
        return f"its {where} cannot be read by the app ({err.get('msg', 'not valid')})"
    return None


_VALUE_TYPES = {str, type(None)}


def all_readable(pulled: list[list]) -> bool:
    """Whether rating_row (the device's codec) reads every one of these pull cells, checked column by column with
    the codec's own time parser: the common case, measured about 4x faster than rating_row on each (which also
    derives each rating's id), about 2 ms more per 5,000-cell page instead of 9. False sends the cells through
    rating_row one by one (tests/sync/server/ingest/test_pull_skips.py holds the two equal)."""
    if not pulled:
        return True
    if set(map(type, pulled)) != {list} or set(map(len, pulled)) != {len(PULL_CELL_FIELDS)}:
        return False
    lfs, values, nos, dels, stamps = zip(*pulled)
    if set(map(type, lfs)) != {str} or not set(map(type, values)) <= _VALUE_TYPES \
            or set(map(type, nos)) != {bool} or set(map(type, dels)) != {bool} or set(map(type, stamps)) != {str}:
        return False
    try:  # the codec's parser (sync.protocol.times.parse is datetime.fromisoformat), without its frame per cell
        deque(map(datetime.fromisoformat, stamps), maxlen=0)
    except ValueError:
        return False
    return True


def all_readable_reference(pulled: list[list]) -> bool:
    """all_readable, cell by cell through the codec."""
    try:
        for c in pulled:
            rating_row("v", c)
    except BadCell:
        return False
    return True


class _Window:
    """One pull's window (since, hi] for one caller: the bound it may hand back shrinks as sources fill up."""

    def __init__(self, s: Session, caller: Caller, since: int, hi: int, limit: int):
        self.s, self.caller, self.since, self.hi, self.limit = s, caller, since, hi, limit
        self.scope = Scope(caller)
        self.own_devices = devices_text([caller.device_id])  # a visit_cells row holding only this device's cells
        self.bound = hi
        # (seq, weight, kind, record_id, data or None when skipped, the skips this row reports)
        self.rows: list[tuple[int, int, str, str, dict | None, list[Skip]]] = []
        self.cell_skips: dict[str, list[Skip]] = {}  # visit id -> its cells left out

    def base(self, model, *extra, since: int | None = None):
        since = self.since if since is None else since
        return (self.scope.select(model, model.__table__)
                .where(model.change_seq > since, model.change_seq <= self.hi, *extra))

    def fetch(self, q, table) -> list:
        """The rows of q; if a stored value of one cannot be read, every row alone, those that fail as their keys
        only (marked _GONE), so the page around them is still sent and cut where it would be."""
        try:
            return list(self.s.execute(q).mappings())
        except _UNREADABLE:
            pass
        keys = [*table.primary_key.columns, table.c.change_seq]
        out = []
        for k in self.s.execute(q.with_only_columns(*keys)).mappings().all():
            one = q.where(*(c == k[c.name] for c in table.primary_key.columns))
            try:
                out.append(self.s.execute(one).mappings().one())
            except _UNREADABLE:
                out.append({**k, _GONE: True})
        return out

    def add(self, kind: str, build, rows, weights=None) -> None:
        for i, r in enumerate(rows):
            weight = weights[i] if weights else 1
            if _GONE in r:
                rid, data, why = _key(kind, r), None, "a value stored in it cannot be read (a time out of range?)"
            else:
                rid, data = build(r)
                why = _shape_problem(kind, data)
            if why is not None:
                self.rows.append((r["change_seq"], weight, kind, rid, None, [(kind, rid, why, {})]))
            else:
                self.rows.append((r["change_seq"], weight, kind, rid, data, self.cell_skips.pop(rid, [])))

    def plain(self, kind: str, model, build, *extra) -> None:
        """A source of one-weight rows: at most `limit`, cut before its last number unless that is all of it."""
        base = self.base(model, *extra)
        table = model.__table__
        got = self.fetch(base.order_by(model.change_seq).limit(self.limit), table)
        if len(got) == self.limit:  # this source has more: its last number may be only partly read
            last = got[-1]["change_seq"]
            if last - 1 > self.since:
                got = [r for r in got if r["change_seq"] < last]
                self.bound = min(self.bound, last - 1)
            else:  # one number covers the whole page (a re-numbered walk): take all of it
                got = self.fetch(base.where(model.change_seq == last), table)
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
                try:
                    ids, cells = decode(devices, stored)
                    pulled = pull_cells(cells, ids, own)
                except (ValueError, TypeError, IndexError, KeyError):  # a row no push writes: its cells stay out
                    self.cell_skips[vid] = [("visit", vid, "its stored ratings cannot be read", {})]
                    continue
                out[vid] = self.readable_cells(vid, pulled)
        return out

    def readable_cells(self, vid: str, pulled: list[list]) -> list[list]:
        """The cells the device can read (its own codec says so); the others are noted as skips of their visit."""
        if all_readable(pulled):
            return pulled
        good, skips = [], []
        for c in pulled:
            try:
                rating_row(vid, c)
                good.append(c)
            except BadCell as why:
                lf = c[0] if type(c) is list and c and type(c[0]) is str else ""
                rid = rating_id(vid, lf) if lf else vid
                skips.append(("rating", rid, str(why), {"visit_id": vid, "lookfor_id": lf[:80]}))
        if skips:
            self.cell_skips[vid] = skips
        return good

    def visits(self) -> None:
        """Visits in the window another device wrote, or with a cell another device wrote, with those cells."""
        # a cell by another device <=> the row's devices list is not exactly [own] (compact JSON compared as
        # text: one key lookup per visit, no decoding in SQL)
        others_cell = exists().where(_CELLS.c.visit_id == Visit.id, _CELLS.c.devices != self.own_devices)
        mine = or_(Visit.device_id != self.caller.device_id, others_cell)
        base = self.base(Visit, mine)
        visits = Visit.__table__
        # visits are read a chunk at a time, in (number, id) order, each chunk with its cells, only until the page's
        # weight is reached; each chunk is sized from the cells per visit seen so far, so few visits and cells are
        # read beyond the page. (Reading `limit` visit rows first, as before, fetched 5,000 rows for a page that
        # holds about 190 visits of 25 cells: 30% of a 10,000-visit pull was the device waiting for that.)
        taken: list = []
        cells: dict[str, list] = {}
        weight, size, exhausted = 0, 32, False
        while weight <= self.limit:
            q = base
            if taken:  # the range starts at the last number read, so the index is searched from there
                last_seq, last_id = taken[-1]["change_seq"], taken[-1]["id"]
                q = self.base(Visit, mine, tuple_(Visit.change_seq, Visit.id) > (last_seq, last_id), since=last_seq - 1)
            chunk = self.fetch(q.order_by(Visit.change_seq, Visit.id).limit(size), visits)
            exhausted = len(chunk) < size
            if chunk:
                cells.update(self.cells([r["id"] for r in chunk]))
            for r in chunk:
                weight += 1 + len(cells[r["id"]])
                taken.append(r)
                if weight > self.limit:
                    break
            if exhausted or weight > self.limit:
                break
            per_visit = weight / len(taken)
            size = min(_CELL_CHUNK, max(16, int((self.limit - weight) / per_visit) + 8))
        if taken and (weight > self.limit or not exhausted):
            # the last number read may be only partly read (or only partly taken): stop before it, unless
            # it is the first number read, which is then taken whole however heavy (a re-numbered walk)
            last = taken[-1]["change_seq"]
            if taken[0]["change_seq"] < last:
                taken = [r for r in taken if r["change_seq"] < last]
                self.bound = min(self.bound, last - 1)
            else:
                taken = self.fetch(base.where(Visit.change_seq == last).order_by(Visit.id), visits)
                missing = [r["id"] for r in taken if r["id"] not in cells]
                cells.update(self.cells(missing))
                self.bound = min(self.bound, last)

        def build(r) -> tuple[str, dict]:
            rid, data = _VISIT(r)
            data["cells"] = cells[rid]
            return rid, data
        self.add("visit", build, taken, [1 + len(cells[r["id"]]) for r in taken])

    def page(self) -> tuple[PullResponse, list[Skip]]:
        """The page, and what it leaves out (a skipped row counts where the page is cut, as a sent one)."""
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
        changes = [Change(kind=k, record_id=rid, seq=n, data=d) for n, _, k, rid, d, _ in rows if d is not None]
        return PullResponse(changes=changes, cursor=cursor, more=more), [s for r in rows for s in r[5]]


def _reported(s: Session, district_id: str, ids: set[str]) -> set[str]:
    q = select(AuditLog.record_id).where(AuditLog.district_id == district_id, AuditLog.action == SKIPPED,
                                         AuditLog.record_id.in_(ids))
    return set(s.execute(q).scalars())


def report_skips(s: Session, caller: Caller, skips: list[Skip]) -> None:
    """An audit entry for each skipped record not reported before: once per record, however often it is pulled
    (the entries already there are the marker; checked again under a lock, so two pulls write it once)."""
    ids = {rid[:audit.RECORD_ID_MAX] for _, rid, _, _ in skips}
    if not ids or ids <= _reported(s, caller.district_id, ids):
        return
    with Session(writer(s.get_bind())) as w:  # SQLite: BEGIN IMMEDIATE is the lock
        if w.get_bind().dialect.name == "postgresql":
            w.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{SKIPPED}:{caller.district_id}"})
        seen = _reported(w, caller.district_id, ids)
        for kind, rid, why, extra in skips:
            if rid[:audit.RECORD_ID_MAX] not in seen:
                seen.add(rid[:audit.RECORD_ID_MAX])
                audit.record(w, caller.district_id, caller.device_id, SKIPPED, kind, rid,
                             after={"reason": why, **extra})
        w.commit()


_VISIT = _record("visit")


def changes_since(s: Session, caller: Caller, since: int, limit: int) -> PullResponse:
    hi = seq.high_water(s, caller.district_id)
    if since < 0 or since > hi:  # a cursor from another server or a restored database: start over
        return PullResponse(changes=[], cursor=0, more=False, reset_required=True)
    if since == hi:
        return PullResponse(changes=[], cursor=hi, more=False)
    w = _Window(s, caller, since, hi, limit)
    own = caller.device_id
    w.plain("cycle", Cycle, _record("cycle"), Cycle.device_id != own)
    w.plain("walk", Walk, _record("walk"), Walk.device_id != own)
    w.visits()
    w.plain("note", EvidenceNote, _record("note"), EvidenceNote.device_id != own)
    w.plain("school", School, _school)
    w.plain("rubric", RubricVersion, _rubric)
    w.plain("settings", DistrictSettings, _settings)
    page, skips = w.page()
    report_skips(s, caller, skips)
    return page
