"""CLI face for the debrief: tallies and the printable report."""
from __future__ import annotations

from app.cli._common import not_built


def tally() -> None:
    """Show the look-for tallies of a walk."""
    raise not_built("learnwalk tally")


def report() -> None:
    """Write a printable debrief report (PDF) for a walk."""
    raise not_built("learnwalk report")
