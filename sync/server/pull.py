"""Pull: the changes a caller may see after their cursor, in change_seq order, a page at a time.

The window is (cursor, H] where H is the district counter read first: every change numbered up to H has
committed (sync.server.seq), so the cursor handed back never passes a change that becomes visible later.
A device does not receive rows it wrote itself (it holds them already, or a newer pending version).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from sync.protocol import Change, PullResponse
from sync.server import seq
from sync.server.deps import Caller
from sync.server.models import DistrictSettings, EvidenceNote, Rating, RubricVersion, School, Visit, Walk
from sync.server.push_rules import SHAPE_FIELDS
from sync.server.scope import Scope

_RECORDS = (("walk", Walk), ("visit", Visit), ("rating", Rating), ("note", EvidenceNote))
_SETTINGS_FIELDS = ("small_cell_threshold", "record_class_type", "allow_identifying_fields")


def _jsonable(v):
    return v.isoformat() if isinstance(v, (datetime, date)) else v


def _record(kind: str):
    fields = SHAPE_FIELDS[kind]

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


def _sources(caller: Caller):
    own = caller.device_id
    for kind, model in _RECORDS:
        yield kind, model, _record(kind), [model.device_id != own]
    yield "school", School, _school, []
    yield "rubric", RubricVersion, _rubric, []
    yield "settings", DistrictSettings, _settings, []


def changes_since(s: Session, caller: Caller, since: int, limit: int) -> PullResponse:
    hi = seq.high_water(s, caller.district_id)
    if since < 0 or since > hi:  # a cursor from another server or a restored database: start over
        return PullResponse(changes=[], cursor=0, more=False, reset_required=True)
    if since == hi:
        return PullResponse(changes=[], cursor=hi, more=False)
    scope = Scope(caller)
    rows: list[tuple[int, str, str, dict]] = []
    bound = hi
    for kind, model, build, extra in _sources(caller):
        table = model.__table__
        base = scope.select(model, table).where(model.change_seq > since, model.change_seq <= hi, *extra)
        got = list(s.execute(base.order_by(model.change_seq).limit(limit)).mappings())
        if len(got) == limit:  # this source has more: its last number may be only partly read
            last = got[-1]["change_seq"]
            if last - 1 > since:
                got = [r for r in got if r["change_seq"] < last]
                bound = min(bound, last - 1)
            else:  # one number covers the whole page (a re-numbered walk): take all of it
                got = list(s.execute(base.where(model.change_seq == last)).mappings())
                bound = min(bound, last)
        for r in got:
            rid, data = build(r)
            rows.append((r["change_seq"], kind, rid, data))
    rows = sorted((r for r in rows if r[0] <= bound), key=lambda r: r[0])
    if len(rows) > limit:
        end = limit
        while end < len(rows) and rows[end][0] == rows[end - 1][0]:
            end += 1
        rows, cursor, more = rows[:end], rows[end - 1][0], True
    else:
        cursor, more = bound, bound < hi
    changes = [Change(kind=k, record_id=rid, seq=n, data=d) for n, k, rid, d in rows]
    return PullResponse(changes=changes, cursor=cursor, more=more)
