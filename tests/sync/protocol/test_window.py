"""The one rule for what a store keeps (sync.protocol.times, sync.protocol.rules): times inside 2000-01-01 to a day
past now (a walk's date up to a year ahead) whatever their form, no NUL character in any text, notes within
NOTE_MAX; each refusal says what and how to fix it, and a time past datetime's range is a refusal, not a crash."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from sync.protocol import times
from sync.protocol.cells import all_good, cell_problem
from sync.protocol.rules import NOTE_MAX, REASONS, RuleBroken, check_note_text, check_storable, check_time, check_visit
from sync.protocol.times import BadTime, accepted, accepted_date, accepted_utc

UTC = timezone.utc
FIX = "so the device's clock was wrong; set the device's date and time, then edit it again"


@pytest.mark.parametrize("sent, when", [
    ("0999-01-01T09:30:00.000000Z", "is before 2000-01-01"),
    ("1970-01-01T00:00:00Z", "is before 2000-01-01"),
    ("1999-12-31T23:59:59.999999+00:00", "is before 2000-01-01"),
    ("2000-01-01T00:30:00+01:00", "is before 2000-01-01"),  # 1999-12-31T23:30 in UTC
    ("0001-01-01T00:00:00+01:00", "is before 2000-01-01"),  # no such UTC time at all
    ("9999-12-31T23:59:59-01:00", "is more than a day ahead of the server's clock"),  # nor this one
    ("9999-12-31T23:59:59.999999Z", "is more than a day ahead of the server's clock"),
    ("2999-01-01T00:00:00", "is more than a day ahead of the server's clock"),
])
def test_a_time_outside_the_window_is_refused_in_every_form_with_what_to_fix(sent, when):
    for check in (accepted, accepted_utc):
        with pytest.raises(BadTime) as refused:
            check(sent, "updated_at")
        assert str(refused.value) == f"updated_at {sent} {when}, {FIX}"
    with pytest.raises(RuleBroken) as broken:
        check_time(sent, "started_at")
    assert broken.value.rule == "time" and str(broken.value).startswith(f"started_at {sent} {when}")


def test_a_parsed_time_is_refused_quoting_the_text_it_was_read_from():
    with pytest.raises(BadTime, match="^updated_at 0001-01-01T00:00:00\\+01:00 is before"):
        accepted(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), "updated_at", "0001-01-01T00:00:00+01:00")
    with pytest.raises(BadTime, match="^ended_at 1970-01-01T00:00:00\\+00:00 is before"):
        accepted(datetime(1970, 1, 1, tzinfo=UTC), "ended_at")


def test_the_window_runs_from_2000_to_a_day_past_now_and_utc_text_stays_text():
    assert accepted_utc("2000-01-01T00:00:00Z", "t") == "2000-01-01T00:00:00Z"
    assert accepted_utc(times.EARLIEST_TEXT, "t") == times.EARLIEST_TEXT
    soon = datetime.now(UTC) + timedelta(hours=23)
    assert accepted_utc(soon.strftime("%Y-%m-%dT%H:%M:%SZ"), "t") == soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert accepted(soon.isoformat(), "t") == soon
    assert accepted_utc("2026-11-25T14:30:00+05:00", "t") == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert accepted(None, "t") is None and accepted_utc(None, "t") is None
    later = datetime.now(UTC) + timedelta(hours=25)
    with pytest.raises(BadTime, match="more than a day ahead"):
        accepted_utc(later.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "t")
    # the bound the cell fast path compares canonical texts with is a day past now, in that text
    assert times.is_canonical(times.latest_text())
    assert abs(datetime.fromisoformat(times.latest_text()) - datetime.now(UTC) - times.AHEAD) < timedelta(seconds=2)


def test_a_walk_date_runs_from_2000_to_a_year_ahead():
    today = datetime.now(UTC).date()
    for ok in (date(2000, 1, 1), today, today + timedelta(days=365)):
        assert accepted_date(ok) == ok and check_time(ok, "walk_date") == ok
    with pytest.raises(BadTime, match="^walk_date 1999-12-31 is before 2000-01-01; pick the walk's real date$"):
        accepted_date(date(1999, 12, 31))
    with pytest.raises(BadTime, match="^walk_date 9999-12-31 is more than a year ahead; pick the walk's real date$"):
        accepted_date(date(9999, 12, 31))


@pytest.mark.parametrize("at", ["0999-01-01T09:30:00.000000Z", "1970-01-01T00:00:00.000000Z",
                                "1999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"])
def test_a_cell_timed_outside_the_window_leaves_the_fast_path_and_is_refused_with_its_reason(at):
    good = [1, "lf.a", "1", False, False, "2026-11-25T09:30:00.000000Z"]
    triples = frozenset({("lf.a", "1", False)})
    assert all_good([good], triples)
    bad = [2, "lf.a", "1", False, False, at]
    assert not all_good([good, bad], triples) and not all_good([bad, good], triples)
    assert cell_problem(bad, lambda *_: None).startswith(f"lf.a: updated_at {at} is ")
    assert cell_problem(good, lambda *_: None) is None


def test_a_cell_holding_a_nul_is_refused_with_the_nul_shown_and_never_echoed():
    for cell, words in (([1, "lf.a\x00", "1", False, False, times.EARLIEST_TEXT], "look-for id 'lf.a\\x00' holds a NUL"),
                        ([1, "lf.a", "1\x00", False, False, times.EARLIEST_TEXT], "the value '1\\x00' holds a NUL")):
        assert not all_good([cell], frozenset({("lf.a", "1", False)}))  # not a rubric's look-for or value
        reason = cell_problem(cell, lambda *_: None)
        assert words in reason and "\x00" not in reason


@pytest.mark.parametrize("kind, record, words", [
    ("walk", {"id": "w\x00"}, "the walk's id holds a NUL character (\\x00)"),
    ("walk", {"team": ["u1", "u\x00"]}, "the walk's team holds a NUL"),
    ("walk", {"focus": ["dl.relevant\x00"]}, "the walk's focus holds a NUL"),
    ("visit", {"note": "a\x00b"}, "the visit's note holds a NUL"),
    ("note", {"text": "\x00"}, "the evidence note holds a NUL"),
    ("note", {"lookfor_id": "x\x00"}, "the evidence note's look-for id holds a NUL"),
])
def test_no_text_of_a_record_may_hold_a_nul(kind, record, words):
    with pytest.raises(RuleBroken) as broken:
        check_storable(kind, record, tuple(record))
    assert broken.value.rule == "nul" and str(broken.value).startswith(words)
    assert str(broken.value).endswith("which no database can store; remove it")
    check_storable(kind, {f: "fine" for f in record}, tuple(record))  # the same fields without it pass


def test_notes_are_bounded_by_the_rule_book_and_say_the_limit_and_the_count():
    assert NOTE_MAX == 4000 and "too_long" in REASONS and "nul" in REASONS
    check_note_text("x" * NOTE_MAX)
    check_visit(note="x" * NOTE_MAX)
    for call in (lambda: check_note_text("x" * (NOTE_MAX + 1)), lambda: check_visit(note="x" * (NOTE_MAX + 1))):
        with pytest.raises(RuleBroken) as broken:
            call()
        assert broken.value.rule == "too_long"
        assert broken.value.facts["limit"] == str(NOTE_MAX) and broken.value.facts["count"] == str(NOTE_MAX + 1)
    with pytest.raises(RuleBroken, match="^the evidence note is longer than 4000 characters$"):
        check_note_text("x" * (NOTE_MAX + 1))
    with pytest.raises(RuleBroken, match="^the visit's note holds a NUL"):
        check_visit(note="a\x00")
    with pytest.raises(RuleBroken, match="^the visit's calibration code holds a NUL"):
        check_visit(calibration_code="c\x00")
