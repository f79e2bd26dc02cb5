"""Device store migration 0002: a v1 store's free-text cycle labels become cycle records (one per school and label,
spaces and case aside), each walk names its cycle, the walks still waiting for sync carry it, and each cycle is
queued for sync; the walks and their rows are otherwise untouched."""
from __future__ import annotations

import json
import sqlite3
from datetime import date

from sqlmodel import Session, select

from app.store.db import db_path, open_engine
from app.store.models import Cycle, Walk
from sync.protocol import legacy_cycle_id
from tests.support.legacy_store import legacy_walks, v1_store

SCHOOL = "s-lincoln"


def test_old_labels_become_cycles_with_the_ids_the_server_derives(tmp_path):
    data = tmp_path / "tablet"
    v1_store(data, tmp_path, SCHOOL, legacy_walks())
    engine = open_engine(data)  # migrates v1 -> latest
    try:
        with Session(engine) as s:
            cycles = {c.id: c for c in s.exec(select(Cycle)).all()}
            walks = {w.id: w for w in s.exec(select(Walk)).all()}
    finally:
        engine.dispose()
    fall, spring = legacy_cycle_id(SCHOOL, "Fall 2026"), legacy_cycle_id(SCHOOL, "Spring 2027")
    assert set(cycles) == {fall, spring}  # " fall  2026" is the same cycle as "Fall 2026"
    assert {w: walks[w].cycle_id for w in walks} == {"w-base": fall, "w-six": fall, "w-end": fall,
                                                     "w-spring": spring, "w-none": None}
    c = cycles[fall]
    assert (c.name, c.start_date, c.school_id, c.rubric_id, c.rubric_version) == (
        "Fall 2026", date(2026, 9, 7), SCHOOL, "deeper-learning", 1)
    # one priority per focus look-for of the baseline walk, no target: a lead sets the targets
    assert c.priorities == [{"lookfors": ["dl.interactive"], "target": None},
                            {"lookfors": ["dl.what-and-why"], "target": None}]
    assert c.migrated and not c.deleted and c.created_by == "local"
    assert walks["w-six"].cycle_label == " fall  2026"  # the label itself is kept as it was typed

    with sqlite3.connect(db_path(data)) as con:
        queued = [(k, r, json.loads(d)) for k, r, d in con.execute("SELECT kind, record_id, data FROM outbox "
                                                                    "ORDER BY seq")]
    assert [r for k, r, _ in queued if k == "walk"] == [w["id"] for w in legacy_walks()]  # kept, in order
    walk_snapshots = {r: d for k, r, d in queued if k == "walk"}
    assert walk_snapshots["w-base"]["cycle_id"] == fall and walk_snapshots["w-none"]["cycle_id"] is None
    cycle_snapshots = {r: d for k, r, d in queued if k == "cycle"}
    assert set(cycle_snapshots) == {fall, spring}
    assert cycle_snapshots[fall]["priorities"] == c.priorities and cycle_snapshots[fall]["migrated"] is True
    assert cycle_snapshots[fall]["start_date"] == "2026-09-07"
    # the snapshot reads back as the shared record shape (what a push sends and the server validates)
    from sync.protocol import CycleData
    assert CycleData.model_validate(cycle_snapshots[fall]).name == "Fall 2026"


def test_a_store_without_labels_migrates_to_no_cycles(tmp_path):
    data = tmp_path / "tablet"
    v1_store(data, tmp_path, SCHOOL, [w for w in legacy_walks() if not w["label"]])
    engine = open_engine(data)
    try:
        with Session(engine) as s:
            assert s.exec(select(Cycle)).all() == []
            assert [w.cycle_id for w in s.exec(select(Walk)).all()] == [None]
    finally:
        engine.dispose()
