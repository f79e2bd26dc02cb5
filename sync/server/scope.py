"""The one place that limits queries to what a caller may see: their district, and for records their role.

    observer: every walk of the district (to join one), their own visits, ratings and notes;
    lead:     also every visit/rating/note of the walks they take part in (sync.server.models.WalkMember);
    admin:    the whole district.
Routes build queries with `Scope(caller).select(Model)` or add `Scope(caller).where(Model)`; none filters by hand.

A visit's rating cells (one VisitCells row per visit) have no scope columns of their own (to keep the push's
writes small): `where(VisitCells)` limits them through their visit with a subquery, which is correct on its own.
A query that already joins Visit and applies `where(Visit)` (the exports) has limited its cells already and skips
that subquery.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from sync.server.deps import Caller
from sync.server.models import (District, Device, EvidenceNote, OpResult, Visit, VisitCells, Walk,
                               WalkMember)

_OWNED_PARTS = (EvidenceNote,)  # carry walk_id and owner_id (the visit's observer)


class Scope:
    def __init__(self, caller: Caller):
        self.caller = caller
        self.district_id = caller.district_id

    def _member_walks(self):
        return select(WalkMember.walk_id).where(WalkMember.user_id == self.caller.user_id)

    def where(self, model) -> list[Any]:
        """The WHERE clauses that limit `model` to this caller's view."""
        if model is District:
            return [District.id == self.district_id]
        if model is OpResult:
            return [OpResult.device_id.in_(select(Device.id).where(Device.district_id == self.district_id))]
        if model is VisitCells:  # seen through its visit (module docstring)
            return [VisitCells.visit_id.in_(select(Visit.id).where(*self.where(Visit)))]
        clauses = [model.district_id == self.district_id]
        role, me = self.caller.role, self.caller.user_id
        if role == "admin" or model is Walk:
            return clauses
        if model is Visit:
            owner, walk = Visit.observer_id, Visit.walk_id
        elif model in _OWNED_PARTS:
            owner, walk = model.owner_id, model.walk_id
        else:
            return clauses
        if role == "lead":
            clauses.append(or_(owner == me, walk.in_(self._member_walks())))
        else:
            clauses.append(owner == me)
        return clauses

    def select(self, model, *columns):
        """select(model) (or of the given columns) limited to this caller's view."""
        stmt = select(*columns) if columns else select(model)
        return stmt.where(*self.where(model))

    def get(self, session: Session, model, record_id: Any):
        """The row with this primary key if the caller may see it, else None (never another district's)."""
        pk = model.__table__.primary_key.columns.values()[0]
        return session.exec(self.select(model).where(pk == record_id)).first()
