"""Push: apply one device's batch (protocol v2) in one transaction and answer each record and cell for good.

Order of work: lock the device row; refuse a batch that starts after a gap (out_of_order); answer records
whose op_seq the server has processed already from what was answered then (absent OpResult row = applied:
only duplicate/rejected answers are stored, which keeps a big push to one row write per record); load every
row the new records touch in a few set-based reads; run the rules in memory (walks, visits, cells, notes);
write the final rows with bulk upserts, numbered from the district's counter; advance Device.last_op_seq;
commit. A visit whose cells changed gets a new number, so a pull that finds the visit finds its cells.
"""
from __future__ import annotations

import json
from itertools import chain
from typing import NamedTuple

from sqlalchemy import bindparam, delete, select, update
from sqlmodel import Session

from sync.protocol import rating_id, utcnow
from sync.protocol.cells import (LOOKFOR, all_good, canonical_cell, cell_problem, lookfor_of, op_seq_of, op_seqs,
                                 rating_fields, same_rating)
from sync.server import membership, seq
from sync.server.bulk import load_by, upsert
from sync.server.deps import Caller
from sync.server.directory import audit
from sync.server.ingest.cells import CellRow, devices_text, merge, new_visit, rows as cell_rows
from sync.server.models import (Device, EvidenceNote, OpResult, School, User, Visit, VisitCells, Walk,
                                WalkMember)
from sync.server.models import Cycle
from sync.server.ingest.rules import CellRules, Refused, Rules
from sync.server.rubrics.registry import KnownRubrics

# (op_seq, status, reason): an EntryResult as a plain tuple
Answer = tuple[int, str, "str | None"]


def _distinct_lookfors(cells: list) -> bool:
    """Each look-for once among the cells (a look-for that is not text, a list say, is the cell's own problem,
    answered one by one)."""
    try:
        return len(set(map(lookfor_of, cells))) == len(cells)
    except TypeError:
        return False

class Batch(NamedTuple):
    """A push body that passed the envelope checks (sync.server.ingest.routes)."""
    from_seq: int
    to_seq: int
    walks: list   # [op_seq, snapshot dict]
    visits: list
    cells: list   # [visit_id, [push cell, ...]] (sync.protocol.cells)
    notes: list
    items: int
    cycles: list = []  # [op_seq, snapshot dict], applied before walks


def answers_json(results: list[Answer], applied: int, last_op_seq: int) -> bytes:
    """The PushResponse body, written directly (same JSON as PushResponse.model_dump_json)."""
    parts = [f'{{"op_seq":{q},"status":"{st}","reason":{json.dumps(why) if why is not None else "null"}}}'
             for q, st, why in results]
    return f'{{"last_op_seq":{last_op_seq},"applied":{applied},"results":[{",".join(parts)}]}}'.encode()


TABLES = {"cycle": Cycle, "walk": Walk, "visit": Visit, "note": EvidenceNote}


def _answered(s: Session, device_id: str, lo: int, hi: int) -> dict[int, Answer]:
    rows = s.execute(select(OpResult.op_seq, OpResult.status, OpResult.reason)
                     .where(OpResult.device_id == device_id, OpResult.op_seq.between(lo, hi)))
    return {q: (q, st, why) for q, st, why in rows}


def _key(value) -> bool:
    """Whether a pushed id can be looked up: text without a NUL (PostgreSQL refuses the whole query; the record
    itself is then answered rejected by the rules)."""
    return type(value) is str and "\x00" not in value


def _load_state(s: Session, b: Batch, last: int) -> tuple[dict[str, dict], dict[str, tuple[str, str]]]:
    ids: dict[str, set[str]] = {k: set() for k in TABLES}
    for kind, records in (("cycle", b.cycles), ("walk", b.walks), ("visit", b.visits), ("note", b.notes)):
        for q, data in records:
            if q > last and _key(data.get("id")):
                ids[kind].add(data["id"])
                if kind == "walk" and _key(data.get("cycle_id")):
                    ids["cycle"].add(data["cycle_id"])
                if kind == "visit" and _key(data.get("walk_id")):
                    ids["walk"].add(data["walk_id"])
                elif kind == "note" and _key(data.get("visit_id")):
                    ids["visit"].add(data["visit_id"])
    ids["visit"].update(vid for vid, _ in b.cells if "\x00" not in vid)
    state = {"visit": load_by(s, Visit, Visit.id, ids["visit"])}
    ids["walk"].update(v["walk_id"] for v in state["visit"].values())
    state["walk"] = load_by(s, Walk, Walk.id, ids["walk"])
    state["note"] = load_by(s, EvidenceNote, EvidenceNote.id, ids["note"]) if ids["note"] else {}
    state["cycle"] = load_by(s, Cycle, Cycle.id, ids["cycle"]) if ids["cycle"] else {}
    # cells already on the server: only visits the server had before this push can have any
    had = [vid for vid, _ in b.cells if vid in state["visit"]]
    cells: dict[str, tuple[str, str]] = {}
    t = VisitCells.__table__
    for i in range(0, len(had), 2000):
        for vid, devices, stored in s.execute(select(t.c.visit_id, t.c.devices, t.c.cells)
                                              .where(t.c.visit_id.in_(had[i:i + 2000]))):
            cells[vid] = (devices, stored)
    return state, cells


def ingest(s: Session, caller: Caller, b: Batch) -> tuple[list[Answer], int, int]:
    """Apply the batch and commit; return (every answer that is not "applied", how many applied, last_op_seq)."""
    device = s.exec(select(Device).where(Device.id == caller.device_id).with_for_update()).scalar_one()
    last = device.last_op_seq
    if b.from_seq > last + 1:
        s.commit()
        return [(b.from_seq, "out_of_order", f"expected op_seq {last + 1} next")], 0, last
    before = _answered(s, caller.device_id, b.from_seq, last) if b.from_seq <= last else {}
    work = _Work(s, caller, last, before)
    if b.to_seq > last:
        state, cells = _load_state(s, b, last)
        schools = set(s.exec(select(School.id).where(School.district_id == caller.district_id)).scalars())
        work.rules = Rules(caller, KnownRubrics(s, caller.district_id), schools, state)
        work.records("cycle", b.cycles)
        work.records("walk", b.walks)
        work.records("visit", b.visits)
        work.cells(b.cells, cells)
        work.records("note", b.notes)
        work.write()
        s.execute(update(Device).where(Device.id == caller.device_id)
                  .values(last_op_seq=b.to_seq, last_sync_at=utcnow()))
    else:
        work.replay(b)
    s.commit()
    work.results.sort()
    return work.results, work.applied, max(last, b.to_seq)


class _Work:
    """One push's answers and the rows it will write."""

    def __init__(self, s: Session, caller: Caller, last: int, before: dict[int, Answer]):
        self.s, self.caller, self.last, self.before = s, caller, last, before
        self.rules: Rules | None = None
        self.results: list[Answer] = []
        self.stored: list[dict] = []  # duplicate/rejected answers, kept so a replay gets them again
        self.applied = 0
        self.dirty: dict[str, dict[str, dict]] = {k: {} for k in TABLES}
        self.existing: dict[str, tuple[str, str]] = {}  # visit id -> its stored (devices, cells) before the push
        self.new_cells: dict[str, list[list]] = {}  # visit id -> its push cells, all good, none stored before
        self.changed_cells: dict[str, list[list]] = {}  # visit id -> its accepted push cells, checked one by one
        self.team_changes: list[tuple[str, list[str], list[str]]] = []  # (walk, members before, after)
        self.replaced: list[tuple[str, CellRow, list]] = []  # (visit, cell before, push cell after), other device
        self.edited: list[tuple[str, CellRow, list]] = []  # the same, where the cell before was this device's

    def _old(self, q: int) -> None:
        """An op_seq the server processed before: the answer it gave then."""
        answer = self.before.get(q)
        if answer is None:
            self.applied += 1
        else:
            self.results.append(answer)

    def _answer(self, q: int, status: str, reason: str | None = None) -> None:
        if reason is not None and "\x00" in reason:  # a reason may quote what was sent; it is stored too
            reason = reason.replace("\x00", "\\x00")
        self.results.append((q, status, reason))
        self.stored.append({"device_id": self.caller.device_id, "op_seq": q, "status": status, "reason": reason})

    def replay(self, b: Batch) -> None:
        for records in (b.cycles, b.walks, b.visits, b.notes):
            for q, _ in records:
                self._old(q)
        for _, cells in b.cells:
            for q in op_seqs(cells):
                self._old(q)

    def records(self, kind: str, records: list) -> None:
        apply, rows = self.rules.apply, self.dirty[kind]
        for q, data in records:
            if q <= self.last:
                self._old(q)
                continue
            try:
                status, row = apply(kind, data, q)
            except Refused as why:
                self._answer(q, "rejected", f"{why}.")
                continue
            if status == "duplicate":
                self._answer(q, "duplicate")
            else:
                self.applied += 1
                rows[row["id"]] = row

    def cells(self, groups: list, existing: dict[str, tuple[str, str]]) -> None:
        last = self.last
        self.existing = existing
        # new visits of one rubric version and subject are checked together, column by column over all their
        # cells (the common case); a visit the server holds, or any batch with a problem, goes visit by visit and
        # then cell by cell
        pending: dict[int, tuple[frozenset, list]] = {}  # id(triples) -> (accepted triples, [(vid, cells)])
        by_visit: dict[str, list] = {}
        for vid, cells in groups:  # a visit named twice is one visit
            by_visit[vid] = by_visit[vid] + cells if vid in by_visit else cells
        for vid, cells in by_visit.items():
            if cells and min(op_seqs(cells)) <= last:
                for q in op_seqs(cells):
                    if q <= last:
                        self._old(q)
                cells = [c for c in cells if op_seq_of(c) > last]
            if not cells:
                continue
            try:
                rules = self.rules.cell_rules(vid)
            except Refused as why:
                for q in op_seqs(cells):
                    self._answer(q, "rejected", f"{why}.")
                continue
            triples = rules.triples_of(cells)
            if vid not in existing and triples is not None and _distinct_lookfors(cells):
                pending.setdefault(id(triples), (triples, []))[1].append((vid, cells))
                continue
            self._cells_one_by_one(vid, cells, rules, existing.get(vid))
        for triples, visits in pending.values():
            together = all_good(list(chain.from_iterable(cells for _, cells in visits)), triples)
            for vid, cells in visits:
                if together or all_good(cells, triples):
                    self.applied += len(cells)
                    self.new_cells[vid] = cells
                else:
                    self._cells_one_by_one(vid, cells, self.rules.cell_rules(vid), None)

    def _cells_one_by_one(self, vid: str, cells: list, rules: CellRules, stored: tuple[str, str] | None) -> None:
        """The reason of each refused cell, and duplicates of what the server holds."""
        old = {r.lookfor_id: r for r in cell_rows(*stored)} if stored is not None else {}
        out = self.changed_cells.setdefault(vid, [])
        for c in cells:
            q = op_seq_of(c)
            problem = cell_problem(c, rules.problem)
            if problem is not None:
                self._answer(q, "rejected", f"{problem}.")
                continue
            was = old.get(c[LOOKFOR])
            if was is not None and same_rating(was, c):
                self._answer(q, "duplicate")
                continue
            self.applied += 1
            out.append(canonical_cell(c))

    def write(self) -> None:
        s, caller, dirty = self.s, self.caller, self.dirty
        touched = [vid for vid in (*self.new_cells, *self.changed_cells)
                   if vid not in dirty["visit"] and (vid in self.new_cells or self.changed_cells[vid])]
        members, gone, self.team_changes = _membership(s, caller, dirty)
        restamp = _lead_walks(s, caller, members)
        count = sum(len(rows) for rows in dirty.values()) + len(touched) + len(restamp)
        now = utcnow()
        # Everything that needs no change number is written first: from seq.reserve to commit the district's counter
        # row is locked, and every other push of the district waits for it, so only the numbered rows and the
        # commit come after it.
        self._write_cells()
        if members:
            upsert(s, WalkMember, [{"walk_id": w, "user_id": u} for w, u in members], ("walk_id", "user_id"))
        for w, u in gone:  # taken off the team: no longer sees the walk's other visits
            s.execute(delete(WalkMember).where(WalkMember.walk_id == w, WalkMember.user_id == u))
        if count:
            self._audit(now)
        if self.stored:
            upsert(s, OpResult, self.stored, ("device_id", "op_seq"))
        if not count:
            return
        n = seq.reserve(s, caller.district_id, count)
        for kind in ("cycle", "walk", "visit", "note"):
            rows = list(dirty[kind].values())
            for row in rows:
                row["change_seq"], row["server_updated_at"], row["device_id"] = n, now, caller.device_id
                n += 1
            if kind == "visit" and touched:  # only cells changed: the visit gets a number for the pull to find it
                t = Visit.__table__
                s.execute(update(t).where(t.c.id == bindparam("b_id"))
                          .values(change_seq=bindparam("b_n"), server_updated_at=now),
                          [{"b_id": vid, "b_n": n + i} for i, vid in enumerate(touched)])
                n += len(touched)
            if rows:
                upsert(s, TABLES[kind], rows, ("id",))
        for walk_id in restamp:
            _renumber_walk(s, caller.district_id, walk_id, n)
            n += 1

    def _write_cells(self) -> None:
        """One row per visit: new visits as their cells arrived, the others merged with what is stored."""
        device_id = self.caller.device_id
        mine = devices_text([device_id])
        rows = [(vid, mine, new_visit(cells)) for vid, cells in self.new_cells.items()]
        for vid, changes in self.changed_cells.items():
            if changes:
                merged = merge(*self.existing.get(vid, (None, None)), changes, device_id)
                rows.append((vid, merged.devices, merged.cells))
                self.replaced.extend((vid, old, new) for old, new in merged.replaced)
                self.edited.extend((vid, old, new) for old, new in merged.edited)
        if not rows:
            return
        conn = self.s.connection()
        mark = "?" if conn.dialect.name == "sqlite" else "%s"
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.executemany(f"INSERT INTO visit_cells (visit_id, devices, cells) VALUES ({mark}, {mark}, {mark}) "
                               "ON CONFLICT (visit_id) DO UPDATE SET devices = excluded.devices, "
                               "cells = excluded.cells", rows)
        finally:
            cursor.close()

    def _audit(self, now) -> None:
        c = self.caller
        audit.record_many(self.s, [
            audit.entry(c.district_id, c.device_id, "rating.replaced", "rating", rating_id(vid, old.lookfor_id),
                        before={"value": old.value, "not_observed": old.not_observed, "deleted": old.deleted,
                                "device_id": old.device_id},
                        after=rating_fields(new), at=now)
            for vid, old, new in self.replaced] + [
            audit.entry(c.district_id, c.device_id, "rating.edited", "rating", rating_id(vid, old.lookfor_id),
                        before={"value": old.value, "not_observed": old.not_observed, "deleted": old.deleted},
                        after=rating_fields(new), at=now)
            for vid, old, new in self.edited] + [
            audit.entry(c.district_id, c.device_id, f"{kind}.{what}", kind, record_id, before=before, after=after,
                        at=now)
            for kind, record_id, what, before, after in self.rules.edits()] + [
            audit.entry(c.district_id, c.device_id, "walk.team", "walk", walk_id, before={"members": before},
                        after={"members": after}, at=now)
            for walk_id, before, after in self.team_changes])


def _renumber_walk(s: Session, district_id: str, walk_id: str, n: int) -> None:
    """A lead who joins a walk must receive its earlier visits (their cells come with them): give them a number
    above the lead's cursor."""
    for model in (Visit, EvidenceNote):
        s.execute(update(model).where(model.walk_id == walk_id, model.district_id == district_id,
                                      model.change_seq < n).values(change_seq=n))


def _membership(s: Session, caller: Caller, dirty: dict[str, dict[str, dict]]):
    """Members added and removed by the walks of this push (a walk's members are its creator and its team: the
    rule book let only its creator, a lead on its team or an admin change the team), and (walk, before, after)
    of each walk whose members changed, for the audit log. Visits never add members."""
    wanted: dict[str, set[str]] = {}
    candidates = sorted(set().union(*(membership.team_ids(w["team"]) for w in dirty["walk"].values())))
    users: set[str] = set()
    for i in range(0, len(candidates), 5000):  # only users of the district are members; a guest's name is not
        users.update(s.execute(select(User.id).where(User.id.in_(candidates[i:i + 5000]),
                                                     User.district_id == caller.district_id)).scalars())
    for w in dirty["walk"].values():
        wanted[w["id"]] = membership.members(w["created_by"], w["team"], users)
    if not wanted:
        return [], [], []
    have: dict[str, set[str]] = {w: set() for w in wanted}
    ids = list(wanted)
    for i in range(0, len(ids), 5000):
        for w, u in s.execute(select(WalkMember.walk_id, WalkMember.user_id)
                              .where(WalkMember.walk_id.in_(ids[i:i + 5000]))).tuples():
            have[w].add(u)
    added = sorted((w, u) for w in wanted for u in wanted[w] - have[w])
    removed = sorted((w, u) for w in wanted for u in have[w] - wanted[w])
    changes = [(w, sorted(have[w]), sorted(wanted[w])) for w in ids
               if have[w] != wanted[w] and (have[w] or len(wanted[w]) > 1)]  # a walk made alone is no change
    return added, removed, changes


def _lead_walks(s: Session, caller: Caller, members: list[tuple[str, str]]) -> list[str]:
    """Walks gaining a lead member (the caller too: their first visit in a walk lets them see its others)."""
    users = {u for _, u in members}
    if not users:
        return []
    leads = set(s.execute(select(User.id).where(User.id.in_(users), User.role == "lead",
                                                 User.district_id == caller.district_id)).scalars())
    return sorted({w for w, u in members if u in leads})
