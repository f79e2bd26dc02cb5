"""Server store tables. Synced records reuse the shapes of sync.protocol and add district scope and change_seq.

change_seq comes from the district's counter row, incremented inside the writing transaction: a writer holds
that row's lock until it commits, so sequence numbers become visible in order and a pull cursor never skips a
row that commits late (a plain database sequence can commit out of order).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from sync.protocol import CycleData, NoteData, VisitData, WalkData, utcnow


class ServerTable(SQLModel, registry=registry()):
    """Base of every server table: its own metadata, apart from the device store's tables of the same names."""


metadata = ServerTable.metadata


class _Synced(ServerTable):
    # indexed together as (district_id, change_seq) below: the pull's range scan; fewer indexes, faster ingest
    district_id: str = Field(max_length=36)
    change_seq: int = 0
    server_updated_at: datetime = Field(default_factory=utcnow)
    device_id: str = Field(default="", max_length=36)  # the device that wrote the current version


class Cycle(CycleData, _Synced, table=True):
    """A school's cycle and its priorities: every user of the district sees them (sync.server.scope)."""
    __tablename__ = "cycle"


class Walk(WalkData, _Synced, table=True):
    __tablename__ = "walk"


class Visit(VisitData, _Synced, table=True):
    __tablename__ = "visit"


class VisitCells(ServerTable, table=True):
    """The rating cells of one visit in one row (layout and reasons in sync.server.ingest.cells). A visit's cells are
    seen through their visit (scope, pull and exports join Visit); a push that changes any of them gives the
    visit a new change_seq, so a pull that finds the visit finds its cells."""
    __tablename__ = "visit_cells"  # a rowid table: a row (about 1.5 KB for 25 cells) would overflow a key page
    visit_id: str = Field(primary_key=True, max_length=36)
    devices: str  # JSON list of device ids (sync.server.ingest.cells.devices_text)
    cells: str  # JSON list of [device index, lookfor_id, value, not_observed, deleted, updated_at]


class EvidenceNote(NoteData, _Synced, table=True):
    """Notes carry their visit's walk and owner so scope filters need no join."""
    __tablename__ = "evidence_note"
    walk_id: str = Field(default="", max_length=36)
    owner_id: str = Field(default="", max_length=64)


class WalkMember(ServerTable, table=True):
    """Who takes part in a walk (its creator and its team: sync.server.membership): a lead sees their visits."""
    __tablename__ = "walk_member"
    walk_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, index=True, max_length=64)


class District(ServerTable, table=True):
    id: str = Field(primary_key=True, max_length=36)
    name: str
    change_counter: int = 0  # see module docstring
    created_at: datetime = Field(default_factory=utcnow)


class DistrictSettings(ServerTable, table=True):
    __tablename__ = "district_settings"
    district_id: str = Field(primary_key=True, max_length=36)
    small_cell_threshold: int = 3
    record_class_type: bool = True
    allow_identifying_fields: bool = False
    change_seq: int = 0


class School(ServerTable, table=True):
    id: str = Field(primary_key=True, max_length=36)
    district_id: str = Field(max_length=36)
    name: str
    change_seq: int = 0


class User(ServerTable, table=True):
    __tablename__ = "app_user"
    id: str = Field(primary_key=True, max_length=36)
    district_id: str = Field(index=True, max_length=36)
    email: str = Field(max_length=254)
    role: str = Field(max_length=10)  # observer | lead | admin
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    __table_args__ = (UniqueConstraint("district_id", "email"),)


class EnrollmentCode(ServerTable, table=True):
    __tablename__ = "enrollment_code"
    code_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(index=True, max_length=36)
    district_id: str = Field(default="", max_length=36)
    expires_at: datetime
    used_at: datetime | None = None


class Device(ServerTable, table=True):
    id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(index=True, max_length=36)
    district_id: str = Field(index=True, max_length=36)
    name: str = ""
    token_hash: str = Field(unique=True, max_length=64)
    enrolled_at: datetime = Field(default_factory=utcnow)
    last_sync_at: datetime | None = None
    revoked_at: datetime | None = None
    last_op_seq: int = 0  # updated in the same transaction as the changes it covers


class OpResult(ServerTable, table=True):
    """The answer given to each (device, op_seq), so a replayed batch gets the same answers."""
    __tablename__ = "op_result"
    device_id: str = Field(primary_key=True, max_length=36)
    op_seq: int = Field(primary_key=True)
    status: str = Field(max_length=12)
    reason: str | None = None


class RubricVersion(ServerTable, table=True):
    __tablename__ = "rubric_version"
    district_id: str = Field(primary_key=True, max_length=36)  # built-ins are registered into every district
    rubric_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    yaml_text: str
    content_hash: str = Field(max_length=64)
    published_at: datetime = Field(default_factory=utcnow)
    published_by: str = ""
    change_seq: int = 0


class AuditLog(ServerTable, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    district_id: str = Field(index=True, max_length=36)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=64)  # user id or device id, never a name
    action: str = Field(max_length=40)
    kind: str = Field(default="", max_length=20)
    record_id: str = Field(default="", max_length=80)
    before: dict | None = Field(default=None, sa_type=JSON)
    after: dict | None = Field(default=None, sa_type=JSON)


class EnrollAttempt(ServerTable, table=True):
    """Failed enrollments in the current window of one scope (an address's hash, a district, or unknown codes),
    in the database so that every server worker counts and refuses alike."""
    __tablename__ = "enroll_attempt"
    scope: str = Field(primary_key=True, max_length=80)
    window_start: datetime = Field(default_factory=utcnow)
    failures: int = 0
    reported: bool = False  # the burst of this window is in the audit log


Index("ix_walk_district_seq", Walk.district_id, Walk.change_seq)
Index("ix_cycle_district_seq", Cycle.district_id, Cycle.change_seq)
Index("ix_visit_district_seq", Visit.district_id, Visit.change_seq)
Index("ix_note_district_seq", EvidenceNote.district_id, EvidenceNote.change_seq)
Index("ix_school_district_seq", School.district_id, School.change_seq)


class Quarantine(ServerTable, table=True):
    """A stored row that broke the rules of what a store keeps (sync.protocol.rules) when migration 0004 looked,
    moved here whole (sync.server.quarantine): its table, its id, its columns as JSON text, why, and when."""
    __tablename__ = "quarantine"
    id: int | None = Field(default=None, primary_key=True)
    district_id: str = Field(index=True, max_length=36)
    kind: str = Field(max_length=20)  # walk, visit, note, cells
    record_id: str = Field(max_length=80)
    reason: str = Field(max_length=500)
    content: str  # the row's columns as JSON (ASCII: a NUL travels as \u0000)
    quarantined_at: datetime = Field(default_factory=utcnow)
