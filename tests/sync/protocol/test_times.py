"""sync.protocol.times: device times read as aware UTC, a bad time told in words, the canonical cell text that
reads back as the same instant, and the display forms exports and screens print."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from sync.protocol import times
from sync.protocol.times import (BadTime, aware, as_utc, canonical, is_canonical, iso_seconds, parse, sqlite_text,
                                 utc_time)
from sync.server.ingest.rules import Refused, as_utc as rules_as_utc, utc_time as rules_utc_time

UTC = timezone.utc
PLUS5 = timezone(timedelta(hours=5))
zones = st.sampled_from([UTC, PLUS5, timezone(timedelta(hours=-9, minutes=-30))])
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=zones)


def test_a_time_is_aware_utc_whatever_its_zone_and_a_naive_time_is_utc_already():
    assert as_utc("2026-11-25T09:30:00", "t") == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert as_utc("2026-11-25T14:30:00+05:00", "t") == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert as_utc(datetime(2026, 11, 25, 9, 30), "t").tzinfo is UTC
    assert as_utc(None, "t") is None
    assert aware(datetime(2026, 11, 25, 14, 30, tzinfo=PLUS5)) == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def test_a_bad_time_is_a_value_error_that_names_the_field():
    with pytest.raises(BadTime, match="^updated_at 'yesterday' is not an ISO date-time$"):
        as_utc("yesterday", "updated_at")
    with pytest.raises(BadTime, match="^started_at must be an ISO date-time$"):
        as_utc(12, "started_at")
    with pytest.raises(ValueError):
        parse("2026-02-30T09:30:00Z", "updated_at")


def test_the_push_rules_refuse_a_bad_time_with_the_same_reason():
    with pytest.raises(Refused, match="^updated_at 'yesterday' is not an ISO date-time$"):
        rules_as_utc("yesterday", "updated_at")
    with pytest.raises(Refused, match="^ended_at must be an ISO date-time$"):
        rules_utc_time(3.5, "ended_at")
    with pytest.raises(Refused, match="is not an ISO date-time"):
        rules_utc_time("2026-02-30T09:30:00Z", "updated_at")  # UTC text, but no such day


def test_utc_text_stays_text_and_other_times_are_parsed():
    assert utc_time("2026-11-25T09:30:00Z", "t") == "2026-11-25T09:30:00Z"
    assert utc_time("2026-11-25T09:30:00.5+00:00", "t") == "2026-11-25T09:30:00.5+00:00"
    assert utc_time("2026-11-25T14:30:00+05:00", "t") == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@given(instants)
def test_the_canonical_text_is_one_form_that_reads_back_as_the_same_instant(t):
    for form in (t, t.isoformat(), t.astimezone(UTC).isoformat().replace("+00:00", "Z")):
        text = canonical(form)
        assert is_canonical(text) and len(text) == 27
        assert datetime.fromisoformat(text) == t
        assert canonical(text) == text


def test_only_the_canonical_form_of_a_real_instant_is_canonical():
    assert is_canonical("2026-11-25T09:30:00.000000Z")
    for other in ("2026-11-25T09:30:00Z", "2026-11-25T09:30:00.000000+00:00", "2026-02-30T09:30:00.000000Z",
                  None, 20261125):
        assert not is_canonical(other)


def test_exports_print_times_to_the_second_from_text_or_datetime():
    assert iso_seconds("2026-09-30T14:05:09.000000Z") == "2026-09-30T14:05:09Z"  # a cell time as stored
    assert iso_seconds("2026-09-30 14:05:09.123456") == "2026-09-30T14:05:09Z"  # another time on SQLite
    assert iso_seconds(datetime(2026, 9, 30, 19, 5, 9, tzinfo=PLUS5)) == "2026-09-30T14:05:09Z"
    assert iso_seconds(None) == ""


@given(instants)
def test_sqlite_text_is_the_naive_utc_text_sqlalchemy_reads_back(t):
    expected = t.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    assert sqlite_text(t) == expected
    assert sqlite_text(canonical(t)) == expected
    assert sqlite_text(t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")) == expected
    assert sqlite_text(None) is None


def test_utc_text_matches_what_a_device_sends_and_nothing_else():
    assert times.UTC_TEXT.fullmatch("2026-11-25T09:30:00.123Z")
    assert not times.UTC_TEXT.fullmatch("2026-11-25T09:30:00+05:00")
