"""Rows stored before today's rules that break them (times outside the window a store accepts, NUL characters,
notes over NOTE_MAX, cells the device's codec cannot read) are moved to the quarantine table, whole, with their
reason, and one audit entry each (action "quarantine", actor "server"), so no device meets them again and an admin
sees what was set aside (the audit log; the row itself in the quarantine table). A walk takes its visits along, a
visit its cells and notes: nothing is left pointing at a row that is gone. Run once by migration 0004."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from sync.protocol.cells import BadCell, pull_cells, rating_row
from sync.protocol.rules import NOTE_MAX, RuleBroken, check_time
from sync.protocol.text import unstorable
from sync.protocol.times import BadTime
from sync.server.ingest.cells import decode
from sync.server.models import AuditLog, Quarantine

ACTION, ACTOR = "quarantine", "server"
_TIMES = {"walk": ("walk_date", "updated_at"), "visit": ("started_at", "ended_at", "updated_at"),
          "note": ("updated_at",)}
_TABLES = {"walk": "walk", "visit": "visit", "note": "evidence_note", "cells": "visit_cells"}


def _as_time(value: Any, field: str) -> Any:
    if isinstance(value, str):  # SQLite keeps times as text
        return date.fromisoformat(value[:10]) if field == "walk_date" else datetime.fromisoformat(value)
    return value


def _why(kind: str, row: dict) -> str | None:
    """Why this stored row breaks the rules, or None."""
    for field, value in row.items():
        if isinstance(value, str) and (why := unstorable(value)) is not None:
            return f"the {kind}'s {field} {why}"
    for field in ("note", "text"):
        if kind in ("visit", "note") and isinstance(row.get(field), str) and len(row[field]) > NOTE_MAX:
            return f"the {kind}'s {field} is {len(row[field])} characters, over the limit of {NOTE_MAX}"
    for field in _TIMES.get(kind, ()):
        if row.get(field) is None:
            continue
        try:
            check_time(_as_time(row[field], field), field)
        except (RuleBroken, BadTime, ValueError, OverflowError) as exc:
            return f"the {kind}'s {field} {row[field]} is outside the window a store accepts ({exc})"
    if kind == "cells":
        try:
            ids, stored = decode(row["devices"], row["cells"])
            for c in pull_cells(stored, ids, ""):
                rating_row(row["visit_id"], c)
                check_time(_as_time(c[-1], "updated_at"), "updated_at")
        except (BadCell, RuleBroken, BadTime, ValueError, TypeError, IndexError, OverflowError) as exc:
            return f"a rating cell of visit {row['visit_id']} cannot be read ({exc})"
    return None


def _rows(c: Connection, kind: str) -> list[dict]:
    return [dict(r._mapping) for r in c.execute(text(f"SELECT * FROM {_TABLES[kind]}"))]


def quarantine_all(c: Connection) -> int:
    """Move every stored row that breaks the rules (and the rows under it); returns how many were moved."""
    moved: list[tuple[str, dict, str]] = []
    walks = set()
    for row in _rows(c, "walk"):
        if (why := _why("walk", row)) is not None:
            moved.append(("walk", row, why))
            walks.add(row["id"])
    visits = {}
    for row in _rows(c, "visit"):
        why = _why("visit", row) or (f"its walk {row['walk_id']} was quarantined" if row["walk_id"] in walks
                                     else None)
        if why is not None:
            moved.append(("visit", row, why))
            visits[row["id"]] = row["district_id"]
    for row in _rows(c, "note"):
        why = _why("note", row) or (f"its visit {row['visit_id']} was quarantined" if row["visit_id"] in visits
                                    else None)
        if why is not None:
            moved.append(("note", row, why))
    for row in _rows(c, "cells"):
        why = (f"its visit {row['visit_id']} was quarantined" if row["visit_id"] in visits
               else _why("cells", row))
        if why is not None:
            moved.append(("cells", row, why))
    district_of_visit = {r["id"]: r["district_id"] for r in _rows(c, "visit")}
    for kind, row, why in moved:
        rid = row["visit_id"] if kind == "cells" else row["id"]
        district = row.get("district_id") or district_of_visit.get(rid) or visits.get(rid, "")
        content = json.dumps(row, default=str, sort_keys=True)  # ASCII: a NUL or a surrogate as its escape
        c.execute(Quarantine.__table__.insert(), {"district_id": district, "kind": kind, "record_id": rid[:80],
                                                  "reason": why[:500], "content": content,
                                                  "quarantined_at": datetime.now().astimezone()})
        key = "visit_id" if kind == "cells" else "id"
        c.execute(text(f"DELETE FROM {_TABLES[kind]} WHERE {key} = :k"), {"k": row[key]})
        c.execute(AuditLog.__table__.insert(), {"district_id": district, "actor": ACTOR, "action": ACTION,
                                                "kind": kind, "record_id": rid[:80],
                                                "after": {"reason": why[:500], "table": "quarantine"},
                                                "at": datetime.now().astimezone()})
    return len(moved)
