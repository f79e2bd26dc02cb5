"""The Walk screen: a walk's visits by number, new visit, and delete with undo while the screen is open."""
from __future__ import annotations

from dataclasses import dataclass

from app.store.people import known_people
from app.store.services import LOCAL_USER, CaptureService, ServiceError
from app.viewmodels._format import day, plural
from app.viewmodels.observers import observer_label
from sync.protocol.vocabulary import phase_label


@dataclass(frozen=True)
class VisitRow:
    visit_id: str
    number: int
    rated: int
    finished: bool
    grade: str | None
    subject: str | None
    observer: str = ""  # "Observer N" for a teammate's visit (numbers as in the debrief); "" for this device's

    @property
    def title(self) -> str:
        # visit numbers are per observer, so a teammate's "Visit 3" needs its observer to be told apart
        return f"{self.observer} · Visit {self.number}" if self.observer else f"Visit {self.number}"

    @property
    def mine(self) -> bool:
        return not self.observer

    @property
    def key(self) -> str:
        """Unique within the walk: "3" for this device's visit 3, "o2-3" for Observer 2's."""
        return str(self.number) if self.mine else f"o{self.observer.rsplit(' ', 1)[-1]}-{self.number}"

    @property
    def summary(self) -> str:
        where = " · ".join(p for p in (f"Grade {self.grade}" if self.grade else "", self.subject or "") if p)
        state = "finished" if self.finished else "in progress"
        return " · ".join(p for p in (where, plural(self.rated, "look-for") + " rated", state) if p)


class WalkVM:
    def __init__(self, service: CaptureService, walk_id: str):
        self.service = service
        self.walk_id = walk_id
        self.walk = service.walk(walk_id)
        self.rubric = service.rubric_for(self.walk)
        self.rows: list[VisitRow] = []
        self._deleted: list[tuple[str, int]] = []  # undo stack for this screen only
        self.refresh()

    def refresh(self) -> None:
        visits = self.service.visits(self.walk_id)
        # look-fors answered per visit, as its capture screen counts them: a value (a checklist's "Seen" or "Not
        # seen") or not observed; a blank is not rated on every scale
        counts = self.service.rated_counts(self.walk_id)
        me = self.service.user_id()
        self.rows = [VisitRow(v.id, v.visit_no, counts.get(v.id, 0), v.ended_at is not None, v.grade, v.subject,
                              "" if v.observer_id in (me, LOCAL_USER) else observer_label(visits, v.observer_id))
                     for v in visits]

    @property
    def title(self) -> str:
        school = next((s.name for s in self.service.schools() if s.id == self.walk.school_id), "Unknown school")
        return f"{school}, {day(self.walk.walk_date)}"

    @property
    def subtitle(self) -> str:
        label = phase_label(self.walk.phase)
        cycle = f" ({self.walk.cycle_label})" if self.walk.cycle_label else ""
        focus = ", ".join(self.rubric.lookfor(f).label for f in self.walk.focus if _has(self.rubric, f))
        return f"{self.rubric.title} · {label}{cycle} · Focus: {focus}"

    @property
    def empty_message(self) -> str:
        return "No visits yet. Tap \"New visit\" when you enter a classroom." if not self.rows else ""

    def new_visit(self) -> str:
        return self.service.start_visit(self.walk_id).id

    def delete(self, visit_id: str) -> str:
        """Delete a visit; return the sentence to show next to "Undo"."""
        row = next((r for r in self.rows if r.visit_id == visit_id), None)
        if row is None:
            raise ServiceError("That visit is no longer on this walk.")
        self.service.delete_visit(visit_id)
        self._deleted.append((visit_id, row.number))
        self.refresh()
        return f"Visit {row.number} deleted."

    @property
    def can_undo(self) -> bool:
        return bool(self._deleted)

    @property
    def undo_label(self) -> str:
        return f"Undo delete of visit {self._deleted[-1][1]}" if self._deleted else ""

    # ---- the team: who may add visits to this walk and, as a lead, see all of them -------------------------

    @property
    def team(self) -> list[tuple[str, str]]:
        """(entry, how it is shown) of the walk's team; ids as each person's Settings screen shows theirs."""
        me = self.service.user_id()
        emails = {p.id: p.email for p in known_people(self.service.engine) if p.email}
        return [(t, "You" if t == me else emails.get(t, t)) for t in self.walk.team]

    @property
    def can_change_team(self) -> bool:
        """The walk's creator, a lead on its team or an admin (the server holds the same rule)."""
        me, role = self.service.user_id(), _role(self.service)
        return role == "admin" or me == self.walk.created_by or (role == "lead" and me in self.walk.team)

    @property
    def team_help(self) -> str:
        return ("Only people on the team can add visits to this walk, and a lead on it sees everyone's visits. "
                "Add someone with the learnwalk id their Settings screen shows.")

    def add_to_team(self, person: str) -> str:
        person = person.strip()
        if not person:
            raise ServiceError("Type the learnwalk id from the teammate's Settings screen.")
        if person in self.walk.team:
            raise ServiceError("That person is already on the team.")
        self.walk = self.service.update_walk(self.walk_id, team=[*self.walk.team, person])
        return "Added to the team; they can add visits after the next sync of both devices."

    def remove_from_team(self, person: str) -> str:
        self.walk = self.service.update_walk(self.walk_id, team=[t for t in self.walk.team if t != person])
        return "Taken off the team; from the next sync they cannot add visits to this walk."

    def undo(self) -> str:
        if not self._deleted:
            raise ServiceError("There is nothing to undo.")
        visit_id, number = self._deleted.pop()
        self.service.restore_visit(visit_id)
        self.refresh()
        return f"Visit {number} restored."


def _role(service: CaptureService) -> str | None:
    from sqlmodel import Session

    from app.store.models import Meta

    with Session(service.engine) as s:
        m = s.get(Meta, "role")
        return m.value if m else None


def _has(rubric, lookfor_id: str) -> bool:
    return any(lf.id == lookfor_id for lf in rubric.lookfors)
