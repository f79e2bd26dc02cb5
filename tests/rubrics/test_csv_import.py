"""The district CSV template: converted to rubric YAML, with every problem reported at its CSV row."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rubrics import (
    RubricInvalid,
    builtin_rubric_paths,
    builtin_rubrics,
    csv_to_yaml,
    load_rubric,
    parse_rubric,
    validate_files,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rubrics"
TEMPLATE = builtin_rubric_paths()[0].parent / "district-template.csv"


def csv_problems(text: str, source: str = "district.csv", **kw) -> list[str]:
    with pytest.raises(RubricInvalid) as err:
        csv_to_yaml(text, source, **kw)
    return [str(p) for p in err.value.problems]


def test_template_round_trips_to_the_sample_district_rubric():
    text = csv_to_yaml(TEMPLATE.read_text(encoding="utf-8"), str(TEMPLATE), rubric_id="district-walk",
                       title="District walk")
    imported = parse_rubric(text)
    sample = builtin_rubrics()["sample-district@2"]  # the newest: the template has the format-2 columns
    assert (imported.id, imported.version, imported.title) == ("district-walk", 1, "District walk")
    assert imported.scales == sample.scales
    assert imported.domains == sample.domains
    assert imported.lookfors == sample.lookfors


def test_id_and_title_default_to_the_file_name():
    rubric = parse_rubric(csv_to_yaml(TEMPLATE.read_text(), "/some/where/Springfield_Walk 2025.csv"))
    assert rubric.id == "springfield_walk-2025" and rubric.title == "Springfield walk 2025"
    assert rubric.key == "springfield_walk-2025@1"


def test_headers_are_matched_loosely_and_scale_names_have_aliases():
    rubric = parse_rubric(csv_to_yaml((FIXTURES / "mixed-scales.csv").read_text(), "mixed-scales.csv"))
    assert [(lf.id, lf.scale) for lf in rubric.lookfors] == [
        ("m.focus", "yes-no"), ("m.explain", "four-level"), ("m.talk", "presence")]
    assert rubric.lookfor("m.explain").subjects == ["Math", "Science"]
    assert rubric.lookfor("m.explain").equity and not rubric.lookfor("m.talk").equity
    assert rubric.lookfor("m.talk").subjects is None
    assert rubric.scale("yes-no").not_observed is False and rubric.scale("four-level").not_observed is True
    assert rubric.scale("four-level").evident_from == "3"


def test_broken_rows_are_all_reported_at_their_csv_lines():
    problems = csv_problems((FIXTURES / "bad-rows.csv").read_text(), "bad-rows.csv")
    assert [p.split(": ", 1)[0] for p in problems] == [
        "bad-rows.csv:3", "bad-rows.csv:5", "bad-rows.csv:6", "bad-rows.csv:6", "bad-rows.csv:6"]
    assert "unknown scale `sometimes`; use presence, yes-no or four-level" in problems[0]
    assert "no label; fill in" in problems[1]
    assert "first used at line 2" in problems[2]


def test_a_row_after_a_multi_line_cell_keeps_its_own_line_number():
    problems = csv_problems((FIXTURES / "bad-rows.csv").read_text(), "bad-rows.csv")
    assert problems[1].startswith("bad-rows.csv:5:"), "row 3 spans lines 3-4, so the next row starts at 5"


def test_bad_id_in_a_row_is_reported_with_a_suggestion():
    text = TEMPLATE.read_text().replace("sd.small-group", "Small Group!")
    (problem,) = csv_problems(text, "d.csv")
    assert problem.startswith("d.csv:7: lookfor_id `Small Group!`") and "e.g. `small-group`" in problem


def test_unknown_and_missing_columns_are_reported_on_the_header_line():
    text = TEMPLATE.read_text().replace("lookfor_id", "lookfor").replace(",label,", ",lable,")
    problems = csv_problems(text, "d.csv")
    assert all(p.startswith("d.csv:1:") for p in problems)
    assert any("unknown column `lable`; did you mean `label`?" in p for p in problems)
    assert any("lacks the column(s) lookfor_id, label" in p for p in problems)


def test_first_row_of_a_domain_needs_a_title_and_later_titles_must_agree():
    text = TEMPLATE.read_text().replace("instruction,Instruction,", "instruction,,").replace(
        "students,,sd.academic-vocabulary", "students,Engagement,sd.academic-vocabulary")
    problems = csv_problems(text, "d.csv")
    assert problems[0].startswith("d.csv:4:") and "has no domain_title" in problems[0]
    assert problems[1].startswith("d.csv:9:") and "use one title" in problems[1]


def test_an_invalid_rubric_id_is_reported_at_the_header_line():
    (problem,) = csv_problems(TEMPLATE.read_text(), "d.csv", rubric_id="Bad Id")
    assert problem.startswith("d.csv:1: rubric id `Bad Id`")


def test_an_id_taken_by_a_builtin_rubric_is_refused():
    (problem,) = csv_problems(TEMPLATE.read_text(), "d.csv", rubric_id="deeper-learning")
    assert problem.startswith("d.csv:1:") and "choose another rubric id" in problem


def test_empty_csv_and_header_only_csv_are_refused():
    assert csv_problems("")[0].startswith("district.csv:1: the file has no header row")
    assert "no look-for rows" in csv_problems("domain,domain_title,lookfor_id,text,label,scale\n")[0]


def test_a_row_with_extra_cells_asks_for_quotes():
    text = TEMPLATE.read_text() + ("students,,sd.extra,Students read, then write.,Read then write,presence,,no,,yes,"
                                   "A guide,,,Seen: students read, then write.,,,\n")
    (problem,) = csv_problems(text, "d.csv")
    assert problem.startswith("d.csv:12:") and "double quotes" in problem


def test_excel_byte_order_mark_and_blank_rows_are_ignored():
    text = "\ufeff" + TEMPLATE.read_text().replace("\n", "\n,,,,,,,\n", 1)
    rubric = parse_rubric(csv_to_yaml(text, "d.csv"))
    assert len(rubric.lookfors) == 10


def test_load_rubric_and_validate_files_accept_a_csv_file():
    assert load_rubric(TEMPLATE).key == "district-template@1"
    assert validate_files([TEMPLATE]) == []
    assert [p.line for p in validate_files([FIXTURES / "bad-rows.csv"])] == [3, 5, 6, 6, 6]


_CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1).map(
    str.strip).filter(bool)


@settings(max_examples=150, deadline=None)
@given(text=_CELL, label=_CELL, title=_CELL)
def test_any_text_label_and_title_survive_the_import_exactly(text, label, title):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["domain", "domain_title", "lookfor_id", "text", "label", "scale"])
    writer.writerow(["d", title, "d.one", text, label, "four-level"])
    rubric = parse_rubric(csv_to_yaml(buf.getvalue(), "h.csv", title=title))
    assert (rubric.lookfors[0].text, rubric.lookfors[0].label) == (text, label)
    assert rubric.title == rubric.domains[0].title == title


HEAD = ("domain,domain_title,lookfor_id,text,label,scale,grades,short_visit,source_document,source_section,"
        "source_url,descriptor_1,descriptor_2\n")


def test_format_2_columns_become_grades_short_visit_source_and_descriptors():
    text = HEAD + ('ca1,Core Action 1,x.focus,The lesson is on grade-level content.,Grade-level focus,yes-no,3-12,yes,'
                   'A guide,Core Action 1a,https://example.org/g,"Mostly earlier-grade content, off the major work.",'
                   'The grade\'s major work.\n')
    lf = parse_rubric(csv_to_yaml(text, "d.csv")).lookfor("x.focus")
    assert (lf.grades, lf.short_visit) == ("3-12", True)
    assert (lf.source.document, lf.source.section, lf.source.url) == ("A guide", "Core Action 1a",
                                                                      "https://example.org/g")
    assert lf.descriptors == {"no": "Mostly earlier-grade content, off the major work.",
                              "yes": "The grade's major work."}


@pytest.mark.parametrize("cells,words", [
    ("3-12,maybe,A guide,,,No.,Yes.", "short_visit `maybe` is not yes or no"),
    ("3-12,yes,,Core Action 1a,,No.,Yes.", "no source_document"),
    ("3-12,yes,A guide,,,No.,", "descriptor_2 is blank; describe every level of the yes-no scale"),
    ("12-3,yes,A guide,,,No.,Yes.", "grades '12-3', which is not a grade range"),
    ("3-12,yes,A guide,,www.example.org,No.,Yes.", "which is not a web address"),
])
def test_broken_format_2_cells_are_reported_at_their_csv_line(cells, words):
    text = HEAD + "ca1,Core Action 1,x.ok,Fine.,Fine,yes-no,,,,,,,\n" + f"ca1,,x.focus,Text.,Label,yes-no,{cells}\n"
    (problem,) = csv_problems(text, "d.csv")
    assert problem.startswith("d.csv:3:") and words in problem, problem


def test_a_descriptor_past_the_scales_levels_is_refused():
    text = HEAD.replace("descriptor_2", "descriptor_2,descriptor_3") + \
        "ca1,Core Action 1,x.focus,Text.,Label,yes-no,,,,,,No.,Yes.,Maybe.\n"
    (problem,) = csv_problems(text, "d.csv")
    assert problem.startswith("d.csv:2:") and "descriptor_3 is filled in, but the yes-no scale has 2" in problem
