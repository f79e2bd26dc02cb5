"""Look-for tallies of one walk, computed by SQL aggregates (GROUP BY over rating joined to visit).

What counts (which visits, over what base, what "evident" means) is the shared definition sync.protocol.tally,
which the server's XLSX Tallies sheet uses too: this module builds its two queries from it. Per walk: one query
counts the visits (by group and subject), one counts the rating cells (by group, look-for, value); nothing loops
over rating rows in Python. Only live rows count (deleted = false on walk, visit, rating).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.debrief import suppression
from app.debrief.bands import BAND_NAMES, band_case
from app.store.catalog import RubricCatalog
from app.store.models import Rating, Visit, Walk
from rubrics import LookFor, Rubric, Scale
from sync.protocol import CLASS_TYPES, SUBJECTS
from sync.protocol import tally as definition
from sync.protocol.intervals import wilson
from sync.protocol.observers import observer_label, observer_order
from sync.protocol.tally import LookforRule, TallyRules, is_checklist
from sync.protocol.vocabulary import class_type_label
from sync.errors import LearnwalkError

GROUPINGS = ("grade_band", "subject", "class_type", "observer")
NOT_RECORDED = "Not recorded"


class TallyError(LearnwalkError):
    """A debrief request that cannot be answered; the message says what and how to fix it."""


@dataclass(frozen=True)
class Filters:
    grade_band: str | None = None
    subject: str | None = None
    class_type: str | None = None
    observer: int | None = None  # the N of "Observer N"

    def active(self) -> bool:
        return any(v is not None for v in (self.grade_band, self.subject, self.class_type, self.observer))

    def as_dict(self) -> dict:
        return {k: v for k, v in (("grade_band", self.grade_band), ("subject", self.subject),
                                  ("class_type", self.class_type), ("observer", self.observer)) if v is not None}

    def describe(self) -> str:
        parts = []
        if self.grade_band:
            parts.append(f"grades {self.grade_band}")
        if self.subject:
            parts.append(self.subject)
        if self.class_type:
            parts.append(class_type_label(self.class_type).lower())  # mid-sentence: "grades 3-5, inclusion"
        if self.observer:
            parts.append(observer_label(self.observer))
        return ", ".join(parts) or "all visits"

    def check(self) -> None:
        if self.grade_band is not None and self.grade_band not in BAND_NAMES:
            raise TallyError(f"Grade band '{self.grade_band}' is not one of {', '.join(BAND_NAMES)}.")
        if self.class_type is not None and self.class_type not in CLASS_TYPES:
            raise TallyError(f"Class type '{self.class_type}' is not one of {', '.join(CLASS_TYPES)}.")
        if self.observer is not None and self.observer < 1:
            raise TallyError("Observer numbers start at 1 (Observer 1, Observer 2, ...).")


def check_request(filters: Filters, by: str | None) -> None:
    """Raise TallyError for a filter or grouping the debrief does not know (a usage error)."""
    filters.check()
    if by is not None and by not in GROUPINGS:
        raise TallyError(f"Cannot break down by '{by}'; choose one of {', '.join(GROUPINGS)}.")


@dataclass
class Cell:
    """The numbers of one look-for over one set of visits."""
    visits: int  # visits of the set this look-for applies to (subject-limited look-fors count fewer)
    rated: int = 0
    not_observed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    base: int = 0  # denominator of the shares: rated visits (a checklist's "Not seen" is a rating)
    evident: int = 0
    suppressed: bool = False

    def share(self, value: str) -> float | None:
        return self.counts.get(value, 0) / self.base if self.base and not self.suppressed else None

    @property
    def evident_share(self) -> float | None:
        return self.evident / self.base if self.base and not self.suppressed else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% Wilson interval of the evident share (sync.protocol.intervals), None when there is no share."""
        return wilson(self.evident, self.base) if self.base and not self.suppressed else None

    def to_json(self, scale: Scale) -> dict:
        if self.suppressed:
            return {"suppressed": True, "visits": None, "rated": None, "not_observed": None, "counts": None,
                    "shares": None, "evident": None, "of": None, "evident_share": None, "interval": None}
        return {"suppressed": False, "visits": self.visits, "rated": self.rated, "not_observed": self.not_observed,
                "counts": dict(self.counts), "shares": {v: _r(self.share(v)) for v in scale.values()},
                "base": "rated",
                "evident": self.evident, "of": self.base, "evident_share": _r(self.evident_share),
                "interval": None if self.interval is None else [_r(x) for x in self.interval]}


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


@dataclass
class LookforTally:
    lookfor: LookFor
    scale: Scale
    domain_title: str
    focus: bool
    cell: Cell

    @property
    def id(self) -> str:
        return self.lookfor.id

    def to_json(self) -> dict:
        return {"id": self.id, "label": self.lookfor.label, "domain": self.lookfor.domain, "focus": self.focus,
                "equity": self.lookfor.equity, "evident_values": self.scale.evident_values(),
                **self.cell.to_json(self.scale)}


@dataclass
class Group:
    key: str  # '' = not recorded; for observers the (never shown) observer id
    label: str
    public_key: str
    visits: int
    suppressed: bool


@dataclass
class WalkTally:
    walk: Walk
    rubric: Rubric
    threshold: int
    filters: Filters
    total_visits: int  # the whole walk, unfiltered (classrooms: a calibration pair counts once)
    visits: int
    observers: int
    suppressed: bool
    lookfors: list[LookforTally]  # focus look-fors first (walk order), then by domain in rubric order
    by: str | None = None
    groups: list[Group] = field(default_factory=list)
    group_cells: dict[str, dict[str, Cell]] = field(default_factory=dict)  # lookfor id -> group key -> cell
    in_progress: int = 0  # live visits of the walk not finished yet: not counted
    empty_finished: int = 0  # finished with no rating and no "not observed": not counted

    @property
    def suppressed_message(self) -> str:
        return suppression.message(self.threshold)

    def get(self, lookfor_id: str) -> LookforTally:
        return next(t for t in self.lookfors if t.id == lookfor_id)

    def sections(self) -> list[tuple[str, list[LookforTally]]]:
        """('Focus look-fors', ...) first, then one section per domain holding the other look-fors."""
        out = [("Focus look-fors", [t for t in self.lookfors if t.focus])]
        for d in self.rubric.domains:
            rows = [t for t in self.lookfors if not t.focus and t.lookfor.domain == d.id]
            if rows:
                out.append((d.title, rows))
        return [s for s in out if s[1]]

    def to_json(self) -> dict:
        data = {"walk": self.walk.id, "rubric": self.rubric.key, "threshold": self.threshold,
                "filters": self.filters.as_dict(), "suppressed": self.suppressed,
                "visits": None if self.suppressed else self.visits,
                "not_counted": {"in_progress": self.in_progress, "finished_empty": self.empty_finished},
                "lookfors": [t.to_json() for t in self.lookfors]}
        if self.by:
            data["by"] = self.by
            data["groups"] = [
                {"key": g.public_key, "label": g.label, "suppressed": g.suppressed,
                 "visits": None if g.suppressed else g.visits,
                 "lookfors": [{"id": t.id, **self.group_cells[t.id][g.key].to_json(t.scale)} for t in self.lookfors]}
                for g in self.groups]
        return data


# ---- queries ----------------------------------------------------------------------------------------

def observer_ids(conn, walk_id: str) -> list[str]:
    """The walk's observers in their stable order: 'Observer 1' is the first id here (ids are never shown)."""
    q = select(Visit.observer_id).where(Visit.walk_id == walk_id, Visit.deleted == False).distinct()  # noqa: E712
    return observer_order(r[0] for r in conn.execute(q))


@functools.cache
def counted_visit():
    """SQL condition: a live, finished, marked visit that tallies count (the first observer's visit of a
    calibration pair); the device's partners are the visits it holds. Built once: building it costs about 1.5 ms
    (measured), a third of a small walk's tally, and it names no walk."""
    return definition.counted_visit(Visit, aliased(Visit),
                                    marked_visit=lambda v: definition.marked(v, aliased(Rating)))


def uncounted_visits(conn, walk_id: str) -> tuple[int, int]:
    """(visits in progress, finished visits with no mark) of the walk: live visits the tallies leave out (one
    statement)."""
    rating = aliased(Rating)
    open_ = func.coalesce(func.sum(case((Visit.ended_at.is_(None), 1), else_=0)), 0)
    empty = func.coalesce(func.sum(case((and_(definition.finished(Visit), ~definition.marked(Visit, rating)), 1),
                                        else_=0)), 0)
    row = conn.execute(select(open_, empty).where(Visit.walk_id == walk_id, Visit.deleted == False)).one()  # noqa: E712
    return int(row[0]), int(row[1])


def _group_expr(by: str | None):
    if by is None:
        return literal("")
    if by == "grade_band":
        return band_case(Visit.grade)
    if by == "observer":
        return Visit.observer_id
    return func.coalesce(getattr(Visit, by), "")


def _filter_conds(filters: Filters, observers: list[str]) -> list:
    conds = []
    if filters.grade_band:
        conds.append(band_case(Visit.grade) == filters.grade_band)
    if filters.subject:
        conds.append(Visit.subject == filters.subject)
    if filters.class_type:
        conds.append(Visit.class_type == filters.class_type)
    if filters.observer:
        if filters.observer > len(observers):
            raise TallyError(f"Observer {filters.observer} is not on this walk; it has {len(observers)} "
                             f"observer{'s' if len(observers) != 1 else ''}.")
        conds.append(Visit.observer_id == observers[filters.observer - 1])
    return conds


def _group_order(by: str | None, keys: set[str], observers: list[str]) -> list[str]:
    if by == "grade_band":
        known = list(BAND_NAMES)
    elif by == "subject":
        known = list(SUBJECTS)
    elif by == "class_type":
        known = list(CLASS_TYPES)
    elif by == "observer":
        known = observers
    else:
        known = []
    rank = {k: i for i, k in enumerate(known)}
    return sorted(keys, key=lambda k: (k == "", rank.get(k, len(rank)), k))


def _group_label(by: str | None, key: str, observers: list[str]) -> str:
    if key == "":
        return NOT_RECORDED if by else "All visits"
    if by == "observer":
        return observer_label(observers.index(key) + 1)
    if by == "class_type":
        return class_type_label(key)
    return key


def _ordered_lookfors(rubric: Rubric, focus: list[str]) -> list[LookFor]:
    known = {lf.id: lf for lf in rubric.lookfors}
    first = [known[f] for f in focus if f in known]
    rest = [lf for d in rubric.domains for lf in rubric.lookfors_in(d.id) if lf.id not in focus]
    return first + rest


def _cell(rule: LookforRule, visits: int, raw: dict[tuple[str | None, bool], int]) -> Cell:
    c = rule.count(visits, {v: n for (v, no), n in raw.items() if not no},
                   sum(n for (v, no), n in raw.items() if no))
    return Cell(visits=c.visits, rated=c.rated, not_observed=c.not_observed, counts=c.counts, base=c.share_base,
                evident=c.evident)


def walk_tally(engine: Engine, catalog: RubricCatalog, walk_id: str, filters: Filters | None = None,
               by: str | None = None, threshold: int | None = None,
               lookfor_ids: list[str] | None = None, lookfor_filter=None) -> WalkTally:
    """The tallies of a walk (optionally filtered, optionally broken down by a grouping), with suppression.

    lookfor_ids / lookfor_filter keep only some look-fors (e.g. the equity ones); the queries stay the same.
    """
    filters = filters or Filters()
    check_request(filters, by)
    limit = threshold if threshold is not None else suppression.threshold(engine)
    with Session(engine) as conn:
        walk = conn.get(Walk, walk_id)
        if walk is None or walk.deleted:
            raise TallyError(f"Walk {walk_id} is not on this device (or was deleted); "
                             "list the walks in the app or sync to receive it.")
        rubric = catalog.get(walk.rubric_id, walk.rubric_version)
        if rubric is None:
            raise TallyError(f"Rubric {walk.rubric_id}@{walk.rubric_version} of walk {walk_id} is not on this "
                             "device; sync with the server to receive it.")
        observers = observer_ids(conn, walk_id)
        rules = TallyRules.of(rubric)
        conds = [Visit.walk_id == walk_id, counted_visit(), *_filter_conds(filters, observers)]
        g = _group_expr(by).label("g")
        keys = [g] if by else []  # grouping by a constant would only make the sort wider

        # query 1: visits by group and kind (subject, and grade when a look-for is grade-limited: they decide
        # which look-fors apply); a rubric without grade limits groups by subject alone, as it always did
        kind = (Visit.subject, Visit.grade) if rules.by_grade else (Visit.subject,)
        vq = select(g, *kind, func.count()).where(*conds).group_by(*keys, *kind)
        visit_rows = conn.execute(vq).all()
        # query 2: rating cells by group, look-for, value
        rq = (select(g, Rating.lookfor_id, Rating.value, Rating.not_observed, func.count())
              .join(Visit, Visit.id == Rating.visit_id)
              .where(Rating.deleted == False, or_(Rating.value.is_not(None), Rating.not_observed == True),  # noqa: E712
                     rules.rating_in_base(Rating.lookfor_id, Visit.subject,
                                          Visit.grade if rules.by_grade else None), *conds)
              .group_by(*keys, Rating.lookfor_id, Rating.value, Rating.not_observed))
        rating_rows = conn.execute(rq).all()
        if filters.active():
            total = conn.execute(select(func.count()).select_from(Visit)
                                 .where(Visit.walk_id == walk_id, counted_visit())).scalar_one()
        else:
            total = sum(r[-1] for r in visit_rows)
        in_progress, empty_finished = uncounted_visits(conn, walk_id)
        conn.expunge(walk)

    # shaping the aggregate rows (a few per group and look-for value) into cells
    by_group_kind: dict[str, dict[definition.Kind, int]] = {}  # group -> (subject, grade) -> visits
    for key, subject, *grade, n in visit_rows:
        by_group_kind.setdefault(key, {})[(subject, grade[0] if grade else None)] = n
    raw: dict[str, dict[str, dict[tuple[str | None, bool], int]]] = {}
    for key, lf_id, value, no, n in rating_rows:
        cell = raw.setdefault(lf_id, {}).setdefault(key, {})
        cell[(None if no else value, bool(no))] = cell.get((None if no else value, bool(no)), 0) + n
    visits = sum(sum(d.values()) for d in by_group_kind.values())
    view_hidden = suppression.view_suppressed(visits, total, limit, filters.active())

    wanted = set(lookfor_ids) if lookfor_ids is not None else None
    tallies: list[LookforTally] = []
    group_cells: dict[str, dict[str, Cell]] = {}
    group_keys = _group_order(by, set(by_group_kind), observers) if by else []
    domains = {d.id: d.title for d in rubric.domains}
    all_kinds: dict[definition.Kind, int] = {}
    for kinds in by_group_kind.values():
        for k, n in kinds.items():
            all_kinds[k] = all_kinds.get(k, 0) + n
    for lf in _ordered_lookfors(rubric, walk.focus):
        if (wanted is not None and lf.id not in wanted) or (lookfor_filter is not None and not lookfor_filter(lf)):
            continue
        scale, rule = rubric.scale(lf.scale), rules.lookfors[lf.id]
        per_group = raw.get(lf.id, {})
        merged: dict[tuple[str | None, bool], int] = {}
        for cellraw in per_group.values():
            for k, n in cellraw.items():
                merged[k] = merged.get(k, 0) + n
        whole = _cell(rule, rule.base(all_kinds), merged)
        whole.suppressed = view_hidden or suppression.is_small(whole.visits, limit)
        tallies.append(LookforTally(lf, scale, domains.get(lf.domain, lf.domain), lf.id in walk.focus, whole))
        if by:
            cells = {k: _cell(rule, rule.base(by_group_kind[k]), per_group.get(k, {})) for k in group_keys}
            hidden = suppression.suppressed_cells({k: c.visits for k, c in cells.items()}, limit)
            for k, c in cells.items():
                c.suppressed = view_hidden or k in hidden
            group_cells[lf.id] = cells

    groups = []
    if by:
        sizes = {k: sum(by_group_kind[k].values()) for k in group_keys}
        hidden = suppression.suppressed_cells(sizes, limit)
        groups = []
        for k in group_keys:
            label = _group_label(by, k, observers)
            public = "none" if k == "" else (label.lower().replace(" ", "-") if by == "observer" else k)
            groups.append(Group(k, label, public, sizes[k], view_hidden or k in hidden))
    return WalkTally(walk=walk, rubric=rubric, threshold=limit, filters=filters, total_visits=total, visits=visits,
                     observers=len(observers), suppressed=view_hidden, lookfors=tallies, by=by, groups=groups,
                     group_cells=group_cells, in_progress=in_progress, empty_finished=empty_finished)
