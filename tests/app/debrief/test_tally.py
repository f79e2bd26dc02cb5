"""Walk tallies against a hand-computed fixture.

The walk (tests/app/debrief/conftest.py hand_walk), counted visits only:
  #  obs  grade band subject  class type   talk  questions  math  target
  1  a    1     K-2  Math     general      3     yes        4     seen   (calibration pair P1 with b's visit)
  2  a    2     K-2  ELA      general      2     no         -     seen
  3  a    4     3-5  Math     inclusion    N/O   yes        2     not seen
  4  b    5     3-5  ELA      general      4     N/O        -     seen
  5  b    7     6-8  Math     special-ed   1     yes        3     - (blank: not rated)
  6  b    3     3-5  Science  general      3     yes        -     (cleared)
Not counted: b's calibration partner of visit 1, a deleted visit, another walk's visit.
Scales: talk and math 1-4 evident from 3; questions no/yes evident at yes; target a checklist
(authored with one level, Seen; "Not seen" is its derived lower level).
"""
from __future__ import annotations

import pytest
from sqlalchemy import event

from app.debrief import Filters, TallyError, walk_tally


def tally(store, walk, **kw):
    return walk_tally(store.engine, store.catalog, walk.id, **kw)


def numbers(t):
    c = t.cell
    return {"visits": c.visits, "rated": c.rated, "not_observed": c.not_observed, "counts": c.counts,
            "evident": c.evident, "evident_share": None if c.evident_share is None else round(c.evident_share, 4)}


def test_whole_walk_tallies_match_the_hand_computed_table(store, hand_walk):
    t = tally(store, hand_walk)
    assert t.visits == 6 and not t.suppressed and t.observers == 2
    assert numbers(t.get("t.talk")) == {"visits": 6, "rated": 5, "not_observed": 1,
                                        "counts": {"1": 1, "2": 1, "3": 2, "4": 1}, "evident": 3,
                                        "evident_share": 0.6}
    assert numbers(t.get("t.questions")) == {"visits": 6, "rated": 5, "not_observed": 1,
                                             "counts": {"no": 1, "yes": 4}, "evident": 4, "evident_share": 0.8}


def test_a_subject_limited_lookfor_counts_only_visits_of_its_subjects(store, hand_walk):
    assert numbers(tally(store, hand_walk).get("t.math")) == {
        "visits": 3, "rated": 3, "not_observed": 0, "counts": {"1": 0, "2": 1, "3": 1, "4": 1}, "evident": 2,
        "evident_share": 0.6667}


def test_a_checklist_counts_explicit_not_seen_and_a_blank_is_not_rated(store, hand_walk):
    t = tally(store, hand_walk).get("t.target")
    # visit 3 said "Not seen": counted; visit 5 left it blank and visit 6 cleared it: not rated, no share moves
    assert numbers(t) == {"visits": 6, "rated": 4, "not_observed": 0, "counts": {"not_seen": 1, "seen": 3},
                          "evident": 3, "evident_share": 0.75}
    assert t.cell.share("seen") == 0.75 and t.cell.share("not_seen") == 0.25 and t.cell.base == 4


def test_shares_exclude_not_observed_from_the_denominator(store, hand_walk):
    talk = tally(store, hand_walk).get("t.talk").cell
    assert talk.share("3") == pytest.approx(2 / 5)
    assert talk.share("1") == pytest.approx(1 / 5)


def test_focus_lookfors_come_first_then_the_others_by_domain(store, hand_walk):
    t = tally(store, hand_walk)
    assert [x.id for x in t.lookfors] == ["t.questions", "t.talk", "t.math", "t.target"]
    assert [(title, [x.id for x in rows]) for title, rows in t.sections()] == [
        ("Focus look-fors", ["t.questions"]), ("Student talk", ["t.talk"]), ("Tasks", ["t.math", "t.target"])]


def test_grade_band_filter_counts_only_that_band(store, hand_walk):
    t = tally(store, hand_walk, filters=Filters(grade_band="3-5"))
    assert t.visits == 3 and not t.suppressed
    assert numbers(t.get("t.talk")) == {"visits": 3, "rated": 2, "not_observed": 1,
                                        "counts": {"1": 0, "2": 0, "3": 1, "4": 1}, "evident": 2,
                                        "evident_share": 1.0}


def test_subject_and_observer_filters_narrow_the_visits(store, hand_walk):
    math = tally(store, hand_walk, filters=Filters(subject="Math"))
    assert numbers(math.get("t.talk"))["counts"] == {"1": 1, "2": 0, "3": 1, "4": 0}
    assert math.get("t.talk").cell.not_observed == 1
    first = tally(store, hand_walk, filters=Filters(observer=1))  # obs-a: visits 1-3
    assert first.visits == 3
    assert numbers(first.get("t.questions"))["counts"] == {"no": 1, "yes": 2}


def test_a_filter_with_fewer_than_three_visits_is_suppressed(store, hand_walk):
    t = tally(store, hand_walk, filters=Filters(grade_band="K-2"))
    assert t.suppressed and all(x.cell.suppressed for x in t.lookfors)
    data = t.to_json()
    assert data["visits"] is None and data["lookfors"][0]["counts"] is None


def test_a_filter_whose_rest_of_the_walk_is_a_small_cell_is_suppressed(store, hand_walk):
    # 4 general-class visits, but the other 2 could be read off by subtracting from the whole walk
    assert tally(store, hand_walk, filters=Filters(class_type="general")).suppressed


def test_grade_band_breakdown_suppresses_cells_under_three_visits(store, hand_walk):
    t = tally(store, hand_walk, by="grade_band")
    groups = {g.label: (g.visits, g.suppressed) for g in t.groups}
    assert groups == {"K-2": (2, True), "3-5": (3, False), "6-8": (1, True)}
    cell = t.group_cells["t.talk"]["3-5"]
    assert (cell.rated, cell.not_observed, cell.counts) == (2, 1, {"1": 0, "2": 0, "3": 1, "4": 1})
    assert t.group_cells["t.talk"]["K-2"].suppressed and t.group_cells["t.talk"]["K-2"].share("2") is None


def test_threshold_is_the_district_setting_and_one_small_cell_hides_the_next_smallest(store, hand_walk):
    store.set_meta("small_cell_threshold", "2")
    t = tally(store, hand_walk, by="subject")
    assert t.threshold == 2
    # Science (1 visit) is small; ELA (2) is hidden too, or Science = whole walk - Math - ELA
    assert {g.label: g.suppressed for g in t.groups} == {"Math": False, "ELA": True, "Science": True}
    ela = next(g for g in t.to_json()["groups"] if g["label"] == "ELA")
    assert ela["visits"] is None and ela["lookfors"][0]["counts"] is None


def test_a_malformed_threshold_setting_falls_back_to_three(store, hand_walk):
    store.set_meta("small_cell_threshold", "three")
    assert tally(store, hand_walk).threshold == 3


def test_observer_breakdown_labels_observers_by_number_never_by_id(store, hand_walk):
    t = tally(store, hand_walk, by="observer")
    assert [(g.label, g.visits) for g in t.groups] == [("Observer 1", 3), ("Observer 2", 3)]
    assert "obs-" not in str(t.to_json())


def test_tallies_take_a_fixed_number_of_queries_whatever_the_number_of_lookfors(store, hand_walk):
    statements = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        tally(store, hand_walk, by="grade_band")
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    aggregates = [s for s in statements if "GROUP BY" in s]
    assert len(aggregates) == 2 and any("FROM rating" in s for s in aggregates)
    # setting, walk, observers, visits, ratings, the visits not counted (open or empty)
    assert len([s for s in statements if s != "BEGIN"]) <= 6


def test_unknown_walk_and_bad_filters_say_what_to_fix(store, hand_walk):
    with pytest.raises(TallyError, match="Walk nope is not on this device"):
        tally(store, type(hand_walk)(id="nope", school_id="x", walk_date=hand_walk.walk_date, rubric_id="x",
                                     rubric_version=1))
    with pytest.raises(TallyError, match="Grade band '4-6' is not one of K-2, 3-5, 6-8, 9-12"):
        tally(store, hand_walk, filters=Filters(grade_band="4-6"))
    with pytest.raises(TallyError, match="Observer 3 is not on this walk; it has 2 observers"):
        tally(store, hand_walk, filters=Filters(observer=3))


def test_class_type_words_come_from_the_vocabulary_and_read_as_before():
    """Group heads ("Special education") and the filter line ("special education") take the vocabulary's label."""
    from app.debrief.tally import _group_label
    from sync.protocol.vocabulary import CLASS_TYPES

    assert [_group_label("class_type", c, []) for c in CLASS_TYPES] == [
        "General", "Inclusion", "Special education", "English learners"]
    assert [Filters(class_type=c).describe() for c in CLASS_TYPES] == [
        "general", "inclusion", "special education", "english learners"]
    assert Filters(grade_band="3-5", class_type="special-education").describe() == "grades 3-5, special education"
