"""What is waiting to be sent, in the units people think in: visits and walks, not outbox entries.

One visit with 16 ratings and 2 notes is 19 outbox entries and, for its observer, "1 visit waiting to send".
Refused entries are not counted here (the Sync screen lists them with their reasons).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.store.models import Outbox


@dataclass(frozen=True)
class Pending:
    visits: int = 0  # visits with a change waiting (the visit itself, a rating or a note of it)
    walks: int = 0  # walks whose own record changed (made, edited, team changed) and waits

    @property
    def nothing(self) -> bool:
        return not (self.visits or self.walks)


def _rows(engine: Engine, walk_id: str | None):
    visit_of = func.json_extract(Outbox.data, "$.visit_id")
    q = select(Outbox.walk_id, Outbox.kind, Outbox.record_id, visit_of).where(Outbox.rejected_reason.is_(None))
    if walk_id is not None:
        q = q.where(Outbox.walk_id == walk_id)
    with Session(engine) as s:
        return s.execute(q).all()


def pending_by_walk(engine: Engine) -> dict[str, Pending]:
    """Walk id -> what of it waits to be sent (walks with nothing waiting are left out)."""
    visits: dict[str, set[str]] = {}
    walks: set[str] = set()
    for walk_id, kind, record_id, visit_id in _rows(engine, None):
        if kind == "walk":
            walks.add(walk_id)
        else:
            visits.setdefault(walk_id, set()).add(record_id if kind == "visit" else str(visit_id))
    return {w: Pending(len(visits.get(w, ())), int(w in walks)) for w in set(visits) | walks}


def pending_work(engine: Engine) -> Pending:
    """Everything on this device that waits to be sent."""
    by_walk = pending_by_walk(engine).values()
    return Pending(sum(p.visits for p in by_walk), sum(p.walks for p in by_walk))
