"""Realistic synthetic walks for demos, training and benchmarks, recorded through the capture service only.

Every record is made by the same CaptureService calls a tap makes (row + outbox entry), so seeded data syncs
like real data. Content is a pure function of the seed (random.Random(seed)): counts, dates, grades, subjects,
ratings and notes are identical across runs; record ids are fresh UUIDs each run (ids are never reused).

The model behind the numbers: each classroom has a latent strength, each look-for a base rate, the walk's focus
look-fors improve from baseline to six-week to end-of-cycle, and ~10% of cells are "not observed" where the
scale allows it. Subject-specific look-fors are rated only in visits of their subject.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.store.services import CaptureService, ServiceError
from rubrics import LookFor, Rubric

CYCLE_START = date(2026, 8, 31)  # a Monday; fixed so seeded content does not depend on today's date
CYCLE_LABEL = "Fall 2026 cycle"
# (phase, weeks after the cycle start): a 12-week cycle with walks at its start, middle and end
PHASE_WEEKS = (("baseline", 0), ("six-week", 6), ("end-of-cycle", 11))
FOCUS_GAIN = {"baseline": 0.0, "six-week": 0.6, "end-of-cycle": 1.2}  # logit gain of the focus look-fors
NOT_OBSERVED_RATE = 0.10
CHUNK_VISITS = 100  # visits per transaction: big enough to be fast, small enough to keep memory flat

LOCAL_SCHOOLS = (  # created only when the device has no schools yet
    ("seed-school-1", "Maple Street Elementary", ("K", "1", "2", "3", "4", "5")),
    ("seed-school-2", "Riverside Middle", ("6", "7", "8")),
    ("seed-school-3", "Harbor High", ("9", "10", "11", "12")),
)
ALL_GRADES = ("K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
SUBJECTS = (("ELA", 30), ("Math", 30), ("Science", 22), ("Social Studies", 18))
CLASS_TYPES = ((None, 30), ("general", 45), ("inclusion", 12), ("special-education", 7), ("english-learners", 6))
TEAM = ["Principal", "Assistant principal", "Instructional coach"]  # roles, never names
NOTES = (
    "Students explained their strategy to a partner",
    "Learning target posted and read aloud",
    "Four of six groups were discussing the task",
    "Students used the anchor chart to check their work",
    "Exit ticket written on the board",
    "Students annotated the text with sticky notes",
    "Teacher asked 'How do you know?' three times",
    "Teacher conferred with two students at the back table",
    "Students revised answers after peer feedback",
    "Most students worked silently on a worksheet",
    "A student asked how the problem connects to their neighborhood",
    "Sentence frames on each table",
)


@dataclass
class SeedSummary:
    rubric_key: str
    walks: int = 0
    visits: int = 0
    ratings: int = 0  # cells given a scale value
    not_observed: int = 0  # cells marked not observed
    notes: int = 0
    changes: int = 0  # service calls that recorded a change: one outbox entry each
    school_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (f"Seeded {_n(self.walks, 'walk')}, {_n(self.visits, 'visit')}, {_n(self.ratings, 'rating')}, "
                f"{self.not_observed} not observed, {_n(self.notes, 'note')} with {self.rubric_key} "
                f"({_n(self.changes, 'change')} queued for sync) in {self.seconds:.1f} s.")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights=weights)[0]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def resolve_rubric(service: CaptureService, rubric_key: str) -> Rubric:
    """'id@version', or 'id' for its newest version on this device."""
    rid, _, ver = rubric_key.partition("@")
    if ver:
        if not ver.isdigit():
            raise ServiceError(f"Rubric '{rubric_key}': the version after '@' must be a whole number, "
                               "e.g. deeper-learning@1.")
        rubric = service.catalog.get(rid, int(ver))
    else:
        versions = [r for r in service.catalog.all() if r.id == rid]
        rubric = max(versions, key=lambda r: r.version) if versions else None
    if rubric is None:
        known = ", ".join(r.key for r in service.catalog.all()) or "none"
        raise ServiceError(f"Rubric {rubric_key} is not on this device; choose one of: {known}.")
    return rubric


def _schools(service: CaptureService, school_id: str | None) -> list[tuple[str, tuple[str, ...]]]:
    existing = {s.id: s for s in service.schools()}
    if school_id is not None:
        if school_id not in existing:
            raise ServiceError(f"School {school_id} is not known on this device; leave out --school to use "
                               "this device's schools (or sample schools on a new device).")
        return [(school_id, _grades_of(existing[school_id].name))]
    if existing:
        return [(s.id, _grades_of(s.name)) for s in sorted(existing.values(), key=lambda s: s.name)]
    for sid, name, _ in LOCAL_SCHOOLS:
        service.add_school(name, school_id=sid)
    return [(sid, grades) for sid, _, grades in LOCAL_SCHOOLS]


def _grades_of(name: str) -> tuple[str, ...]:
    for _, sample, grades in LOCAL_SCHOOLS:
        if sample == name:
            return grades
    return ALL_GRADES


class _Model:
    """The latent rating model for one seed: per-look-for base rates and each school's focus."""

    def __init__(self, rng: random.Random, rubric: Rubric):
        self.rubric = rubric
        self.base = {lf.id: rng.uniform(-1.3, 1.1) for lf in rubric.lookfors}
        self.choosable = [lf.id for lf in rubric.lookfors if not lf.subjects] or [lf.id for lf in rubric.lookfors]

    def focus(self, rng: random.Random) -> list[str]:
        k = min(len(self.choosable), rng.choice((2, 3)))
        return rng.sample(self.choosable, k)

    def cell(self, rng: random.Random, lf: LookFor, strength: float, gain: float) -> str | None | bool:
        """A scale value, None for 'not observed', or False to leave the cell blank."""
        scale = self.rubric.scale(lf.scale)
        if scale.not_observed and rng.random() < NOT_OBSERVED_RATE:
            return None
        p = _sigmoid(0.9 * strength + self.base[lf.id] + gain + rng.gauss(0, 0.6))
        values = scale.values()
        if len(values) == 2:  # yes/no, or a checklist: "Seen" or its "Not seen" (a value, never left blank)
            return values[1] if rng.random() < p else values[0]
        return values[min(len(values) - 1, int(p * len(values)))]


def seed(service: CaptureService, *, walks: int, visits: int, rubric_key: str = "deeper-learning@1",
         school_id: str | None = None, seed: int = 0, cycle_id: str | None = None,
         class_types: tuple | None = None) -> SeedSummary:
    """Record `walks` walks of `visits` finished visits each; deterministic content for a given seed.

    cycle_id: the walks belong to this cycle (its school, rubric and priorities; school_id and rubric_key are then
    the cycle's). class_types: the visits' class types in turn, instead of drawn at random."""
    if cycle_id is not None:
        cycle = service.cycle(cycle_id)
        school_id, rubric_key = cycle.school_id, f"{cycle.rubric_id}@{cycle.rubric_version}"
    if walks < 1 or visits < 0:
        raise ServiceError("Seed at least 1 walk, with 0 or more visits per walk.")
    started = time.perf_counter()
    rng = random.Random(seed)
    rubric = resolve_rubric(service, rubric_key)
    schools = _schools(service, school_id)
    model = _Model(rng, rubric)
    focus_of = {sid: model.focus(rng) for sid, _ in schools}
    summary = SeedSummary(rubric_key=rubric.key, school_ids=[sid for sid, _ in schools])

    for i in range(walks):
        sid, grades = schools[i % len(schools)]
        phase, weeks = PHASE_WEEKS[min(len(PHASE_WEEKS) - 1, i * len(PHASE_WEEKS) // walks)]
        walk_date = CYCLE_START + timedelta(weeks=weeks, days=rng.randrange(5))
        with service.batch():
            walk = service.create_walk(school_id=sid, rubric_id=rubric.id, rubric_version=rubric.version,
                                       focus=focus_of[sid], walk_date=walk_date, team=TEAM[:rng.choice((2, 3))],
                                       cycle_label=CYCLE_LABEL, phase=phase, cycle_id=cycle_id)
        summary.walks += 1
        summary.changes += 1
        focus = set(walk.focus)
        for first in range(0, visits, CHUNK_VISITS):
            with service.batch():
                for n in range(first, min(visits, first + CHUNK_VISITS)):
                    _seed_visit(service, rng, model, walk.id, grades, focus, FOCUS_GAIN[phase], summary,
                                class_types[n % len(class_types)] if class_types else False)
    summary.seconds = time.perf_counter() - started
    return summary


def seed_visits(service: CaptureService, walk_id: str, *, visits: int, seed: int = 0,
                class_types: tuple | None = None) -> SeedSummary:
    """Record `visits` finished visits by this device's observer in an existing walk (a teammate joining a
    walk the lead created): the walk's rubric, focus and phase drive the ratings as in seed()."""
    if visits < 0:
        raise ServiceError("Seed 0 or more visits.")
    started = time.perf_counter()
    rng = random.Random(seed)
    walk = service.walk(walk_id)
    rubric = service.rubric_for(walk)
    model = _Model(rng, rubric)
    school = next((s for s in service.schools() if s.id == walk.school_id), None)
    grades = _grades_of(school.name) if school else ALL_GRADES
    summary = SeedSummary(rubric_key=rubric.key, school_ids=[walk.school_id])
    gain = FOCUS_GAIN.get(walk.phase, 0.0)
    for first in range(0, visits, CHUNK_VISITS):
        with service.batch():
            for n in range(first, min(visits, first + CHUNK_VISITS)):
                _seed_visit(service, rng, model, walk.id, grades, set(walk.focus), gain, summary,
                            class_types[n % len(class_types)] if class_types else False)
    summary.seconds = time.perf_counter() - started
    return summary


def _seed_visit(service: CaptureService, rng: random.Random, model: _Model, walk_id: str,
                grades: tuple[str, ...], focus: set[str], gain: float, summary: SeedSummary,
                given_type=False) -> None:
    subject = _pick(rng, SUBJECTS)
    class_type = _pick(rng, CLASS_TYPES)
    if given_type is not False:  # the caller's class type (None: not recorded); the draw above keeps the sequence
        class_type = given_type
    small = class_type == "special-education"
    count = None if rng.random() < 0.1 else (rng.randint(6, 12) if small else rng.randint(14, 30))
    visit = service.start_visit(walk_id, grade=rng.choice(grades), subject=subject, class_type=class_type,
                                student_count=count)
    summary.visits += 1
    summary.changes += 1
    strength = rng.gauss(0, 1)
    for lf in model.rubric.lookfors:
        if not lf.applies_to(subject):
            continue
        choice = model.cell(rng, lf, strength, gain if lf.id in focus else 0.0)
        if choice is False:
            continue
        if choice is None:
            service.mark_not_observed(visit.id, lf.id)
            summary.not_observed += 1
        else:
            service.rate(visit.id, lf.id, choice)
            summary.ratings += 1
        summary.changes += 1
    for _ in range(rng.choice((0, 1, 1, 2))):
        lookfor = rng.choice(sorted(focus)) if rng.random() < 0.6 else None
        service.add_note(visit.id, rng.choice(NOTES), lookfor)
        summary.notes += 1
        summary.changes += 1
    service.finish_visit(visit.id)
    summary.changes += 1
