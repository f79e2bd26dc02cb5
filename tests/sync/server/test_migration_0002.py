"""Revision 0002 on a database that holds v1 ratings (one row per cell): each visit's ratings become its one
visit_cells row (sync.server.ingest.cells) with their writers, values, tombstones and times, and a visit whose cells are
newer than it is renumbered to its newest cell, so a pull cursor already past the visit still gets those cells.

PostgreSQL runs on a database that sorts text by en-US rules, as a production one may: the stored cells must still
be in code point order, the order the push's merge keeps and the pull sends."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import Session

from sync.protocol import rating_id
from sync.server.bulk import sqlite_time
from sync.server.db import alembic_config
from sync.server.deps import Caller
from sync.server.ingest.cells import devices_text
from sync.server.ingest.pull import changes_since
from tests.support import serverproc as harness


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    """An empty database of its own (the session's server database is already at the newest revision)."""
    yield from harness.empty_engine(request.param, tmp_path, icu_locale="en-US")


# v1 times in the text forms a v1 server wrote them: SQLAlchemy's (6 digits), or a pushed time stored as it came
# (sync.server.bulk.sqlite_time: no fraction, a short one); each with the canonical text it must become
TIMES = {1: ("2026-09-01T08:01:00.123456+00:00", "2026-09-01T08:01:00.123456Z"),
         2: ("2026-09-01T08:02:00Z", "2026-09-01T08:02:00.000000Z"),
         3: ("2026-09-01T08:03:00.000000Z", "2026-09-01T08:03:00.000000Z"),
         4: ("2026-09-01T08:04:00.5Z", "2026-09-01T08:04:00.500000Z"),
         5: ("2026-09-01T08:05:00+00:00", "2026-09-01T08:05:00.000000Z"),
         6: ("2026-09-01T08:06:00.25Z", "2026-09-01T08:06:00.250000Z"),
         7: ("2026-09-01T08:07:00.000001Z", "2026-09-01T08:07:00.000001Z")}
# (visit, its change_seq before, [(look-for, value, not_observed, deleted, change_seq = time key, device)],
#  change_seq after)
VISITS = [("v-newer-cell", 3, [("a", "1", False, False, 2, "dev-a"), ("b", "4", False, False, 5, "dev-b"),
                               ("c", None, False, True, 1, "dev-a")], 5),
          ("v-older-cells", 8, [("a", None, True, False, 4, "dev-a"), ("b", "2", False, False, 6, "dev-a")], 8),
          ("v-no-cells", 7, [], 7),
          # code point order puts "lf.B" first; en-US puts "lf.a" first
          ("v-cased", 9, [("lf.a", "1", False, False, 3, "dev-b"), ("lf.B", "2", False, False, 7, "dev-b")], 9)]


def _at(engine, key: int) -> str:
    # plain SQL writes a time the way each backend's v1 DateTime column held it
    wire = TIMES[key][0]
    return sqlite_time(wire) if engine.dialect.name == "sqlite" else wire


def _fill_v1(engine) -> None:
    visit_sql = text("INSERT INTO visit (district_id, change_seq, server_updated_at, device_id, id, walk_id, "
                     "visit_no, observer_id, note, started_at, updated_at, deleted) VALUES (:d, :seq, :t, "
                     "'dev-a', :id, 'w1', :no, 'u-obs', '', :t, :t, :f)")
    rating_sql = text("INSERT INTO rating (district_id, change_seq, server_updated_at, device_id, walk_id, "
                      "owner_id, id, visit_id, lookfor_id, value, not_observed, updated_at, deleted) VALUES "
                      "(:d, :seq, :t, :dev, 'w1', 'u-obs', :id, :v, :lf, :value, :no, :at, :deleted)")
    with engine.begin() as c:
        c.execute(text("INSERT INTO district (id, name, change_counter, created_at) VALUES ('d1', 'D', 10, :t)"),
                  {"t": _at(engine, 3)})
        for no, (vid, seq, cells, _) in enumerate(VISITS, 1):
            c.execute(visit_sql, {"d": "d1", "seq": seq, "t": _at(engine, 3), "id": vid, "no": no, "f": False})
            for lf, value, not_observed, deleted, cseq, dev in cells:
                c.execute(rating_sql, {"d": "d1", "seq": cseq, "t": _at(engine, 3), "dev": dev,
                                       "id": rating_id(vid, lf), "v": vid, "lf": lf, "value": value,
                                       "no": not_observed, "at": _at(engine, cseq), "deleted": deleted})


def _pull(engine, device: str, since: int) -> dict[str, tuple[int, list]]:
    with Session(engine) as s:
        page = changes_since(s, Caller(device, "u-admin", "admin", "d1"), since, 100)
    return {c.record_id: (c.seq, c.data["cells"]) for c in page.changes if c.kind == "visit"}


def test_0002_turns_every_rating_into_a_cell_of_its_visit_and_renumbers_visits_with_newer_cells(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0001")
    _fill_v1(engine)
    command.upgrade(cfg, "head")

    assert "rating" not in inspect(engine).get_table_names()
    cells = harness.cells_of(engine, "d1")  # checks each row's layout: look-fors in code point order, devices
    assert {k: tuple(c) for k, c in cells.items()} == {
        (vid, lf): (lf, value, no, deleted, TIMES[cseq][1], dev)
        for vid, _, rows, _ in VISITS for lf, value, no, deleted, cseq, dev in rows}
    with engine.connect() as c:
        devices = dict(c.execute(text("SELECT visit_id, devices FROM visit_cells")).all())
        seqs = dict(c.execute(text("SELECT id, change_seq FROM visit")).all())
    # the exact text the pull compares with devices_text([own])
    assert devices == {"v-newer-cell": devices_text(["dev-a", "dev-b"]), "v-older-cells": devices_text(["dev-a"]),
                       "v-cased": devices_text(["dev-b"])}
    assert seqs == {vid: after for vid, _, _, after in VISITS}

    # a device whose cursor had passed the visit (3) but not its newer cell (5) receives that cell with the visit;
    # its own cells, and visits holding only its own cells, do not come back
    assert _pull(engine, "dev-a", 4) == {"v-newer-cell": (5, [["b", "4", False, False, TIMES[5][1]]]),
                                          "v-cased": (9, [["lf.B", "2", False, False, TIMES[7][1]],
                                                          ["lf.a", "1", False, False, TIMES[3][1]]])}
    assert _pull(engine, "dev-b", 0) == {
        "v-newer-cell": (5, [["a", "1", False, False, TIMES[2][1]], ["c", None, False, True, TIMES[1][1]]]),
        "v-older-cells": (8, [["a", None, True, False, TIMES[4][1]], ["b", "2", False, False, TIMES[6][1]]]),
        "v-no-cells": (7, []), "v-cased": (9, [])}


def test_0002_copies_more_visits_than_one_insert_batch_while_reading_the_ratings_streamed(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0001")
    visits = 2345  # over two of the migration's 1,000-row inserts, written while the ratings are still read
    rows = [{"id": rating_id(f"v{i:05d}", lf), "v": f"v{i:05d}", "lf": lf, "value": str(1 + i % 4),
             "dev": f"dev-{i % 3}", "at": _at(engine, 1 + i % 7)} for i in range(visits) for lf in ("x", "y")]
    with engine.begin() as c:
        c.execute(text("INSERT INTO district (id, name, change_counter, created_at) VALUES ('d1', 'D', 1, :t)"),
                  {"t": _at(engine, 3)})
        c.execute(text("INSERT INTO visit (district_id, change_seq, server_updated_at, device_id, id, walk_id, "
                       "visit_no, observer_id, note, started_at, updated_at, deleted) VALUES ('d1', 1, :t, 'dev-0', "
                       ":id, 'w1', :no, 'u-obs', '', :t, :t, false)"),
                  [{"t": _at(engine, 3), "id": f"v{i:05d}", "no": i} for i in range(visits)])
        c.execute(text("INSERT INTO rating (district_id, change_seq, server_updated_at, device_id, walk_id, owner_id, "
                       "id, visit_id, lookfor_id, value, not_observed, updated_at, deleted) VALUES ('d1', 1, :at, "
                       ":dev, 'w1', 'u-obs', :id, :v, :lf, :value, false, :at, false)"), rows)
    command.upgrade(cfg, "head")

    cells = harness.cells_of(engine, "d1")
    assert {k: (c.value, c.device_id, c.updated_at) for k, c in cells.items()} == {
        (r["v"], r["lf"]): (r["value"], r["dev"], TIMES[1 + int(r["v"][1:]) % 7][1]) for r in rows}
