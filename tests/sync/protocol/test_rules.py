"""The rule book (sync.protocol.rules): each rule refuses what it names with its reason, the compiled rubric rules
agree with the rubric they come from, and the set check of cells agrees with the check one by one."""
from __future__ import annotations

import itertools
import subprocess
import sys

import pytest

from rubrics import Domain, Level, LookFor, Rubric, Scale, builtin_rubrics
from sync.protocol import SUBJECTS
from sync.protocol.rules import REASONS, RuleBroken, check_note_text, check_visit, check_walk, rubric_rules

RUBRIC = Rubric(
    id="rules-test", version=1, title="Rules test",
    scales=[Scale(id="four", levels=[Level(value=v, label=v) for v in "1234"]),
            Scale(id="seen", levels=[Level(value="seen", label="Seen")], not_observed=False)],
    domains=[Domain(id="d", title="D")],
    lookfors=[LookFor(id="r.talk", domain="d", text="Talk", label="Talk", scale="four"),
              LookFor(id="r.posted", domain="d", text="Posted", label="Posted", scale="seen"),
              LookFor(id="r.math", domain="d", text="Strategies", label="Strategies", scale="four", subjects=["Math"]),
              LookFor(id="r.text", domain="d", text="Text", label="Text", scale="four", subjects=["ELA", "Science"])],
)
RULES = rubric_rules(RUBRIC)


def _broken(call, *args, **kwargs) -> RuleBroken | None:
    try:
        call(*args, **kwargs)
    except RuleBroken as broken:
        return broken
    return None


# ---- walks -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, rule, reason", [
    ({"phase": "midyear"}, "phase", "phase 'midyear' is not one of baseline, six-week, end-of-cycle, other"),
    ({"focus": "r.talk"}, "focus_form", "the focus look-fors must be a list of look-for ids"),
    ({"focus": [1]}, "focus_form", "the focus look-fors must be a list of look-for ids"),
    ({"focus": []}, "focus_count", "a walk has 1 to 3 focus look-fors, not 0"),
    ({"focus": ["r.talk", "r.posted", "r.math", "r.text", "r.talk"]}, "focus_count",
     "a walk has 1 to 3 focus look-fors, not 5"),
    ({"focus": ["r.talk", "r.nope"]}, "focus_unknown", "focus look-for r.nope is not in rules-test@1"),
    ({"focus": ["r.math", "r.math"]}, "focus_twice", "focus look-for r.math is chosen twice; each can be chosen once"),
    ({"cycle_label": "x" * 121}, "too_long", "the walk's cycle label is longer than 120 characters"),
])
def test_a_walk_breaking_a_rule_is_refused_with_its_reason(fields, rule, reason):
    args = {"phase": "baseline", "focus": ["r.talk"], "cycle_label": ""} | fields
    broken = _broken(check_walk, RULES, **args)
    assert broken is not None and (broken.rule, str(broken)) == (rule, reason)


@pytest.mark.parametrize("focus", [["r.talk"], ["r.talk", "r.math", "r.text"]])
def test_a_walk_with_one_to_three_distinct_focus_look_fors_passes(focus):
    assert _broken(check_walk, RULES, phase="six-week", focus=focus, cycle_label="x" * 120) is None


# ---- visits ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, rule, reason", [
    ({"visit_no": 0}, "visit_no", "visit number 0 is not a whole number from 1 up"),
    ({"visit_no": 2**31}, "visit_no", "visit number 2147483648 is not a whole number from 1 up"),
    ({"grade": "13"}, "grade", "grade '13' is not one of PK, K, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"),
    ({"subject": "Recess"}, "subject", "subject 'Recess' is not one of ELA, Math, Science, Social Studies, Other"),
    ({"class_type": "honors"}, "class_type",
     "class type 'honors' is not one of general, inclusion, special-education, english-learners"),
    ({"student_count": 201}, "student_count", "student count 201 is not a whole number from 0 to 200"),
    ({"student_count": -1}, "student_count", "student count -1 is not a whole number from 0 to 200"),
    ({"student_count": True}, "student_count", "student count 'True' is not a whole number from 0 to 200"),
    ({"student_count": "many"}, "student_count", "student count 'many' is not a whole number from 0 to 200"),
    ({"calibration_code": "c" * 41}, "too_long", "the visit's calibration code is longer than 40 characters"),
    ({"note": 7}, "not_text", "the visit's note must be text"),
])
def test_a_visit_breaking_a_rule_is_refused_with_its_reason(fields, rule, reason):
    broken = _broken(check_visit, **fields)
    assert broken is not None and (broken.rule, str(broken)) == (rule, reason)


def test_a_visit_with_facts_in_range_or_not_recorded_passes():
    assert _broken(check_visit) is None
    assert _broken(check_visit, visit_no=2**31 - 1, grade="PK", subject="Social Studies",
                   class_type="english-learners", student_count=200, calibration_code="c" * 40, note="") is None
    assert _broken(check_visit, visit_no=1, student_count=0) is None


# ---- ratings -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, subject, rule, reason", [
    (("r.nope", "1", False, False), None, "lookfor", "look-for r.nope is not in the walk's rubric rules-test@1"),
    (("r.nope", None, False, True), None, "lookfor", "look-for r.nope is not in the walk's rubric rules-test@1"),
    (("r.math", "3", False, False), "ELA", "not_applicable", "r.math is rated only in Math visits; this visit is ELA"),
    (("r.text", None, True, False), "Math", "not_applicable",
     "r.text is rated only in ELA, Science visits; this visit is Math"),
    (("r.talk", "5", False, False), None, "value", "'5' is not on the scale of r.talk"),
    (("r.talk", None, False, False), None, "value", "'None' is not on the scale of r.talk"),
    (("r.talk", ["1"], False, False), None, "value", "'['1']' is not on the scale of r.talk"),
    (("r.posted", None, True, False), None, "not_observed", "r.posted: 'not observed' cannot be recorded on its scale"),
    (("r.talk", "2", True, False), None, "not_observed_value",
     "r.talk: 'not observed' cannot be recorded with a value"),
])
def test_a_rating_breaking_a_rule_is_refused_with_its_reason(cell, subject, rule, reason):
    broken = RULES.cell_problem(*cell, subject)
    assert broken is not None and (broken.rule, str(broken)) == (rule, reason)
    assert _broken(RULES.check_cell, *cell, subject) is not None


def test_a_cleared_cell_only_has_to_name_a_look_for_of_the_rubric():
    # a rating kept from before a subject change can always be cleared
    assert RULES.cell_problem("r.math", None, False, True, "ELA") is None
    assert RULES.cell_problem("r.posted", "junk", True, True, None) is None


def test_a_subject_limited_look_for_is_rated_in_its_subjects_and_in_visits_without_a_subject():
    for subject in ("Math", None):
        assert RULES.cell_problem("r.math", "4", False, False, subject) is None
    assert RULES.cell_problem("r.text", None, True, False, "Science") is None


def _reference_triples(rubric: Rubric, subject: str | None) -> set:
    """The accepted live cells, read plainly off the rubric."""
    out = set()
    for lf in rubric.lookfors:
        if not lf.applies_to(subject):
            continue
        scale = rubric.scale_of(lf.id)
        out.update((lf.id, v, False) for v in scale.values())
        if scale.not_observed:
            out.add((lf.id, None, True))
    return out


@pytest.mark.parametrize("rubric", [RUBRIC, *dict(builtin_rubrics()).values()], ids=lambda r: r.key)
def test_the_compiled_triples_are_the_rubric_s_cells_per_subject(rubric):
    compiled = rubric_rules(rubric)
    for subject in (None, *SUBJECTS, "Unknown"):
        assert compiled.triples(subject) == _reference_triples(rubric, subject), subject
        if compiled.triples(subject) == compiled.triples(None):
            assert compiled.triples(subject) is compiled.triples(None)  # one set shared: one group in a push


@pytest.mark.parametrize("rubric", [RUBRIC, dict(builtin_rubrics())["deeper-learning@1"]], ids=lambda r: r.key)
def test_the_set_check_accepts_a_live_cell_exactly_when_the_check_one_by_one_does(rubric):
    compiled = rubric_rules(rubric)
    values = sorted({v for s in rubric.scales for v in s.values()}) + [None, "x"]
    lookfors = [lf.id for lf in rubric.lookfors] + ["nope"]
    for subject in (None, *SUBJECTS):
        triples = compiled.triples(subject)
        for lf, value, no in itertools.product(lookfors, values, (False, True)):
            one_by_one = compiled.cell_problem(lf, value, no, False, subject) is None
            assert ((lf, value, no) in triples) == one_by_one, (lf, value, no, subject)


def test_rubric_rules_are_compiled_once_per_rubric_object():
    assert rubric_rules(RUBRIC) is RULES
    twin = Rubric.model_validate(RUBRIC.model_dump())  # the same id@version, another object: compiled anew
    assert rubric_rules(twin) is not RULES and rubric_rules(twin) is rubric_rules(twin)


# ---- notes -------------------------------------------------------------------------------------------

def test_a_live_note_needs_text_and_names_a_look_for_of_the_rubric():
    assert str(_broken(check_note_text, "  ")) == "an evidence note needs some text"
    assert _broken(check_note_text, "", deleted=True) is None  # an emptied note is a tombstone
    assert _broken(check_note_text, "Pairs compare strategies") is None
    assert _broken(RULES.check_lookfor, "r.nope").rule == "lookfor"
    assert _broken(RULES.check_lookfor, "r.math") is None


# ---- the book itself ---------------------------------------------------------------------------------

def test_the_rule_book_imports_neither_the_app_nor_the_server():
    code = ("import sys, sync.protocol.rules; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'app' or m.startswith('sync.server')); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_reason_is_a_lowercase_clause_as_push_answers_give_them():
    for rule, template in REASONS.items():
        assert not template[0].isupper() and not template.endswith("."), rule


def test_a_checklists_not_seen_is_a_value_of_its_scale_and_of_no_other():
    from sync.protocol.vocabulary import NOT_SEEN_VALUE

    # the rubric model gives the one-level scale its "Not seen" level, so the push rules accept it as a value
    assert RULES.cell_problem("r.posted", NOT_SEEN_VALUE, False, False, None) is None
    assert RULES.cell_problem("r.posted", "seen", False, False, None) is None
    broken = RULES.cell_problem("r.talk", NOT_SEEN_VALUE, False, False, None)
    assert broken is not None and (broken.rule, str(broken)) == ("value", "'not_seen' is not on the scale of r.talk")
