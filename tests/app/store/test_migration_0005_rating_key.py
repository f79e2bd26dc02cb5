"""Device store migration 0005: the rating table keyed by (visit_id, lookfor_id) without rowid, every row kept as
it was (its id included), and the store still taking taps and pulled cells by that key."""
from __future__ import annotations

import shutil
import sqlite3

import pytest

from app.store.db import db_path, open_engine
from sync.protocol import rating_id
from tests.support.legacy_store import SHIPPED

ROWS = [(rating_id(v, lf), v, lf, val, na, "2026-10-01 09:0%d:00.000000" % n, d)
        for n, (v, lf, val, na, d) in enumerate([("v1", "t.talk", "3", 0, 0), ("v1", "t.math", None, 1, 0),
                                                 ("v2", "t.talk", None, 0, 1), ("v2", "t.math", "1", 0, 0)])]


def v4_store(data, tmp_path):
    only = tmp_path / "v4-migrations"
    only.mkdir(exist_ok=True)
    for p in sorted(SHIPPED.glob("000[1-4]_*.sql")):
        shutil.copy(p, only)
    open_engine(data, migrations_dir=only).dispose()
    con = sqlite3.connect(db_path(data))
    with con:
        con.executemany("INSERT INTO rating (id, visit_id, lookfor_id, value, not_observed, updated_at, deleted) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", ROWS)
    con.close()


def test_ratings_are_keyed_by_visit_and_lookfor_with_every_row_kept(tmp_path):
    data = tmp_path / "tablet"
    v4_store(data, tmp_path)
    open_engine(data).dispose()
    con = sqlite3.connect(db_path(data))
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] >= 5
        got = con.execute("SELECT id, visit_id, lookfor_id, value, not_observed, updated_at, deleted FROM rating "
                          "ORDER BY visit_id, lookfor_id").fetchall()
        assert got == sorted(ROWS, key=lambda r: (r[1], r[2]))
        # one B-tree: no rowid, the pair is the key, and no index of its own on the random id
        ddl = con.execute("SELECT sql FROM sqlite_master WHERE name = 'rating'").fetchone()[0]
        assert "WITHOUT ROWID" in ddl and "PRIMARY KEY (visit_id, lookfor_id)" in ddl
        assert con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rating' "
                           "AND sql IS NOT NULL").fetchall() == []
        plan = " ".join(r[-1] for r in con.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM rating WHERE visit_id = 'v1' AND lookfor_id = 't.talk'"))
        assert "PRIMARY KEY" in plan, plan
        with pytest.raises(sqlite3.IntegrityError):  # the pair is still one cell: a second row of it is refused
            con.execute("INSERT INTO rating VALUES ('x', 'v1', 't.talk', '2', 0, '2026-10-01 10:00:00.000000', 0)")
    finally:
        con.close()
