"""A rating cell has no district or owner of its own: Scope.where(Rating), used alone, limits it through its visit."""
from __future__ import annotations

from sqlmodel import Session, select

from sync.server.deps import Caller
from sync.server.models import Rating, Visit
from sync.server.scope import Scope


def _cells(engine, *where) -> set[tuple[str, str]]:
    with Session(engine) as s:
        return set(s.exec(select(Rating.visit_id, Rating.lookfor_id).where(*where)).all())


def _of_observer(engine, user_id: str) -> set[tuple[str, str]]:
    return _cells(engine, Rating.visit_id.in_(select(Visit.id).where(Visit.observer_id == user_id)))


def test_scope_where_rating_alone_limits_cells_to_the_visits_the_caller_may_see(world, server_db):
    engine, north, south = server_db.engine, world.north, world.south

    def seen(district, key: str) -> set[tuple[str, str]]:
        m = district.members[key]
        return _cells(engine, *Scope(Caller(m.device_id, m.user_id, m.role, district.id)).where(Rating))

    everything = _cells(engine, Rating.visit_id.in_(select(Visit.id).where(Visit.district_id == north.id)))
    mine = _of_observer(engine, north.members["observer"].user_id)
    theirs = _of_observer(engine, north.members["observer2"].user_id)
    assert mine and theirs and mine | theirs == everything
    assert seen(north, "admin") == everything
    assert seen(north, "observer") == mine and seen(north, "observer2") == theirs
    assert seen(north, "lead") == mine  # on the team of the first observer's walks only
    assert seen(north, "outsider_lead") == theirs
    assert seen(south, "admin") and not seen(south, "admin") & everything
