"""Wire protocol v2: the record shapes both stores share, and the request/response shapes of push and pull.

Each synced record shape is defined here once (as a SQLModel base class). The device store and the server
store subclass these with `table=True` and add only their own bookkeeping columns.
Device clock times (started_at, updated_at...) are data for display; ordering never depends on them.
The vocabulary (PHASES, CLASS_TYPES... and their labels) lives in sync.protocol.vocabulary and the error root in
sync.errors; both are re-exported here.
"""
from __future__ import annotations

import hashlib
import os
import time
import uuid
from datetime import date, datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field as PField
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from sync.errors import LearnwalkError  # noqa: F401 (the error root is part of the shared language)
from sync.protocol.text import StoredText
from sync.protocol.vocabulary import (BAND_OF_GRADE, CLASS_TYPES, GRADE_BANDS, GRADES, PHASES,  # noqa: F401
                                      SUBJECTS)

# v2: a push carries each record once and ratings as compact cells per visit; v3: a checklist's "Not seen" is the
# value not_seen and a blank cell is not rated (a v2 app's blank meant "Not seen": the two must not meet)
PROTOCOL_VERSION = 3
PROTOCOL_HEADER = "X-Learnwalk-Protocol"

RecordKind = Literal["cycle", "walk", "visit", "rating", "note"]

_RATING_NS = uuid.UUID("6f1c2a52-8d7e-4a36-9b8f-2f4c1b0e7a11")


def new_id() -> str:
    """A new record id: a UUID of version 7 (RFC 9562), 48 bits of Unix time in milliseconds, then 74 random bits.
    Ids made one after another sort one after another, so records made together sit side by side in every index
    keyed by id, on the device and on the server: a visit's ratings are keyed by its id (app.store.models.Rating),
    and a pulled page of new visits then adds to a few pages at the end of that table instead of touching pages
    all over it. Measured with random (version 4) ids: each 5,000-row page of a 10,000-visit pull wrote about 950
    database pages (3.8 MB) to the log and again to the file. The time in an id says no more than the record's own
    started_at; ordering never depends on it (a device's clock may be wrong)."""
    ms = time.time_ns() // 1_000_000 & _MS_BITS
    rand = int.from_bytes(os.urandom(10), "big") >> 6  # 74 bits: 12 beside the version, 62 beside the variant
    return str(uuid.UUID(int=ms << 80 | 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | rand & _RAND_B))


_MS_BITS, _RAND_B = (1 << 48) - 1, (1 << 62) - 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


_NS_BYTES = _RATING_NS.bytes
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # variant bits 10xx on the 17th hex digit


def rating_id(visit_id: str, lookfor_id: str) -> str:
    """A rating cell's id is derived from (visit, look-for) so every device names the same cell the same way.

    Equal to str(uuid.uuid5(_RATING_NS, f"{visit_id}/{lookfor_id}")) (a test holds them equal), written out by
    hand because a pulled visit turns its cells into rows: the first 16 bytes of sha1(namespace + name) in hex
    with the version digit 5 and the variant bits set."""
    x = hashlib.sha1(_NS_BYTES + f"{visit_id}/{lookfor_id}".encode()).hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


_LEGACY_CYCLE_NS = uuid.UUID("2b7d4e0c-9a61-4f0e-8c3a-5d1e7f9b6a24")


def cycle_key(label: str) -> str:
    """A free-text cycle label as one key: spaces collapsed, case folded ("Fall  2026 " and "fall 2026" are one)."""
    return " ".join(str(label).split()).casefold()


def legacy_cycle_id(school_id: str, label: str) -> str:
    """The id of the cycle an old free-text label becomes: derived from (school, label key), so the device store's
    migration and the server's name the same cycle the same way without talking to each other."""
    return str(uuid.uuid5(_LEGACY_CYCLE_NS, f"{school_id}/{cycle_key(label)}"))


class CycleData(SQLModel):
    """A school's 12-week cycle: a name, a start date, the rubric its walks use and its 1-3 priorities (the screen
    asks for 2-3; a cycle migrated from an old label has one per focus look-for of its first walk). Its walks name
    it (WalkData.cycle_id) and carry their phase (baseline, six-week, end-of-cycle)."""
    id: str = Field(primary_key=True, max_length=36)
    school_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=120)
    start_date: date
    rubric_id: str = Field(max_length=64)
    rubric_version: int
    # each priority {"lookfors": [look-for id, ...], "target": whole percent 1-100 or None}: "evident in `target`% of
    # classrooms by the end-of-cycle walk" (None: no target set yet); the rules: sync.protocol.rules.check_cycle
    priorities: list[dict] = Field(default_factory=list, sa_type=JSON)
    created_by: str = Field(default="", max_length=64)
    migrated: bool = False  # made from an old free-text cycle label (sync.protocol.legacy_cycle_id)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted: bool = False


class WalkData(SQLModel):
    id: str = Field(primary_key=True, max_length=36)
    school_id: str = Field(index=True, max_length=64)
    walk_date: date
    rubric_id: str = Field(max_length=64)
    rubric_version: int
    focus: list[str] = Field(default_factory=list, sa_type=JSON)
    team: list[str] = Field(default_factory=list, sa_type=JSON)
    cycle_label: str = Field(default="", max_length=120)  # the cycle's name (an old walk's free text)
    cycle_id: str | None = Field(default=None, max_length=36)  # CycleData.id, or None: a walk of no cycle
    phase: str = Field(default="baseline", max_length=20)
    created_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted: bool = False


class VisitData(SQLModel):
    id: str = Field(primary_key=True, max_length=36)
    walk_id: str = Field(index=True, max_length=36)
    visit_no: int
    observer_id: str = Field(default="", max_length=64)
    grade: str | None = Field(default=None, max_length=4)
    subject: str | None = Field(default=None, max_length=40)
    class_type: str | None = Field(default=None, max_length=40)
    student_count: int | None = None
    calibration_code: str | None = Field(default=None, max_length=40)
    note: str = ""
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    deleted: bool = False


class RatingData(SQLModel):
    """A rating cell as the device holds it. On the wire a cell has no id (both sides derive it), and the
    server keeps a visit's cells in one row (sync.server.ingest.cells)."""
    id: str = Field(primary_key=True, max_length=36)  # rating_id(visit_id, lookfor_id)
    visit_id: str = Field(index=True, max_length=36)
    lookfor_id: str = Field(max_length=80)
    value: str | None = Field(default=None, max_length=40)
    not_observed: bool = False
    updated_at: datetime = Field(default_factory=utcnow)
    deleted: bool = False  # a cleared cell is a tombstone


class NoteData(SQLModel):
    id: str = Field(primary_key=True, max_length=36)
    visit_id: str = Field(index=True, max_length=36)
    lookfor_id: str | None = Field(default=None, max_length=80)
    text: str = ""
    updated_at: datetime = Field(default_factory=utcnow)
    deleted: bool = False


RECORD_SHAPES: dict[str, type[SQLModel]] = {
    "cycle": CycleData,
    "walk": WalkData,
    "visit": VisitData,
    "rating": RatingData,
    "note": NoteData,
}


# ---- push -------------------------------------------------------------------------------------------
# A push covers the device's outbox entries from_seq..to_seq. Each record changed in that range appears once,
# in its latest state, with the op_seq of its latest change ("[op_seq, snapshot]"); ratings travel as compact
# cells grouped by visit. The server answers every record; the body lists only the answers that are not
# "applied" (most pushes list nothing).

# the cell's fields and encodings: sync.protocol.cells (imported here, below rating_id, which it uses)
from sync.protocol.cells import PULL_CELL_FIELDS, PUSH_CELL_FIELDS, PushCell  # noqa: E402
Snapshot = tuple[int, dict[str, Any]]  # (op_seq of the record's latest change, the full record after it)


MAX_OP_SEQ = 2**31 - 1  # the databases keep op_seq in a 32-bit INTEGER
# records and cells one push may carry: the server's default limit (LEARNWALK_MAX_PUSH_ENTRIES, else 413) and the
# client's largest batch of outbox entries (a batch of N entries carries at most N records and cells), so a
# device's batches fit; a server set lower answers 413 and the client splits the batch in half
MAX_PUSH_ENTRIES = 20_000


_PER_RECORD = ("[op_seq, {0} snapshot] per {0}; a snapshot the rule book refuses (its shape, ranges, rubric, owner) is "
               "answered per record (\"rejected\" with its reason in results, in a 200), never by refusing the push")


class PushRequest(BaseModel):
    from_seq: int = PField(ge=1, le=MAX_OP_SEQ, description="The first outbox entry this push covers")
    to_seq: int = PField(ge=1, le=MAX_OP_SEQ, description="The last outbox entry this push covers")
    # a record's content is checked per record: one the rule book refuses is answered "rejected" in the 200's
    # results, the rest applied (docs/sync-protocol.md, Push)
    walks: list[Snapshot] = PField(default_factory=list, description=_PER_RECORD.format("walk"))
    visits: list[Snapshot] = PField(default_factory=list, description=_PER_RECORD.format("visit"))
    cells: list[tuple[str, list[PushCell]]] = PField(
        default_factory=list, description="[visit_id, [cell, ...]] per visit; a cell is [op_seq, lookfor_id, value, "
        "not_observed, deleted, updated_at], and one whose content is refused is answered per cell (\"rejected\" in "
        "results, in a 200)")
    notes: list[Snapshot] = PField(default_factory=list, description=_PER_RECORD.format("note"))
    cycles: list[Snapshot] = PField(default_factory=list,
                                    description="Cycles (CycleData), applied before walks; " + _PER_RECORD.format("cycle"))


EntryStatus = Literal["applied", "duplicate", "rejected", "out_of_order"]


class EntryResult(BaseModel):
    op_seq: int
    status: EntryStatus
    reason: str | None = None


class PushResponse(BaseModel):
    last_op_seq: int = PField(description="The highest op_seq the server has processed for this device")
    applied: int = PField(0, description="How many records and cells were taken as the new state")
    results: list[EntryResult] = PField(default_factory=list, description="Every answer that is not 'applied'")


# ---- pull -------------------------------------------------------------------------------------------
# A visit's change carries its rating cells changed since the cursor (PULL_CELL_FIELDS) under "cells".

ChangeKind = Literal["cycle", "walk", "visit", "note", "school", "rubric", "settings"]


class Change(BaseModel):
    kind: ChangeKind
    record_id: str
    seq: int
    data: dict[str, Any]


class PullResponse(BaseModel):
    changes: list[Change]
    cursor: int
    more: bool
    reset_required: bool = False


# ---- enrollment -------------------------------------------------------------------------------------

class EnrollRequest(BaseModel):
    code: StoredText = PField(min_length=4, max_length=64)
    device_name: StoredText = PField(default="", max_length=120)


class EnrollResponse(BaseModel):
    device_id: str
    token: str = PField(description="Shown once; the server keeps only its hash")
    user_id: str
    role: Literal["observer", "lead", "admin"]
    district_id: str
    district_name: str
