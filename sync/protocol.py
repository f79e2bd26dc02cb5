"""Wire protocol v1: the record shapes both stores share, and the request/response shapes of push and pull.

Each synced record shape is defined here once (as a SQLModel base class). The device store and the server
store subclass these with `table=True` and add only their own bookkeeping columns.
Device clock times (started_at, updated_at...) are data for display; ordering never depends on them.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field as PField
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "X-Learnwalk-Protocol"

PHASES = ("baseline", "six-week", "end-of-cycle", "other")
CLASS_TYPES = ("general", "inclusion", "special-education", "english-learners")
GRADES = ("PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
SUBJECTS = ("ELA", "Math", "Science", "Social Studies", "Other")
# Grade bands for breakdowns and exports. Pre-K is walked with the primary grades: a band of its own would
# almost always be a cell too small to show.
GRADE_BANDS: dict[str, tuple[str, ...]] = {
    "K-2": ("PK", "K", "1", "2"),
    "3-5": ("3", "4", "5"),
    "6-8": ("6", "7", "8"),
    "9-12": ("9", "10", "11", "12"),
}
BAND_OF_GRADE: dict[str, str] = {g: band for band, grades in GRADE_BANDS.items() for g in grades}

RecordKind = Literal["walk", "visit", "rating", "note"]

_RATING_NS = uuid.UUID("6f1c2a52-8d7e-4a36-9b8f-2f4c1b0e7a11")


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def rating_id(visit_id: str, lookfor_id: str) -> str:
    """A rating cell's id is derived from (visit, look-for) so every device names the same cell the same way."""
    return str(uuid.uuid5(_RATING_NS, f"{visit_id}/{lookfor_id}"))


class WalkData(SQLModel):
    id: str = Field(primary_key=True, max_length=36)
    school_id: str = Field(index=True, max_length=64)
    walk_date: date
    rubric_id: str = Field(max_length=64)
    rubric_version: int
    focus: list[str] = Field(default_factory=list, sa_type=JSON)
    team: list[str] = Field(default_factory=list, sa_type=JSON)
    cycle_label: str = Field(default="", max_length=120)
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
    id: str = Field(primary_key=True, max_length=36)
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
    "walk": WalkData,
    "visit": VisitData,
    "rating": RatingData,
    "note": NoteData,
}


# ---- push -------------------------------------------------------------------------------------------

class PushEntry(BaseModel):
    op_seq: int = PField(ge=1, description="Per-device, strictly increasing outbox sequence number")
    kind: RecordKind
    record_id: str = PField(min_length=1, max_length=80)
    data: dict[str, Any] = PField(description="The full record after the change (a snapshot, not a diff)")


class PushRequest(BaseModel):
    entries: list[PushEntry]


EntryStatus = Literal["applied", "duplicate", "rejected", "out_of_order"]


class EntryResult(BaseModel):
    op_seq: int
    status: EntryStatus
    reason: str | None = None


class PushResponse(BaseModel):
    results: list[EntryResult]
    last_op_seq: int = PField(description="The highest op_seq the server has processed for this device")


# ---- pull -------------------------------------------------------------------------------------------

ChangeKind = Literal["walk", "visit", "rating", "note", "school", "rubric", "settings"]


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
    code: str = PField(min_length=4, max_length=64)
    device_name: str = PField(default="", max_length=120)


class EnrollResponse(BaseModel):
    device_id: str
    token: str = PField(description="Shown once; the server keeps only its hash")
    user_id: str
    role: Literal["observer", "lead", "admin"]
    district_id: str
    district_name: str
