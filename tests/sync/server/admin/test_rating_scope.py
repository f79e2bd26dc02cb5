"""A visit's cells (one VisitCells row) have no district or owner of their own: Scope.where(VisitCells), used
alone, limits them through their visit, per role and district."""
from __future__ import annotations

from sqlmodel import Session, select

from sync.server.deps import Caller
from sync.server.ingest.cells import rows
from sync.server.models import Visit, VisitCells
from sync.server.scope import Scope


def _cells(engine, *where) -> set[tuple[str, str]]:
    """(visit_id, lookfor_id) of every stored cell of the VisitCells rows matching `where`."""
    with Session(engine) as s:
        found = s.exec(select(VisitCells.visit_id, VisitCells.devices, VisitCells.cells).where(*where)).all()
    return {(visit_id, c.lookfor_id) for visit_id, devices, cells in found for c in rows(devices, cells)}


def _of_visits(engine, *visit_where) -> set[tuple[str, str]]:
    return _cells(engine, VisitCells.visit_id.in_(select(Visit.id).where(*visit_where)))


def test_scope_where_visit_cells_alone_limits_cells_to_the_visits_the_caller_may_see(world, server_db):
    engine, north, south = server_db.engine, world.north, world.south

    def seen(district, key: str) -> set[tuple[str, str]]:
        m = district.members[key]
        return _cells(engine, *Scope(Caller(m.device_id, m.user_id, m.role, district.id)).where(VisitCells))

    everything = _of_visits(engine, Visit.district_id == north.id)
    mine = _of_visits(engine, Visit.observer_id == north.members["observer"].user_id)
    theirs = _of_visits(engine, Visit.observer_id == north.members["observer2"].user_id)
    assert mine and theirs and mine | theirs == everything
    assert seen(north, "admin") == everything
    assert seen(north, "observer") == mine and seen(north, "observer2") == theirs
    assert seen(north, "lead") == mine  # on the team of the first observer's walks only
    assert seen(north, "outsider_lead") == theirs
    assert seen(south, "admin") and not seen(south, "admin") & everything
