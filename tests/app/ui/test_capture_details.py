"""The capture view-model's look-for details (descriptors, source) and the grade rule: what the info sheet and
the cards show, driven directly (no Flet)."""
from __future__ import annotations

from app.viewmodels.capture import CaptureVM
from app.viewmodels.walk import WalkVM


def _visit(service, rubric_id: str, focus: list[str]) -> CaptureVM:
    school = service.add_school("Lincoln Elementary")
    walk = service.create_walk(school_id=school.id, rubric_id=rubric_id, rubric_version=2, focus=focus)
    return CaptureVM(service, WalkVM(service, walk.id).new_visit())


def test_a_card_carries_what_each_level_looks_like_and_its_source(service):
    vm = _visit(service, "deeper-learning", ["dl.interactive"])
    item = vm.item("dl.interactive")
    assert [lv.label for lv in item.levels] == ["Not yet", "Somewhat", "Mostly", "Yes"]
    assert item.levels[0].text == "Students do not talk with each other about the content."
    assert item.source.startswith("DESE Kaleidoscope") and item.source_url.startswith("https://doe.mass.edu/")
    assert item.info_name == "What each level looks like: Students learn with each other" and item.has_details
    assert item.short_visit_text.startswith("Can usually be seen")
    presence = vm.item("dl.quality-criteria")
    assert [lv.label for lv in presence.levels] == ["Seen"]


def test_a_k2_visit_shows_no_3_12_lookfor_and_says_why_and_an_unset_grade_shows_them_all(service):
    vm = _visit(service, "ipg-ela", ["ipge.ca3.language-skills"])
    assert len(vm.visible_lookfors()) == 14 and vm.empty_text == ""  # no grade chosen yet: every look-for
    vm.tap("ipge.ca2.evidence", "3")
    vm.choose_grade("2")
    assert vm.visible_lookfors() == [] and vm.sections() == []
    assert vm.empty_text.startswith("None of this rubric's look-fors is meant for grade 2")
    assert vm.progress_text == "0 of 0 look-fors rated (1 more kept for another subject or grade)"
    vm.choose_grade("3")
    assert len(vm.visible_lookfors()) == 14 and vm.rated_count == 1 and vm.empty_text == ""
    assert vm.item("ipge.ca2.evidence").visible


def test_a_rubric_without_details_shows_no_info_control(service):
    school = service.add_school("Lincoln Elementary")
    walk = service.create_walk(school_id=school.id, rubric_id="deeper-learning", rubric_version=1,
                               focus=["dl.interactive"])
    item = CaptureVM(service, WalkVM(service, walk.id).new_visit()).item("dl.interactive")
    assert item.levels == [] and item.source == "" and not item.has_details and item.short_visit_text == ""
