"""Revision 0007 on a database at 0006 holding visits recorded when a blank checklist cell meant "Not seen": each
gets 'not_seen' for every checklist look-for shown for its subject and grade without an answer (the rule the device
store's migration 0004 applies), written by the device of its latest answered cell at that cell's time; the visits
that changed get new numbers above the district's counter, so every other device pulls them. SQLite and
PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, timezone

import orjson
import pytest
from alembic import command
from sqlalchemy import select, text

from rubrics import parse_rubric
from sync.server.db import alembic_config
from sync.server.models import RubricVersion, Visit, VisitCells, Walk
from tests.support import serverproc as harness
from tests.support.legacy_checklists import EXPECTED, RUBRIC_YAML, VISITS

AT = datetime(2026, 10, 1, 9, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    yield from harness.empty_engine(request.param, tmp_path)


def canonical(stored: str) -> str:
    return stored.replace(" ", "T") + "Z"


def _walk(wid, rubric_id, version, district, seq) -> dict:
    return {"id": wid, "school_id": "s1", "walk_date": date(2026, 10, 1), "rubric_id": rubric_id,
            "rubric_version": version, "focus": [], "team": [], "cycle_label": "", "phase": "baseline",
            "created_by": "u1", "updated_at": AT, "deleted": False, "district_id": district, "change_seq": seq,
            "server_updated_at": AT, "device_id": "dev1"}


def _visit(vid, wid, n, subject, grade, district, seq) -> dict:
    return {"id": vid, "walk_id": wid, "visit_no": n, "observer_id": "u1", "grade": grade, "subject": subject,
            "note": "", "started_at": AT, "ended_at": AT, "updated_at": AT, "deleted": False, "district_id": district,
            "change_seq": seq, "server_updated_at": AT, "device_id": "dev1"}


def _setup(c):
    c.execute(text("INSERT INTO district (id, name, change_counter, created_at) VALUES "
                   "('d1', 'North', 20, '2026-12-01 08:00:00'), ('d2', 'South', 5, '2026-12-01 08:00:00')"))
    c.execute(RubricVersion.__table__.insert(), [{
        "district_id": "d1", "rubric_id": "legacy-checklist", "version": 1, "yaml_text": RUBRIC_YAML,
        "content_hash": parse_rubric(RUBRIC_YAML).content_hash(), "published_at": AT, "published_by": "u1",
        "change_seq": 1}])
    c.execute(Walk.__table__.insert(), [_walk("w1", "legacy-checklist", 1, "d1", 2),
                                        _walk("w2", "deeper-learning", 1, "d2", 3)])  # a built-in, not registered
    c.execute(Visit.__table__.insert(), [_visit(vid, "w1", n, s, g, "d1", 10 + n)
                                         for n, (vid, (s, g, _)) in enumerate(VISITS.items(), 1)]
              + [_visit("v-dl", "w2", 1, "ELA", "4", "d2", 4)])
    rows = []
    for vid, (_, _, cells) in VISITS.items():
        # v-mathk: its "Seen" (the latest answer) came from a second device
        devices = ["dev1", "dev2"] if vid == "v-mathk" else ["dev1"]
        stored = sorted([[1 if lf == "c.posted" and vid == "v-mathk" else 0, lf, value, na, deleted, canonical(at)]
                         for lf, value, na, deleted, at in cells], key=lambda c: c[1])
        rows.append({"visit_id": vid, "devices": orjson.dumps(devices).decode(), "cells": orjson.dumps(stored).decode()})
    rows.append({"visit_id": "v-dl", "devices": '["dev9"]',
                 "cells": orjson.dumps([[0, "dl.interactive", "3", False, False, "2026-10-01T09:30:00.000000Z"]]).decode()})
    c.execute(VisitCells.__table__.insert(), rows)


@pytest.mark.parametrize("page", [2000, 2])  # one page, and pages of two visits
def test_0007_writes_not_seen_where_a_blank_meant_it_and_numbers_the_visits_for_pull(engine, page, monkeypatch):
    from sync.server import legacy_checklists

    monkeypatch.setattr(legacy_checklists, "PAGE", page)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0006")
    with engine.begin() as c:
        _setup(c)
        before = {r.visit_id: (r.devices, r.cells) for r in c.execute(select(VisitCells.__table__))}

    command.upgrade(cfg, "0007")

    with engine.connect() as c:
        after = {r.visit_id: (orjson.loads(r.devices), orjson.loads(r.cells))
                 for r in c.execute(select(VisitCells.__table__))}
        seqs = dict(c.execute(text("SELECT id, change_seq FROM visit")).all())
        counters = dict(c.execute(text("SELECT id, change_counter FROM district")).all())
    for vid, (lfs, at) in EXPECTED.items():
        devices, cells = after[vid]
        old = {c[1]: c for c in orjson.loads(before[vid][1])}
        by_lf = {c[1]: (devices[c[0]], *c[2:]) for c in cells}
        writer = "dev2" if vid == "v-mathk" else "dev1"
        for lf in lfs:
            assert by_lf[lf] == (writer, "not_seen", False, False, canonical(at)), (vid, lf)
        # every other cell kept, with its writer
        old_devices = orjson.loads(before[vid][0])
        assert {lf: x for lf, x in by_lf.items() if lf not in lfs} == {
            lf: (old_devices[c[0]], *c[2:]) for lf, c in old.items() if lf not in lfs}
        assert [c[1] for c in cells] == sorted(c[1] for c in cells)  # stored in look-for order, as a push stores
    assert before["v-empty"][1] == orjson.dumps(orjson.loads(before["v-empty"][1])).decode()
    # the built-in rubric of d2 is known without a registered row: its two checklists were blank
    dl_devices, dl_cells = after["v-dl"]
    assert {c[1]: c[2] for c in dl_cells} == {"dl.interactive": "3", "dl.quality-criteria": "not_seen",
                                              "dl.help-strategies": "not_seen"} and dl_devices == ["dev9"]
    # changed visits get new numbers above their district's counter; v-empty keeps its own
    assert sorted(seqs[v] for v in ("v-ela4", "v-mathk", "v-open")) == [21, 22, 23] and counters["d1"] == 23
    assert seqs["v-empty"] == 14 and seqs["v-dl"] == 6 and counters["d2"] == 6


def test_0007_on_a_database_without_visits_changes_no_number(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0006")
    with engine.begin() as c:
        c.execute(text("INSERT INTO district (id, name, change_counter, created_at) "
                       "VALUES ('d1', 'North', 4, '2026-12-01 08:00:00')"))
    command.upgrade(cfg, "0007")
    with engine.connect() as c:
        assert c.execute(text("SELECT change_counter FROM district")).scalar_one() == 4
