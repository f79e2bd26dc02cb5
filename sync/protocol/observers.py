"""Who "Observer N" of a walk is, defined once: the device's screens and debrief and the server's exports agree.

A walk's observers are the observer ids of its live visits, in sorted order, numbered from 1. Ids are never shown;
the number is what people read ("Observer 2 · Visit 1"), since visit numbers count per observer.
"""
from __future__ import annotations

from typing import Iterable


def observer_numbers(observer_ids: Iterable[str]) -> dict[str, int]:
    """{observer id: its number on the walk} for the observer ids of a walk's live visits (repeats allowed)."""
    return {o: n for n, o in enumerate(sorted(set(observer_ids)), start=1)}


def observer_order(observer_ids: Iterable[str]) -> list[str]:
    """The walk's observer ids in number order: Observer 1 first."""
    numbers = observer_numbers(observer_ids)
    return sorted(numbers, key=numbers.__getitem__)


def observer_label(number: int) -> str:
    """The words for an observer on the screen and in the PDF."""
    return f"Observer {number}"
