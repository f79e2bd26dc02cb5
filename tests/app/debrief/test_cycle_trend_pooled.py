"""Each priority against its target (the latest share's 95% interval decides: reached, below, too close to call), and
the equity pause pooled over a cycle's walks: the sums of the walks' counts, with suppression on the pooled cells."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session

from app.debrief.equity import pooled_equity
from app.debrief.trends import BELOW, REACHED, UNDECIDED, cycle_trend, target_status
from app.store.db import open_engine, writer
from app.store.models import Meta
from app.store.services import CaptureService
from sync.protocol.intervals import wilson
from tests.app.debrief.conftest import RUBRIC


@pytest.mark.parametrize("k, n, target, status", [
    (8, 8, 60, REACHED),      # 68-100%: all of it at or above 60%
    (3, 8, 50, UNDECIDED),    # 14-69%: holds 50%
    (6, 8, 60, UNDECIDED),    # 75% is above the target, but the interval 41-93% reaches below it
    (0, 8, 40, BELOW),        # 0-32%: all of it under 40%
    (10, 12, 55, REACHED),    # 55.2-95.3%: above 55% (the worked value of docs/debrief.md)
    (10, 12, 56, UNDECIDED),
])
def test_a_share_stands_against_its_target_by_its_whole_interval(k, n, target, status):
    assert target_status(k / n, wilson(k, n), target) == status


def test_no_target_or_no_share_says_nothing():
    assert target_status(0.5, wilson(4, 8), None) == "" and target_status(None, None, 60) == ""


@pytest.fixture
def cycle_store(tmp_path):
    svc = CaptureService(open_engine(tmp_path / "tablet"))
    svc.catalog.register(RUBRIC)
    svc.add_school("Lincoln Elementary", school_id="s1")
    cycle = svc.create_cycle(school_id="s1", name="Fall", start_date=date(2026, 9, 7), rubric_id=RUBRIC.id,
                             rubric_version=1, priorities=[{"lookfors": ["t.talk"], "target": 60},
                                                           {"lookfors": ["t.questions"], "target": None}])
    # per walk: 4 general, 2 inclusion, 2 English-learner visits; questions "yes" in the inclusion visits only
    walks = []
    for i, phase in enumerate(("baseline", "six-week", "end-of-cycle")):
        w = svc.create_walk(school_id="s1", rubric_id=RUBRIC.id, rubric_version=1, focus=[], cycle_id=cycle.id,
                            phase=phase, walk_date=date(2026, 9, 7) + timedelta(weeks=6 * i))
        for ct in ["general"] * 4 + ["inclusion"] * 2 + ["english-learners"] * 2:
            v = svc.start_visit(w.id, grade="4", subject="ELA", class_type=ct)
            svc.rate(v.id, "t.talk", "4" if i == 2 else "1")
            svc.rate(v.id, "t.questions", "yes" if ct == "inclusion" else "no")
            svc.finish_visit(v.id)
        walks.append(w)
    yield svc, cycle, walks
    svc.engine.dispose()


def test_the_trend_rows_are_the_priorities_with_their_targets(cycle_store):
    svc, cycle, walks = cycle_store
    t = cycle_trend(svc.engine, svc.catalog, walks[0].id)
    assert [(r.lookfor_id, r.priority, r.target) for r in t.rows] == [("t.talk", 1, 60), ("t.questions", 2, None)]
    talk, questions = t.rows
    assert talk.shares == [0.0, 0.0, 1.0] and talk.status == REACHED  # 8 of 8 at the end: 68-100%
    assert questions.status == "" and t.sentence(questions).endswith(
        'No target set for this priority (a lead sets it with "Change this cycle" on the New walk screen).')
    assert t.to_json()["lookfors"][0]["target"] == 0.6 and t.to_json()["cycle_id"] == cycle.id


def test_pooling_sums_the_walks_and_suppresses_the_pooled_cells(cycle_store):
    svc, cycle, walks = cycle_store
    p = pooled_equity(svc.engine, svc.catalog, walks[2].id)
    assert [w.id for w in p.walks] == [w.id for w in walks] and p.left_out == []
    groups = {k: (n, hidden) for k, _, n, hidden in p.groups}
    assert groups == {"general": (12, False), "inclusion": (6, False), "english-learners": (6, False)}
    assert p.single_hidden == {"general": 0, "inclusion": 3, "english-learners": 3}
    cell = p.cells["t.questions"]["inclusion"]
    assert (cell.evident, cell.base, cell.share, cell.interval) == (6, 6, 1.0, wilson(6, 6))
    assert p.cells["t.questions"]["english-learners"].share == 0.0
    assert [lf for lf, _ in p.lookfors] == ["t.questions"]  # the equity look-fors only

    # one English-learner visit fewer on the last walk: 5 pooled still shows; on a threshold of 6 it is hidden,
    # and so is the next smallest cell of the row (inclusion, 6), or 6 - 5 would give it away
    svc.delete_visit(svc.visits(walks[2].id)[-1].id)
    with Session(writer(svc.engine)) as s:
        s.merge(Meta(key="small_cell_threshold", value="6"))
        s.commit()
    p = pooled_equity(svc.engine, svc.catalog, walks[2].id)
    assert {k: hidden for k, _, _, hidden in p.groups} == {"general": False, "inclusion": True,
                                                            "english-learners": True}
    assert p.cells["t.questions"]["inclusion"].share is None and p.to_json()["groups"][1]["visits"] is None
