"""The New walk screen: school, date, rubric, 2-3 focus look-fors (or the cycle's priorities), team, cycle, phase.

The team is chosen from the district's people (as the last sync brought them): a chosen person's learnwalk id
goes on the walk's team, which lets them add visits and, as a lead, see everyone's (what "Add to team" on the
Walk screen does). Guests with no learnwalk account are typed by name.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.store.people import known_people
from app.store.services import CaptureService, ServiceError
from app.viewmodels._format import day
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
        self.team_text = ""  # guests: names of people without a learnwalk account, separated by commas
        self.team_ids: list[str] = []  # people of the district chosen for the team
        me = service.user_id()
        self.people = [Choice(p.id, p.email or p.id) for p in known_people(service.engine) if p.id != me]
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

    def toggle_person(self, person_id: str) -> None:
        if person_id in self.team_ids:
            self.team_ids.remove(person_id)
            return
        if person_id not in {p.value for p in self.people}:
            raise ServiceError("That person is not in this district's list on this device; sync, then choose again.")
        self.team_ids.append(person_id)

    @property
    def team_help(self) -> str:
        if self.people:
            return ("People you choose can add visits to this walk, and a lead among them sees everyone's. "
                    "Type the names of guests without a learnwalk account below.")
        return ("The district's people appear here after this device syncs. Type the names of the team "
                "(or guests) below.")

    # ---- date -------------------------------------------------------------------------------------

    def choose_date(self, value: date | datetime) -> None:
        """The day picked in the date picker (a datetime from the picker, in the device's own time zone)."""
        if isinstance(value, datetime):
            value = (value.astimezone() if value.tzinfo else value).date()
        self.date_text = value.isoformat()

    @property
    def walk_date(self) -> date | None:
        try:
            return date.fromisoformat(self.date_text.strip())
        except ValueError:
            return None

    @property
    def date_label(self) -> str:
        """The chosen day as people read it: "Thu 3 Dec 2026"."""
        d = self.walk_date
        return day(d) if d else self.date_text

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
        guests = [t.strip() for t in self.team_text.replace("\n", ",").split(",")]
        team = list(self.team_ids) + [g for g in guests if g and g not in self.team_ids]
        rubric_id, version = (cycle.rubric_id, cycle.rubric_version) if cycle else (self.rubric.id, self.rubric.version)
        walk = self.service.create_walk(school_id=self.school_id, rubric_id=rubric_id,
                                        rubric_version=version, focus=list(self.focus),
                                        walk_date=walk_date, team=team, cycle_label=self.cycle_label,
                                        phase=self.phase, cycle_id=cycle.id if cycle else None)
        return walk.id
