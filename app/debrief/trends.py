"""Cycle trends: a school's walks of one cycle side by side (baseline, six-week, end-of-cycle), per focus look-for.

The change is in percentage points of the share at or above the evident level, from the first walk of the cycle
that has a number to the last one: the team's progress toward its 12-week goal. Each walk's tally is the same
SQL aggregate as the walk's own debrief, with the same small-cell suppression.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.debrief.tally import TallyError, WalkTally, walk_tally
from app.store.catalog import RubricCatalog
from app.store.models import Walk
from sync.protocol import PHASES
from sync.protocol.intervals import TOO_CLOSE, overlap


@dataclass
class TrendRow:
    lookfor_id: str
    label: str
    shares: list[float | None]  # evident share per walk, None when not rated, not in its rubric, or suppressed
    change: float | None  # last minus first available share, in percentage points
    intervals: list[tuple[float, float] | None] = field(default_factory=list)  # 95% Wilson, per walk
    too_close: bool = False  # the first and last shares' intervals overlap: the change could be chance

    @property
    def change_text(self) -> str:
        """'+26 pts, too close to call', '+40 pts' or '-' (in words, never colour alone)."""
        if self.change is None:
            return "-"
        return f"{self.change:+.0f} pts" + (f", {TOO_CLOSE}" if self.too_close else "")


@dataclass
class CycleTrend:
    school_id: str
    cycle_label: str
    walks: list[Walk]
    visits: list[int | None]
    rows: list[TrendRow]

    def to_json(self) -> dict:
        return {"school": self.school_id, "cycle": self.cycle_label,
                "walks": [{"id": w.id, "date": w.walk_date.isoformat(), "phase": w.phase, "visits": n}
                          for w, n in zip(self.walks, self.visits)],
                "lookfors": [{"id": r.lookfor_id, "evident_shares": r.shares,
                              "intervals": [None if iv is None else [round(x, 4) for x in iv] for iv in r.intervals],
                              "change_points": r.change, "too_close_to_call": r.too_close}
                             for r in self.rows]}


def cycle_walks(engine: Engine, school_id: str, cycle_label: str) -> list[Walk]:
    """The live walks of a school's cycle, in phase order (baseline, six-week, end-of-cycle, other), then date."""
    with Session(engine) as s:
        q = select(Walk).where(Walk.school_id == school_id, Walk.cycle_label == cycle_label,
                               Walk.deleted == False)  # noqa: E712
        walks = list(s.exec(q).all())
        for w in walks:
            s.expunge(w)
    rank = {p: i for i, p in enumerate(PHASES)}
    return sorted(walks, key=lambda w: (rank.get(w.phase, len(rank)), w.walk_date, w.id))


def cycle_trend(engine: Engine, catalog: RubricCatalog, walk_id: str) -> CycleTrend:
    """The trend of the cycle a walk belongs to (its school and cycle label)."""
    with Session(engine) as s:
        walk = s.get(Walk, walk_id)
        if walk is None or walk.deleted:
            raise TallyError(f"Walk {walk_id} is not on this device (or was deleted).")
        s.expunge(walk)
    walks = cycle_walks(engine, walk.school_id, walk.cycle_label) if walk.cycle_label else [walk]
    tallies: list[WalkTally] = [walk_tally(engine, catalog, w.id) for w in walks]
    focus: list[str] = []
    for w in walks:  # the cycle's focus: the baseline's focus first, then any added later
        focus += [f for f in w.focus if f not in focus]
    rows = []
    for lf_id in focus:
        shares, intervals, label = [], [], lf_id
        for t in tallies:
            row = next((x for x in t.lookfors if x.id == lf_id), None)
            if row is not None:
                label = row.lookfor.label
            shares.append(None if row is None else row.cell.evident_share)
            intervals.append(None if row is None else row.cell.interval)
        present = [(x, iv) for x, iv in zip(shares, intervals) if x is not None]
        change = round((present[-1][0] - present[0][0]) * 100, 1) if len(present) >= 2 else None
        close = change is not None and overlap(present[0][1], present[-1][1])
        rows.append(TrendRow(lf_id, label, shares, change, intervals, close))
    return CycleTrend(walk.school_id, walk.cycle_label, walks,
                      [None if t.suppressed else t.visits for t in tallies], rows)
