"""The tally definition's bases (sync.protocol.tally): a look-for limited by subject, by grade or by both.

A grade-limited look-for (rubric format 2 `grades`) is counted over the visits the capture screen shows it in:
visits of a grade in its range and visits with no grade recorded. Both faces of the rule, the Python one the
server's export uses and the SQL one the device's aggregate uses, are checked against each other here.
"""
from __future__ import annotations

from itertools import product

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

from rubrics import Rubric
from sync.protocol.tally import TallyRules


def rubric(rid: str, lookfors: list[dict]) -> Rubric:
    return Rubric.model_validate({
        "id": rid, "version": 1, "title": "Tally bases test rubric",
        "scales": [{"id": "yn", "evident_from": "yes", "levels": [{"value": "no", "label": "No"},
                                                                   {"value": "yes", "label": "Yes"}]}],
        "domains": [{"id": "d", "title": "Domain"}],
        "lookfors": [{"domain": "d", "text": f"Look-for {lf['id']}.", "label": lf["id"], "scale": "yn", **lf}
                     for lf in lookfors]})


MIXED = rubric("tally-mixed", [{"id": "all"}, {"id": "math", "subjects": ["Math"]}, {"id": "upper", "grades": "3-12"},
                               {"id": "upper-math", "subjects": ["Math"], "grades": "3-12"}])
SUBJECTS_ONLY = rubric("tally-subjects", [{"id": "all"}, {"id": "math", "subjects": ["Math"]}])
PLAIN = rubric("tally-plain", [{"id": "all"}])

GRADES = ("K", "4", None, "")
SUBJECTS = ("Math", "ELA", None)


def test_a_grade_limited_lookfor_applies_to_its_grades_and_to_visits_with_no_grade():
    rules = TallyRules.of(MIXED)
    assert [rules.rule("upper").applies_to(None, g) for g in GRADES] == [False, True, True, True]
    assert [rules.rule("all").applies_to(None, g) for g in GRADES] == [True] * 4
    # both limits: both must hold, each with its own "not recorded" rule
    both = rules.rule("upper-math")
    assert [both.applies_to(s, g) for s, g in (("Math", "4"), ("Math", "K"), ("ELA", "4"), (None, None))] == [
        True, False, False, True]


def test_the_same_limits_decide_what_capture_shows():
    rules = TallyRules.of(MIXED)
    for lf, s, g in product(MIXED.lookfors, SUBJECTS, ("K", "4", None)):
        assert rules.rule(lf.id).applies_to(s, g) == lf.applies_to(s, g), (lf.id, s, g)


def test_the_base_of_a_grade_limited_lookfor_leaves_out_the_visits_of_other_grades():
    # 10 counted visits: 4 of kindergarten, 5 of grade 4, 1 with no grade recorded
    kinds = {("ELA", "K"): 4, ("Math", "4"): 3, ("ELA", "4"): 2, (None, None): 1}
    rules = TallyRules.of(MIXED)
    assert {lf: rules.rule(lf).base(kinds) for lf in rules.lookfors} == {
        "all": 10, "math": 4, "upper": 6, "upper-math": 4}
    assert rules.outside_base("ELA", "K") == {"math", "upper", "upper-math"}
    assert rules.outside_base("Math", "4") == frozenset()
    assert rules.outside_base(None, "K") == {"upper", "upper-math"}
    assert rules.outside_base("ELA", None) == {"math", "upper-math"}


def test_only_a_rubric_with_a_grade_limited_lookfor_asks_for_grades():
    assert TallyRules.of(MIXED).by_grade
    assert not TallyRules.of(SUBJECTS_ONLY).by_grade and not TallyRules.of(PLAIN).by_grade
    assert not TallyRules.of(None).by_grade


def _ratings_table():
    md = MetaData()
    t = Table("r", md, Column("lookfor_id", String), Column("subject", String), Column("grade", String))
    engine = create_engine("sqlite://")
    md.create_all(engine)
    return engine, t


def test_the_sql_face_keeps_the_ratings_the_python_face_keeps():
    engine, t = _ratings_table()
    rules = TallyRules.of(MIXED)
    rows = [{"lookfor_id": lf, "subject": s, "grade": g}
            for lf, s, g in product([*rules.lookfors, "unknown"], ("Math", "ELA", None, ""), GRADES)]
    with engine.begin() as conn:
        conn.execute(insert(t), rows)
        kept = set(conn.execute(select(t.c.lookfor_id, t.c.subject, t.c.grade)
                                .where(rules.rating_in_base(t.c.lookfor_id, t.c.subject, t.c.grade))).all())
    assert kept == {(r["lookfor_id"], r["subject"], r["grade"]) for r in rows
                    if rules.rule(r["lookfor_id"]).applies_to(r["subject"], r["grade"])}
    assert ("upper", "Math", "K") not in kept and ("upper", "Math", None) in kept


def test_a_rubric_without_grade_limits_builds_the_condition_it_always_built():
    engine, t = _ratings_table()
    subjects_only = TallyRules.of(SUBJECTS_ONLY).rating_in_base(t.c.lookfor_id, t.c.subject)
    assert "grade" not in str(subjects_only.compile(engine))
    assert str(TallyRules.of(PLAIN).rating_in_base(t.c.lookfor_id, t.c.subject).compile(engine)) == "1"
    with pytest.raises(TypeError, match="grade column"):
        TallyRules.of(MIXED).rating_in_base(t.c.lookfor_id, t.c.subject)
