"""Grade bands for debrief filters and breakdowns (K-2, 3-5, 6-8, 9-12), as a SQL CASE over visit.grade.

Pre-K visits fall in the K-2 band: early-childhood classrooms are walked with the primary grades, and a band of
their own would almost always be a cell too small to show.
"""
from __future__ import annotations

from sqlalchemy import case

BANDS: dict[str, tuple[str, ...]] = {
    "K-2": ("PK", "K", "1", "2"),
    "3-5": ("3", "4", "5"),
    "6-8": ("6", "7", "8"),
    "9-12": ("9", "10", "11", "12"),
}
BAND_NAMES = tuple(BANDS)


def band_of(grade: str | None) -> str | None:
    for band, grades in BANDS.items():
        if grade in grades:
            return band
    return None


def band_case(grade_column):
    """SQL expression: the band name of a grade column, '' when the grade was not recorded."""
    return case(*[(grade_column.in_(grades), band) for band, grades in BANDS.items()], else_="")
