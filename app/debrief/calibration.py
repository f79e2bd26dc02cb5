"""Calibration: how closely two observers rated the same classroom (visits sharing a calibration pair code).

Per look-for: exact agreement, adjacent agreement (levels at most one step apart, on scales of 3+ levels) and Cohen's kappa
(agreement beyond chance: (po - pe) / (1 - pe)), with the pairs that disagreed listed for discussion.
A pair is compared on a look-for when both observers answered it; 'not observed' is an answer of its own,
and a checklist's 'Not seen' is a level like any other (a blank is no answer, on every scale). Observers appear as 'Observer N', never by id.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.debrief.tally import TallyError, observer_ids
from app.store.catalog import RubricCatalog
from app.store.models import Rating, Visit, Walk
from rubrics import Rubric, Scale
from sync.protocol.observers import observer_label
from sync.protocol.tally import finished
from sync.protocol.vocabulary import NOT_OBSERVED_LABEL

NOT_OBSERVED = "na"


@dataclass(frozen=True)
class Kappa:
    items: int
    po: float | None  # observed agreement
    pe: float | None  # agreement expected by chance from each rater's own category shares
    kappa: float | None  # None when undefined: no items, or chance agreement is 1 (one category only)


def cohen_kappa(pairs: list[tuple[str, str]]) -> Kappa:
    """Cohen's kappa for two raters over items given as (rater A's category, rater B's category)."""
    n = len(pairs)
    if n == 0:
        return Kappa(0, None, None, None)
    po = sum(1 for a, b in pairs if a == b) / n
    a_counts, b_counts = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    pe = sum(a_counts[c] * b_counts[c] for c in a_counts) / (n * n)
    kappa = None if pe >= 1 else (po - pe) / (1 - pe)
    return Kappa(n, po, pe, kappa)


def weighted_kappa(pairs: list[tuple[str, str]], order: list[str]) -> Kappa:
    """Linear-weighted kappa for an ordinal scale: a near miss counts partly as agreement.

    Agreement weight w = 1 - |i - j| / (k - 1) for categories at positions i, j of `order` (k categories);
    kappa_w = (po_w - pe_w) / (1 - pe_w), po_w the mean weight of the pairs, pe_w the same from each rater's own
    category shares (Cohen 1968). Pairs with an answer outside `order` (e.g. 'not observed') are left out.
    """
    k = len(order)
    pos = {c: i for i, c in enumerate(order)}
    items = [(pos[a], pos[b]) for a, b in pairs if a in pos and b in pos]
    n = len(items)
    if n == 0 or k < 2:
        return Kappa(n, None, None, None)

    def w(i: int, j: int) -> float:
        return 1 - abs(i - j) / (k - 1)

    po = sum(w(i, j) for i, j in items) / n
    a_counts, b_counts = Counter(i for i, _ in items), Counter(j for _, j in items)
    pe = sum(a_counts[i] * b_counts[j] * w(i, j) for i in a_counts for j in b_counts) / (n * n)
    return Kappa(n, po, pe, None if pe >= 1 else (po - pe) / (1 - pe))


@dataclass
class Disagreement:
    code: str
    visits: tuple[int, int]
    observers: tuple[str, str]
    answers: tuple[str, str]  # level labels (a checklist's 'Not seen' among them) or 'Not observed'


@dataclass
class LookforAgreement:
    lookfor_id: str
    label: str
    compared: int
    exact: float | None
    adjacent: float | None
    kappa: Kappa
    disagreements: list[Disagreement] = field(default_factory=list)
    weighted: Kappa | None = None  # linear-weighted kappa, on scales of three or more levels only


@dataclass
class Calibration:
    pairs: int
    unpaired: list[str]  # sentences about codes that are not a pair of two observers
    lookfors: list[LookforAgreement]
    overall_exact: float | None

    def to_json(self) -> dict:
        return {"pairs": self.pairs, "unpaired": self.unpaired, "overall_exact": self.overall_exact,
                "lookfors": [{"id": a.lookfor_id, "compared": a.compared, "exact": a.exact, "adjacent": a.adjacent,
                              "kappa": a.kappa.kappa, "weighted_kappa": a.weighted.kappa if a.weighted else None,
                              "disagreements": [{"code": d.code, "visits": list(d.visits), "answers": list(d.answers),
                                                 "observers": list(d.observers)} for d in a.disagreements]}
                             for a in self.lookfors]}


def _answer(scale: Scale, cell: tuple[str | None, bool] | None) -> str | None:
    if cell is None:
        return None  # not rated: no answer to compare, on a checklist as on every scale
    value, not_observed = cell
    return NOT_OBSERVED if not_observed else value


def _words(scale: Scale, answer: str) -> str:
    if answer == NOT_OBSERVED:
        return NOT_OBSERVED_LABEL
    return scale.label_of(answer) or answer


def _adjacent(scale: Scale, a: str, b: str) -> bool:
    vals = scale.values()
    if a == b:
        return True
    if a in vals and b in vals:
        return abs(vals.index(a) - vals.index(b)) <= 1
    return False


def agreement(rubric: Rubric, pairs: list[tuple[str, tuple, tuple]], lookfor_ids: list[str]) -> list[LookforAgreement]:
    """pairs: (code, (visit_no, observer label, cells), (visit_no, observer label, cells)); cells: lookfor -> (value, na)."""
    out = []
    for lf_id in lookfor_ids:
        lf = rubric.lookfor(lf_id)
        scale = rubric.scale(lf.scale)
        items, near, disagree = [], 0, []
        for code, (no_a, obs_a, cells_a), (no_b, obs_b, cells_b) in pairs:
            a, b = _answer(scale, cells_a.get(lf_id)), _answer(scale, cells_b.get(lf_id))
            if a is None or b is None:
                continue
            items.append((a, b))
            near += _adjacent(scale, a, b)
            if a != b:
                disagree.append(Disagreement(code, (no_a, no_b), (obs_a, obs_b), (_words(scale, a), _words(scale, b))))
        n = len(items)
        k = cohen_kappa(items)
        # adjacency means something only on a scale of three or more levels
        adjacent = near / n if n and len(scale.levels) >= 3 else None
        weighted = weighted_kappa(items, scale.values()) if len(scale.levels) >= 3 else None
        out.append(LookforAgreement(lf_id, lf.label, n, k.po, adjacent, k, disagree, weighted))
    return out


def descriptors_for(rubric: Rubric, lookfor_id: str, answers: tuple[str, str]) -> tuple[str, str]:
    """What each of a disagreement's two answers (level labels, as Disagreement.answers holds them) looks like
    for this look-for, from the rubric's level descriptors: the anchors a pair discusses. "" for an answer the
    rubric does not describe ('Not observed', a checklist's derived 'Not seen', or a rubric without descriptors)."""
    lf = rubric.lookfor(lookfor_id)
    scale = rubric.scale(lf.scale)
    by_label = {lv.label: lv.value for lv in scale.levels}
    return tuple(lf.descriptor(by_label[a]) if a in by_label else "" for a in answers)  # type: ignore[return-value]


def calibration(engine: Engine, catalog: RubricCatalog, walk_id: str) -> Calibration:
    """The calibration pairs of a walk and their agreement per look-for (one query over the paired visits)."""
    with Session(engine) as s:
        walk = s.get(Walk, walk_id)
        if walk is None or walk.deleted:
            raise TallyError(f"Walk {walk_id} is not on this device (or was deleted).")
        rubric = catalog.get(walk.rubric_id, walk.rubric_version)
        if rubric is None:
            raise TallyError(f"Rubric {walk.rubric_id}@{walk.rubric_version} is not on this device; sync first.")
        observers = observer_ids(s, walk_id)
        q = (select(Visit.calibration_code, Visit.id, Visit.visit_no, Visit.observer_id, Rating.lookfor_id,
                    Rating.value, Rating.not_observed)
             .outerjoin(Rating, and_(Rating.visit_id == Visit.id, Rating.deleted == False))  # noqa: E712
             .where(Visit.walk_id == walk_id, Visit.deleted == False, Visit.calibration_code.is_not(None),  # noqa: E712
                    Visit.calibration_code != "", finished(Visit))  # an open visit is not compared yet
             .order_by(Visit.calibration_code, Visit.observer_id))
        rows = s.execute(q).all()
    visits: dict[str, dict[str, tuple[int, str, dict]]] = {}
    for code, vid, no, obs, lf_id, value, na in rows:
        entry = visits.setdefault(code, {}).setdefault(vid, (no, obs, {}))
        if lf_id is not None and (value is not None or na):
            entry[2][lf_id] = (value, bool(na))
    pairs, unpaired = [], []
    for code in sorted(visits):
        members = sorted(visits[code].values(), key=lambda m: (m[1], m[0]))
        if len(members) != 2 or members[0][1] == members[1][1]:
            why = ("has only one finished visit; the partner's visit may be still open or not synced yet"
                   if len(members) == 1 else "has two visits by the same observer" if len(members) == 2 else
                   f"has {len(members)} visits; a pair is two observers")
            unpaired.append(f"Pair code {code} {why}.")
            continue
        pairs.append((code, *[(m[0], observer_label(observers.index(m[1]) + 1), m[2]) for m in members]))
    ids = [lf.id for d in rubric.domains for lf in rubric.lookfors_in(d.id)]
    focus = [f for f in walk.focus if f in ids]
    per = agreement(rubric, pairs, focus + [i for i in ids if i not in focus])
    compared = sum(a.compared for a in per)
    exact = sum((a.exact or 0) * a.compared for a in per) / compared if compared else None
    return Calibration(len(pairs), unpaired, per, exact)


# ---- drift: each observer's agreement across the cycle's walks ------------------------------------------------

@dataclass
class Drift:
    observer: str  # 'Observer N' of this walk (never an id)
    cells: list[tuple[int, float | None]]  # per walk of the cycle: (answers compared, exact agreement)


def _pair_answers(s: Session, rubric: Rubric, walk_id: str) -> list[tuple[str, str, bool]]:
    """(observer id, partner id, same answer) per look-for both answered, over the walk's calibration pairs (two
    visits of two observers sharing a code), seen from each side."""
    q = (select(Visit.calibration_code, Visit.id, Visit.observer_id, Rating.lookfor_id, Rating.value,
                Rating.not_observed)
         .outerjoin(Rating, and_(Rating.visit_id == Visit.id, Rating.deleted == False))  # noqa: E712
         .where(Visit.walk_id == walk_id, Visit.deleted == False, Visit.calibration_code.is_not(None),  # noqa: E712
                Visit.calibration_code != "", finished(Visit)))
    visits: dict[str, dict[str, tuple[str, dict]]] = {}
    for code, vid, obs, lf_id, value, na in s.execute(q).all():
        entry = visits.setdefault(code, {}).setdefault(vid, (obs, {}))
        if lf_id is not None and (value is not None or na):
            entry[1][lf_id] = (value, bool(na))
    out = []
    for members in visits.values():
        if len(members) != 2:
            continue
        (oa, ca), (ob, cb) = members.values()
        if oa == ob:
            continue
        for lf in rubric.lookfors:
            scale = rubric.scale(lf.scale)
            a, b = _answer(scale, ca.get(lf.id)), _answer(scale, cb.get(lf.id))
            if a is not None and b is not None:
                out += [(oa, ob, a == b), (ob, oa, a == b)]
    return out


def observer_drift(engine: Engine, catalog: RubricCatalog, walk_id: str) -> tuple[list, list[Drift]]:
    """(the cycle's walks, per observer of this walk their exact agreement with their partners on each walk).

    A falling share across the walks is drift: the observer's reading of the rubric moving away from the team's.
    """
    from app.debrief.trends import walks_of  # trends imports tally, as this module does: no cycle

    with Session(engine) as s:
        walk = s.get(Walk, walk_id)
        if walk is None or walk.deleted:
            raise TallyError(f"Walk {walk_id} is not on this device (or was deleted).")
        s.expunge(walk)
        observers = observer_ids(s, walk_id)
        walks = walks_of(engine, walk)
        per_walk = []
        for w in walks:
            rubric = catalog.get(w.rubric_id, w.rubric_version)
            per_walk.append(_pair_answers(s, rubric, w.id) if rubric is not None else [])
    rows = []
    for n, obs in enumerate(observers, start=1):
        cells = []
        for answers in per_walk:
            mine = [same for who, _, same in answers if who == obs]
            cells.append((len(mine), sum(mine) / len(mine) if mine else None))
        if any(c for c, _ in cells):
            rows.append(Drift(observer_label(n), cells))
    return walks, rows
