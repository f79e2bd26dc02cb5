"""Visits recorded before a checklist's "Not seen" was a value keep their meaning (server migration 0007, device
store migration 0004).

Until then a blank checklist cell (a scale authored with one level, "Seen") meant "not seen": the capture screen
showed it so and the tallies counted it so. Now a blank means "not rated" and "Not seen" is the value
NOT_SEEN_VALUE. Both stores apply this one rule to every visit they hold, so the server, every device and the
exports agree without a device being synced again:

- a visit with at least one answered cell (live, holding a value or "not observed"; a visit with none was never
  counted, so its blanks never meant anything);
- each checklist look-for of its rubric version shown for the visit's subject and grade (as the capture screen
  showed it) that has no answered cell (none, a cleared one or a blank one) gets the cell NOT_SEEN_VALUE;
- stamped with the time of the visit's latest answered cell (when its answers were last given), the same on
  both ends for a visit both hold alike.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from sync.protocol.vocabulary import NOT_SEEN_VALUE

if TYPE_CHECKING:
    from rubrics import Rubric

__all__ = ["NOT_SEEN_VALUE", "answered_at", "not_seen_lookfors"]

Cell = tuple  # (lookfor_id, value, not_observed, deleted, updated_at as its store writes it)


def _answered(cell: Cell) -> bool:
    _, value, not_observed, deleted, _ = cell
    return not deleted and (bool(not_observed) or bool(value))


def not_seen_lookfors(rubric: "Rubric", subject: str | None, grade: str | None, cells: Iterable[Cell]) -> list[str]:
    """The checklist look-fors of this visit to record as NOT_SEEN_VALUE (rubric order); none for a visit with
    nothing answered."""
    answered = {c[0] for c in cells if _answered(c)}
    if not answered:
        return []
    subject, grade = subject or None, grade or None  # "" is not recorded, as in the tally's rule
    return [lf.id for lf in rubric.lookfors
            if rubric.scale(lf.scale).checklist and lf.applies_to(subject, grade) and lf.id not in answered]


def answered_at(cells: Iterable[Cell]):
    """The latest updated_at among the answered cells (texts of one store's one format compare in time order)."""
    return max((c[4] for c in cells if _answered(c)), default=None)
