"""What a look-for tally counts, defined once: the device's debrief and the server's XLSX Tallies sheet both use it.

The rule in words is docs/debrief.md, "What is counted". Per walk and look-for:
- counted visits: live visits that are finished (an end time) and marked (at least one live cell holding a value or
  "not observed"): a visit still open, or finished with nothing rated, is not a classroom's numbers yet; of a
  calibration pair (counted visits of one walk sharing a calibration code) only those of the observer whose id
  sorts first, among the visits the reader holds (one classroom counts once);
- the look-for's base: the counted visits it applies to, the visits the capture screen shows it in (a
  subject-limited look-for: visits of its subjects and visits with no subject recorded; a grade-limited one,
  rubric format 2 `grades`: visits of a grade in its range and visits with no grade recorded; both limits: both
  hold); only the ratings of those visits count;
- rated: cells holding a value of the scale; not observed: cells marked so; counts: rated cells per scale value;
  evident: rated cells at or above the scale's evident_from (default its top level);
- shares are of rated cells, on every scale: a checklist (a scale authored with one level, "Seen") has a second,
  derived level "Not seen" (vocabulary.NOT_SEEN_VALUE), an answer like any level; its blank means "not rated".

One rule, two faces: SQL conditions for a store that keeps ratings as rows (the device's GROUP BY queries), and
per-look-for rule objects for a reader that counts cells in Python (the server's streaming export). Both sides
import this module; it imports neither of them. Counted visits are tallied per kind, a (subject, grade) pair: a
reader of a rubric without grade-limited look-fors (TallyRules.by_grade false) may leave every grade None and
group by subject alone, as before grades could limit a look-for.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, NamedTuple

from sqlalchemy import and_, case, exists, or_, true

if TYPE_CHECKING:
    from rubrics import LookFor, Rubric, Scale


def is_checklist(scale: "Scale") -> bool:
    """Authored as one level ('Seen'): answered "Seen" or "Not seen" (its derived lowest level), which changes
    the words ("seen in 9 of 14 visits"), never what is counted."""
    return scale.checklist


def no_subject(subject: str | None) -> bool:
    return subject is None or subject == ""


def no_grade(grade: str | None) -> bool:
    return grade is None or grade == ""


Kind = tuple[str | None, str | None]  # (subject, grade) of a counted visit: which look-fors' bases it is in


class Count(NamedTuple):
    """The numbers of one look-for over one set of visits (a tuple: the export makes one per walk and look-for)."""
    visits: int  # the base: visits of the set the look-for applies to
    rated: int
    not_observed: int
    counts: dict[str, int]  # rated cells per scale value, every value listed, lowest first
    evident: int
    share_base: int  # denominator of the shares: the rated cells (a blank never moves a share)


@dataclass(frozen=True)
class LookforRule:
    """How one look-for of one rubric version is counted."""
    id: str
    values: tuple[str, ...] | None  # the scale's values, lowest first; None: a look-for no known rubric lists
    evident: frozenset[str]
    checklist: bool  # for words only: counted as every scale is
    subjects: frozenset[str] | None  # None: every subject
    grades: tuple[str, ...] | None = None  # the grades of its range, in vocabulary order; None: every grade

    @classmethod
    def of(cls, rubric: "Rubric", lookfor: "LookFor") -> "LookforRule":
        from rubrics import grade_span  # here, as the rubric types above: this module loads without rubrics

        scale = rubric.scale(lookfor.scale)
        return cls(lookfor.id, tuple(scale.values()), frozenset(scale.evident_values()), is_checklist(scale),
                   frozenset(lookfor.subjects) if lookfor.subjects else None,
                   grade_span(lookfor.grades) if lookfor.grades else None)

    @classmethod
    def unknown(cls, lookfor_id: str) -> "LookforRule":
        """A look-for id no rubric version lists (only a hand-edited database has one): its values are counted
        as they come, none is evident."""
        return cls(lookfor_id, None, frozenset(), False, None)

    @property
    def limited(self) -> bool:
        return self.subjects is not None or self.grades is not None

    def applies_to(self, subject: str | None, grade: str | None = None) -> bool:
        """Whether a visit of this subject and grade is in the base (an unrecorded one, None or "", is)."""
        return ((self.subjects is None or no_subject(subject) or subject in self.subjects)
                and (self.grades is None or no_grade(grade) or grade in self.grades))

    def base(self, visits_by_kind: Mapping[Kind, int]) -> int:
        """The visits this look-for applies to, from counted visits per (subject, grade)."""
        if not self.limited:
            return sum(visits_by_kind.values())
        return sum(n for (s, g), n in visits_by_kind.items() if self.applies_to(s, g))

    def count(self, visits: int, values: Mapping[str, int], not_observed: int) -> Count:
        """The look-for's numbers from its base visit count and the counts of its cells in that base."""
        get = values.get
        counts = {v: get(v, 0) for v in (self.values if self.values is not None else sorted(v for v in values if v))}
        rated = sum(counts.values())
        evident = sum([get(v, 0) for v in self.evident])
        return Count(visits, rated, not_observed, counts, evident, rated)


class TallyRules:
    """The rules of one rubric version's look-fors, in rubric order (none for a rubric the reader does not know)."""

    @classmethod
    def of(cls, rubric: "Rubric | None") -> "TallyRules":
        """The rules of this rubric, made once per rubric object: building them costs about 0.3 ms (measured),
        near a tenth of a small walk's whole tally. A published id@version never changes: one per key is kept."""
        if rubric is None:
            return cls(None)
        known = _KNOWN.get(rubric.key)
        if known is None or known[0] is not rubric:
            known = _KNOWN[rubric.key] = (rubric, cls(rubric))
        return known[1]

    def __init__(self, rubric: "Rubric | None"):
        self.lookfors: dict[str, LookforRule] = {lf.id: LookforRule.of(rubric, lf)
                                                 for lf in (rubric.lookfors if rubric else ())}
        self._limited = [r for r in self.lookfors.values() if r.limited]
        # whether a visit's grade decides any base: without it a reader may group by subject alone
        self.by_grade = any(r.grades is not None for r in self._limited)
        self._outside: dict[Kind, frozenset[str]] = {}
        self._sql: dict[tuple[int, int, int], tuple] = {}

    def rule(self, lookfor_id: str) -> LookforRule:
        return self.lookfors.get(lookfor_id) or LookforRule.unknown(lookfor_id)

    def outside_base(self, subject: str | None, grade: str | None = None) -> frozenset[str]:
        """The look-fors a visit of this subject and grade is not counted for (usually none), for a per-cell set
        check."""
        out = self._outside.get((subject, grade))
        if out is None:
            out = self._outside[(subject, grade)] = frozenset(r.id for r in self._limited
                                                              if not r.applies_to(subject, grade))
        return out

    def rating_in_base(self, lookfor_id, subject, grade=None):
        """SQL condition on a rating's look-for id and its visit's subject and grade columns: the rating's visit
        is in its look-for's base (always true for a rubric without limited look-fors). `grade` may be left out
        only when by_grade is false."""
        if not self._limited:
            return true()
        if self.by_grade and grade is None:
            raise TypeError("rating_in_base needs the visit's grade column: this rubric has grade-limited look-fors")
        # built once per set of columns: building it costs about 0.25 ms, near a tenth of a small walk's tally
        key = (id(lookfor_id), id(subject), id(grade))
        made = self._sql.get(key)
        if made is None or made[0] is not lookfor_id or made[1] is not subject or made[2] is not grade:
            # a simple CASE on the look-for id: measured a little cheaper per rating row than an OR of NOT IN
            # terms; equalities, not IN, since an IN list is rendered again on every execution
            def within(column, allowed):
                return or_(column.is_(None), *[column == v for v in ("", *allowed)])

            clause = case({r.id: and_(*([within(subject, sorted(r.subjects))] if r.subjects is not None else []),
                                      *([within(grade, r.grades)] if r.grades is not None else []))
                           for r in self._limited}, value=lookfor_id, else_=true())
            made = self._sql[key] = (lookfor_id, subject, grade, clause)
        return made[3]


_KNOWN: dict[str, tuple["Rubric", TallyRules]] = {}


def is_mark(value: str | None, not_observed: bool) -> bool:
    """A live cell that marks a visit as rated: a value, or "not observed" (a cleared cell is a tombstone)."""
    return bool(not_observed) or bool(value)


def finished(visit):
    """SQL condition: the visit was finished (it has an end time; reopening it clears that)."""
    return visit.ended_at.is_not(None)


def marked(visit, rating):
    """SQL condition for a store that keeps ratings as rows: `visit` has at least one live mark (is_mark)."""
    has_value = and_(rating.value.is_not(None), rating.value != "")
    return exists().where(rating.visit_id == visit.id, rating.deleted == False,  # noqa: E712
                          or_(has_value, rating.not_observed == True))  # noqa: E712


def counted_visit(visit, partner, *partner_where, marked_visit=None):
    """SQL condition: `visit` (a mapped visit class, or an alias) is live, finished, marked and counted in tallies.

    `partner` is another alias of the same table; `partner_where` limits partners to the visits the reader may
    see, so a partner the reader cannot see never hides a visit it can. `marked_visit(alias)` is the store's
    "has a mark" condition (`marked` over its rating rows); a reader whose cells are not rows passes None and
    checks marks itself with `counted_of` instead. Observer ids are compared as text; user ids are UUIDs of one
    shape, so every collation orders them alike.
    """
    marks = (lambda v: [marked_visit(v)]) if marked_visit is not None else (lambda v: [])
    earlier_partner = exists().where(partner.walk_id == visit.walk_id, partner.deleted == False,  # noqa: E712
                                     finished(partner), *marks(partner),
                                     partner.calibration_code == visit.calibration_code,
                                     partner.observer_id < visit.observer_id, *partner_where)
    unpaired = or_(visit.calibration_code.is_(None), visit.calibration_code == "")
    return and_(visit.deleted == False, finished(visit), *marks(visit), or_(unpaired, ~earlier_partner))  # noqa: E712


class VisitFacts(NamedTuple):
    """What the counting rule needs of one live visit of a walk, for a reader that counts in Python."""
    observer_id: str
    calibration_code: str | None
    finished: bool
    marked: bool


def counted_of(visits: "list[VisitFacts]") -> list[bool]:
    """Per live visit of one walk (those the reader holds), whether tallies count it: the rule of
    counted_visit, in Python (the server reads a visit's marks from its stored cells)."""
    ok = [v.finished and v.marked for v in visits]
    first: dict[str, str] = {}
    for v, good in zip(visits, ok):
        if good and v.calibration_code:
            known = first.get(v.calibration_code)
            first[v.calibration_code] = v.observer_id if known is None else min(known, v.observer_id)
    return [good and (not v.calibration_code or v.observer_id == first[v.calibration_code])
            for v, good in zip(visits, ok)]
