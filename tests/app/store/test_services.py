"""CaptureService behaviour on a real SQLite file: validation, numbering, taps, notes, undo, ownership, outbox."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from app.store.models import EvidenceNote, Meta, Rating, Visit, Walk
from app.store.services import ServiceError
from tests.support.storetest import connect, count, make_service, outbox


# ---- walks -------------------------------------------------------------------------------------------

def test_create_walk_stores_the_walk_with_its_focus_and_phase(svc, school, data_dir):
    walk = svc.create_walk(school_id=school.id, rubric_id="test-walk", rubric_version=1,
                           focus=["t.talk", "t.explain", "t.objective"], walk_date=date(2026, 9, 14),
                           team=[" Principal ", ""], cycle_label=" Fall ", phase="six-week")
    stored = svc.walk(walk.id)
    assert stored.focus == ["t.talk", "t.explain", "t.objective"]
    assert (stored.walk_date, stored.phase, stored.team, stored.cycle_label) == \
        (date(2026, 9, 14), "six-week", ["Principal"], "Fall")


@pytest.mark.parametrize("focus, words", [
    ([], "1 to 3"),
    (["t.talk", "t.explain", "t.objective", "t.math"], "1 to 3"),
    (["t.talk", "t.talk"], "once"),
    (["t.nope"], "t.nope is not in test-walk@1"),
    ("t.talk", "list"),
])
def test_create_walk_refuses_bad_focus_and_saves_nothing(svc, school, data_dir, focus, words):
    with pytest.raises(ServiceError, match=words):
        svc.create_walk(school_id=school.id, rubric_id="test-walk", rubric_version=1, focus=focus)
    assert count(data_dir, "walk") == 0 and count(data_dir, "outbox") == 0


@pytest.mark.parametrize("kwargs, words", [
    ({"phase": "midyear"}, "Phase 'midyear' is not one of baseline"),
    ({"school_id": "s-unknown"}, "School s-unknown is not known"),
    ({"rubric_id": "nope"}, "Rubric nope@1 is not installed"),
    ({"walk_date": "14/09/2026"}, "use YYYY-MM-DD"),
])
def test_create_walk_refuses_bad_fields_and_saves_nothing(svc, school, data_dir, kwargs, words):
    args = dict(school_id=school.id, rubric_id="test-walk", rubric_version=1, focus=["t.talk"]) | kwargs
    with pytest.raises(ServiceError, match=words):
        svc.create_walk(**args)
    assert count(data_dir, "walk") == 0 and count(data_dir, "outbox") == 0


def test_update_walk_validates_the_result_and_an_unchanged_update_records_nothing(svc, walk, data_dir):
    before = len(outbox(data_dir))
    with pytest.raises(ServiceError, match="1 to 3"):
        svc.update_walk(walk.id, focus=[])
    assert svc.walk(walk.id).focus == ["t.talk", "t.explain"]
    svc.update_walk(walk.id, phase="baseline")
    assert len(outbox(data_dir)) == before
    svc.update_walk(walk.id, phase="end-of-cycle", walk_date="2026-12-01")
    assert svc.walk(walk.id).phase == "end-of-cycle" and len(outbox(data_dir)) == before + 1


def test_deleting_a_walk_is_a_tombstone_that_restore_lifts(svc, walk, data_dir):
    svc.delete_walk(walk.id)
    assert svc.walks() == [] and count(data_dir, "walk", "deleted = 1") == 1
    svc.delete_walk(walk.id)  # already deleted: nothing new to sync
    svc.restore_walk(walk.id)
    assert [w.id for w in svc.walks()] == [walk.id]
    kinds = [(e["kind"], e["data"]["deleted"]) for e in outbox(data_dir)]
    assert kinds == [("walk", False), ("walk", True), ("walk", False)]


# ---- visits ------------------------------------------------------------------------------------------

def test_visit_numbers_count_up_and_are_never_reused_after_a_delete(svc, walk):
    v1, v2, v3 = (svc.start_visit(walk.id) for _ in range(3))
    svc.delete_visit(v3.id)
    v4 = svc.start_visit(walk.id)
    assert [v1.visit_no, v2.visit_no, v3.visit_no, v4.visit_no] == [1, 2, 3, 4]
    assert [v.visit_no for v in svc.visits(walk.id)] == [1, 2, 4]


def test_visit_numbers_are_per_walk(svc, school, walk):
    other = svc.create_walk(school_id=school.id, rubric_id="test-walk", rubric_version=1, focus=["t.talk"])
    svc.start_visit(walk.id)
    assert svc.start_visit(other.id).visit_no == 1


@pytest.mark.parametrize("kwargs, words", [
    ({"grade": "13"}, "Grade '13'"),
    ({"subject": "Recess"}, "Subject 'Recess'"),
    ({"class_type": "honors"}, "Class type 'honors'"),
    ({"student_count": 500}, "0 to 200"),
    ({"student_count": "many"}, "0 to 200"),
])
def test_start_visit_refuses_bad_fields_and_saves_nothing(svc, walk, data_dir, kwargs, words):
    before = len(outbox(data_dir))
    with pytest.raises(ServiceError, match=words):
        svc.start_visit(walk.id, **kwargs)
    assert count(data_dir, "visit") == 0 and len(outbox(data_dir)) == before


def test_a_visit_cannot_start_on_a_deleted_walk(svc, walk):
    svc.delete_walk(walk.id)
    with pytest.raises(ServiceError, match="does not exist"):
        svc.start_visit(walk.id)


def test_finish_and_reopen_set_and_clear_the_end_time(svc, visit):
    assert svc.finish_visit(visit.id).ended_at is not None
    assert svc.visit(visit.id).ended_at is not None
    svc.reopen_visit(visit.id)
    assert svc.visit(visit.id).ended_at is None


def test_delete_and_restore_a_visit_keeps_its_ratings(svc, visit, data_dir):
    svc.rate(visit.id, "t.talk", "most")
    svc.delete_visit(visit.id)
    assert svc.visits(visit.walk_id) == []
    with pytest.raises(ServiceError, match="does not exist"):
        svc.rate(visit.id, "t.talk", "all")
    svc.restore_visit(visit.id)
    assert svc.ratings(visit.id)["t.talk"].value == "most"
    assert [e["data"]["deleted"] for e in outbox(data_dir) if e["kind"] == "visit"] == [False, True, False]


def _make_foreign(svc, visit_id: str) -> None:
    with Session(svc.engine) as s:  # a visit pulled from another observer's device
        v = s.get(Visit, visit_id)
        v.observer_id = "someone-else"
        s.add(v)
        s.add(Meta(key="user_id", value="me"))
        s.commit()
    svc.forget_identity()


@pytest.mark.parametrize("action", [
    lambda svc, v: svc.rate(v, "t.talk", "some"),
    lambda svc, v: svc.tap(v, "t.talk", None),
    lambda svc, v: svc.clear_rating(v, "t.talk"),
    lambda svc, v: svc.add_note(v, "text"),
    lambda svc, v: svc.set_note(v, None, "text"),
    lambda svc, v: svc.finish_visit(v),
    lambda svc, v: svc.update_visit(v, grade="5"),
    lambda svc, v: svc.delete_visit(v),
])
def test_someone_elses_visit_cannot_be_changed(svc, visit, data_dir, action):
    _make_foreign(svc, visit.id)
    before = outbox(data_dir)
    with pytest.raises(ServiceError, match="another observer"):
        action(svc, visit.id)
    assert outbox(data_dir) == before


def test_the_unfinished_visit_resumes_after_the_store_is_reopened(svc, walk, data_dir):
    done = svc.start_visit(walk.id, grade="K")
    svc.finish_visit(done.id)
    open_one = svc.start_visit(walk.id, grade="2", subject="ELA")
    svc.rate(open_one.id, "t.talk", "some")
    svc.engine.dispose()

    again = make_service(data_dir)
    try:
        resumed = again.unfinished_visit()
        assert resumed is not None and resumed.id == open_one.id and resumed.visit_no == 2
        assert again.ratings(resumed.id)["t.talk"].value == "some"
        again.finish_visit(resumed.id)
        assert again.unfinished_visit() is None
    finally:
        again.engine.dispose()


def test_a_visit_of_a_deleted_walk_is_not_offered_for_resuming(svc, visit):
    svc.delete_walk(visit.walk_id)
    assert svc.unfinished_visit() is None


# ---- ratings -----------------------------------------------------------------------------------------

def test_a_tap_rates_and_a_second_tap_on_the_chosen_value_clears(svc, visit):
    assert svc.tap(visit.id, "t.talk", "some").value == "some"
    cleared = svc.tap(visit.id, "t.talk", "some")
    assert cleared.deleted and cleared.value is None
    assert "t.talk" not in svc.ratings(visit.id)


def test_a_tap_on_another_value_changes_the_rating(svc, visit):
    svc.tap(visit.id, "t.talk", "some")
    svc.tap(visit.id, "t.talk", "all")
    assert svc.ratings(visit.id)["t.talk"].value == "all"


def test_not_observed_is_its_own_choice_and_toggles_too(svc, visit):
    svc.tap(visit.id, "t.talk", "some")
    cell = svc.tap(visit.id, "t.talk", None)
    assert cell.not_observed and cell.value is None
    assert svc.tap(visit.id, "t.talk", None).deleted
    assert svc.ratings(visit.id) == {}


def test_not_observed_is_refused_where_the_scale_disallows_it(svc, visit, data_dir):
    before = len(outbox(data_dir))
    with pytest.raises(ServiceError, match="must be rated"):
        svc.mark_not_observed(visit.id, "t.objective")
    with pytest.raises(ServiceError, match="must be rated"):
        svc.tap(visit.id, "t.objective", None)
    assert len(outbox(data_dir)) == before and count(data_dir, "rating") == 0


@pytest.mark.parametrize("lookfor, value, words", [
    ("t.talk", "great", "'great' is not on the scale of t.talk; choose one of none, some, most, all"),
    ("t.unknown", "some", "Look-for t.unknown is not in test-walk@1"),
])
def test_rate_refuses_values_and_lookfors_the_rubric_does_not_have(svc, visit, data_dir, lookfor, value, words):
    with pytest.raises(ServiceError, match=words):
        svc.rate(visit.id, lookfor, value)
    assert count(data_dir, "rating") == 0


def test_a_subject_lookfor_is_rated_only_in_its_subject(svc, walk, visit):
    svc.rate(visit.id, "t.math", "most")  # visit fixture is a Math visit
    ela = svc.start_visit(walk.id, subject="ELA")
    with pytest.raises(ServiceError, match="only rated in Math visits"):
        svc.rate(ela.id, "t.math", "most")


def test_clear_makes_a_tombstone_and_clearing_nothing_records_nothing(svc, visit, data_dir):
    svc.clear_rating(visit.id, "t.explain")
    assert count(data_dir, "rating") == 0 and len(outbox(data_dir)) == 2  # the walk and the visit only
    svc.rate(visit.id, "t.explain", "some")
    svc.clear_rating(visit.id, "t.explain")
    svc.clear_rating(visit.id, "t.explain")
    assert count(data_dir, "rating", "deleted = 1") == 1
    assert [e["data"]["deleted"] for e in outbox(data_dir) if e["kind"] == "rating"] == [False, True]


def test_rated_counts_count_live_cells_per_visit(svc, walk, visit):
    svc.rate(visit.id, "t.talk", "some")
    svc.mark_not_observed(visit.id, "t.explain")
    svc.rate(visit.id, "t.objective", "seen")
    svc.clear_rating(visit.id, "t.objective")
    assert svc.rated_counts(walk.id) == {visit.id: 2}


# ---- notes -------------------------------------------------------------------------------------------

def test_set_note_creates_replaces_and_deletes_when_emptied(svc, visit, data_dir):
    first = svc.set_note(visit.id, "t.talk", "  Students explained their strategy to a partner ")
    assert first.text == "Students explained their strategy to a partner"
    second = svc.set_note(visit.id, "t.talk", "Pairs compared strategies")
    assert second.id == first.id and [n.text for n in svc.notes(visit.id)] == ["Pairs compared strategies"]
    svc.set_note(visit.id, "t.talk", "Pairs compared strategies")  # unchanged: no entry
    assert svc.set_note(visit.id, "t.talk", "   ").deleted
    assert svc.notes(visit.id) == []
    assert svc.set_note(visit.id, "t.talk", "") is None  # nothing to delete
    assert [e["data"]["text"] for e in outbox(data_dir) if e["kind"] == "note"] == \
        ["Students explained their strategy to a partner", "Pairs compared strategies", ""]


def test_a_visit_note_and_a_lookfor_note_are_separate(svc, visit):
    svc.set_note(visit.id, None, "Whole class on the rug")
    svc.set_note(visit.id, "t.talk", "Turn and talk")
    assert sorted((n.lookfor_id or "", n.text) for n in svc.notes(visit.id)) == \
        [("", "Whole class on the rug"), ("t.talk", "Turn and talk")]


def test_notes_refuse_empty_text_and_unknown_lookfors(svc, visit, data_dir):
    with pytest.raises(ServiceError, match="needs some text"):
        svc.add_note(visit.id, "  ")
    with pytest.raises(ServiceError, match="t.nope is not in"):
        svc.add_note(visit.id, "x", "t.nope")
    with pytest.raises(ServiceError, match="t.nope is not in"):
        svc.set_note(visit.id, "t.nope", "x")
    assert count(data_dir, "evidence_note") == 0


@pytest.mark.parametrize("save", [
    lambda svc, v, text: svc.add_note(v.id, text, "t.talk"),
    lambda svc, v, text: svc.set_note(v.id, "t.talk", text),
    lambda svc, v, text: svc.update_visit(v.id, note=text),
], ids=["add_note", "set_note", "visit note"])
def test_a_note_over_its_limit_is_refused_with_the_limit_and_the_count_never_cut_short(svc, visit, data_dir, save):
    from sync.protocol.rules import NOTE_MAX

    entries = len(outbox(data_dir))
    save(svc, visit, "x" * NOTE_MAX)  # at the limit: kept whole
    with pytest.raises(ServiceError, match=f"can be at most {NOTE_MAX} characters and has {NOTE_MAX + 1}; "
                                           r"shorten it \(nothing was saved\)\."):
        save(svc, visit, "y" * (NOTE_MAX + 1))
    kept = [n.text for n in svc.notes(visit.id)] + [svc.visit(visit.id).note]
    assert "x" * NOTE_MAX in kept and not any(t.startswith("y") for t in kept)
    assert len(outbox(data_dir)) == entries + 1


@pytest.mark.parametrize("save", [
    lambda svc, v: svc.add_note(v.id, "turn\x00and talk"),
    lambda svc, v: svc.set_note(v.id, None, "turn\x00and talk"),
    lambda svc, v: svc.update_visit(v.id, note="turn\x00and talk"),
    lambda svc, v: svc.update_visit(v.id, calibration_code="c\x00"),
    lambda svc, v: svc.update_walk(v.walk_id, cycle_label="Fall\x00"),
    lambda svc, v: svc.update_walk(v.walk_id, team=["Principal\x00"]),
], ids=["add_note", "set_note", "visit note", "calibration code", "cycle label", "team"])
def test_text_with_a_nul_character_is_refused_in_words_and_nothing_is_saved(svc, visit, data_dir, save):
    entries = len(outbox(data_dir))
    with pytest.raises(ServiceError, match="holds a NUL character, which cannot be saved; remove it."):
        save(svc, visit)
    assert len(outbox(data_dir)) == entries and count(data_dir, "evidence_note") == 0


@pytest.mark.parametrize("walk_date, words", [
    (date(1999, 12, 31), "walk_date 1999-12-31 is before 2000-01-01; pick the walk's real date."),
    ("0999-01-01", "walk_date 0999-01-01 is before 2000-01-01"),
    (date(9999, 12, 31), "walk_date 9999-12-31 is more than a year ahead"),
])
def test_a_walk_date_outside_the_window_the_server_accepts_is_refused(svc, school, walk, data_dir, walk_date, words):
    entries = len(outbox(data_dir))
    with pytest.raises(ServiceError, match=f"^This cannot be saved: {words}"):
        svc.create_walk(school_id=school.id, rubric_id="test-walk", rubric_version=1, focus=["t.talk"],
                        walk_date=walk_date)
    with pytest.raises(ServiceError, match=words):
        svc.update_walk(walk.id, walk_date=walk_date)
    assert len(outbox(data_dir)) == entries
    svc.update_walk(walk.id, walk_date=date(2000, 1, 1))  # the window's first day is inside it


def test_a_device_clock_before_the_window_refuses_every_change_in_words(svc, walk, data_dir, monkeypatch):
    from datetime import datetime, timezone

    import app.store.services as services

    entries = len(outbox(data_dir))
    monkeypatch.setattr(services, "utcnow", lambda: datetime(1970, 1, 1, tzinfo=timezone.utc))  # a reset clock
    with pytest.raises(ServiceError, match=r"^The device's clock says 1970-01-01, before 2000-01-01; set the date "
                                           r"and time in the device's settings, then try again \(nothing was saved\)"):
        svc.start_visit(walk.id)
    assert len(outbox(data_dir)) == entries and count(data_dir, "visit") == 0


def test_delete_note_leaves_a_tombstone(svc, visit, data_dir):
    note = svc.add_note(visit.id, "Anchor chart referenced", "t.explain")
    svc.delete_note(note.id)
    assert svc.notes(visit.id) == [] and count(data_dir, "evidence_note", "deleted = 1") == 1
    with pytest.raises(ServiceError, match="does not exist"):
        svc.delete_note(note.id)


# ---- the outbox --------------------------------------------------------------------------------------

_TABLE = {"walk": Walk, "visit": Visit, "rating": Rating, "note": EvidenceNote}


def test_every_change_appends_exactly_one_outbox_entry_equal_to_the_record(svc, school, data_dir):
    steps = []

    def did(result):
        steps.append(result)
        return result

    walk = did(svc.create_walk(school_id=school.id, rubric_id="test-walk", rubric_version=1, focus=["t.talk"]))
    v1 = did(svc.start_visit(walk.id, grade="3", subject="Math"))
    did(svc.tap(v1.id, "t.talk", "some"))
    did(svc.tap(v1.id, "t.talk", "some"))
    did(svc.mark_not_observed(v1.id, "t.explain"))
    did(svc.rate(v1.id, "t.math", "all"))
    did(svc.set_note(v1.id, "t.talk", "Partners explained"))
    did(svc.add_note(v1.id, "Exit ticket"))
    did(svc.update_visit(v1.id, class_type="inclusion", student_count=22))
    did(svc.finish_visit(v1.id))
    v2 = did(svc.start_visit(walk.id))
    svc.delete_visit(v2.id)
    steps.append(svc.visit(v1.id))  # stand-in so the count matches: delete returns nothing
    v3 = did(svc.start_visit(walk.id))

    entries = outbox(data_dir)
    assert len(entries) == len(steps) == 13
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(set(seqs))

    with Session(svc.engine) as s:  # the newest entry of each record equals the record as stored now
        newest = {}
        for e in entries:
            newest[(e["kind"], e["record_id"])] = e
        for (kind, record_id), e in newest.items():
            key = (e["data"]["visit_id"], e["data"]["lookfor_id"]) if kind == "rating" else record_id  # its table key
            row = s.get(_TABLE[kind], key)
            assert e["data"] == row.model_dump(mode="json"), (kind, record_id)
            assert e["walk_id"] == walk.id
    assert v3.visit_no == 3


def test_outbox_seq_is_never_reused_after_entries_are_deleted(svc, visit, data_dir):
    svc.rate(visit.id, "t.talk", "some")
    high = outbox(data_dir)[-1]["seq"]
    with connect(data_dir) as con:  # what a successful push does
        con.execute("DELETE FROM outbox")
    svc.rate(visit.id, "t.talk", "most")
    assert outbox(data_dir)[0]["seq"] == high + 1
