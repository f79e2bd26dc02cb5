"""Small-cell suppression: numbers describing fewer visits than the district's threshold are not shown.

The rule (docs/debrief.md, "Small cells"): a cell is the set of visits one number describes. A cell with
1..threshold-1 visits is suppressed. In a breakdown row, if exactly one cell is suppressed, the next smallest
cell is suppressed too, so the hidden one cannot be recovered by subtracting the others from the total.
A filtered view is suppressed when it, or the rest of the walk outside it, has 1..threshold-1 visits.
"""
from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.store.models import Meta

DEFAULT_THRESHOLD = 3
SETTING_KEY = "small_cell_threshold"


def threshold(engine: Engine) -> int:
    """The district's small-cell threshold (a setting pulled by sync), or 3 when unset or unreadable."""
    with Session(engine) as s:
        row = s.get(Meta, SETTING_KEY)
    try:
        value = int(row.value) if row else DEFAULT_THRESHOLD
    except ValueError:
        # a malformed setting must never switch protection off: fall back to the default
        return DEFAULT_THRESHOLD
    return value if value >= 1 else DEFAULT_THRESHOLD


def is_small(n: int, limit: int) -> bool:
    return 0 < n < limit


def suppressed_cells(sizes: dict, limit: int) -> set:
    """Keys of the cells in one breakdown row to hide: small ones, plus one complement if only one is small."""
    hidden = {k for k, n in sizes.items() if is_small(n, limit)}
    if len(hidden) == 1:
        rest = sorted((n, str(k), k) for k, n in sizes.items() if k not in hidden and n > 0)
        if rest:
            hidden.add(rest[0][2])
    return hidden


def view_suppressed(n: int, total: int, limit: int, filtered: bool) -> bool:
    """Whether a (possibly filtered) view of n visits out of the walk's total must be hidden."""
    if is_small(n, limit):
        return True
    return filtered and is_small(total - n, limit)


def message(limit: int) -> str:
    return f"fewer than {limit} visits"
