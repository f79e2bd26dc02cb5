"""A checklist scale (authored with one level, "Seen") gets a derived "Not seen" level (NOT_SEEN_VALUE), lowest
and not evident; parsing a normalised scale again changes nothing; the value is reserved for it."""
from __future__ import annotations

import textwrap

import pytest

from rubrics import Rubric, RubricInvalid, builtin_rubrics, parse_rubric
from sync.protocol.vocabulary import NOT_SEEN_LABEL, NOT_SEEN_VALUE

RUBRIC = """\
id: checklist-test
version: 1
title: Checklist test
scales:
  - id: presence
    levels:
      - {value: seen, label: Seen}
    not_observed: false
  - id: four
    levels:
%s
domains:
  - id: d
    title: D
lookfors:
  - {id: c.posted, domain: d, text: A target is posted., label: Target, scale: presence}
  - {id: c.talk, domain: d, text: Students talk., label: Talk, scale: four}
"""
FOUR = "\n".join(f"      - {{value: '{v}', label: L{v}}}" for v in "1234")


def test_a_one_level_scale_gets_not_seen_below_it_not_evident():
    r = parse_rubric(RUBRIC % FOUR)
    presence = r.scale("presence")
    assert presence.checklist and presence.values() == [NOT_SEEN_VALUE, "seen"]
    assert presence.label_of(NOT_SEEN_VALUE) == NOT_SEEN_LABEL and presence.evident_values() == ["seen"]
    assert [lv.value for lv in presence.authored_levels()] == ["seen"]
    assert not r.scale("four").checklist and r.scale("four").values() == ["1", "2", "3", "4"]


def test_normalising_is_idempotent_and_keeps_the_content_hash():
    r = parse_rubric(RUBRIC % FOUR)
    again = Rubric.model_validate(r.model_dump(mode="json"))
    assert again == r and again.scale("presence").values() == [NOT_SEEN_VALUE, "seen"]
    assert again.content_hash() == r.content_hash()
    # the hash is the authored content's: the derived level is left out, so stored hashes stay valid
    dumped = r.model_dump(mode="json")
    dumped["scales"][0]["levels"] = dumped["scales"][0]["levels"][1:]
    assert Rubric.model_validate(dumped).content_hash() == r.content_hash()
    # a file that writes the normalised form out is the same rubric
    written = (RUBRIC % FOUR).replace("      - {value: seen, label: Seen}",
                                      f"      - {{value: {NOT_SEEN_VALUE}, label: {NOT_SEEN_LABEL}}}\n"
                                      "      - {value: seen, label: Seen}")
    assert parse_rubric(written).content_hash() == r.content_hash()


def test_every_builtin_checklist_keeps_its_published_hash():
    for r in builtin_rubrics().values():
        for s in r.scales:
            if s.checklist:
                assert Rubric.model_validate(r.model_dump(mode="json")).content_hash() == r.content_hash()


@pytest.mark.parametrize("levels, level_no", [
    ("\n".join(f"      - {{value: '{v}', label: L{v}}}" for v in "123") + f"\n      - {{value: {NOT_SEEN_VALUE}, label: No}}", 4),
    (f"      - {{value: {NOT_SEEN_VALUE}, label: No}}\n" + FOUR, 1),
    (f"      - {{value: {NOT_SEEN_VALUE}, label: No}}\n      - {{value: yes, label: Yes}}", 1),  # not the derived one
])
def test_an_authors_own_not_seen_level_is_refused_at_its_line_with_the_fix(levels, level_no):
    text = RUBRIC % levels
    with pytest.raises(RubricInvalid) as err:
        parse_rubric(text, source="mine.yaml")
    (problem,) = err.value.problems
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if NOT_SEEN_VALUE in ln)
    assert (problem.file, problem.line) == ("mine.yaml", line)
    assert f"level #{level_no} of scale `four`" in problem.message and "reserved" in problem.message
    assert "give the level another value" in problem.message
