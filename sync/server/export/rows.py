"""Export columns and row shaping: the column lists (public contract, docs/export-formats.md) and cell values.

Columns are named by stable ids, never by position. Times are ISO 8601 UTC; dates are YYYY-MM-DD.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sync.protocol import BAND_OF_GRADE
from sync.protocol.vocabulary import NOT_OBSERVED_VALUE

# DESIGN.md section 7 columns first, in this order; then the descriptive ones.
LONG_COLUMNS = ["walk_id", "visit_id", "visit_no", "school_id", "walk_date", "grade", "subject", "rubric_id",
                "rubric_version", "lookfor_id", "value", "not_observed",
                "cycle_label", "phase", "grade_band", "class_type", "lookfor_domain", "lookfor_text", "value_label",
                "updated_at"]

VISIT_COLUMNS = ["walk_id", "visit_id", "visit_no", "school_id", "walk_date", "cycle_label", "phase", "grade",
                 "grade_band", "subject", "class_type", "student_count", "observer_id", "rubric_id",
                 "rubric_version", "started_at", "ended_at", "updated_at"]

TALLY_COLUMNS = ["walk_id", "walk_date", "school_id", "cycle_label", "phase", "rubric_id", "rubric_version",
                 "lookfor_id", "lookfor_label", "visits", "rated", "not_observed", "evident", "counts"]

NOT_OBSERVED = NOT_OBSERVED_VALUE  # a wide CSV cell for "not observed" (empty means not rated)

def grade_band(grade: str | None) -> str:
    return BAND_OF_GRADE.get(grade or "", "")


def iso_time(value: datetime | str | None) -> str:
    """A stored UTC time as 2026-09-30T14:05:09Z (seconds). Text as stored: a rating cell's time on both databases
    ("2026-09-30T14:05:09.000000Z", sync.server.cells) and other times on SQLite ("2026-09-30 14:05:09.000000",
    read untyped to save parsing); a datetime for other times on PostgreSQL."""
    if value is None:
        return ""
    if type(value) is str:
        return value[:10] + "T" + value[11:19] + "Z"
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(value: date | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.isoformat()


def visit_values(v) -> list:
    """A visits-query row (queries.VISIT_COLUMNS_SQL) as VISIT_COLUMNS values."""
    return [v[0], v[1], v[2], v[3], iso_date(v[4]), v[5], v[6], v[7] or "", grade_band(v[7]), v[8] or "",
            v[9] or "", v[10], v[11], v[12], v[13], iso_time(v[14]), iso_time(v[15]), iso_time(v[16])]


def long_values(r, info) -> list:
    """A ratings-query row (queries.LONG_COLUMNS_SQL) and its look-for info as LONG_COLUMNS values."""
    value = r[10]
    return [r[0], r[1], r[2], r[3], iso_date(r[4]), r[5] or "", r[6] or "", r[7], r[8], r[9], value or "",
            int(bool(r[11])), r[12], r[13], grade_band(r[5]), r[14] or "", info.domain, info.text,
            info.labels.get(value, "") if value else "", iso_time(r[15])]
