"""The capture service: every user action on walks, visits, ratings and notes, one transaction each.

Each mutating call writes the record and appends its outbox entry in the same SQLite transaction, so when the
call returns the change is on disk and queued for sync (transactional outbox). Views, the CLI and the seeder
all go through here; nothing else writes these tables (the sync client applies pulled changes separately).
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from typing import Iterator

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from app.store.catalog import RubricCatalog
from app.store.db import writer
from app.store.models import EvidenceNote, Meta, Outbox, Rating, School, Visit, Walk
from rubrics import Rubric
from sync.protocol import CLASS_TYPES, GRADES, PHASES, new_id, rating_id, utcnow

LOCAL_USER = "local"  # the observer id of a device that is not enrolled yet


class ServiceError(Exception):
    """A user action that cannot be carried out; the message says why and what to do, in one sentence."""


_KIND = {Walk: "walk", Visit: "visit", Rating: "rating", EvidenceNote: "note"}


class CaptureService:
    def __init__(self, engine: Engine, catalog: RubricCatalog | None = None):
        self.engine = engine
        self._writer = writer(engine)
        self.catalog = catalog or RubricCatalog(engine)
        self._user_id: str | None = None

    # ---- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with Session(self._writer, expire_on_commit=False) as s:
            yield s
            s.commit()

    @staticmethod
    def _record(s: Session, row: SQLModel, walk_id: str) -> None:
        """Write the row and queue its full snapshot for sync, in the caller's transaction."""
        row.updated_at = utcnow()
        s.add(row)
        s.add(Outbox(kind=_KIND[type(row)], record_id=row.id, walk_id=walk_id, data=row.model_dump(mode="json")))

    def user_id(self) -> str:
        """This device's user (set by enrollment); read once, since it changes only through enroll."""
        if self._user_id is None:
            with Session(self.engine) as s:
                m = s.get(Meta, "user_id")
                self._user_id = m.value if m else LOCAL_USER
        return self._user_id

    def forget_identity(self) -> None:
        self._user_id = None

    def rubric_for(self, walk: Walk) -> Rubric:
        r = self.catalog.get(walk.rubric_id, walk.rubric_version)
        if r is None:
            raise ServiceError(f"Rubric {walk.rubric_id}@{walk.rubric_version} is not on this device; "
                               "sync with the server to receive it.")
        return r

    def _live(self, s: Session, model, record_id: str, what: str):
        row = s.get(model, record_id)
        if row is None or row.deleted:
            raise ServiceError(f"{what} {record_id} does not exist on this device (it may have been deleted).")
        return row

    def _own_visit(self, s: Session, visit_id: str) -> Visit:
        visit = self._live(s, Visit, visit_id, "Visit")
        if visit.observer_id not in (self.user_id(), LOCAL_USER):
            raise ServiceError("This visit was recorded by another observer; only they can change it.")
        return visit

    # ---- schools ----------------------------------------------------------------------------------

    def add_school(self, name: str, school_id: str | None = None, district_id: str = "") -> School:
        """Local schools exist for an unenrolled device (demo, training); enrolled devices pull theirs."""
        if not name.strip():
            raise ServiceError("A school needs a name.")
        with self._tx() as s:
            school = School(id=school_id or new_id(), name=name.strip(), district_id=district_id)
            s.merge(school)
        return school

    def schools(self) -> list[School]:
        with Session(self.engine) as s:
            return list(s.exec(select(School).order_by(School.name)).all())

    # ---- walks ------------------------------------------------------------------------------------

    def create_walk(self, *, school_id: str, rubric_id: str, rubric_version: int, focus: list[str],
                    walk_date: date | None = None, team: list[str] | None = None, cycle_label: str = "",
                    phase: str = "baseline") -> Walk:
        rubric = self.catalog.get(rubric_id, rubric_version)
        if rubric is None:
            raise ServiceError(f"Rubric {rubric_id}@{rubric_version} is not installed; "
                               "choose one from the list or sync to receive it.")
        self._check_walk_fields(rubric, focus, phase)
        with self._tx() as s:
            if s.get(School, school_id) is None:
                raise ServiceError(f"School {school_id} is not known on this device; choose one from the list.")
            walk = Walk(id=new_id(), school_id=school_id, walk_date=walk_date or date.today(),
                        rubric_id=rubric_id, rubric_version=rubric_version, focus=list(focus),
                        team=[t.strip() for t in (team or []) if t.strip()], cycle_label=cycle_label.strip(),
                        phase=phase, created_by=self.user_id())
            self._record(s, walk, walk.id)
        return walk

    @staticmethod
    def _check_walk_fields(rubric: Rubric, focus: list[str], phase: str) -> None:
        if phase not in PHASES:
            raise ServiceError(f"Phase '{phase}' is not one of {', '.join(PHASES)}.")
        if not 1 <= len(focus) <= 3:
            raise ServiceError("Choose 1 to 3 focus look-fors (the walk's instructional priorities).")
        known = {lf.id for lf in rubric.lookfors}
        unknown = [f for f in focus if f not in known]
        if unknown:
            raise ServiceError(f"Focus look-for {unknown[0]} is not in {rubric.key}; choose one of its look-fors.")
        if len(set(focus)) != len(focus):
            raise ServiceError("Each focus look-for can be chosen once.")

    def update_walk(self, walk_id: str, **fields) -> Walk:
        allowed = {"school_id", "walk_date", "focus", "team", "cycle_label", "phase"}
        bad = set(fields) - allowed
        if bad:
            raise ServiceError(f"Walk field {sorted(bad)[0]} cannot be changed here.")
        with self._tx() as s:
            walk = self._live(s, Walk, walk_id, "Walk")
            for k, v in fields.items():
                setattr(walk, k, v)
            self._check_walk_fields(self.rubric_for(walk), walk.focus, walk.phase)
            self._record(s, walk, walk.id)
        return walk

    def delete_walk(self, walk_id: str) -> None:
        self._set_walk_deleted(walk_id, True)

    def restore_walk(self, walk_id: str) -> None:
        self._set_walk_deleted(walk_id, False)

    def _set_walk_deleted(self, walk_id: str, deleted: bool) -> None:
        with self._tx() as s:
            walk = s.get(Walk, walk_id)
            if walk is None:
                raise ServiceError(f"Walk {walk_id} does not exist on this device.")
            walk.deleted = deleted
            self._record(s, walk, walk.id)

    def walk(self, walk_id: str) -> Walk:
        with Session(self.engine) as s:
            return self._live(s, Walk, walk_id, "Walk")

    def walks(self) -> list[Walk]:
        with Session(self.engine) as s:
            q = select(Walk).where(Walk.deleted == False).order_by(Walk.walk_date.desc(), Walk.updated_at.desc())  # noqa: E712
            return list(s.exec(q).all())

    # ---- visits -----------------------------------------------------------------------------------

    def start_visit(self, walk_id: str, *, grade: str | None = None, subject: str | None = None,
                    class_type: str | None = None, student_count: int | None = None) -> Visit:
        self._check_visit_fields(grade=grade, class_type=class_type, student_count=student_count)
        with self._tx() as s:
            self._live(s, Walk, walk_id, "Walk")
            me = self.user_id()
            # numbers are never reused, not even after a delete, so "visit 7" always means one classroom
            last = s.exec(select(func.max(Visit.visit_no)).where(Visit.walk_id == walk_id,
                                                                 Visit.observer_id == me)).one()
            visit = Visit(id=new_id(), walk_id=walk_id, visit_no=(last or 0) + 1, observer_id=me, grade=grade,
                          subject=subject, class_type=class_type, student_count=student_count,
                          started_at=utcnow())
            self._record(s, visit, walk_id)
        return visit

    @staticmethod
    def _check_visit_fields(**f) -> None:
        if f.get("grade") is not None and f["grade"] not in GRADES:
            raise ServiceError(f"Grade '{f['grade']}' is not one of {', '.join(GRADES)}.")
        if f.get("class_type") is not None and f["class_type"] not in CLASS_TYPES:
            raise ServiceError(f"Class type '{f['class_type']}' is not one of {', '.join(CLASS_TYPES)}.")
        n = f.get("student_count")
        if n is not None and not 0 <= int(n) <= 200:
            raise ServiceError("Student count must be a whole number from 0 to 200.")

    def update_visit(self, visit_id: str, **fields) -> Visit:
        allowed = {"grade", "subject", "class_type", "student_count", "note", "calibration_code"}
        bad = set(fields) - allowed
        if bad:
            raise ServiceError(f"Visit field {sorted(bad)[0]} cannot be changed here.")
        self._check_visit_fields(**fields)
        with self._tx() as s:
            visit = self._own_visit(s, visit_id)
            for k, v in fields.items():
                setattr(visit, k, v)
            self._record(s, visit, visit.walk_id)
        return visit

    def finish_visit(self, visit_id: str) -> Visit:
        with self._tx() as s:
            visit = self._own_visit(s, visit_id)
            visit.ended_at = utcnow()
            self._record(s, visit, visit.walk_id)
        return visit

    def reopen_visit(self, visit_id: str) -> Visit:
        with self._tx() as s:
            visit = self._own_visit(s, visit_id)
            visit.ended_at = None
            self._record(s, visit, visit.walk_id)
        return visit

    def delete_visit(self, visit_id: str) -> None:
        self._set_visit_deleted(visit_id, True)

    def restore_visit(self, visit_id: str) -> None:
        """Undo a delete: the tombstone is lifted by a new change, so both sync in order."""
        self._set_visit_deleted(visit_id, False)

    def _set_visit_deleted(self, visit_id: str, deleted: bool) -> None:
        with self._tx() as s:
            visit = s.get(Visit, visit_id)
            if visit is None:
                raise ServiceError(f"Visit {visit_id} does not exist on this device.")
            if visit.observer_id not in (self.user_id(), LOCAL_USER):
                raise ServiceError("This visit was recorded by another observer; only they can delete it.")
            visit.deleted = deleted
            self._record(s, visit, visit.walk_id)

    def visit(self, visit_id: str) -> Visit:
        with Session(self.engine) as s:
            return self._live(s, Visit, visit_id, "Visit")

    def visits(self, walk_id: str) -> list[Visit]:
        with Session(self.engine) as s:
            q = select(Visit).where(Visit.walk_id == walk_id, Visit.deleted == False)  # noqa: E712
            return list(s.exec(q.order_by(Visit.observer_id, Visit.visit_no)).all())

    def unfinished_visit(self) -> Visit | None:
        """The visit this observer left open (app closed or killed mid-visit), to resume it."""
        with Session(self.engine) as s:
            q = select(Visit).join(Walk, Walk.id == Visit.walk_id).where(
                Visit.ended_at == None, Visit.deleted == False, Walk.deleted == False,  # noqa: E711,E712
                Visit.observer_id.in_([self.user_id(), LOCAL_USER]))
            return s.exec(q.order_by(Visit.started_at.desc())).first()

    # ---- ratings ----------------------------------------------------------------------------------

    def _rubric_of_visit(self, s: Session, visit: Visit) -> Rubric:
        return self.rubric_for(s.get(Walk, visit.walk_id))

    def _set_cell(self, visit_id: str, lookfor_id: str, *, value: str | None, not_observed: bool,
                  deleted: bool) -> Rating:
        with self._tx() as s:
            visit = self._own_visit(s, visit_id)
            rubric = self._rubric_of_visit(s, visit)
            try:
                scale = rubric.scale_of(lookfor_id)
            except StopIteration:
                raise ServiceError(f"Look-for {lookfor_id} is not in {rubric.key}.") from None
            if value is not None and value not in scale.values():
                raise ServiceError(f"'{value}' is not on the scale of {lookfor_id}; "
                                   f"choose one of {', '.join(scale.values())}.")
            if not_observed and not scale.not_observed:
                raise ServiceError(f"{lookfor_id} must be rated; 'Not observed' is not allowed on its scale.")
            rid = rating_id(visit_id, lookfor_id)
            row = s.get(Rating, rid) or Rating(id=rid, visit_id=visit_id, lookfor_id=lookfor_id)
            row.value, row.not_observed, row.deleted = value, not_observed, deleted
            self._record(s, row, visit.walk_id)
        return row

    def rate(self, visit_id: str, lookfor_id: str, value: str) -> Rating:
        return self._set_cell(visit_id, lookfor_id, value=value, not_observed=False, deleted=False)

    def mark_not_observed(self, visit_id: str, lookfor_id: str) -> Rating:
        return self._set_cell(visit_id, lookfor_id, value=None, not_observed=True, deleted=False)

    def clear_rating(self, visit_id: str, lookfor_id: str) -> Rating:
        return self._set_cell(visit_id, lookfor_id, value=None, not_observed=False, deleted=True)

    def tap(self, visit_id: str, lookfor_id: str, choice: str | None) -> Rating:
        """One tap on a choice (a scale value, or None for 'Not observed'); tapping the chosen one clears it."""
        current = self.ratings(visit_id).get(lookfor_id)
        if current is not None:
            if (choice is None and current.not_observed) or (choice is not None and current.value == choice):
                return self.clear_rating(visit_id, lookfor_id)
        if choice is None:
            return self.mark_not_observed(visit_id, lookfor_id)
        return self.rate(visit_id, lookfor_id, choice)

    def ratings(self, visit_id: str) -> dict[str, Rating]:
        """The live (not cleared) rating cells of a visit, by look-for id."""
        with Session(self.engine) as s:
            q = select(Rating).where(Rating.visit_id == visit_id, Rating.deleted == False)  # noqa: E712
            return {r.lookfor_id: r for r in s.exec(q).all()}

    def rated_counts(self, walk_id: str) -> dict[str, int]:
        """Visit id -> number of look-fors rated or marked not observed."""
        with Session(self.engine) as s:
            q = (select(Rating.visit_id, func.count()).join(Visit, Visit.id == Rating.visit_id)
                 .where(Visit.walk_id == walk_id, Rating.deleted == False).group_by(Rating.visit_id))  # noqa: E712
            return dict(s.exec(q).all())

    # ---- notes ------------------------------------------------------------------------------------

    def add_note(self, visit_id: str, text: str, lookfor_id: str | None = None) -> EvidenceNote:
        if not text.strip():
            raise ServiceError("An evidence note needs some text.")
        with self._tx() as s:
            visit = self._own_visit(s, visit_id)
            if lookfor_id is not None:
                rubric = self._rubric_of_visit(s, visit)
                if lookfor_id not in {lf.id for lf in rubric.lookfors}:
                    raise ServiceError(f"Look-for {lookfor_id} is not in {rubric.key}.")
            note = EvidenceNote(id=new_id(), visit_id=visit_id, lookfor_id=lookfor_id, text=text.strip())
            self._record(s, note, visit.walk_id)
        return note

    def set_note(self, visit_id: str, lookfor_id: str | None, text: str) -> EvidenceNote | None:
        """The one note per (visit, look-for) that the capture screen edits: create, replace, or delete if empty."""
        with self._tx() as s:
            visit = self._own_visit(s, visit_id)
            q = select(EvidenceNote).where(EvidenceNote.visit_id == visit_id, EvidenceNote.deleted == False,  # noqa: E712
                                           EvidenceNote.lookfor_id == lookfor_id)
            note = s.exec(q).first()
            text = text.strip()
            if note is None and not text:
                return None
            if note is None:
                note = EvidenceNote(id=new_id(), visit_id=visit_id, lookfor_id=lookfor_id)
            if note.text == text:
                return note
            note.text, note.deleted = text, not text
            self._record(s, note, visit.walk_id)
        return note

    def delete_note(self, note_id: str) -> None:
        with self._tx() as s:
            note = self._live(s, EvidenceNote, note_id, "Note")
            visit = self._own_visit(s, note.visit_id)
            note.deleted = True
            self._record(s, note, visit.walk_id)

    def notes(self, visit_id: str) -> list[EvidenceNote]:
        with Session(self.engine) as s:
            q = select(EvidenceNote).where(EvidenceNote.visit_id == visit_id, EvidenceNote.deleted == False)  # noqa: E712
            return list(s.exec(q).all())

    # ---- outbox facts for the UI ------------------------------------------------------------------

    def pending_count(self, walk_id: str | None = None) -> int:
        with Session(self.engine) as s:
            q = select(func.count()).select_from(Outbox)
            if walk_id is not None:
                q = q.where(Outbox.walk_id == walk_id)
            return s.exec(q).one()

    def pending_by_walk(self) -> dict[str, int]:
        with Session(self.engine) as s:
            return dict(s.exec(select(Outbox.walk_id, func.count()).group_by(Outbox.walk_id)).all())
