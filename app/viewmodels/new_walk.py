"""The New walk screen: school, date, rubric, 2-3 focus look-fors (or the cycle's priorities), team, cycle, phase."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.store.services import CaptureService, ServiceError
from app.viewmodels.cycle_choice import CycleChoiceVM
from sync.protocol.vocabulary import PHASES, phase_label

MAX_FOCUS = 3


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


class NewWalkVM:
    def __init__(self, service: CaptureService, today: date | None = None):
        self.service = service
        self.date_text = (today or date.today()).isoformat()
        self.rubrics = service.catalog.latest()
        self.rubric_key: str | None = self.rubrics[0].key if self.rubrics else None
        self.focus: list[str] = []
        self.team_text = ""
        self.cycle_label = ""
        self.phase = "baseline"
        self.schools: list[Choice] = []
        self.school_id: str | None = None
        self.cycle = CycleChoiceVM(service, today or date.today())
        self._load_schools()
        self.choose_school(self.school_id)

    # ---- choices ----------------------------------------------------------------------------------

    def _load_schools(self) -> None:
        self.schools = [Choice(s.id, s.name) for s in self.service.schools()]
        if self.school_id is None and len(self.schools) == 1:
            self.school_id = self.schools[0].value

    def choose_school(self, school_id: str | None) -> None:
        """The school of the walk: its newest cycle is picked, with that cycle's rubric."""
        self.school_id = school_id
        self.cycle.for_school(school_id)
        if self.cycle.chosen() is not None:
            try:
                self.pick_cycle(self.cycle.cycle_id)
            except ServiceError:
                pass  # the cycle's rubric is not here yet: "No cycle" stays picked, the chips say so

    def add_school(self, name: str) -> Choice:
        """An unenrolled device has no schools: the observer names one here."""
        school = self.service.add_school(name)
        self._load_schools()
        self.choose_school(school.id)
        return Choice(school.id, school.name)

    @property
    def rubric_choices(self) -> list[Choice]:
        return [Choice(r.key, r.title) for r in self.rubrics]

    @property
    def rubric(self):
        return next((r for r in self.rubrics if r.key == self.rubric_key), None)

    def choose_rubric(self, key: str) -> None:
        if key not in {r.key for r in self.rubrics}:
            raise ServiceError(f"Rubric {key} is not on this device; choose one from the list.")
        if self.cycle.chosen() is not None:
            raise ServiceError("A walk of a cycle uses the cycle's rubric; choose \"No cycle\" to use another.")
        if key != self.rubric_key:
            self.rubric_key, self.focus = key, []

    @property
    def focus_choices(self) -> list[Choice]:
        r = self.rubric
        return [Choice(lf.id, lf.label) for lf in r.lookfors] if r else []

    def pick_cycle(self, cycle_id: str) -> None:
        """Pick a cycle of the school (or "No cycle"); a cycle's walk takes the cycle's rubric."""
        self.cycle.pick(cycle_id)
        cycle = self.cycle.chosen()
        if cycle is not None:
            key = f"{cycle.rubric_id}@{cycle.rubric_version}"
            if key not in {r.key for r in self.rubrics}:
                rubric = self.service.catalog.get(cycle.rubric_id, cycle.rubric_version)
                if rubric is None:
                    self.cycle.cycle_id = ""
                    raise ServiceError(f"Rubric {key} of this cycle is not on this device; sync to receive it.")
                self.rubrics.append(rubric)
            self.rubric_key = key

    def toggle_focus(self, lookfor_id: str) -> None:
        if lookfor_id in self.focus:
            self.focus.remove(lookfor_id)
            return
        if len(self.focus) >= MAX_FOCUS:
            raise ServiceError(f"Choose at most {MAX_FOCUS} focus look-fors; untick one first.")
        self.focus.append(lookfor_id)

    @property
    def phase_choices(self) -> list[Choice]:
        return [Choice(p, phase_label(p)) for p in PHASES]

    # ---- submit -----------------------------------------------------------------------------------

    def _walk_date(self) -> date:
        try:
            return date.fromisoformat(self.date_text.strip())
        except ValueError:
            raise ServiceError(f"Date '{self.date_text}' is not a date; write it as YYYY-MM-DD.") from None

    def start(self) -> str:
        """Create the walk; return its id. Nothing is written when a field is wrong."""
        if not self.school_id:
            raise ServiceError("Choose the school, or add it by name.")
        walk_date = self._walk_date()
        if self.rubric is None:
            raise ServiceError("Choose a rubric.")
        cycle = self.cycle.chosen()
        if cycle is None and len(self.focus) < 2:
            raise ServiceError("Choose 2 or 3 focus look-fors (the walk's instructional priorities).")
        team = [t.strip() for t in self.team_text.replace("\n", ",").split(",")]
        rubric_id, version = (cycle.rubric_id, cycle.rubric_version) if cycle else (self.rubric.id, self.rubric.version)
        walk = self.service.create_walk(school_id=self.school_id, rubric_id=rubric_id,
                                        rubric_version=version, focus=list(self.focus),
                                        walk_date=walk_date, team=team, cycle_label=self.cycle_label,
                                        phase=self.phase, cycle_id=cycle.id if cycle else None)
        return walk.id
