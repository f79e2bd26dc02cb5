"""The district's people as this device last heard of them (kept by each sync round; see SyncService)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.store.models import Meta


@dataclass(frozen=True)
class Person:
    id: str  # the learnwalk user id: what a walk's team holds for a member
    email: str
    role: str


def known_people(engine: Engine) -> list[Person]:
    """Everyone active in the district at the last sync, by email; [] before the first sync (or unenrolled)."""
    with Session(engine) as s:
        m = s.get(Meta, "people")
    try:
        rows = json.loads(m.value) if m else []
    except ValueError:
        return []
    return sorted((Person(str(r["id"]), str(r.get("email", "")), str(r.get("role", ""))) for r in rows
                   if isinstance(r, dict) and r.get("id")), key=lambda p: p.email.casefold())
