"""The capture flow through the view-models, on a real device store file: what each screen shows and does."""
from __future__ import annotations

from datetime import date

import pytest

from app.device import Device
from app.store.services import ServiceError
from app.viewmodels.capture import CaptureVM
from app.viewmodels.new_walk import NewWalkVM
from app.viewmodels.walk import WalkVM
from app.viewmodels.walks import WalksVM


def test_new_walk_on_an_empty_device_adds_a_school_by_name_and_starts_the_walk(service):
    vm = NewWalkVM(service, today=date(2026, 11, 25))
    assert vm.schools == [] and vm.date_text == "2026-11-25"
    vm.add_school("Lincoln Elementary")
    assert [c.label for c in vm.schools] == ["Lincoln Elementary"] and vm.school_id == vm.schools[0].value
    vm.choose_rubric("deeper-learning@2")
    vm.toggle_focus("dl.interactive")
    vm.toggle_focus("dl.affirming")
    vm.team_text = "Ms Rivera, Mr Chen"
    vm.phase = "six-week"
    walk = service.walk(vm.start())
    assert (walk.rubric_id, walk.focus, walk.team, walk.phase) == (
        "deeper-learning", ["dl.interactive", "dl.affirming"], ["Ms Rivera", "Mr Chen"], "six-week")
    rows = WalksVM(service).rows
    assert [(r.school, r.phase, r.visits) for r in rows] == [("Lincoln Elementary", "six-week", 0)]
    from app.store.pending import Pending
    assert rows[0].pending == Pending(visits=0, walks=1) and rows[0].summary.endswith("1 walk waiting to send")


def test_new_walk_refuses_bad_input_in_words_and_writes_nothing(service):
    vm = NewWalkVM(service)
    with pytest.raises(ServiceError, match="school"):
        vm.start()
    vm.add_school("Lincoln")
    vm.choose_rubric("deeper-learning@2")
    vm.date_text = "25/11/2026"
    vm.toggle_focus("dl.interactive")
    vm.toggle_focus("dl.relevant")
    with pytest.raises(ServiceError, match="YYYY-MM-DD"):
        vm.start()
    vm.date_text = "2026-11-25"
    vm.toggle_focus("dl.relevant")
    with pytest.raises(ServiceError, match="2 or 3 focus"):
        vm.start()
    for f in ("dl.relevant", "dl.engaged"):
        vm.toggle_focus(f)
    with pytest.raises(ServiceError, match="at most 3"):
        vm.toggle_focus("dl.creating")
    with pytest.raises(ServiceError, match="name"):
        vm.add_school("   ")
    assert service.walks() == [] and len(service.schools()) == 1


def test_changing_the_rubric_clears_the_chosen_focus_look_fors(service):
    vm = NewWalkVM(service)
    vm.choose_rubric("deeper-learning@2")
    vm.toggle_focus("dl.interactive")
    vm.choose_rubric("ipg-math@2")
    assert vm.focus == [] and all(c.value.startswith("ipg") or "." in c.value for c in vm.focus_choices)


def test_a_tap_saves_and_a_second_tap_on_the_chosen_value_clears_it(service, walk_id):
    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    item = vm.tap("dl.interactive", "3")
    assert item.value == "3" and item.is_chosen("3")
    assert service.ratings(vm.visit_id)["dl.interactive"].value == "3"
    assert vm.tap("dl.interactive", "4").value == "4"
    cleared = vm.tap("dl.interactive", "4")
    assert not cleared.rated and "dl.interactive" not in service.ratings(vm.visit_id)


def test_not_observed_is_its_own_choice_and_clears_on_a_second_tap(service, walk_id):
    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    vm.tap("dl.engaged", "2")
    item = vm.tap("dl.engaged", "na")
    assert item.not_observed and item.value is None and item.is_chosen(None)
    assert service.ratings(vm.visit_id)["dl.engaged"].not_observed
    assert not vm.tap("dl.engaged", "na").rated
    # a presence look-for has no "Not observed" on its scale, and says so
    assert not vm.item("dl.quality-criteria").not_observed_allowed
    with pytest.raises(ServiceError, match="Not observed"):
        vm.tap("dl.quality-criteria", "na")


def test_bad_values_are_refused_in_words_and_change_nothing(service, walk_id):
    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    with pytest.raises(ServiceError, match="not on the scale"):
        vm.tap("dl.engaged", "7")
    with pytest.raises(ServiceError, match="not in deeper-learning@1"):
        vm.tap("xx.nothing", "1")
    with pytest.raises(ServiceError, match="whole number"):
        vm.set_student_count("twenty")
    with pytest.raises(ServiceError, match="0 to 200"):
        vm.set_student_count("900")
    assert service.ratings(vm.visit_id) == {} and service.visit(vm.visit_id).student_count is None


def test_focus_look_fors_come_first_and_subject_specific_ones_show_only_for_their_subject(service, walk_id):
    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    first = vm.sections()[0]
    assert first.focus and [i.id for i in first.items] == ["dl.interactive", "dl.affirming"]
    assert all(i.focus for i in first.items)
    shown = lambda: [i.id for s in vm.sections() for i in s.items]  # noqa: E731
    assert shown().count("dl.interactive") == 1
    vm.choose_grade("4")
    vm.choose_subject("Math")
    assert "dl.math-problem" in shown() and "dl.ela-text" not in shown()
    vm.tap("dl.math-problem", "3")
    vm.choose_subject("ELA")
    assert "dl.ela-text" in shown() and "dl.math-problem" not in shown()
    # nothing shown is answered yet (a blank checklist is not rated either); the math rating is kept aside
    assert vm.rated_count == 0 and vm.hidden_rated_count == 1 and "another subject" in vm.progress_text
    assert len(shown()) == 16
    vm.choose_subject("ELA")  # a second tap clears the subject
    assert service.visit(vm.visit_id).subject is None and service.visit(vm.visit_id).grade == "4"


def test_notes_per_look_for_and_for_the_visit_are_saved_and_removed_when_emptied(service, walk_id):
    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    vm.set_note("dl.interactive", "Pairs explain their strategy")
    vm.set_note(None, "Quiet room, stations")
    notes = {n.lookfor_id: n.text for n in service.notes(vm.visit_id)}
    assert notes == {"dl.interactive": "Pairs explain their strategy", None: "Quiet room, stations"}
    vm.set_note("dl.interactive", "  ")
    assert {n.lookfor_id for n in service.notes(vm.visit_id)} == {None}
    again = CaptureVM(service, vm.visit_id)
    assert again.note(None) == "Quiet room, stations" and again.item("dl.interactive").note == ""


def test_finish_records_the_end_time_returns_to_the_walk_and_asks_for_a_sync(service, walk_id):
    asked = []
    walk = WalkVM(service, walk_id)
    vm = CaptureVM(service, walk.new_visit(), after_finish=lambda: asked.append(1))
    vm.tap("dl.interactive", "2")
    assert vm.finish() == walk_id and asked == [1]
    assert service.visit(vm.visit_id).ended_at is not None and vm.finished
    walk.refresh()
    # one rated; the two checklist look-fors left blank are not rated, as on the capture screen
    assert [(r.number, r.rated, r.finished) for r in walk.rows] == [(1, 1, True)]
    assert service.unfinished_visit() is None


def test_finishing_with_unrated_lookfors_asks_once_and_an_empty_visit_can_be_discarded(service, walk_id):
    walk = WalkVM(service, walk_id)
    vm = CaptureVM(service, walk.new_visit())
    assert vm.empty and vm.finish_question().startswith("Nothing is rated on this visit")
    vm.tap("dl.interactive", "3")
    vm.tap("dl.engaged", None)
    shown = len(vm.visible_lookfors())
    vm.tap("dl.quality-criteria", "not_seen")  # a checklist's "Not seen" is an answer; its blank is not
    # three answered; the other checklist look-for, left blank, is among the unrated
    assert vm.finish_question() == f"{shown - 3} look-fors not rated: finish anyway?"
    vm.finish()
    assert vm.finish_question() is None  # already finished: "Done" goes back without asking
    empty = CaptureVM(service, walk.new_visit())
    assert empty.discard() == walk_id
    assert [v.id for v in service.visits(walk_id)] == [vm.visit_id]


def test_an_unfinished_visit_resumes_where_it_was_after_a_restart(tmp_path, walk_id, service):
    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    vm.choose_grade("K")
    vm.tap("dl.engaged", "4")
    vm.tap("dl.relevant", "na")
    vm.set_note("dl.engaged", "All at tables")
    service.engine.dispose()
    # a new device core on the same file and service on the same file, as after the app was killed and started again
    reopened = Device.open(tmp_path / "device").capture
    walks = WalksVM(reopened)
    assert walks.resume is not None and walks.resume.visit_id == vm.visit_id
    assert walks.resume.label == "Visit 1 is not finished"
    back = CaptureVM(reopened, walks.resume.visit_id)
    assert back.visit.grade == "K" and back.item("dl.engaged").value == "4"
    assert back.item("dl.relevant").not_observed and back.item("dl.engaged").note == "All at tables"
    assert back.elapsed() >= 0 and not back.finished


def test_a_deleted_visit_disappears_and_undo_on_the_same_screen_restores_it(service, walk_id):
    walk = WalkVM(service, walk_id)
    first, second = walk.new_visit(), walk.new_visit()
    CaptureVM(service, second).tap("dl.engaged", "3")
    walk.refresh()
    assert walk.delete(second) == "Visit 2 deleted."
    assert [r.number for r in walk.rows] == [1] and walk.can_undo and walk.undo_label.endswith("visit 2")
    assert walk.undo() == "Visit 2 restored."
    # visit 2: one rated (its blank checklists are not rated); visit 1 has nothing rated
    assert [(r.number, r.rated) for r in walk.rows] == [(1, 0), (2, 1)] and not walk.can_undo
    with pytest.raises(ServiceError, match="nothing to undo"):
        walk.undo()
    walk.delete(first)
    assert WalkVM(service, walk_id).rows[0].number == 2  # a fresh screen has no undo for older deletes
    assert not WalkVM(service, walk_id).can_undo
    # numbers are never reused after a delete
    assert service.visit(walk.new_visit()).visit_no == 3


def test_timer_counts_from_the_visit_start(service, walk_id):
    from datetime import timedelta
    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    start = vm.visit.started_at
    assert vm.timer_text(now=start + timedelta(minutes=7, seconds=5)) == "07:05"


def test_a_teammates_visits_are_told_apart_by_observer_and_keep_unique_keys(service, walk_id):
    from sqlmodel import Session

    from app.store.models import Visit

    mine = service.start_visit(walk_id, grade="3", subject="Math")
    with Session(service.engine) as s:  # as a pull from the server would write a teammate's visit
        s.add(Visit(id="teammate-visit", walk_id=walk_id, visit_no=1, observer_id="zz-teammate"))
        s.commit()
    rows = {r.visit_id: r for r in WalkVM(service, walk_id).rows}
    assert rows[mine.id].title == "Visit 1" and rows[mine.id].mine
    assert rows["teammate-visit"].title == "Observer 2 · Visit 1" and not rows["teammate-visit"].mine
    assert rows[mine.id].key != rows["teammate-visit"].key


def test_the_walks_creator_adds_and_removes_teammates_by_their_learnwalk_id(service, walk_id):
    vm = WalkVM(service, walk_id)
    assert vm.can_change_team and vm.team == [] and "learnwalk id" in vm.team_help
    assert vm.add_to_team(" u-teammate ").startswith("Added to the team")
    assert vm.team == [("u-teammate", "u-teammate")] and service.walk(walk_id).team == ["u-teammate"]
    with pytest.raises(ServiceError, match="already on the team"):
        vm.add_to_team("u-teammate")
    with pytest.raises(ServiceError, match="learnwalk id"):
        vm.add_to_team("  ")
    assert vm.remove_from_team("u-teammate").startswith("Taken off the team")
    assert WalkVM(service, walk_id).team == []


def test_someone_elses_walk_offers_no_team_changes_to_an_observer(service, walk_id):
    from sqlmodel import Session

    from app.store.models import Walk

    with Session(service.engine) as s:  # as a pull from the server would write another lead's walk
        w = s.get(Walk, walk_id)
        w.created_by, w.team = "zz-creator", [service.user_id()]
        s.add(w)
        s.commit()
    vm = WalkVM(service, walk_id)
    assert not vm.can_change_team and vm.team == [(service.user_id(), "You")]


def test_a_checklist_lookfor_writes_not_seen_as_a_value_and_its_blank_is_not_rated(service, walk_id):
    from sync.protocol.tally import LookforRule
    from sync.protocol.vocabulary import NOT_SEEN_VALUE

    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    item = vm.item("dl.quality-criteria")
    assert item.checklist and [(c.value, c.label) for c in item.choices] == [("seen", "Seen"),
                                                                             (NOT_SEEN_VALUE, "Not seen")]
    assert item.chosen is None and not item.rated  # a blank is not rated, on a checklist as on every scale
    vm.tap("dl.interactive", "3")
    assert vm.rated_count == 1 and vm.next_unrated("dl.interactive") is not None
    assert vm.tap("dl.quality-criteria", NOT_SEEN_VALUE).chosen == NOT_SEEN_VALUE
    assert service.ratings(vm.visit_id)["dl.quality-criteria"].value == NOT_SEEN_VALUE  # stored as a value
    assert vm.rated_count == 2 and vm.item("dl.quality-criteria").rated
    assert vm.tap("dl.quality-criteria", "seen").chosen == "seen"
    assert service.ratings(vm.visit_id)["dl.quality-criteria"].value == "seen"
    assert vm.tap("dl.quality-criteria", "seen").chosen is None  # tapped again: cleared, back to not rated
    assert "dl.quality-criteria" not in service.ratings(vm.visit_id) and vm.rated_count == 1
    rule = LookforRule.of(vm.rubric, vm.rubric.lookfor("dl.quality-criteria"))
    assert rule.checklist and rule.count(1, {}, 0).share_base == 0  # the blank moves no share
    with pytest.raises(ServiceError):
        vm.tap("dl.interactive", NOT_SEEN_VALUE)  # not a level of a four-level scale
    assert item.choice_name("Not seen") == f"{item.label}: Not seen"


def test_next_unrated_goes_down_the_screen_skipping_answered_ones_and_wraps(service, walk_id):
    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    order = vm.shown_order()  # checklists too: a blank one is not rated
    assert vm.next_unrated() == order[0]
    vm.tap(order[1], "3")
    assert vm.next_unrated(order[0]) == order[2]  # the rated one is skipped
    assert vm.next_unrated(order[-1]) == order[0]  # past the last, back to the top
    for i in order:
        if i != order[1]:
            vm.tap(i, None if vm.item(i).not_observed_allowed else vm.item(i).choices[0].value)
    assert vm.next_unrated() is None and vm.unrated_count == 0


def test_notes_typed_are_saved_by_save_drafts_and_a_refused_one_changes_nothing(service, walk_id):
    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    vm.draft_note("dl.interactive", "Pairs explain")
    assert vm.has_drafts and service.notes(vm.visit_id) == []
    vm.save_drafts()
    assert not vm.has_drafts and [n.text for n in service.notes(vm.visit_id)] == ["Pairs explain"]
    vm.draft_note("dl.interactive", "x" * 100_000)
    with pytest.raises(ServiceError, match="at most"):
        vm.save_drafts()
    assert [n.text for n in service.notes(vm.visit_id)] == ["Pairs explain"] and not vm.has_drafts


def test_a_teammates_visit_opens_read_only_under_its_observers_name(service, walk_id):
    from sqlmodel import Session

    from app.store.models import Visit

    service.start_visit(walk_id)
    with Session(service.engine) as s:  # as a pull from the server would write a teammate's visit
        s.add(Visit(id="teammate-visit", walk_id=walk_id, visit_no=1, observer_id="zz-teammate"))
        s.commit()
    vm = CaptureVM(service, "teammate-visit")
    assert not vm.mine and vm.title == "Observer 2 · Visit 1"
    assert vm.read_only_text.startswith("Recorded by Observer 2")
    with pytest.raises(ServiceError, match="another observer"):
        vm.tap("dl.interactive", "3")


def test_what_waits_to_be_sent_is_counted_in_visits_and_walks_not_changes(service, walk_id):
    from app.store.pending import pending_work
    from app.viewmodels.status import pending_words

    vm = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    for lookfor_id in ("dl.interactive", "dl.engaged", "dl.relevant"):
        vm.tap(lookfor_id, "3")
    vm.set_note("dl.interactive", "Pairs explain")
    assert service.pending_count() > 5  # the outbox holds one entry per change
    assert pending_words(pending_work(service.engine)) == "1 visit and 1 walk waiting to send"
    [row] = WalksVM(service).rows
    assert row.summary.endswith("1 visit and 1 walk waiting to send")
