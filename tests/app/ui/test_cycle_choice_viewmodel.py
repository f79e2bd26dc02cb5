"""The New walk screen's cycle part: the school's newest cycle is picked with its rubric, a walk takes the cycle's
priorities as its focus, a new cycle needs 2-3 priorities with targets, and observers cannot make one."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from app.store.db import open_engine, writer
from app.store.models import Meta
from app.store.services import CaptureService, ServiceError
from app.viewmodels.new_walk import NewWalkVM

TODAY = date(2026, 12, 3)


@pytest.fixture
def service(tmp_path):
    svc = CaptureService(open_engine(tmp_path / "tablet"))
    svc.add_school("Lincoln Elementary", school_id="s1")
    svc.add_school("Hawthorne Middle", school_id="s2")
    yield svc
    svc.engine.dispose()


def _fill(vm: NewWalkVM, name="Fall 2026", rows=(("dl.interactive", "60"), ("dl.engaged", "50 %"))) -> None:
    vm.cycle.open_form()
    vm.cycle.name = name
    for d, (lf, target) in zip(vm.cycle.drafts, rows):
        d.lookfor_id, d.target_text = lf, target


def test_a_cycle_made_on_the_screen_is_picked_and_its_walks_take_its_priorities(service):
    vm = NewWalkVM(service, today=TODAY)
    vm.choose_school("s1")
    assert [o.label for o in vm.cycle.options()] == ["No cycle"]
    _fill(vm)
    cycle = vm.cycle.create(vm.rubric)
    assert cycle.priorities == [{"lookfors": ["dl.interactive"], "target": 60},
                                {"lookfors": ["dl.engaged"], "target": 50}]
    assert vm.cycle.focus_lines(vm.rubric) == [
        "Priority 1: Students learn with each other, target 60% by the end-of-cycle walk",
        "Priority 2: Engaged in the work, target 50% by the end-of-cycle walk"]
    walk = service.walk(vm.start())  # no focus ticked: the cycle's priorities are the focus
    assert (walk.cycle_id, walk.focus, walk.cycle_label) == (cycle.id, ["dl.interactive", "dl.engaged"], "Fall 2026")

    again = NewWalkVM(service, today=TODAY)
    again.choose_school("s1")
    assert again.cycle.cycle_id == cycle.id and again.rubric_key == f"{cycle.rubric_id}@{cycle.rubric_version}"
    again.choose_school("s2")  # another school: its own cycles (none)
    assert again.cycle.cycle_id == "" and [o.label for o in again.cycle.options()] == ["No cycle"]
    with pytest.raises(ServiceError, match="another school"):
        again.pick_cycle(cycle.id)


def test_a_new_cycle_with_a_missing_target_or_look_for_says_which_and_saves_nothing(service):
    vm = NewWalkVM(service, today=TODAY)
    vm.choose_school("s1")
    _fill(vm, rows=(("dl.interactive", "60"), ("dl.engaged", "")))
    with pytest.raises(ServiceError, match="target of priority 2 as a whole percent"):
        vm.cycle.create(vm.rubric)
    _fill(vm, rows=(("dl.interactive", "60"), (None, "50")))
    with pytest.raises(ServiceError, match="look-for of priority 2"):
        vm.cycle.create(vm.rubric)
    with pytest.raises(ServiceError, match="at least 2 priorities"):
        vm.cycle.remove_priority()
    vm.cycle.add_priority()
    with pytest.raises(ServiceError, match="at most 3"):
        vm.cycle.add_priority()
    assert service.cycles() == [] and service.pending_count() == 0


def test_an_observer_reads_the_rule_and_cannot_open_the_form(service):
    with Session(writer(service.engine)) as s:
        s.add(Meta(key="role", value="observer"))
        s.commit()
    vm = NewWalkVM(service, today=TODAY)
    assert not vm.cycle.may_edit
    assert vm.cycle.rule == "Leads and admins create and change cycles; observers pick one for their walks."
    with pytest.raises(ServiceError, match="Leads and admins"):
        vm.cycle.open_form()


def test_a_lead_sets_the_target_of_a_cycle_that_has_none(service):
    cycle = service.create_cycle(school_id="s1", name="fall 2026", start_date=date(2026, 9, 7),
                                 rubric_id="deeper-learning", rubric_version=1,
                                 priorities=[{"lookfors": ["dl.interactive", "dl.relevant"], "target": None}])
    vm = NewWalkVM(service, today=TODAY)
    vm.choose_school("s1")
    assert vm.cycle.focus_lines(vm.rubric) == [
        "Priority 1: Students learn with each other, Relevant to students, no target set"]
    vm.cycle.open_edit()
    assert (vm.cycle.name, vm.cycle.drafts[0].lookfor_id, vm.cycle.drafts[0].target_text) == (
        "fall 2026", "dl.interactive", "")
    with pytest.raises(ServiceError, match="target of priority 1"):
        vm.cycle.create(vm.rubric)
    vm.cycle.name, vm.cycle.drafts[0].target_text = "Fall 2026", "65"
    saved = vm.cycle.create(vm.rubric)
    assert saved.id == cycle.id and not vm.cycle.form_open
    assert service.cycle(cycle.id).priorities == [{"lookfors": ["dl.interactive", "dl.relevant"], "target": 65}]
    assert service.cycle(cycle.id).name == "Fall 2026" and len(service.cycles()) == 1
