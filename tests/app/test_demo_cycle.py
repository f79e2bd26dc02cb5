"""The demo district's cycle: a cycle record with two priorities and targets, three walks (baseline, six-week, end of
cycle) recorded on three tablets and synced through the real server; on the lead's tablet the equity pause pooled
over the cycle shows the inclusion and English-learner classrooms that each walk alone suppresses."""
from __future__ import annotations

import pytest

from app import demo
from app.device import Device
from app.viewmodels.debrief import DebriefVM
from tests.support.demo_world import build_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_lead(tmp_path_factory):
    lead = Device.open(build_demo(tmp_path_factory.mktemp("demo")))
    yield lead
    lead.close()


def test_the_demo_cycle_has_two_priorities_with_targets_and_three_walks(demo_lead):
    cycles = demo_lead.capture.cycles()
    assert [c.name for c in cycles] == [demo.CYCLE_NAME]
    assert cycles[0].priorities == [{"lookfors": [lf], "target": t} for lf, t in demo.PRIORITIES]
    walks = [w for w in demo_lead.capture.walks() if w.cycle_id == cycles[0].id]
    assert sorted(w.phase for w in walks) == ["baseline", "end-of-cycle", "six-week"]
    trend = demo_lead.debrief.trend(walks[0].id)
    assert [r.target for r in trend.rows] == [t for _, t in demo.PRIORITIES] and all(r.status for r in trend.rows)


def test_pooling_the_demo_cycle_shows_inclusion_and_english_learners_that_one_walk_suppresses(demo_lead):
    end = next(w for w in demo_lead.capture.walks() if w.phase == "end-of-cycle")
    one = demo_lead.debrief.equity(end.id).tally
    hidden_alone = {g.key for g in one.groups if g.suppressed}
    assert {"inclusion", "english-learners"} <= hidden_alone  # 2 classrooms each on a walk: under the threshold

    pooled = demo_lead.debrief.pooled_equity(end.id)
    assert [w.phase for w in pooled.walks] == ["baseline", "six-week", "end-of-cycle"] and pooled.left_out == []
    groups = {key: (n, hidden) for key, _, n, hidden in pooled.groups}
    assert groups["inclusion"] == (6, False) and groups["english-learners"] == (6, False)  # 2 a walk, 3 walks
    assert pooled.single_hidden["inclusion"] == 3 and pooled.single_hidden["english-learners"] == 3
    for lf, _ in pooled.lookfors:  # every equity look-for has pooled numbers for both groups, with an interval
        for key in ("inclusion", "english-learners"):
            cell = pooled.cells[lf][key]
            assert not cell.suppressed and cell.base > 0 and cell.interval is not None
    # the sums are the walks' own (unsuppressed) counts, walk by walk
    for lf, _ in pooled.lookfors:
        tallies = [demo_lead.debrief.tally(w.id, by="class_type") for w in pooled.walks]
        assert pooled.cells[lf]["inclusion"].evident == sum(t.group_cells[lf]["inclusion"].evident for t in tallies)

    # the screen's words: which walks were pooled and why, and what the pooling shows
    vm = DebriefVM(demo_lead, end.id)
    why = vm.pooled_equity().why()
    assert why.startswith("Pooled over 3 walks of this cycle (baseline ") and "still not shown" in why
    assert "Inclusion" in vm.pooled_equity_gains() and "English learners" in vm.pooled_equity_gains()
    head, rows = vm.pooled_equity_table()
    assert "Inclusion (6)" in head and "English learners (6)" in head
    assert all("95% interval" in row[head.index("Inclusion (6)")] for row in rows)
