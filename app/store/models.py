"""Device store tables: the shared record shapes from sync.protocol plus the outbox and local bookkeeping."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from sync.protocol import CycleData, NoteData, RatingData, VisitData, WalkData, utcnow


class Cycle(CycleData, table=True):
    __tablename__ = "cycle"


class Walk(WalkData, table=True):
    __tablename__ = "walk"


class Visit(VisitData, table=True):
    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("walk_id", "visit_no", "observer_id"),)


class Rating(RatingData, table=True):
    """Keyed by (visit_id, lookfor_id) in a table without rowid (migration 0005): one B-tree with a visit's cells
    side by side. The id, rating_id(visit_id, lookfor_id), is a plain column: an index of random ids was most of a
    pulled page's write. Look a rating up by its pair: session.get(Rating, (visit_id, lookfor_id))."""
    __tablename__ = "rating"
    __table_args__ = {"sqlite_with_rowid": False}
    id: str = Field(max_length=36)
    visit_id: str = Field(primary_key=True, max_length=36)
    lookfor_id: str = Field(primary_key=True, max_length=80)


class EvidenceNote(NoteData, table=True):
    __tablename__ = "evidence_note"


class School(SQLModel, table=True):
    """Schools this device may walk (pulled from the server, or created locally before enrollment)."""
    __tablename__ = "school"
    id: str = Field(primary_key=True, max_length=64)
    name: str
    district_id: str = ""


class Outbox(SQLModel, table=True):
    """Transactional outbox: one entry per change, appended in the same transaction as the change.

    seq is AUTOINCREMENT so a number is never reused, even after entries are deleted.
    """
    __tablename__ = "outbox"
    __table_args__ = {"sqlite_autoincrement": True}
    seq: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    record_id: str = Field(max_length=80)
    walk_id: str = Field(index=True, max_length=36)
    data: dict = Field(sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    rejected_reason: str | None = None
    rejected_at: datetime | None = None


class RubricDoc(SQLModel, table=True):
    """Rubric versions received from the server (built-ins ship with the app and need no row)."""
    __tablename__ = "rubric_doc"
    key: str = Field(primary_key=True, max_length=120)  # id@version
    yaml_text: str
    content_hash: str = Field(max_length=64)


class Meta(SQLModel, table=True):
    """Small key/value facts about this device: enrollment, pull cursor, last sync."""
    __tablename__ = "meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str
