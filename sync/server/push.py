"""Push: apply one device's batch of outbox entries in one transaction and answer each entry for good.

Order of work: lock the device row; answer already-processed op_seqs from what was answered before (absent
OpResult row = applied: only duplicate/rejected answers are stored, which keeps a big push to one row write per
record); load every row the new entries touch in a few set-based reads; run the rules per entry in memory; write
the final rows with bulk upserts, numbered from the district's counter; advance Device.last_op_seq; commit.
"""
from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlmodel import Session

from sync.protocol import PushEntry, utcnow
from sync.server import seq
from sync.server.bulk import load_by, upsert
from sync.server.deps import Caller
from sync.server.models import (AuditLog, Device, EvidenceNote, OpResult, Rating, School, User, Visit, Walk,
                                WalkMember)
from sync.server.push_rules import Refused, Rules
from sync.server.rubric_registry import KnownRubrics


# (op_seq, status, reason): an EntryResult as a plain tuple; a push answers tens of thousands of them
Answer = tuple[int, str, "str | None"]


def answers_json(results: list[Answer], last_op_seq: int) -> bytes:
    """The PushResponse body, written directly (same JSON as PushResponse.model_dump_json)."""
    parts = [f'{{"op_seq":{q},"status":"{st}","reason":{json.dumps(why) if why is not None else "null"}}}'
             for q, st, why in results]
    return f'{{"results":[{",".join(parts)}],"last_op_seq":{last_op_seq}}}'.encode()


TABLES = {"walk": Walk, "visit": Visit, "rating": Rating, "note": EvidenceNote}
_WRITE_ORDER = ("walk", "visit", "rating", "note")


def _answered(s: Session, device_id: str, seqs: list[int]) -> dict[int, "Answer"]:
    out: dict[int, Answer] = {}
    for i in range(0, len(seqs), 5000):
        chunk = seqs[i:i + 5000]
        for r in s.exec(select(OpResult).where(OpResult.device_id == device_id, OpResult.op_seq.in_(chunk))).scalars():
            out[r.op_seq] = (r.op_seq, r.status, r.reason)
    return out


def _load_state(s: Session, entries: list[PushEntry]) -> dict[str, dict]:
    # one pass over the batch for every id it names (a push is mostly ratings: keep the loop short)
    ids: dict[str, set[str]] = {k: set() for k in TABLES}
    part_visits: dict[str, set[str]] = {"rating": set(), "note": set()}  # ratings and notes by their visits
    for e in entries:
        kind, data = e.kind, e.data
        ids[kind].add(e.record_id)
        if kind == "visit":
            ref = data.get("walk_id") if type(data) is dict else None
            if type(ref) is str:
                ids["walk"].add(ref)
        elif kind != "walk":
            ref = data.get("visit_id") if type(data) is dict else None
            if type(ref) is str:
                ids["visit"].add(ref)
                part_visits[kind].add(ref)
    state = {"visit": load_by(s, Visit, Visit.id, ids["visit"])}
    ids["walk"].update(v["walk_id"] for v in state["visit"].values())
    state["walk"] = load_by(s, Walk, Walk.id, ids["walk"])
    # by visit: far fewer parameters than by their own ids
    for kind in ("rating", "note"):
        model = TABLES[kind]
        state[kind] = load_by(s, model, model.visit_id, part_visits[kind]) if ids[kind] else {}
    return state


def ingest(s: Session, caller: Caller, entries: list[PushEntry]) -> tuple[list[Answer], int]:
    """Apply the batch (entries in strictly increasing op_seq) and commit; return the per-entry answers."""
    device = s.exec(select(Device).where(Device.id == caller.device_id).with_for_update()).scalar_one()
    last = device.last_op_seq
    old = [e.op_seq for e in entries if e.op_seq <= last]
    before = _answered(s, caller.device_id, old) if old else {}
    results: list[Answer] = [before.get(q) or (q, "applied", None) for q in old]

    fresh: list[PushEntry] = []
    for e in entries[len(old):]:
        if e.op_seq != last + len(fresh) + 1:
            break
        fresh.append(e)
    stopped = entries[len(old) + len(fresh):]

    state = _load_state(s, fresh) if fresh else {}
    schools = set(s.exec(select(School.id).where(School.district_id == caller.district_id)).scalars())
    rules = Rules(caller, KnownRubrics(s, caller.district_id), schools, state)
    dirty: dict[str, dict[str, dict]] = {k: {} for k in _WRITE_ORDER}
    # the rows as they were before this batch (rules replace state rows, never change them): the audit's "before"
    before_rating: dict[str, dict] = dict(state.get("rating", ()))
    stored: list[dict] = []
    apply, device_id = rules.apply, caller.device_id
    for e in fresh:
        q, kind, record_id = e.op_seq, e.kind, e.record_id
        try:
            status, row = apply(kind, record_id, e.data)
        except Refused as why:
            results.append((q, "rejected", f"{why}."))
            stored.append({"device_id": device_id, "op_seq": q, "status": "rejected", "reason": f"{why}."})
            continue
        results.append((q, status, None))
        if status == "duplicate":
            stored.append({"device_id": device_id, "op_seq": q, "status": status, "reason": None})
        else:
            rows = dirty[kind]
            if record_id in rows:
                del rows[record_id]  # re-insert: dict order = order of the last write
            rows[record_id] = row
    results.extend((e.op_seq, "out_of_order", f"expected op_seq {last + len(fresh) + 1} next") for e in stopped)

    if fresh:
        _write(s, caller, dirty, before_rating)
        if stored:
            upsert(s, OpResult, stored, ("device_id", "op_seq"))
        s.execute(update(Device).where(Device.id == caller.device_id)
                  .values(last_op_seq=fresh[-1].op_seq, last_sync_at=utcnow()))
    s.commit()
    return results, (fresh[-1].op_seq if fresh else last)


def _write(s: Session, caller: Caller, dirty: dict[str, dict[str, dict]], before_rating: dict[str, dict]) -> None:
    members = _new_members(s, dirty)
    restamp = _lead_walks(s, caller, members)
    count = sum(len(rows) for rows in dirty.values()) + len(restamp)
    if count == 0:
        return
    # numbers are reserved after the reads, but the counter row stays locked until commit (see sync.server.seq)
    n = seq.reserve(s, caller.district_id, count)
    now = utcnow()
    for kind in _WRITE_ORDER:
        rows = list(dirty[kind].values())
        for row in rows:
            row["change_seq"], row["server_updated_at"], row["device_id"] = n, now, caller.device_id
            n += 1
        if rows:
            upsert(s, TABLES[kind], rows, ("id",))
    if members:
        upsert(s, WalkMember, [{"walk_id": w, "user_id": u} for w, u in members], ("walk_id", "user_id"))
    for walk_id in restamp:
        # a lead who joins a walk must receive its earlier visits: give them a number above the lead's cursor
        for model in (Visit, Rating, EvidenceNote):
            s.execute(update(model).where(model.walk_id == walk_id, model.district_id == caller.district_id,
                                          model.change_seq < n).values(change_seq=n))
        n += 1
    audits = [{"district_id": caller.district_id, "at": now, "actor": caller.device_id, "action": "rating.replaced",
               "kind": "rating", "record_id": rid,
               "before": {"value": old["value"], "not_observed": old["not_observed"], "deleted": old["deleted"],
                          "device_id": old["device_id"]},
               "after": {"value": new["value"], "not_observed": new["not_observed"], "deleted": new["deleted"]}}
              for rid, new in dirty["rating"].items()
              if (old := before_rating.get(rid)) is not None and old.get("device_id") != caller.device_id]
    if audits:
        s.execute(AuditLog.__table__.insert(), audits)


def _new_members(s: Session, dirty: dict[str, dict[str, dict]]) -> list[tuple[str, str]]:
    wanted = set()
    for w in dirty["walk"].values():
        wanted.add((w["id"], w["created_by"]))
        wanted.update((w["id"], u) for u in w["team"] or [] if isinstance(u, str) and u)
    wanted.update((v["walk_id"], v["observer_id"]) for v in dirty["visit"].values())
    if not wanted:
        return []
    walk_ids = {w for w, _ in wanted}
    have = set()
    for i in range(0, len(walk_ids), 5000):
        chunk = list(walk_ids)[i:i + 5000]
        have.update(s.execute(select(WalkMember.walk_id, WalkMember.user_id)
                              .where(WalkMember.walk_id.in_(chunk))).tuples())
    return sorted(wanted - have)


def _lead_walks(s: Session, caller: Caller, members: list[tuple[str, str]]) -> list[str]:
    """Walks gaining a lead member (the caller too: their first visit in a walk lets them see its others)."""
    users = {u for _, u in members}
    if not users:
        return []
    leads = set(s.execute(select(User.id).where(User.id.in_(users), User.role == "lead",
                                                 User.district_id == caller.district_id)).scalars())
    return sorted({w for w, u in members if u in leads})
