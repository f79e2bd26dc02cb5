"""The cycle part of the New walk screen: pick one of the school's cycles (newest first) or make a new one with its
2-3 priorities and targets; a walk of a cycle takes the cycle's rubric and its priorities' look-fors as its focus."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.store.models import Cycle
from app.store.services import CYCLE_RULE, CaptureService, ServiceError
from app.viewmodels._format import day

NO_CYCLE = ""  # the choice "No cycle": a walk on its own, focus picked for it
PRIORITIES_ASKED = (2, 3)  # a new cycle's priorities on this screen


@dataclass(frozen=True)
class CycleOption:
    value: str
    label: str


@dataclass
class PriorityDraft:
    lookfor_id: str | None = None
    target_text: str = ""
    more: list[str] = field(default_factory=list)  # a priority's further look-fors (kept as they are when edited)


@dataclass
class CycleChoiceVM:
    service: CaptureService
    today: date = field(default_factory=date.today)
    cycle_id: str = NO_CYCLE
    school_id: str | None = None
    form_open: bool = False
    name: str = ""
    start_text: str = ""
    drafts: list[PriorityDraft] = field(default_factory=lambda: [PriorityDraft(), PriorityDraft()])
    editing: str | None = None  # the id of the cycle the form changes; None: the form makes a new one

    def __post_init__(self):
        self.start_text = self.today.isoformat()

    rule = CYCLE_RULE

    @property
    def may_edit(self) -> bool:
        return self.service.may_edit_cycles()

    def for_school(self, school_id: str | None) -> None:
        """A school was chosen: its newest cycle is picked (the walk most often continues it)."""
        if school_id == self.school_id:
            return
        self.school_id = school_id
        cycles = self.service.cycles(school_id) if school_id else []
        self.cycle_id = cycles[0].id if cycles else NO_CYCLE

    def options(self) -> list[CycleOption]:
        cycles = self.service.cycles(self.school_id) if self.school_id else []
        return [CycleOption(c.id, f"{c.name} (from {day(c.start_date)})") for c in cycles] + \
            [CycleOption(NO_CYCLE, "No cycle")]

    def pick(self, cycle_id: str) -> None:
        if cycle_id != NO_CYCLE:
            cycle = self.service.cycle(cycle_id)
            if cycle.school_id != self.school_id:
                raise ServiceError("That cycle belongs to another school; choose one of this school's cycles.")
        self.cycle_id = cycle_id

    def chosen(self) -> Cycle | None:
        return self.service.cycle(self.cycle_id) if self.cycle_id != NO_CYCLE else None

    def focus_lines(self, rubric) -> list[str]:
        """The chosen cycle's priorities as the walk will take them: 'Priority 1: Students learn with each other,
        target 60% by the end-of-cycle walk'."""
        cycle = self.chosen()
        if cycle is None:
            return []
        labels = {lf.id: lf.label for lf in rubric.lookfors} if rubric else {}
        out = []
        for n, p in enumerate(cycle.priorities, 1):
            names = ", ".join(labels.get(f, f) for f in p["lookfors"])
            target = (f"target {p['target']}% by the end-of-cycle walk" if p.get("target") is not None
                      else "no target set")
            out.append(f"Priority {n}: {names}, {target}")
        return out

    # ---- a new cycle ------------------------------------------------------------------------------

    def open_form(self) -> None:
        if not self.may_edit:
            raise ServiceError(CYCLE_RULE)
        self.form_open = True

    def open_edit(self) -> None:
        """The form filled with the chosen cycle, to change its name, start or priorities and targets."""
        if not self.may_edit:
            raise ServiceError(CYCLE_RULE)
        cycle = self.chosen()
        if cycle is None:
            raise ServiceError("Choose the cycle to change first.")
        self.editing, self.form_open = cycle.id, True
        self.name, self.start_text = cycle.name, cycle.start_date.isoformat()
        self.drafts = [PriorityDraft(p["lookfors"][0], "" if p.get("target") is None else str(p["target"]),
                                     list(p["lookfors"][1:])) for p in cycle.priorities]

    def close_form(self) -> None:
        self.form_open, self.editing = False, None
        self.name, self.drafts = "", [PriorityDraft(), PriorityDraft()]

    def add_priority(self) -> None:
        if len(self.drafts) >= PRIORITIES_ASKED[1]:
            raise ServiceError(f"A cycle has at most {PRIORITIES_ASKED[1]} priorities.")
        self.drafts.append(PriorityDraft())

    def remove_priority(self) -> None:
        if len(self.drafts) <= (1 if self.editing else PRIORITIES_ASKED[0]):
            raise ServiceError(f"A new cycle has at least {PRIORITIES_ASKED[0]} priorities.")
        self.drafts.pop()

    def create(self, rubric) -> Cycle:
        """Make the cycle from the form (or save the cycle it changes) and pick it; nothing is written when a field
        is wrong."""
        if not self.school_id:
            raise ServiceError("Choose the school first: a cycle belongs to a school.")
        if rubric is None:
            raise ServiceError("Choose a rubric first: the cycle's priorities are look-fors of it.")
        try:
            start = date.fromisoformat(self.start_text.strip())
        except ValueError:
            raise ServiceError(f"Start date '{self.start_text}' is not a date; write it as YYYY-MM-DD.") from None
        priorities = []
        for n, d in enumerate(self.drafts, 1):
            if not d.lookfor_id:
                raise ServiceError(f"Choose the look-for of priority {n}.")
            text = d.target_text.strip().rstrip("%").strip()
            if not text.isdigit():
                raise ServiceError(f"Write the target of priority {n} as a whole percent, e.g. 60 (the share of "
                                   "classrooms where it should be evident by the end-of-cycle walk).")
            priorities.append({"lookfors": [d.lookfor_id, *d.more], "target": int(text)})
        if self.editing:
            cycle = self.service.update_cycle(self.editing, name=self.name, start_date=start, priorities=priorities)
        else:
            cycle = self.service.create_cycle(school_id=self.school_id, name=self.name, start_date=start,
                                              rubric_id=rubric.id, rubric_version=rubric.version,
                                              priorities=priorities)
        self.cycle_id = cycle.id
        self.close_form()
        return cycle
