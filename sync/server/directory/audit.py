"""The audit log's one writer: who (a user or device id, never a name or an email), what, on which record,
before and after, written in the caller's transaction so a change and its entry commit together."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from sync.server.models import AuditLog

RECORD_ID_MAX = 80  # AuditLog.record_id's column size


def entry(district_id: str, actor: str, action: str, kind: str = "", record_id: str = "",
          before: dict | None = None, after: dict | None = None, at: datetime | None = None) -> dict:
    """One audit entry as a row (record_many writes many at once, as a push does)."""
    row = {"district_id": district_id, "actor": actor, "action": action, "kind": kind,
           "record_id": record_id[:RECORD_ID_MAX], "before": before, "after": after}
    if at is not None:
        row["at"] = at
    return row


def record(s: Session, district_id: str, actor: str, action: str, kind: str = "", record_id: str = "",
           before: dict | None = None, after: dict | None = None) -> None:
    s.add(AuditLog(**entry(district_id, actor, action, kind, record_id, before, after)))


def record_many(s: Session, entries: list[dict]) -> None:
    """Many entries in one INSERT: a push replacing other devices' cells writes one per cell."""
    if entries:
        s.execute(AuditLog.__table__.insert(), entries)
