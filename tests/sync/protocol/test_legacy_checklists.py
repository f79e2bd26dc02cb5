"""The rule both stores' migrations apply to visits recorded before "Not seen" was a value."""
from __future__ import annotations

from rubrics import parse_rubric
from sync.protocol.legacy_checklists import answered_at, not_seen_lookfors
from tests.support.legacy_checklists import EXPECTED, RUBRIC_YAML, VISITS


def test_each_shown_checklist_without_an_answer_in_a_visit_with_one_gets_not_seen_at_its_last_answer():
    rubric = parse_rubric(RUBRIC_YAML)
    for vid, (subject, grade, cells) in VISITS.items():
        assert (not_seen_lookfors(rubric, subject, grade, cells), answered_at(cells)) == EXPECTED[vid], vid


def test_an_empty_subject_or_grade_is_not_recorded():
    rubric = parse_rubric(RUBRIC_YAML)
    cells = [("t.talk", "3", False, False, "t")]
    assert not_seen_lookfors(rubric, "", "", cells) == not_seen_lookfors(rubric, None, None, cells)
