"""The rubric loader: every problem is reported at its file:line with a fix, and the shipped rubrics are valid."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rubrics import (
    Rubric,
    RubricInvalid,
    RubricProblem,
    builtin_rubric_paths,
    builtin_rubrics,
    load_rubric,
    parse_rubric,
    validate_files,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rubrics"


def problems_of(name: str) -> list[RubricProblem]:
    return validate_files([FIXTURES / name])


def only_problem(name: str) -> RubricProblem:
    problems = problems_of(name)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def where(problem: RubricProblem) -> str:
    return f"{Path(problem.file).name}:{problem.line}"


# --- one broken fixture per kind of problem --------------------------------------------------------------------

def test_valid_fixture_loads_with_string_level_values():
    rubric = load_rubric(FIXTURES / "valid-small.yaml")
    assert rubric.key == "fixture-small@1"
    assert rubric.scale("four-level").values() == ["1", "2", "3", "4"]
    assert rubric.lookfor("fx.grade-level").subjects == ["Math", "ELA"]
    assert rubric.lookfor("fx.grade-level").equity is True
    assert problems_of("valid-small.yaml") == []


def test_unknown_scale_is_reported_at_its_line_with_the_known_scale_ids():
    p = only_problem("unknown-scale.yaml")
    assert where(p) == "unknown-scale.yaml:28"
    assert "`presense`" in p.message and "use one of: four-level, presence" in p.message


def test_duplicate_lookfor_id_names_the_line_of_the_first_one():
    p = only_problem("duplicate-lookfor-id.yaml")
    assert where(p) == "duplicate-lookfor-id.yaml:29"
    assert "first defined at line 24" in p.message and "give each look-for its own id" in p.message


def test_missing_text_is_reported_at_the_lookfor_and_says_what_to_add():
    p = only_problem("missing-text.yaml")
    assert where(p) == "missing-text.yaml:29"
    assert "`fx.grade-level` has no `text`" in p.message and "add `text:`" in p.message


def test_empty_label_is_refused():
    p = only_problem("empty-label.yaml")
    assert where(p) == "empty-label.yaml:27"
    assert "empty `label`" in p.message and "write the short text" in p.message


def test_domain_without_lookfors_is_reported_at_the_domain():
    p = only_problem("empty-domain.yaml")
    assert where(p) == "empty-domain.yaml:23"
    assert "`culture` has no look-fors" in p.message and "`domain: culture`, or remove the domain" in p.message


def test_bad_id_characters_are_reported_with_a_suggested_id():
    p = only_problem("bad-id-chars.yaml")
    assert where(p) == "bad-id-chars.yaml:24"
    assert "`FX Pairs`" in p.message and "lowercase letters" in p.message and "e.g. `fx-pairs`" in p.message


def test_yaml_syntax_error_is_reported_at_the_parser_line_with_a_quoting_hint():
    p = only_problem("yaml-syntax-error.yaml")
    assert where(p) == "yaml-syntax-error.yaml:26"
    assert p.message.startswith("YAML syntax error") and "must be in quotes" in p.message


def test_reusing_a_builtin_id_version_with_different_content_asks_for_the_next_version():
    p = only_problem("reused-version.yaml")
    assert where(p) == "reused-version.yaml:3"
    assert "reuses deeper-learning@1 with different content" in p.message
    assert "give it version 3" in p.message  # deeper-learning@2 is built in too


def test_unknown_key_suggests_the_nearest_allowed_key():
    p = only_problem("unknown-key.yaml")
    assert where(p) == "unknown-key.yaml:27"
    assert "unknown key `lable`" in p.message and "did you mean `label`?" in p.message


def test_evident_from_outside_the_scale_values_lists_the_values():
    p = only_problem("bad-evident-from.yaml")
    assert where(p) == "bad-evident-from.yaml:13"
    assert "evident_from `5`" in p.message and "(1, 2, 3, 4)" in p.message and "set it to" in p.message


def test_unknown_domain_lists_the_known_domains():
    problems = problems_of("unknown-domain.yaml")
    p = next(p for p in problems if "`task`" in p.message)
    assert where(p) == "unknown-domain.yaml:30"
    assert "use one of: talk, tasks" in p.message


def test_duplicate_scale_id_names_the_first_definition():
    p = only_problem("duplicate-scale-id.yaml")
    assert where(p) == "duplicate-scale-id.yaml:14"
    assert "first defined at line 6" in p.message


def test_duplicate_level_value_names_the_first_level():
    p = only_problem("duplicate-level-value.yaml")
    assert where(p) == "duplicate-level-value.yaml:11"
    assert "`3` twice (first at line 10)" in p.message and "give each level its own value" in p.message


def test_version_must_be_a_positive_whole_number():
    p = only_problem("bad-version.yaml")
    assert where(p) == "bad-version.yaml:3"
    assert "positive whole number" in p.message and "version: 1" in p.message


def test_every_problem_in_a_file_is_reported_not_just_the_first():
    assert [where(p) for p in problems_of("many-problems.yaml")] == [
        "many-problems.yaml:3", "many-problems.yaml:28", "many-problems.yaml:29", "many-problems.yaml:29"]


def test_every_message_says_what_is_wrong_and_how_to_fix_it():
    for path in FIXTURES.glob("*.yaml"):
        for p in validate_files([path]):
            what, _, fix = p.message.partition("; ")
            assert what and fix, str(p)


# --- the error objects -----------------------------------------------------------------------------------------

def test_problem_prints_as_file_colon_line_colon_message():
    assert str(RubricProblem("a.yaml", 7, "bad; fix it")) == "a.yaml:7: bad; fix it"


def test_rubric_invalid_lists_every_problem_one_per_line():
    with pytest.raises(RubricInvalid) as err:
        load_rubric(FIXTURES / "many-problems.yaml")
    lines = str(err.value).splitlines()
    assert len(lines) == len(err.value.problems) == 4
    assert all(line.startswith(str(FIXTURES / "many-problems.yaml") + ":") for line in lines)


def test_a_rubric_with_any_problem_is_never_returned():
    text = (FIXTURES / "unknown-key.yaml").read_text()
    with pytest.raises(RubricInvalid):
        parse_rubric(text)


def test_parse_rubric_names_the_source_it_is_given():
    with pytest.raises(RubricInvalid) as err:
        parse_rubric("id: x\n", source="server:x@1")
    assert all(p.file == "server:x@1" for p in err.value.problems)
    assert any("has no `version`" in p.message for p in err.value.problems)


def test_empty_text_and_a_top_level_list_are_refused_at_line_1():
    for text in ("", "- id: x\n"):
        with pytest.raises(RubricInvalid) as err:
            parse_rubric(text, source="t.yaml")
        assert [p.line for p in err.value.problems] == [1]


def test_duplicate_yaml_key_names_both_lines():
    text = (FIXTURES / "valid-small.yaml").read_text().replace("title: Fixture rubric\n",
                                                               "title: Fixture rubric\ntitle: Again\n")
    with pytest.raises(RubricInvalid) as err:
        parse_rubric(text, source="t.yaml")
    (p,) = err.value.problems
    assert p.line == 5 and "duplicate key" in p.message and "first at line 4" in p.message


def test_numeric_level_values_and_evident_from_are_read_as_strings():
    text = (FIXTURES / "valid-small.yaml").read_text().replace('value: "1"', "value: 1").replace(
        'evident_from: "3"', "evident_from: 3")
    scale = parse_rubric(text).scale("four-level")
    assert scale.values() == ["1", "2", "3", "4"] and scale.evident_values() == ["3", "4"]


def test_wrong_value_type_is_reported_at_its_line():
    text = (FIXTURES / "valid-small.yaml").read_text().replace("subjects: [Math, ELA]", "subjects: Math")
    with pytest.raises(RubricInvalid) as err:
        parse_rubric(text, source="t.yaml")
    (p,) = err.value.problems
    assert p.line == 34 and "must be a list" in p.message


# --- versions and content hashes -------------------------------------------------------------------------------

def test_identical_content_under_a_known_id_version_is_fine(tmp_path):
    copy = tmp_path / "copy.yaml"
    shutil.copy(builtin_rubric_paths()[0], copy)
    assert validate_files([copy]) == []


def test_a_later_file_reusing_an_earlier_files_id_version_is_flagged(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    text = (FIXTURES / "valid-small.yaml").read_text()
    first.write_text(text)
    second.write_text(text.replace("title: Fixture rubric", "title: Changed"))
    (p,) = validate_files([first, second])
    assert p.file == str(second) and p.line == 3
    assert "reuses fixture-small@1" in p.message and "give it version 2" in p.message


def test_known_rubrics_passed_in_are_checked_too(tmp_path):
    known = load_rubric(FIXTURES / "valid-small.yaml")
    bumped = known.model_copy(update={"version": 3})
    path = tmp_path / "x.yaml"
    path.write_text((FIXTURES / "valid-small.yaml").read_text().replace("title: Fixture rubric", "title: Other"))
    (p,) = validate_files([path], known={known.key: known, bumped.key: bumped})
    assert "give it version 4" in p.message


def test_content_hash_is_stable_and_changes_with_content():
    text = (FIXTURES / "valid-small.yaml").read_text()
    a, b = parse_rubric(text), parse_rubric("# a comment changes nothing\n" + text)
    c = parse_rubric(text.replace("Pair talk", "Pairs talking"))
    assert a.content_hash() == b.content_hash() != c.content_hash()


# --- the shipped rubrics ---------------------------------------------------------------------------------------

def test_every_shipped_rubric_validates():
    paths = builtin_rubric_paths()
    assert [p.name for p in paths] == ["deeper-learning.yaml", "ipg-ela.yaml", "ipg-math.yaml",
                                       "sample-district.yaml", "deeper-learning@1.yaml", "ipg-ela@1.yaml",
                                       "ipg-math@1.yaml", "sample-district@1.yaml"]
    assert validate_files(paths) == []


def test_builtin_rubrics_are_keyed_by_id_at_version():
    rubrics = builtin_rubrics()
    assert sorted(rubrics) == ["deeper-learning@1", "deeper-learning@2", "ipg-ela@1", "ipg-ela@2", "ipg-math@1",
                               "ipg-math@2", "sample-district@1", "sample-district@2"]
    assert all(isinstance(r, Rubric) and r.key == k for k, r in rubrics.items())
    rubrics.clear()
    assert builtin_rubrics(), "callers get a copy; the cache is unharmed"


def test_shipped_rubrics_cite_sources():
    for rubric in builtin_rubrics().values():
        assert rubric.source_notes and any("http" in note or "/" in note for note in rubric.source_notes)


@pytest.mark.parametrize("version", [1, 2])
def test_deeper_learning_follows_dese_framing_and_says_it_is_not_the_official_tool(version):
    r = builtin_rubrics()[f"deeper-learning@{version}"]
    assert 4 <= len(r.domains) <= 5 and 14 <= len(r.lookfors) <= 18
    assert "not the text of DESE's Classroom Observation Tool" in r.description
    assert "load the official tool's wording as its own rubric" in r.description
    assert sum(lf.equity for lf in r.lookfors) >= 2
    assert {"Math"} in [set(lf.subjects or []) for lf in r.lookfors]
    assert {"ELA"} in [set(lf.subjects or []) for lf in r.lookfors]
    four = r.scale("four-level")
    assert [lv.label for lv in four.levels] == ["Not yet", "Somewhat", "Mostly", "Yes"]
    assert four.evident_from == "3" and {lf.scale for lf in r.lookfors} == {"four-level", "presence"}
    for lid in ("dl.interactive", "dl.disciplinary-thinking", "dl.jit-scaffolding", "dl.hqim-as-designed"):
        r.lookfor(lid)
    assert r.lookfors_in("culture")


@pytest.mark.parametrize("key,prefix", [("ipg-math@1", "ipgm."), ("ipg-ela@1", "ipge."), ("ipg-math@2", "ipgm."),
                                        ("ipg-ela@2", "ipge.")])
def test_ipg_core_action_1_is_yes_no_and_core_actions_2_3_are_four_level_with_not_observed(key, prefix):
    r = builtin_rubrics()[key]
    assert {d.id for d in r.domains} == {"ca1", "ca2", "ca3", "culture"}
    assert all(lf.id.startswith(prefix) for lf in r.lookfors)
    for lf in r.lookfors:
        scale = r.scale(lf.scale)
        if lf.domain == "ca1":
            assert scale.values() == ["no", "yes"] and scale.not_observed is False
        else:
            assert scale.values() == ["1", "2", "3", "4"] and scale.not_observed is True
    assert r.lookfors_in("culture")


@pytest.mark.parametrize("version", [1, 2])
def test_sample_district_is_ten_presence_lookfors(version):
    r = builtin_rubrics()[f"sample-district@{version}"]
    assert len(r.lookfors) == 10 and {lf.scale for lf in r.lookfors} == {"presence"}
    assert r.lookfor("sd.target-posted").label == "Learning target posted"
    assert r.lookfor("sd.pair-group-talk").label == "Students talking in pairs/groups"


# --- the newest built-ins: whose words, where from, what each level looks like ---------------------------------

NEWEST = {"deeper-learning": 2, "ipg-ela": 2, "ipg-math": 2, "sample-district": 2}
# the hashes servers and devices stored for the first versions: those files never change
FIRST_HASHES = {"deeper-learning@1": "2b50ac7d3c186eb4772fc1f7c474137e231061b3c5a0e0807ef82c675f57d088",
                "ipg-ela@1": "4b19166fed00a26952021a2c9b54257eea595b144864eed16095242c968ac6f5",
                "ipg-math@1": "b7d5fb12d1454921e530b406e00cd982334b2b4a02c58e31595a0e12555b8f1c",
                "sample-district@1": "22a659f642d53eb7327aa1975a6ec489e60c692c14f8f72c453fb087c6c3e9f7"}


def test_the_first_versions_are_kept_unchanged():
    rubrics = builtin_rubrics()
    assert {k: rubrics[k].content_hash() for k in FIRST_HASHES} == FIRST_HASHES


@pytest.mark.parametrize("key", [f"{i}@{v}" for i, v in NEWEST.items()])
def test_every_newest_builtin_lookfor_has_a_source_and_a_descriptor_for_every_level(key):
    r = builtin_rubrics()[key]
    assert max(x.version for x in builtin_rubrics().values() if x.id == r.id) == r.version
    for lf in r.lookfors:
        assert lf.source is not None and lf.source.document.strip(), lf.id
        assert lf.short_visit is not None, lf.id
        values = [lv.value for lv in r.scale(lf.scale).authored_levels()]  # a checklist's "Not seen" is derived
        assert lf.descriptors is not None and sorted(lf.descriptors) == sorted(values), lf.id
        assert all(len(lf.descriptor(v)) >= 20 for v in values), lf.id
        # our own words: a descriptor never just repeats the look-for's sentence
        assert all(lf.descriptor(v) != lf.text for v in values), lf.id


def test_titles_say_whose_wording_it_is_and_dese_pages_are_cited():
    r = builtin_rubrics()
    assert r["deeper-learning@2"].title == "learnwalk Deeper Learning look-fors, based on DESE's public guidance"
    assert all(x.title.startswith("learnwalk") for k, x in r.items() if k.startswith("ipg-") and x.version == 2)
    dl = r["deeper-learning@2"]
    assert "learnwalk wrote the look-fors" in " ".join(dl.description.split())
    dese = [lf for lf in dl.lookfors if "doe.mass.edu" in lf.source.url]
    assert len(dese) >= 11 and all(lf.source.url.startswith("https://") for lf in dese)


def test_dese_four_student_questions_are_kept():
    dl = builtin_rubrics()["deeper-learning@2"]
    sections = " ".join(dl.lookfor(i).source.section for i in ("dl.what-and-why", "dl.quality-criteria",
                                                               "dl.help-strategies"))
    for question in ("what are you learning", "why", "how do you know if your work is good",
                     "what do you do if you need help"):
        assert question in sections


def test_ipg_ela_has_core_action_3f_and_every_lookfor_is_for_grades_3_to_12():
    r = builtin_rubrics()["ipg-ela@2"]
    ca3f = r.lookfor("ipge.ca3.language-skills")
    assert ca3f.domain == "ca3" and ca3f.source.section == "Core Action 3f"
    assert sorted(lf.source.section for lf in r.lookfors_in("ca3")) == [f"Core Action 3{c}" for c in "abcdef"]
    assert {lf.grades for lf in r.lookfors} == {"3-12"}
    assert not any(lf.applies_to("ELA", "2") for lf in r.lookfors) and all(lf.applies_to("ELA", "3")
                                                                           for lf in r.lookfors)
