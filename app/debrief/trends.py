"""Cycle trends: a school's walks of one cycle side by side (baseline, six-week, end-of-cycle), per priority.

A walk of a cycle record (walk.cycle_id) is read with the cycle's walks and its priorities: one row per look-for of
each priority, with the priority's target ("evident in 60% of classrooms by the end-of-cycle walk") and where the
latest share stands against it. A walk of an old free-text label that names no cycle is read with the walks of the
same school and label, and its focus look-fors (no target).

The change is in percentage points of the share at or above the evident level, from the first walk of the cycle
that has a number to the last one: the team's progress toward its 12-week goal. Each walk's tally is the same
SQL aggregate as the walk's own debrief, with the same small-cell suppression.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.debrief.tally import TallyError, WalkTally, walk_tally
from app.debrief.text import pct
from app.store.catalog import RubricCatalog
from app.store.models import Cycle, Walk
from sync.protocol import PHASES
from sync.protocol.vocabulary import phase_label
from sync.protocol.intervals import TOO_CLOSE, interval_text, overlap

NO_TARGET = 'No target set for this priority (a lead sets it with "Change this cycle" on the New walk screen)'
REACHED, BELOW, UNDECIDED = "target reached", "below target", "too close to call against the target"


def target_status(share: float | None, interval: tuple[float, float] | None, target: int | None) -> str:
    """Where a share stands against a target percent: reached when its whole 95% interval is at or above the
    target, below when the whole interval is under it, else too close to call ('' with no target or share)."""
    if target is None or share is None or interval is None:
        return ""
    t = target / 100
    if interval[0] >= t:
        return REACHED
    if interval[1] < t:
        return BELOW
    return UNDECIDED


@dataclass
class TrendRow:
    lookfor_id: str
    label: str
    shares: list[float | None]  # evident share per walk, None when not rated, not in its rubric, or suppressed
    change: float | None  # last minus first available share, in percentage points
    intervals: list[tuple[float, float] | None] = field(default_factory=list)  # 95% Wilson, per walk
    too_close: bool = False  # the first and last shares' intervals overlap: the change could be chance
    priority: int | None = None  # the N of the cycle's "Priority N" this look-for belongs to
    target: int | None = None  # the priority's target: evident in this percent of classrooms by the end-of-cycle walk

    @property
    def latest(self) -> tuple[int, float, tuple[float, float] | None] | None:
        """(walk index, share, interval) of the last walk with a number: the end-of-cycle walk once it is in."""
        for i in range(len(self.shares) - 1, -1, -1):
            if self.shares[i] is not None:
                return i, self.shares[i], self.intervals[i] if i < len(self.intervals) else None
        return None

    @property
    def status(self) -> str:
        got = self.latest
        return "" if got is None else target_status(got[1], got[2], self.target)

    @property
    def target_text(self) -> str:
        """'Target 60% by the end-of-cycle walk · latest 57% (95% interval 33-79%): too close to call against the
        target', or '' when the priority has no target."""
        if self.target is None:
            return ""
        head = f"Target {self.target}% by the end-of-cycle walk"
        got = self.latest
        if got is None:
            return head + " · no walk with a number yet"
        _, share, iv = got
        return f"{head} · latest {share * 100:.0f}% ({interval_text(iv)}): {self.status}"

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
    cycle: Cycle | None = None  # the cycle record, when the walk names one this device holds

    def sentence(self, r: TrendRow) -> str:
        """A priority's trend against its target in words, the same on the screen and in the PDF: 'Priority 1,
        Students learn with each other: Baseline 25%, Six-week 50%, End of cycle 100%; change +75 pts. Target 60%
        by the end-of-cycle walk · latest 100% (95% interval 68-100%): target reached.'"""
        trend = ", ".join(f"{phase_label(w.phase)} {pct(s)}" for w, s in zip(self.walks, r.shares))
        target = r.target_text or NO_TARGET
        return f"Priority {r.priority}, {r.label}: {trend}; change {r.change_text}. {target}."

    def to_json(self) -> dict:
        return {"school": self.school_id, "cycle": self.cycle_label,
                "cycle_id": None if self.cycle is None else self.cycle.id,
                "walks": [{"id": w.id, "date": w.walk_date.isoformat(), "phase": w.phase, "visits": n}
                          for w, n in zip(self.walks, self.visits)],
                "lookfors": [{"id": r.lookfor_id, "evident_shares": r.shares,
                              "intervals": [None if iv is None else [round(x, 4) for x in iv] for iv in r.intervals],
                              "change_points": r.change, "too_close_to_call": r.too_close,
                              "priority": r.priority, "target": None if r.target is None else r.target / 100,
                              "target_status": r.status or None}
                             for r in self.rows]}


def cycle_walks(engine: Engine, school_id: str, cycle_label: str, cycle_id: str | None = None) -> list[Walk]:
    """The live walks of a school's cycle, in phase order (baseline, six-week, end-of-cycle, other), then date: the
    walks naming the cycle record, or (an old walk naming none) the walks of the same school and label."""
    with Session(engine) as s:
        if cycle_id is not None:
            q = select(Walk).where(Walk.cycle_id == cycle_id, Walk.deleted == False)  # noqa: E712
        else:
            q = select(Walk).where(Walk.school_id == school_id, Walk.cycle_label == cycle_label,
                                   Walk.cycle_id.is_(None), Walk.deleted == False)  # noqa: E712
        walks = list(s.exec(q).all())
        for w in walks:
            s.expunge(w)
    rank = {p: i for i, p in enumerate(PHASES)}
    return sorted(walks, key=lambda w: (rank.get(w.phase, len(rank)), w.walk_date, w.id))


def walks_of(engine: Engine, walk: Walk) -> list[Walk]:
    """The walks of this walk's cycle (itself alone when it belongs to none)."""
    if walk.cycle_id:
        return cycle_walks(engine, walk.school_id, walk.cycle_label, walk.cycle_id)
    return cycle_walks(engine, walk.school_id, walk.cycle_label) if walk.cycle_label else [walk]


def load_walk(s: Session, walk_id: str) -> Walk:
    """The walk, detached from the session; TallyError if it is not on this device."""
    walk = s.get(Walk, walk_id)
    if walk is None or walk.deleted:
        raise TallyError(f"Walk {walk_id} is not on this device (or was deleted).")
    s.expunge(walk)
    return walk


def cycle_trend(engine: Engine, catalog: RubricCatalog, walk_id: str) -> CycleTrend:
    """The trend of the cycle a walk belongs to (its school and cycle label)."""
    with Session(engine) as s:
        walk = load_walk(s, walk_id)
        cycle = s.get(Cycle, walk.cycle_id) if walk.cycle_id else None
        if cycle is not None:
            s.expunge(cycle)
    walks = walks_of(engine, walk)
    tallies: list[WalkTally] = [walk_tally(engine, catalog, w.id) for w in walks]
    focus: list[str] = []
    goal: dict[str, tuple[int, int | None]] = {}  # look-for -> (priority number, target)
    if cycle is not None and not cycle.deleted:
        for n, p in enumerate(cycle.priorities, 1):
            for f in p.get("lookfors") or []:
                if f not in focus:
                    focus.append(f)
                    goal[f] = (n, p.get("target"))
    else:
        cycle = None
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
        priority, target = goal.get(lf_id, (None, None))
        rows.append(TrendRow(lf_id, label, shares, change, intervals, close, priority, target))
    return CycleTrend(walk.school_id, cycle.name if cycle is not None else walk.cycle_label, walks,
                      [None if t.suppressed else t.visits for t in tallies], rows, cycle)
