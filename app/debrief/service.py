"""Debrief: the debrief of one device's walks, over its store and rubric catalog (what faces and view-models call).

The functions of the other app.debrief modules take the engine and catalog; this object holds them once, so a
face asks `device.debrief.tally(walk_id)` and never handles an engine.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.debrief.calibration import Calibration, calibration, observer_drift
from app.debrief.equity import EquityPause, PooledEquity, equity_pause, pooled_equity
from app.debrief.notes import NoteGroup, walk_notes
from app.debrief.tally import Filters, WalkTally, walk_tally
from app.debrief.trends import CycleTrend, cycle_trend
from app.store.catalog import RubricCatalog
from app.store.models import School, Walk
from sync.protocol.export import download_name
from rubrics import Rubric


class Debrief:
    def __init__(self, engine: Engine, catalog: RubricCatalog):
        self._engine, self._catalog = engine, catalog

    def tally(self, walk_id: str, filters: Filters | None = None, by: str | None = None) -> WalkTally:
        return walk_tally(self._engine, self._catalog, walk_id, filters=filters, by=by)

    def notes(self, walk_id: str, rubric: Rubric, focus: list[str]) -> list[NoteGroup]:
        return walk_notes(self._engine, rubric, walk_id, focus)

    def trend(self, walk_id: str) -> CycleTrend:
        return cycle_trend(self._engine, self._catalog, walk_id)

    def calibration(self, walk_id: str) -> Calibration:
        return calibration(self._engine, self._catalog, walk_id)

    def drift(self, walk_id: str):
        """(the cycle's walks, each observer's exact agreement with their partners per walk)."""
        return observer_drift(self._engine, self._catalog, walk_id)

    def equity(self, walk_id: str, filters: Filters | None = None) -> EquityPause:
        return equity_pause(self._engine, self._catalog, walk_id, filters)

    def pooled_equity(self, walk_id: str) -> PooledEquity:
        """The equity look-fors by class type over the walks of this walk's cycle."""
        return pooled_equity(self._engine, self._catalog, walk_id)

    def write_report(self, walk_id: str, out: Path | str) -> int:
        """Write the walk's debrief PDF to `out`; return its page count."""
        from app.debrief.report import write_report  # fpdf is loaded only by the commands that print

        return write_report(self._engine, self._catalog, walk_id, out)

    def report_pdf(self, walk_id: str) -> tuple[str, bytes]:
        """(file name, bytes) of the walk's debrief PDF, built in memory (the app's "Debrief PDF" download)."""
        from app.debrief.report import report_bytes

        data = report_bytes(self._engine, self._catalog, walk_id)  # says in words when the walk is not here
        with Session(self._engine) as s:
            walk = s.get(Walk, walk_id)
            school = s.get(School, walk.school_id)
            # named as every download is (school, date, what): learnwalk-riverside-2026-12-02-debrief.pdf
            return download_name("pdf", school.name if school else "school", walk.walk_date, "debrief"), data
