"""Grade bands for debrief filters and breakdowns (K-2, 3-5, 6-8, 9-12), as a SQL CASE over visit.grade.

The bands themselves are shared vocabulary (sync.protocol.GRADE_BANDS), so exports and the debrief agree.
"""
from __future__ import annotations

from sqlalchemy import case

from sync.protocol import BAND_OF_GRADE, GRADE_BANDS

BANDS = GRADE_BANDS
BAND_NAMES = tuple(BANDS)


def band_of(grade: str | None) -> str | None:
    return BAND_OF_GRADE.get(grade or "")


def band_case(grade_column):
    """SQL expression: the band name of a grade column, '' when the grade was not recorded."""
    return case(*[(grade_column.in_(grades), band) for band, grades in BANDS.items()], else_="")
