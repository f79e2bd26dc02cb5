"""Rubric format 2's look-for details (descriptors per level, source, short_visit, grades): each broken fixture is
valid-details.yaml with one thing wrong, reported at its file:line with the fix; older files keep their hash."""
from __future__ import annotations

from pathlib import Path

import pytest

from rubrics import RubricInvalid, load_rubric, parse_rubric, validate_files

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rubrics"


def only_problem(name: str):
    problems = validate_files([FIXTURES / name])
    assert len(problems) == 1, "\n".join(map(str, problems))
    p = problems[0]
    return f"{Path(p.file).name}:{p.line}", p.message


def test_the_good_file_loads_every_detail():
    r = load_rubric(FIXTURES / "valid-details.yaml")
    lf = r.lookfor("fx.grade-level")
    assert lf.descriptors == {"1": "The task is well below the grade's standards.",
                              "2": "Parts of the task reach the grade's standards.",
                              "3": "Most of the task asks what the standards ask.",
                              "4": "The whole task asks what the standards ask."}
    assert lf.descriptor("3") == "Most of the task asks what the standards ask." and lf.descriptor(None) == ""
    assert (lf.source.document, lf.source.section, lf.source.url) == (
        "Instructional Practice Guide", "Core Action 1a", "https://example.org/ipg")
    assert lf.short_visit is False and r.lookfor("fx.pairs").short_visit is True
    assert lf.grades == "3-12" and r.lookfor("fx.pairs").grades is None
    assert r.lookfor("fx.pairs").source.url == "" and validate_files([FIXTURES / "valid-details.yaml"]) == []


@pytest.mark.parametrize("name,line,words", [
    ("bad-descriptor-level.yaml", 44, ["describes level `5`", "not on its scale (levels 1, 2, 3, 4)"]),
    ("missing-descriptor.yaml", 40, ["describes levels 1, 2, 3 but not 4", "describe every level"]),
    ("empty-descriptor.yaml", 42, ["empty descriptor for level `2`", "write what that level looks like"]),
    ("bad-source-url.yaml", 48, ["source url 'example.org/ipg'", "starting with https://"]),
    ("empty-source-document.yaml", 46, ["empty source `document`", "write the name of the document"]),
    ("unknown-source-key.yaml", 47, ["unknown key `sectoin` in the source of look-for `fx.grade-level`",
                                     "did you mean `section`?"]),
    ("bad-grades.yaml", 38, ["grades '12-3', which is not a grade range", "lowest first", "K-2"]),
    ("bad-short-visit.yaml", 39, ["`short_visit` of look-for `fx.grade-level` must be true or false"]),
])
def test_each_broken_detail_is_reported_at_its_line_with_the_fix(name, line, words):
    where, message = only_problem(name)
    assert where == f"{name}:{line}"
    for w in words:
        assert w in message, message


def test_grades_decide_which_visits_show_a_lookfor_and_an_unset_grade_shows_all():
    lf = load_rubric(FIXTURES / "valid-details.yaml").lookfor("fx.grade-level")  # grades 3-12
    assert not lf.applies_to("Math", "K") and not lf.applies_to("Math", "2") and not lf.applies_to(None, "PK")
    assert lf.applies_to("Math", "3") and lf.applies_to("ELA", "12") and lf.applies_to("Math", None)


@pytest.mark.parametrize("grades,ok", [("K-2", True), ("PK-2", True), ("k", True), (7, True), ("3-12", True),
                                       ("2-K", False), ("13", False), ("K-", False), ("", False)])
def test_grade_ranges(grades, ok):
    text = (FIXTURES / "valid-details.yaml").read_text().replace("grades: 3-12", f"grades: {grades!r}"
                                                                  if isinstance(grades, str) else f"grades: {grades}")
    if ok:
        parse_rubric(text)
    else:
        with pytest.raises(RubricInvalid, match="not a grade range"):
            parse_rubric(text)


def test_a_file_without_the_new_keys_keeps_the_content_hash_it_had():
    # hashes computed before the keys existed: servers and devices stored these, and compare them on publish
    assert load_rubric(FIXTURES / "valid-small.yaml").content_hash() == HASH_BEFORE


def test_any_new_detail_changes_the_content_hash():
    base = parse_rubric((FIXTURES / "valid-small.yaml").read_text())
    for extra in ("    short_visit: true\n", "    grades: K-2\n", "    source: {document: A guide}\n"):
        changed = parse_rubric((FIXTURES / "valid-small.yaml").read_text() + extra)
        assert changed.content_hash() != base.content_hash()


HASH_BEFORE = "bda70876118b6794dda6e719edd54be65b7020e33b1396d7a56248d51bf0979d"
