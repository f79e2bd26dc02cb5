"""Colours of the debrief charts, shared by the screen and the printed report.

A sequential blue ramp, lightest for the lowest level and darkest for the highest, so the evident share reads as
the dark right-hand part of each bar, also on a grey-scale printer. A checklist's 'Not seen' is its lighter level.
"""
from __future__ import annotations

from rubrics import Scale

RAMPS = {
    1: ["#08519c"],
    2: ["#c6dbef", "#08519c"],
    3: ["#c6dbef", "#6baed6", "#08519c"],
    4: ["#deebf7", "#9ecae1", "#4292c6", "#08519c"],
    5: ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
}
EMPTY = "#ffffff"
OUTLINE = "#6b7280"


def level_colors(scale: Scale) -> dict[str, str]:
    """Scale value -> colour, lowest level lightest."""
    n = len(scale.levels)
    ramp = RAMPS.get(n) or [RAMPS[5][min(4, i * 5 // n)] for i in range(n)]
    return dict(zip(scale.values(), ramp))


def rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
