"""Equity pause: the look-fors flagged for equity, broken down by class type, as a prompt for the team; for one
walk, and pooled over the walks of its cycle (pooled_equity), where the small groups reach the threshold.

Uses the tally breakdown by class type, so the same small-cell suppression applies. The prompts are questions,
not verdicts: walks are non-evaluative and read as trends.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.debrief.tally import Filters, TallyError, WalkTally, walk_tally
from app.store.catalog import RubricCatalog
from sync.protocol.intervals import wilson
from sync.protocol.vocabulary import CLASS_TYPES, class_type_label, phase_label

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


# ---- pooled across the cycle's walks --------------------------------------------------------------------------
# One walk visits 7-15 classrooms, so its inclusion and English-learner groups are nearly always under the
# threshold and suppressed. Pooled over the cycle's walks (baseline, six-week, end of cycle), the same groups reach
# it: the pooled cell is the sum of the walks' counted visits and ratings, and suppression applies to the pooled
# cells exactly as to a walk's (small cells, and a complement when only one cell of a row is small).

@dataclass
class PooledCell:
    visits: int
    evident: int
    base: int
    suppressed: bool

    @property
    def share(self) -> float | None:
        return self.evident / self.base if self.base and not self.suppressed else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.evident, self.base) if self.base and not self.suppressed else None

    def to_json(self) -> dict:
        if self.suppressed:
            return {"suppressed": True, "visits": None, "evident": None, "of": None, "evident_share": None,
                    "interval": None}
        iv = self.interval
        return {"suppressed": False, "visits": self.visits, "evident": self.evident, "of": self.base,
                "evident_share": None if self.share is None else round(self.share, 4),
                "interval": None if iv is None else [round(x, 4) for x in iv]}


@dataclass
class PooledEquity:
    """The equity look-fors by class type over the walks of a cycle."""
    walks: list  # the walks pooled (app.store.models.Walk), in cycle order
    left_out: list  # (walk, why) of the cycle's walks not pooled
    threshold: int
    groups: list[tuple[str, str, int, bool]]  # (class type key, label, visits, suppressed)
    lookfors: list[tuple[str, str]]  # (id, label)
    cells: dict[str, dict[str, PooledCell]]  # look-for id -> class type key -> cell
    single_hidden: dict[str, int]  # class type key -> how many of the pooled walks suppress it on their own

    @property
    def useful(self) -> bool:
        return len(self.walks) >= 2 and bool(self.lookfors)

    def why(self) -> str:
        """The sentence that says which walks were pooled and why."""
        names = ", ".join(f"{phase_label(w.phase).lower()} {w.walk_date.isoformat()}" for w in self.walks)
        text = (f"Pooled over {len(self.walks)} walks of this cycle ({names}): one walk sees too few inclusion or "
                f"English-learner classrooms to show them, so the cycle's walks are counted together; groups under "
                f"{self.threshold} visits are still not shown.")
        if self.left_out:
            text += " Not pooled: " + "; ".join(f"{phase_label(w.phase).lower()} {w.walk_date.isoformat()} ({why})"
                                                for w, why in self.left_out) + "."
        return text

    def to_json(self) -> dict:
        return {"pooled_walks": [w.id for w in self.walks], "threshold": self.threshold,
                "left_out": [{"walk": w.id, "why": why} for w, why in self.left_out],
                "groups": [{"key": k or "none", "label": label, "suppressed": hidden,
                            "visits": None if hidden else n,
                            "suppressed_on_one_walk": self.single_hidden.get(k, 0),
                            "lookfors": [{"id": lf, **self.cells[lf][k].to_json()} for lf, _ in self.lookfors]}
                           for k, label, n, hidden in self.groups]}


def pooled_equity(engine: Engine, catalog: RubricCatalog, walk_id: str) -> PooledEquity:
    """The equity look-fors by class type, summed over the walks of this walk's cycle that use its rubric id."""
    from app.debrief import suppression
    from app.debrief.trends import load_walk, walks_of

    with Session(engine) as s:
        walk = load_walk(s, walk_id)
    limit = suppression.threshold(engine)
    pooled, left_out, tallies = [], [], []
    for w in walks_of(engine, walk):
        if w.rubric_id != walk.rubric_id:
            left_out.append((w, f"another rubric, {w.rubric_id}"))
            continue
        try:
            t = walk_tally(engine, catalog, w.id, by="class_type", threshold=limit,
                           lookfor_filter=lambda lf: lf.equity)
        except TallyError:
            left_out.append((w, "its rubric is not on this device"))
            continue
        pooled.append(w)
        tallies.append(t)
    lookfors: list[tuple[str, str]] = []
    sizes: dict[str, int] = {}
    raw: dict[str, dict[str, list[int]]] = {}  # look-for -> group -> [visits, evident, base]
    single_hidden: dict[str, int] = {}
    for t in tallies:
        for g in t.groups:
            sizes[g.key] = sizes.get(g.key, 0) + g.visits  # the raw sizes: suppression is applied to the sums
            single_hidden[g.key] = single_hidden.get(g.key, 0) + (1 if g.suppressed else 0)
        for lt in t.lookfors:
            if lt.id not in {i for i, _ in lookfors}:
                lookfors.append((lt.id, lt.lookfor.label))
            for key, c in t.group_cells.get(lt.id, {}).items():
                acc = raw.setdefault(lt.id, {}).setdefault(key, [0, 0, 0])
                acc[0] += c.visits
                acc[1] += c.evident
                acc[2] += c.base
    order = {k: i for i, k in enumerate(CLASS_TYPES)}
    keys = sorted(sizes, key=lambda k: (k == "", order.get(k, len(order)), k))
    hidden_groups = suppression.suppressed_cells(sizes, limit)
    groups = [(k, class_type_label(k) if k else "Not recorded", sizes[k], k in hidden_groups) for k in keys]
    cells: dict[str, dict[str, PooledCell]] = {}
    for lf, _ in lookfors:
        per = {k: raw.get(lf, {}).get(k, [0, 0, 0]) for k in keys}
        hidden = suppression.suppressed_cells({k: v[0] for k, v in per.items()}, limit)
        cells[lf] = {k: PooledCell(v[0], v[1], v[2], k in hidden or k in hidden_groups) for k, v in per.items()}
    return PooledEquity(pooled, left_out, limit, groups, lookfors, cells, single_hidden)
