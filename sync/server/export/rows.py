"""Export columns and row shaping: the column lists (public contract, docs/export-formats.md) and cell values.

Columns are named by stable ids, never by position. Times are ISO 8601 UTC; dates are YYYY-MM-DD.
"""
from __future__ import annotations

from datetime import date

from sync.protocol import BAND_OF_GRADE
from sync.server.export.queries import (R_CLASS_TYPE, R_CYCLE_LABEL, R_GRADE, R_LOOKFOR_ID, R_NOT_OBSERVED, R_PHASE,
                                        R_RUBRIC_ID, R_RUBRIC_VERSION, R_SCHOOL_ID, R_SUBJECT, R_UPDATED_AT, R_VALUE,
                                        R_VISIT_ID, R_VISIT_NO, R_WALK_DATE, R_WALK_ID, V_CLASS_TYPE, V_CYCLE_LABEL,
                                        V_ENDED_AT, V_GRADE, V_OBSERVER_ID, V_PHASE, V_RUBRIC_ID, V_RUBRIC_VERSION,
                                        V_SCHOOL_ID, V_STARTED_AT, V_STUDENT_COUNT, V_SUBJECT, V_UPDATED_AT,
                                        V_VISIT_ID, V_VISIT_NO, V_WALK_DATE, V_WALK_ID)
from sync.protocol.times import iso_seconds as iso_time  # exports print times to the second
from sync.protocol.vocabulary import NOT_OBSERVED_VALUE

# DESIGN.md section 7 columns first, in this order; then the descriptive ones.
LONG_COLUMNS = ["walk_id", "visit_id", "visit_no", "school_id", "walk_date", "grade", "subject", "rubric_id",
                "rubric_version", "lookfor_id", "value", "not_observed",
                "cycle_label", "phase", "grade_band", "class_type", "lookfor_domain", "lookfor_text", "value_label",
                "updated_at",
                # added later, at the end so readers of the earlier columns keep working
                "school_name", "observer_no", "notes"]

VISIT_COLUMNS = ["walk_id", "visit_id", "visit_no", "school_id", "walk_date", "cycle_label", "phase", "grade",
                 "grade_band", "subject", "class_type", "student_count", "observer_id", "rubric_id",
                 "rubric_version", "started_at", "ended_at", "updated_at",
                 "school_name", "observer_no"]  # added later, at the end

TALLY_COLUMNS = ["walk_id", "walk_date", "school_id", "cycle_label", "phase", "rubric_id", "rubric_version",
                 "lookfor_id", "lookfor_label", "visits", "rated", "not_observed", "evident", "counts",
                 "of", "evident_share", "interval_low", "interval_high", "school_name"]

# the XLSX Notes sheet: one row per evidence note, then the visit's own note (no note_id, no lookfor_id)
NOTE_COLUMNS = ["walk_id", "visit_id", "visit_no", "observer_no", "school_id", "school_name", "walk_date",
                "lookfor_id", "lookfor_label", "note_id", "text", "updated_at"]

NOTES_JOIN = "\n"  # a long-CSV/Ratings notes cell: the visit's notes on that look-for, oldest id first

NOT_OBSERVED = NOT_OBSERVED_VALUE  # a wide CSV cell for "not observed" (empty means not rated)

def grade_band(grade: str | None) -> str:
    return BAND_OF_GRADE.get(grade or "", "")


def iso_date(value: date | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.isoformat()


def visit_values(v, extra: tuple = ("", None)) -> list:
    """A visits-query row (queries.VISIT_COLUMNS_SQL) as VISIT_COLUMNS values; extra: (school_name, observer_no)
    (ExportSource.visit_extra)."""
    grade = v[V_GRADE]
    return [v[V_WALK_ID], v[V_VISIT_ID], v[V_VISIT_NO], v[V_SCHOOL_ID], iso_date(v[V_WALK_DATE]), v[V_CYCLE_LABEL],
            v[V_PHASE], grade or "", grade_band(grade), v[V_SUBJECT] or "", v[V_CLASS_TYPE] or "",
            v[V_STUDENT_COUNT], v[V_OBSERVER_ID], v[V_RUBRIC_ID], v[V_RUBRIC_VERSION], iso_time(v[V_STARTED_AT]),
            iso_time(v[V_ENDED_AT]), iso_time(v[V_UPDATED_AT]), *extra]


def long_values(r, info, extra: tuple = ("", None, "")) -> list:
    """A rating row (queries.R_*) and its look-for info as LONG_COLUMNS values; extra: (school_name, observer_no,
    notes)."""
    value, grade = r[R_VALUE], r[R_GRADE]
    return [r[R_WALK_ID], r[R_VISIT_ID], r[R_VISIT_NO], r[R_SCHOOL_ID], iso_date(r[R_WALK_DATE]), grade or "",
            r[R_SUBJECT] or "", r[R_RUBRIC_ID], r[R_RUBRIC_VERSION], r[R_LOOKFOR_ID], value or "",
            int(bool(r[R_NOT_OBSERVED])), r[R_CYCLE_LABEL], r[R_PHASE], grade_band(grade), r[R_CLASS_TYPE] or "",
            info.domain, info.text, info.labels.get(value, "") if value else "", iso_time(r[R_UPDATED_AT]), *extra]
