"""Revision 0002 on a database that holds v1 ratings: every rating becomes a cell, and a visit whose cells are
newer than it is renumbered to its newest cell, so a pull cursor already past the visit still gets those cells."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session

from sync.protocol import rating_id
from sync.server.db import alembic_config, make_engine
from sync.server.deps import Caller
from sync.server.pull import changes_since
from tests.server.conftest import harness


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    """An empty database of its own (the session's server database is already at the newest revision)."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'v1.sqlite'}")
        yield eng
        eng.dispose()
        return
    why = harness.pg_reachable()
    if why:
        pytest.skip(why)
    url, drop = harness.pg_scratch_db()
    eng = make_engine(url)
    yield eng
    eng.dispose()
    drop()


T0 = datetime(2026, 9, 1, 8, 0, tzinfo=timezone.utc)
# (visit, its change_seq before, [(look-for, value, not_observed, deleted, change_seq, device)], change_seq after)
VISITS = [("v-newer-cell", 3, [("a", "1", False, False, 2, "dev-a"), ("b", "4", False, False, 5, "dev-b"),
                               ("c", None, False, True, 1, "dev-a")], 5),
          ("v-older-cells", 8, [("a", None, True, False, 4, "dev-a"), ("b", "2", False, False, 6, "dev-a")], 8),
          ("v-no-cells", 7, [], 7)]


def _time(engine, minutes: int) -> str:
    # plain SQL writes time the way each backend's DateTime column holds it
    t = T0.replace(minute=minutes)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f") if engine.dialect.name == "sqlite" else t.isoformat()


def _fill_v1(engine) -> None:
    visit_sql = text("INSERT INTO visit (district_id, change_seq, server_updated_at, device_id, id, walk_id, "
                     "visit_no, observer_id, note, started_at, updated_at, deleted) VALUES (:d, :seq, :t, "
                     "'dev-a', :id, 'w1', :no, 'u-obs', '', :t, :t, :f)")
    rating_sql = text("INSERT INTO rating (district_id, change_seq, server_updated_at, device_id, walk_id, "
                      "owner_id, id, visit_id, lookfor_id, value, not_observed, updated_at, deleted) VALUES "
                      "(:d, :seq, :t, :dev, 'w1', 'u-obs', :id, :v, :lf, :value, :no, :at, :deleted)")
    with engine.begin() as c:
        c.execute(text("INSERT INTO district (id, name, change_counter, created_at) VALUES ('d1', 'D', 10, :t)"),
                  {"t": _time(engine, 0)})
        for no, (vid, seq, cells, _) in enumerate(VISITS, 1):
            c.execute(visit_sql, {"d": "d1", "seq": seq, "t": _time(engine, 0), "id": vid, "no": no, "f": False})
            for lf, value, not_observed, deleted, cseq, dev in cells:
                c.execute(rating_sql, {"d": "d1", "seq": cseq, "t": _time(engine, 0), "dev": dev,
                                       "id": rating_id(vid, lf), "v": vid, "lf": lf, "value": value,
                                       "no": not_observed, "at": _time(engine, cseq), "deleted": deleted})


def test_0002_keeps_every_rating_as_a_cell_and_renumbers_visits_with_newer_cells(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0001")
    _fill_v1(engine)
    command.upgrade(cfg, "head")

    with engine.connect() as c:
        cells = {(r.visit_id, r.lookfor_id): (r.value, bool(r.not_observed), bool(r.deleted), r.change_seq,
                                              r.device_id)
                 for r in c.execute(text("SELECT visit_id, lookfor_id, value, not_observed, deleted, change_seq, "
                                         "device_id FROM rating"))}
        seqs = dict(c.execute(text("SELECT id, change_seq FROM visit")).all())
    assert cells == {(vid, lf): (value, no, deleted, cseq, dev)
                     for vid, _, rows, _ in VISITS for lf, value, no, deleted, cseq, dev in rows}
    assert seqs == {vid: after for vid, _, _, after in VISITS}

    # a device whose cursor had passed the visit (3) but not its newer cell (5) receives that cell with the visit
    with Session(engine) as s:
        page = changes_since(s, Caller("dev-a", "u-admin", "admin", "d1"), 4, 100)
    (change,) = [c for c in page.changes if c.kind == "visit"]
    assert change.record_id == "v-newer-cell" and change.seq == 5
    assert [cell[:4] for cell in change.data["cells"]] == [["b", "4", False, False]]
    assert change.data["cells"][0][4].startswith("2026-09-01T08:05:00")
