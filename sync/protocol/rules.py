"""The rule book: what a walk, visit, rating or note may hold, one set of rules for the device and the server.

The device's capture service checks every user action with these rules before it writes; the server's push checks
every record and cell with the same rules before it stores, so the server refuses whatever the tablet refuses.
A broken rule raises (or returns) RuleBroken: `rule` names it, `facts` hold its details as text, and str() is the
reason a push answers "rejected" with. Each face words it its own way (the device in sentences to its user).

What a store keeps, every device can read back and every export can print: no text holds a NUL character
(check_storable, and the text checks), notes stay within NOTE_MAX, times lie in the window sync.protocol.times
defines (check_time).

Rubric rules are compiled once per rubric version (RubricRules): the server checks a push's rating cells as sets
of (look-for, value, not_observed) triples, one set per (rubric version, visit subject).

A subject change keeps the ratings made before it: a look-for limited to some subjects is rated only while the
visit has one of them (or no subject yet), and a rating stored earlier stays (hidden on the tablet, shown again if
the subject returns) until it is cleared, which is always allowed.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from rubrics import Rubric
from sync.errors import LearnwalkError
from sync.protocol import CLASS_TYPES, GRADES, PHASES, SUBJECTS, CycleData, VisitData, WalkData, times

FOCUS_MIN, FOCUS_MAX = 1, 3  # a walk's focus look-fors: its instructional priorities
STUDENTS_MAX = 200
VISIT_NO_MAX = 2**31 - 1  # the databases keep visit numbers in a 32-bit INTEGER


def _max_length(shape, field: str) -> int:
    return next(m.max_length for m in shape.model_fields[field].metadata if hasattr(m, "max_length"))


NOTE_MAX = 4000  # characters of an evidence note or a visit's note: a page of text, and every pull carries it

# free text with a limit: (record kind, field) -> characters; the record shapes define some (the server reads a
# record with its shape first), the rule book the notes
TEXT_LIMITS = {("walk", "cycle_label"): _max_length(WalkData, "cycle_label"),
               ("cycle", "name"): _max_length(CycleData, "name"),
               ("visit", "calibration_code"): _max_length(VisitData, "calibration_code"),
               ("visit", "note"): NOTE_MAX,
               ("note", "text"): NOTE_MAX}

# rule -> the reason a push gives, formatted with the rule's facts (the device words its own, app.store.services)
REASONS = {
    "phase": "phase '{value}' is not one of {choices}",
    "focus_form": "the focus look-fors must be a list of look-for ids",
    "focus_count": "a walk has {min} to {max} focus look-fors, not {count}",
    "focus_unknown": "focus look-for {lookfor} is not in {rubric}",
    "focus_twice": "focus look-for {lookfor} is chosen twice; each can be chosen once",
    "too_long": "the {field} is longer than {limit} characters",
    "not_text": "the {field} must be text",
    "visit_no": "visit number {value} is not a whole number from 1 up",
    "grade": "grade '{value}' is not one of {choices}",
    "subject": "subject '{value}' is not one of {choices}",
    "class_type": "class type '{value}' is not one of {choices}",
    "student_count": "student count {value} is not a whole number from 0 to {max}",
    "lookfor": "look-for {lookfor} is not in the walk's rubric {rubric}",
    "not_applicable": "{lookfor} is rated only in {subjects} visits; this visit is {subject}",
    "value": "'{value}' is not on the scale of {lookfor}",
    "not_observed": "{lookfor}: 'not observed' cannot be recorded on its scale",
    "not_observed_value": "{lookfor}: 'not observed' cannot be recorded with a value",
    "note_text": "an evidence note needs some text",
    "nul": "the {field} holds a NUL character (\\x00), which no database can store; remove it",
    "time": "{why}",
    "cycle_name": "a cycle needs a name",
    "priority_count": "a cycle has {min} to {max} priorities, not {count}",
    "priority_form": "priority {n} must name its look-fors as a list of look-for ids and its target as a whole "
                     "percent or null",
    "priority_lookfors": "priority {n} names {count} look-fors; the cycle's priorities name {min} to {max} "
                         "look-fors in all, each once, since every walk of the cycle takes them as its focus",
    "priority_target": "the target of priority {n} is {value}; a target is a whole percent from 1 to 100",
    "cycle_rubric": "walk names cycle {cycle}, whose walks use rubric {rubric}; a walk of a cycle uses its rubric",
    "cycle_school": "walk names cycle {cycle} of another school; a walk of a cycle is at its school",
}


class RuleBroken(LearnwalkError):
    """A record breaks a rule of the shared language; str() is the push's reason, `rule` and `facts` let a face
    word it its own way."""

    def __init__(self, rule: str, **facts: Any):
        self.rule = rule
        self.facts = {k: str(v) for k, v in facts.items()}
        super().__init__(REASONS[rule].format(**self.facts))


def _shown(value: Any) -> str:
    return str(value) if type(value) is int else f"'{value}'"


# ---- walks and visits -----------------------------------------------------------------------------

def check_walk(rubric: "RubricRules", *, phase: Any, focus: Any, cycle_label: Any = "") -> None:
    """Phase from PHASES; 1 to 3 distinct focus look-fors of the walk's rubric; the cycle label within its limit."""
    if phase not in PHASES:
        raise RuleBroken("phase", value=phase, choices=", ".join(PHASES))
    if not isinstance(focus, list) or not all(type(f) is str for f in focus):
        raise RuleBroken("focus_form")
    if not FOCUS_MIN <= len(focus) <= FOCUS_MAX:
        raise RuleBroken("focus_count", min=FOCUS_MIN, max=FOCUS_MAX, count=len(focus))
    unknown = [f for f in focus if f not in rubric.lookfors]
    if unknown:
        raise RuleBroken("focus_unknown", lookfor=unknown[0], rubric=rubric.key)
    if len(set(focus)) != len(focus):
        raise RuleBroken("focus_twice", lookfor=next(f for f in focus if focus.count(f) > 1))
    _check_text("walk", "cycle_label", cycle_label)


PRIORITIES_MIN, PRIORITIES_MAX = 1, 3  # the screen asks for 2-3; a cycle migrated from a label may have one
TARGET_MIN, TARGET_MAX = 1, 100


def check_cycle(rubric: "RubricRules", *, name: Any, priorities: Any) -> None:
    """A name; 1-3 priorities, each naming look-fors of the cycle's rubric and a target (a whole percent, or None);
    the look-fors of all priorities together 1 to FOCUS_MAX, each once: every walk of the cycle takes them as its
    focus."""
    _check_text("cycle", "name", name)
    if not name.strip():
        raise RuleBroken("cycle_name")
    if not isinstance(priorities, list) or not PRIORITIES_MIN <= len(priorities) <= PRIORITIES_MAX:
        raise RuleBroken("priority_count", min=PRIORITIES_MIN, max=PRIORITIES_MAX,
                         count=len(priorities) if isinstance(priorities, list) else "a list")
    seen: list[str] = []
    for n, p in enumerate(priorities, 1):
        lookfors, target = (p.get("lookfors"), p.get("target")) if isinstance(p, dict) else (None, None)
        if not isinstance(p, dict) or set(p) - {"lookfors", "target"} or not isinstance(lookfors, list) \
                or not lookfors or not all(type(f) is str for f in lookfors):
            raise RuleBroken("priority_form", n=n)
        if target is not None and (type(target) is not int or not TARGET_MIN <= target <= TARGET_MAX):
            raise RuleBroken("priority_target", n=n, value=_shown(target))
        for f in lookfors:
            if f not in rubric.lookfors:
                raise RuleBroken("focus_unknown", lookfor=f, rubric=rubric.key)
        seen += lookfors
    if len(set(seen)) != len(seen) or not FOCUS_MIN <= len(seen) <= FOCUS_MAX:
        raise RuleBroken("priority_lookfors", n=len(priorities), count=len(seen), min=FOCUS_MIN, max=FOCUS_MAX)


def cycle_focus(priorities: list[dict]) -> list[str]:
    """The focus look-fors a walk of the cycle takes: its priorities' look-fors, in order."""
    return [f for p in priorities for f in p["lookfors"]]


_VOCABULARY = {"grade": frozenset(GRADES), "subject": frozenset(SUBJECTS), "class_type": frozenset(CLASS_TYPES)}
_CHOICES = {"grade": GRADES, "subject": SUBJECTS, "class_type": CLASS_TYPES}
_CODE_MAX = TEXT_LIMITS[("visit", "calibration_code")]


def check_visit(*, visit_no: Any = None, grade: Any = None, subject: Any = None, class_type: Any = None,
                student_count: Any = None, calibration_code: Any = None, note: Any = None) -> None:
    """The classroom facts of a visit: None is "not recorded" (or, for the device's partial edits, not given).
    Straight-line set lookups: a push checks one visit per classroom (thousands in one push)."""
    if visit_no is not None and (type(visit_no) is not int or not 1 <= visit_no <= VISIT_NO_MAX):
        raise RuleBroken("visit_no", value=_shown(visit_no))
    if grade is not None and (type(grade) is not str or grade not in _VOCABULARY["grade"]):
        _not_in("grade", grade)
    if subject is not None and (type(subject) is not str or subject not in _VOCABULARY["subject"]):
        _not_in("subject", subject)
    if class_type is not None and (type(class_type) is not str or class_type not in _VOCABULARY["class_type"]):
        _not_in("class_type", class_type)
    if student_count is not None and (type(student_count) is not int or not 0 <= student_count <= STUDENTS_MAX):
        raise RuleBroken("student_count", value=_shown(student_count), max=STUDENTS_MAX)
    if note is not None and (type(note) is not str or len(note) > NOTE_MAX or "\x00" in note):
        _check_text("visit", "note", note)
    if calibration_code is not None and (type(calibration_code) is not str or len(calibration_code) > _CODE_MAX
                                         or "\x00" in calibration_code):
        _check_text("visit", "calibration_code", calibration_code)


def _not_in(rule: str, value: Any) -> None:
    raise RuleBroken(rule, value=value, choices=", ".join(_CHOICES[rule]))


def _check_text(kind: str, field: str, value: Any, words: str | None = None) -> None:
    if value is None:
        return
    words = words or f"{kind}'s {field.replace('_', ' ')}"
    if not isinstance(value, str):
        raise RuleBroken("not_text", field=words)
    limit = TEXT_LIMITS.get((kind, field))
    if limit is not None and len(value) > limit:
        raise RuleBroken("too_long", field=words, limit=limit, count=len(value))
    if "\x00" in value:
        raise RuleBroken("nul", field=words)


def check_note_text(text: Any, deleted: bool = False) -> None:
    """A live evidence note says something (an emptied note is deleted instead), within its limit."""
    _check_text("note", "text", text, "evidence note")
    if not deleted and not text.strip():
        raise RuleBroken("note_text")


def check_storable(kind: str, record: dict, fields: tuple[str, ...]) -> None:
    """No text of the record's fields (or of their lists: a walk's focus and team) holds a NUL character: neither
    database can store one (PostgreSQL refuses the whole statement). Every record a push carries is checked."""
    for field in fields:
        value = record.get(field)
        if (type(value) is str and "\x00" in value) or \
                (type(value) is list and any(type(v) is str and "\x00" in v for v in value)):
            raise RuleBroken("nul", field=_FIELD_WORDS.get((kind, field)) or f"{kind}'s {field.replace('_', ' ')}")


_FIELD_WORDS = {("note", "text"): "evidence note", ("note", "lookfor_id"): "evidence note's look-for id",
                ("visit", "observer_id"): "visit's observer id", ("walk", "created_by"): "walk's creator"}


def check_time(value: Any, field: str, sent: Any = None) -> Any:
    """A time a record holds, inside the window a store accepts (sync.protocol.times), as aware UTC (UTC text
    stays text); a walk's date (a date) from 2000-01-01 to a year ahead. RuleBroken("time") otherwise, quoting
    `sent` (the text the value was read from) if it is text."""
    try:
        if isinstance(value, date) and not isinstance(value, datetime):
            return times.accepted_date(value, field)
        return times.accepted_utc(value, field, sent if isinstance(sent, str) else None)
    except times.BadTime as why:
        raise RuleBroken("time", why=why) from None


# ---- rubric rules: look-fors, subjects, scales ------------------------------------------------------

Triple = tuple[str, "str | None", bool]  # (look-for, value, not_observed) of a live rating cell


class RubricRules:
    """One rubric version's rules, compiled once (rubric_rules): its look-fors, each one's scale values and
    whether "not observed" may be recorded, the subjects it is limited to, and the accepted cell triples."""

    def __init__(self, rubric: Rubric):
        self.key = rubric.key
        self.lookfors = frozenset(lf.id for lf in rubric.lookfors)
        # look-for -> (its scale's values in scale order, whether "not observed" may be recorded)
        self.scales: dict[str, tuple[tuple[str, ...], bool]] = {}
        for lf in rubric.lookfors:
            scale = rubric.scale(lf.scale)
            self.scales[lf.id] = (tuple(scale.values()), scale.not_observed)
        self.subjects: dict[str, tuple[str, ...]] = {lf.id: tuple(lf.subjects) for lf in rubric.lookfors
                                                     if lf.subjects}
        self._values = {lf: frozenset(values) for lf, (values, _) in self.scales.items()}
        self._all = frozenset([(lf, v, False) for lf, (values, _) in self.scales.items() for v in values]
                              + [(lf, None, True) for lf, (_, no_ok) in self.scales.items() if no_ok])
        self._triples: dict[str | None, frozenset[Triple]] = {None: self._all}

    def applies(self, lookfor_id: str, subject: str | None) -> bool:
        """Whether the look-for is rated in a visit of this subject (None: no subject recorded, or not known)."""
        limited = self.subjects.get(lookfor_id)
        return limited is None or subject is None or subject in limited

    def triples(self, subject: str | None) -> frozenset[Triple]:
        """Every (look-for, value, not_observed) a live cell may hold in a visit of this subject; None: any
        subject. One set per subject; a subject that excludes no look-for shares the set of all of them."""
        found = self._triples.get(subject)
        if found is None:
            excluded = {lf for lf in self.subjects if not self.applies(lf, subject)}
            found = frozenset(t for t in self._all if t[0] not in excluded) if excluded else self._all
            self._triples[subject] = found
        return found

    def check_lookfor(self, lookfor_id: Any) -> None:
        if lookfor_id not in self.lookfors:
            raise RuleBroken("lookfor", lookfor=lookfor_id, rubric=self.key)

    def cell_problem(self, lookfor_id: Any, value: Any, not_observed: bool, deleted: bool,
                     subject: str | None) -> RuleBroken | None:
        """What is wrong with a rating cell of a visit of this subject (None: any subject), or None. A cleared
        cell (deleted) only has to name a look-for of the rubric."""
        if lookfor_id not in self.lookfors:
            return RuleBroken("lookfor", lookfor=lookfor_id, rubric=self.key)
        if deleted:
            return None
        if not self.applies(lookfor_id, subject):
            return RuleBroken("not_applicable", lookfor=lookfor_id, subjects=", ".join(self.subjects[lookfor_id]),
                              subject=subject)
        values, no_ok = self.scales[lookfor_id]
        if not_observed:
            if not no_ok:
                return RuleBroken("not_observed", lookfor=lookfor_id)
            if value is not None:
                return RuleBroken("not_observed_value", lookfor=lookfor_id)
        elif type(value) is not str or value not in self._values[lookfor_id]:
            return RuleBroken("value", value=value, lookfor=lookfor_id, values=", ".join(values))
        return None

    def check_cell(self, lookfor_id: Any, value: Any, not_observed: bool, deleted: bool,
                   subject: str | None) -> None:
        problem = self.cell_problem(lookfor_id, value, not_observed, deleted, subject)
        if problem is not None:
            raise problem


_COMPILED: dict[int, tuple[Rubric, RubricRules]] = {}


def rubric_rules(rubric: Rubric) -> RubricRules:
    """The compiled rules of this rubric object, built once: both stores keep their parsed rubrics, so a tap
    or a push compiles nothing. Keyed by identity (two test rubrics may share an id@version); the entry holds
    the rubric, so its id is not reused while cached."""
    hit = _COMPILED.get(id(rubric))
    if hit is not None and hit[0] is rubric:
        return hit[1]
    if len(_COMPILED) >= 512:
        _COMPILED.clear()
    compiled = RubricRules(rubric)
    _COMPILED[id(rubric)] = (rubric, compiled)
    return compiled
