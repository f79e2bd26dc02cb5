"""Equity pause: the look-fors flagged for equity, broken down by class type, as a prompt for the team.

Uses the tally breakdown by class type, so the same small-cell suppression applies. The prompts are questions,
not verdicts: walks are non-evaluative and read as trends.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from app.debrief.tally import Filters, WalkTally, walk_tally
from app.store.catalog import RubricCatalog

PROMPTS = (
    "Which students did we see doing the thinking and the talking, and which did we not?",
    "Do the patterns differ across class types (general, inclusion, special education, English learners)?",
    "What would we need to see next time to know that every group of students has access to this?",
)


@dataclass
class EquityPause:
    tally: WalkTally  # broken down by class type, only the equity look-fors

    @property
    def empty(self) -> bool:
        return not self.tally.lookfors

    def to_json(self) -> dict:
        return {"by": "class_type", "prompts": list(PROMPTS), **{k: v for k, v in self.tally.to_json().items()
                                                                if k in ("threshold", "lookfors", "groups")}}


def equity_pause(engine: Engine, catalog: RubricCatalog, walk_id: str, filters: Filters | None = None) -> EquityPause:
    return EquityPause(walk_tally(engine, catalog, walk_id, filters=filters, by="class_type",
                                  lookfor_filter=lambda lf: lf.equity))
