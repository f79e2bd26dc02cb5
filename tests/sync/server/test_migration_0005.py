"""Revision 0005 on a database at 0004 holding walks with free-text cycle labels: each (school, label) becomes one
cycle (spaces and case aside), named by the same id the device store's migration derives, with the first walk's
label, rubric and focus, the earliest date, no targets; walks name it; cycles and walks get new numbers above the
district's counter, so every device pulls them. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from alembic import command
from sqlalchemy import select, text

from sync.protocol import legacy_cycle_id
from sync.server.db import alembic_config
from sync.server.models import Cycle
from tests.support import serverproc as harness

AT = datetime(2026, 10, 1, 9, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    yield from harness.empty_engine(request.param, tmp_path)


def _walk(wid, school, label, phase, day, focus, seq, district="d1", deleted=False) -> dict:
    return {"id": wid, "school_id": school, "walk_date": day, "rubric_id": "deeper-learning", "rubric_version": 1,
            "focus": focus, "team": [], "cycle_label": label, "phase": phase, "created_by": "u-lead",
            "updated_at": AT, "deleted": deleted, "district_id": district, "change_seq": seq,
            "server_updated_at": AT, "device_id": "dev1"}


def _insert_walks(c, rows) -> None:
    cols = list(rows[0])
    c.execute(text(f"INSERT INTO walk ({', '.join(cols)}) VALUES ({', '.join(':' + k for k in cols)})"),
              [{**r, "focus": __import__("json").dumps(r["focus"]), "team": "[]"} for r in rows])


def test_0005_turns_each_schools_labels_into_one_cycle_and_numbers_them_for_pull(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0004")
    with engine.begin() as c:
        c.execute(text("INSERT INTO district (id, name, change_counter, created_at) VALUES "
                       "('d1', 'North', 40, '2026-12-01 08:00:00'), ('d2', 'South', 7, '2026-12-01 08:00:00')"))
        _insert_walks(c, [
            _walk("w-end", "s1", "Fall 2026", "end-of-cycle", date(2026, 11, 23), ["dl.interactive"], 30),
            _walk("w-base", "s1", "  fall 2026 ", "baseline", date(2026, 9, 7), ["dl.interactive", "dl.engaged"], 10),
            _walk("w-six", "s1", "FALL 2026", "six-week", date(2026, 10, 19), ["dl.interactive"], 20),
            _walk("w-gone", "s1", "Fall 2026", "baseline", date(2026, 9, 1), ["dl.creating"], 5, deleted=True),
            _walk("w-other-school", "s2", "Fall 2026", "baseline", date(2026, 9, 8), ["dl.engaged"], 11),
            _walk("w-none", "s1", "", "other", date(2026, 9, 9), ["dl.engaged"], 12),
            _walk("w-south", "s9", "Winter", "baseline", date(2026, 12, 1), ["dl.relevant"], 3, district="d2"),
        ])

    command.upgrade(cfg, "0005")

    fall, fall2 = legacy_cycle_id("s1", "Fall 2026"), legacy_cycle_id("s2", "Fall 2026")
    winter = legacy_cycle_id("s9", "Winter")
    with engine.connect() as c:
        cycles = {r.id: r for r in c.execute(select(Cycle.__table__))}
        walks = {r.id: r for r in c.execute(text("SELECT id, cycle_id, change_seq FROM walk"))}
        counters = dict(c.execute(text("SELECT id, change_counter FROM district")).all())
    assert set(cycles) == {fall, fall2, winter}
    f = cycles[fall]
    # the first walk: live before deleted, baseline first; its label as typed (trimmed), its focus as priorities
    assert (f.name, f.start_date, f.district_id, f.school_id) == ("fall 2026", date(2026, 9, 1), "d1", "s1")
    assert f.priorities == [{"lookfors": ["dl.interactive"], "target": None},
                            {"lookfors": ["dl.engaged"], "target": None}]
    assert f.migrated and f.created_by == "u-lead" and not f.deleted
    assert cycles[winter].district_id == "d2"
    assert {w: r.cycle_id for w, r in walks.items()} == {
        "w-end": fall, "w-base": fall, "w-six": fall, "w-gone": fall, "w-other-school": fall2, "w-none": None,
        "w-south": winter}
    # new numbers above each district's old counter, every one used once, the counter moved past them
    d1 = sorted([r.change_seq for w, r in walks.items() if w not in ("w-none", "w-south")]
                + [cycles[fall].change_seq, cycles[fall2].change_seq])
    assert d1 == list(range(41, 41 + 7)) and counters["d1"] == 47
    assert walks["w-none"].change_seq == 12  # untouched
    assert sorted([walks["w-south"].change_seq, cycles[winter].change_seq]) == [8, 9] and counters["d2"] == 9


def test_0005_on_a_database_without_labels_changes_no_number(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0004")
    with engine.begin() as c:
        c.execute(text("INSERT INTO district (id, name, change_counter, created_at) "
                       "VALUES ('d1', 'North', 4, '2026-12-01 08:00:00')"))
        _insert_walks(c, [_walk("w1", "s1", "", "baseline", date(2026, 9, 7), ["dl.engaged"], 4)])
    command.upgrade(cfg, "0005")
    with engine.connect() as c:
        assert c.execute(select(Cycle.__table__)).all() == []
        assert c.execute(text("SELECT change_counter FROM district")).scalar_one() == 4
