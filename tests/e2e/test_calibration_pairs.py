"""A pair code typed on two tablets' visits (the visit screen's view-model) syncs through the real server and the
lead's Debrief calibration view shows the pair with its agreement and kappa, naming observers only by number."""
from __future__ import annotations

from types import SimpleNamespace

from app.debrief.service import Debrief
from app.viewmodels.capture import CaptureVM
from app.viewmodels.debrief import DebriefVM
from app.viewmodels.walk import WalkVM
from tests.support import serverproc as harness


def visit(dev, walk_id: str, code: str, ratings: dict[str, str]) -> str:
    vm = CaptureVM(dev.capture, WalkVM(dev.capture, walk_id).new_visit())
    vm.choose_grade("4")
    vm.set_pair_code(f" {code.lower()} ")  # typed loosely: stored as one code
    for lookfor_id, value in ratings.items():
        vm.tap(lookfor_id, value)
    vm.finish()
    return vm.visit_id


def test_a_pair_code_on_two_devices_visits_shows_in_the_leads_calibration_view_with_kappa(server, district, device):
    lead, obs = device("lead"), device("observer")
    lead.sync.sync_once()
    obs.sync.sync_once()
    walk = harness.new_walk(lead, district.school_id, team=[harness.user_of(obs)])
    lead.sync.sync_once()
    obs.sync.sync_once()
    rubric = lead.capture.catalog.get(*harness.RUBRIC)
    four = next(lf for lf in rubric.lookfors if len(rubric.scale(lf.scale).levels) >= 4 and not lf.subjects)
    low, _, high = rubric.scale(four.scale).values()[:3]
    # two classrooms, each seen by both observers: they agree on the four-level look-for in both
    visit(lead, walk.id, "P1", {four.id: high})
    visit(obs, walk.id, "P1", {four.id: high})
    visit(lead, walk.id, "P2", {four.id: low})
    visit(obs, walk.id, "P2", {four.id: low})
    obs.sync.sync_once()
    lead.sync.sync_once()

    assert {v.calibration_code for v in lead.capture.visits(walk.id)} == {"P1", "P2"}
    core = SimpleNamespace(capture=lead.capture, debrief=Debrief(lead.capture.engine, lead.capture.catalog))
    vm = DebriefVM(core, walk.id)
    cal = vm.calibration()
    assert cal.pairs == 2 and cal.unpaired == []
    head, rows = vm.calibration_table()
    row = dict(zip(head, next(r for r in rows if r[0] == four.label)))
    assert row == {"Look-for": four.label, "Pairs": "2", "Exact": "100%", "Adjacent": "100%", "Kappa": "1.00",
                   "Weighted kappa": "1.00"}
    drift_head, drift = vm.drift_table()
    assert [r[0] for r in drift] == ["Observer 1", "Observer 2"] and len(drift_head) == 2
    assert harness.user_of(obs) not in str((rows, drift))
