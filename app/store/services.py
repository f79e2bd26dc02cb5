"""The capture service: every user action on walks, visits, ratings and notes, one transaction each.

Each mutating call writes the record and appends its outbox entry in the same SQLite transaction, so when the
call returns the change is on disk and queued for sync (transactional outbox). Views, the CLI and the seeder
all go through here; nothing else writes these tables (the sync client applies pulled changes separately).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import date
from typing import Iterator

from sqlalchemy import exc as sa_exc
from sqlalchemy import and_, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from app.store import integrity
from app.store.catalog import RubricCatalog
from app.store.db import StoreError, writer
from app.store.models import Cycle, EvidenceNote, Meta, Outbox, Rating, School, Visit, Walk
from rubrics import Rubric
from sync.errors import LearnwalkError
from sync.protocol import new_id, rating_id, times, utcnow
from sync.protocol.rules import (RuleBroken, check_cycle, check_note_text, check_storable, check_time, check_visit,
                                 check_walk, cycle_focus, rubric_rules)

LOCAL_USER = "local"  # the observer id of a device that is not enrolled yet


class ServiceError(LearnwalkError):
    """A user action that cannot be carried out; the message says why and what to do, in one sentence."""


class StorageError(ServiceError, StoreError):
    """SQLite could not write a user action; the transaction rolled back, so nothing of the action was saved.

    A ServiceError too, so every face that shows ServiceError messages shows this one without new code.
    """


class StorageFull(StorageError):
    """The disk (or the file's size limit) is full."""


class StorageBusy(StorageError):
    """Another process held the write lock for longer than busy_timeout."""


class StorageDamaged(StorageError):
    """SQLite found the file malformed (or an I/O error with a failing quick check): no more writes into it."""


_SQLITE_FULL, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 13, 5, 6, 8


def _storage_error(exc: Exception) -> StorageError:
    orig = getattr(exc, "orig", None) or exc
    code = (getattr(orig, "sqlite_errorcode", None) or 0) & 0xFF  # primary code; extended codes add high bits
    text = str(orig).lower()
    if code == _SQLITE_FULL or "database or disk is full" in text:
        return StorageFull("The device storage is full; free some space on this device and try again "
                           "(nothing was saved for this change).")
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in text:
        return StorageBusy("The device store is busy with another task; try again in a moment "
                           "(nothing was saved for this change).")
    if code == _SQLITE_READONLY:
        return StorageError("The device store is read-only; check the data folder's permissions "
                            "(nothing was saved for this change).")
    return StorageError(f"The device could not save this change ({orig}); nothing was saved; try again, and "
                        "restart the app if it keeps happening.")


_KIND = {Cycle: "cycle", Walk: "walk", Visit: "visit", Rating: "rating", EvidenceNote: "note"}

# how the device words each rule of the rule book (sync.protocol.rules) to its user; the server words the same
# rules as the lowercase reasons of its push answers
_SAYS = {
    "phase": "Phase '{value}' is not one of {choices}.",
    "focus_form": "Focus look-fors must be a list of look-for ids.",
    "focus_count": "Choose {min} to {max} focus look-fors (the walk's instructional priorities).",
    "focus_unknown": "Focus look-for {lookfor} is not in {rubric}; choose one of its look-fors.",
    "focus_twice": "Each focus look-for can be chosen once.",
    "too_long": "The {field} can be at most {limit} characters and has {count}; shorten it (nothing was saved).",
    "not_text": "The {field} must be text.",
    "visit_no": "Visit number {value} is not a whole number from 1 up.",
    "grade": "Grade '{value}' is not one of {choices}.",
    "subject": "Subject '{value}' is not one of {choices}.",
    "class_type": "Class type '{value}' is not one of {choices}.",
    "student_count": "Student count must be a whole number from 0 to {max}.",
    "lookfor": "Look-for {lookfor} is not in {rubric}.",
    "not_applicable": "{lookfor} is only rated in {subjects} visits; this visit is {subject}.",
    "value": "'{value}' is not on the scale of {lookfor}; choose one of {values}.",
    "not_observed": "{lookfor} must be rated; 'Not observed' is not allowed on its scale.",
    "not_observed_value": "{lookfor} is either rated or not observed, not both.",
    "note_text": "An evidence note needs some text.",
    "nul": "The {field} holds a NUL character, which cannot be saved; remove it.",
    "time": "This cannot be saved: {why}.",
    "cycle_name": "A cycle needs a name, e.g. Fall 2026.",
    "priority_count": "A cycle has {min} to {max} priorities; this one has {count}.",
    "priority_form": "Priority {n} needs a look-for and a target (a whole percent, or none).",
    "priority_lookfors": "The priorities name {count} look-fors; name {min} to {max} in all, each once (every walk "
                         "of the cycle takes them as its focus).",
    "priority_target": "The target of priority {n} is {value}; write a whole percent from 1 to 100.",
    "cycle_rubric": "This walk uses another rubric than cycle {cycle} ({rubric}); choose the cycle's rubric.",
    "cycle_school": "Cycle {cycle} belongs to another school; choose one of this school's cycles.",
}

# who may create and change a cycle (the server holds the same rule, sync.server.ingest.rules): leads and admins;
# observers pick one for their walks. A device not enrolled yet may (its records go to its user at enrollment).
CYCLE_EDITORS = ("lead", "admin")
CYCLE_RULE = "Leads and admins create and change cycles; observers pick one for their walks."


@contextmanager
def _in_words() -> Iterator[None]:
    """A broken rule of the rule book as the ServiceError the device shows."""
    try:
        yield
    except RuleBroken as broken:
        raise ServiceError(_SAYS[broken.rule].format(**broken.facts)) from None


class CaptureService:
    def __init__(self, engine: Engine, catalog: RubricCatalog | None = None):
        self.engine = engine
        self._writer = writer(engine)
        self.catalog = catalog or RubricCatalog(engine)
        self._user_id: str | None = None
        self._local = threading.local()  # the open batch, per thread (Flet runs handlers on worker threads)
        self._damaged = False  # set once SQLite reports the file damaged: capture never writes into it again

    # ---- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        """One user action: its own write transaction, or a part of the open batch() on this thread."""
        batch = getattr(self._local, "batch", None)
        if batch is not None:
            try:
                yield batch
            except BaseException:
                self._local.failed = True  # the session may hold half an action: the batch must not commit
                raise
            return
        if self._damaged:
            raise StorageDamaged(integrity.DAMAGED_IN_USE)
        try:
            with Session(self._writer, expire_on_commit=False) as s:
                yield s
                s.commit()
        except sa_exc.DBAPIError as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: sa_exc.DBAPIError) -> StorageError:
        """The words for a write SQLite refused; a damaged file is never written again by this service."""
        if integrity.after_error(self.engine, exc):
            self._damaged = True
            return StorageDamaged(integrity.DAMAGED_IN_USE)
        return _storage_error(exc)

    @contextmanager
    def batch(self) -> Iterator["CaptureService"]:
        """Run many actions in ONE transaction (seeding, imports): each action still writes its row and
        outbox entry through the same code, but they commit together, all or nothing.

        If any action inside raises, nothing of the batch is saved, even if the caller caught the error.
        """
        if getattr(self._local, "batch", None) is not None:
            yield self  # nested: part of the outer batch
            return
        if self._damaged:
            raise StorageDamaged(integrity.DAMAGED_IN_USE)
        s = Session(self._writer, expire_on_commit=False)
        self._local.batch, self._local.failed = s, False
        try:
            yield self
            if self._local.failed:
                raise ServiceError("An action in this batch failed, so nothing of the batch was saved.")
            s.commit()
        except sa_exc.DBAPIError as exc:
            raise self._failed(exc) from exc
        finally:
            self._local.batch = None
            s.close()  # rolls back whatever was not committed

    @staticmethod
    def _record(s: Session, row: SQLModel, walk_id: str) -> None:
        """Write the row and queue its full snapshot for sync, in the caller's transaction."""
        now = utcnow()
        if now < times.EARLIEST:  # a reset clock: the server would refuse the change (sync.protocol.times)
            raise ServiceError(f"The device's clock says {now:%Y-%m-%d}, before {times.EARLIEST:%Y-%m-%d}; set "
                               "the date and time in the device's settings, then try again (nothing was saved).")
        row.updated_at = now
        s.add(row)
        _kept(s)[(type(row), row.id)] = row
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
        row = _get(s, model, record_id)
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

    # ---- cycles -----------------------------------------------------------------------------------

    def role(self) -> str | None:
        """This device's user's role (observer, lead, admin), or None before enrollment."""
        with Session(self.engine) as s:
            m = s.get(Meta, "role")
            return m.value if m else None

    def may_edit_cycles(self) -> bool:
        role = self.role()
        return role is None or role in CYCLE_EDITORS

    def _cycle_fields(self, name: str, rubric: Rubric, priorities) -> list[dict]:
        if not self.may_edit_cycles():
            raise ServiceError(f"{CYCLE_RULE} Ask a lead to make or change this cycle (nothing was saved).")
        if not isinstance(priorities, list):
            raise ServiceError("A cycle's priorities must be a list.")
        clean = [{"lookfors": list(p.get("lookfors") or []), "target": p.get("target")}
                 if isinstance(p, dict) else p for p in priorities]
        with _in_words():
            check_cycle(rubric_rules(rubric), name=name, priorities=clean)
        return clean

    def create_cycle(self, *, school_id: str, name: str, start_date: date, rubric_id: str, rubric_version: int,
                     priorities: list[dict]) -> Cycle:
        """A school's cycle with its priorities (each {"lookfors": [...], "target": percent or None})."""
        rubric = self.catalog.get(rubric_id, rubric_version)
        if rubric is None:
            raise ServiceError(f"Rubric {rubric_id}@{rubric_version} is not installed; choose one from the list "
                               "or sync to receive it.")
        name = name.strip() if isinstance(name, str) else name
        clean = self._cycle_fields(name, rubric, priorities)
        start = _as_date(start_date)
        with self._tx() as s:
            if s.get(School, school_id) is None:
                raise ServiceError(f"School {school_id} is not known on this device; choose one from the list.")
            cycle = Cycle(id=new_id(), school_id=school_id, name=name, start_date=start, rubric_id=rubric_id,
                          rubric_version=rubric_version, priorities=clean, created_by=self.user_id())
            self._record(s, cycle, cycle.id)
        return cycle

    def update_cycle(self, cycle_id: str, **fields) -> Cycle:
        """Change a cycle's name, start date or priorities (targets); its walks keep their own focus."""
        bad = set(fields) - {"name", "start_date", "priorities"}
        if bad:
            raise ServiceError(f"Cycle field {sorted(bad)[0]} cannot be changed here.")
        with self._tx() as s:
            cycle = self._live(s, Cycle, cycle_id, "Cycle")
            rubric = self.catalog.get(cycle.rubric_id, cycle.rubric_version)
            if rubric is None:
                raise ServiceError(f"Rubric {cycle.rubric_id}@{cycle.rubric_version} is not on this device; "
                                   "sync with the server to receive it.")
            name = fields.get("name", cycle.name)
            name = name.strip() if isinstance(name, str) else name
            fields["priorities"] = self._cycle_fields(name, rubric, fields.get("priorities", cycle.priorities))
            fields["name"] = name
            if "start_date" in fields:
                fields["start_date"] = _as_date(fields["start_date"])
            if all(getattr(cycle, k) == v for k, v in fields.items()):
                return cycle
            for k, v in fields.items():
                setattr(cycle, k, v)
            cycle.migrated = False  # a lead's edit: the server takes it as a change, not a migration's copy
            self._record(s, cycle, cycle.id)
        return cycle

    def cycle(self, cycle_id: str) -> Cycle:
        with Session(self.engine) as s:
            return self._live(s, Cycle, cycle_id, "Cycle")

    def cycles(self, school_id: str | None = None) -> list[Cycle]:
        """The live cycles (of a school), newest start first."""
        with Session(self.engine) as s:
            q = select(Cycle).where(Cycle.deleted == False)  # noqa: E712
            if school_id is not None:
                q = q.where(Cycle.school_id == school_id)
            return list(s.exec(q.order_by(Cycle.start_date.desc(), Cycle.name)).all())

    # ---- walks ------------------------------------------------------------------------------------

    def create_walk(self, *, school_id: str, rubric_id: str, rubric_version: int, focus: list[str],
                    walk_date: date | None = None, team: list[str] | None = None, cycle_label: str = "",
                    phase: str = "baseline", cycle_id: str | None = None) -> Walk:
        """A new walk; with cycle_id it takes the cycle's rubric check, name and its priorities' look-fors as its
        focus (the `focus` given is then ignored)."""
        if cycle_id is not None:
            cycle = self.cycle(cycle_id)
            if cycle.school_id != school_id:
                raise ServiceError(_SAYS["cycle_school"].format(cycle=cycle.name))
            if (cycle.rubric_id, cycle.rubric_version) != (rubric_id, rubric_version):
                raise ServiceError(_SAYS["cycle_rubric"].format(cycle=cycle.name,
                                                                rubric=f"{cycle.rubric_id}@{cycle.rubric_version}"))
            focus, cycle_label = cycle_focus(cycle.priorities), cycle.name
        rubric = self.catalog.get(rubric_id, rubric_version)
        if rubric is None:
            raise ServiceError(f"Rubric {rubric_id}@{rubric_version} is not installed; "
                               "choose one from the list or sync to receive it.")
        focus = _as_focus(focus)
        team = [t.strip() for t in (team or []) if t.strip()]
        self._check_walk_fields(rubric, focus, phase, cycle_label.strip(), team)
        walk_date = _as_date(walk_date) if walk_date is not None else date.today()
        with self._tx() as s:
            if s.get(School, school_id) is None:
                raise ServiceError(f"School {school_id} is not known on this device; choose one from the list.")
            walk = Walk(id=new_id(), school_id=school_id, walk_date=walk_date,
                        rubric_id=rubric_id, rubric_version=rubric_version, focus=list(focus),
                        team=team, cycle_label=cycle_label.strip(), cycle_id=cycle_id,
                        phase=phase, created_by=self.user_id())
            self._record(s, walk, walk.id)
        return walk

    @staticmethod
    def _check_walk_fields(rubric: Rubric, focus: list[str], phase: str, cycle_label: str = "",
                           team: list[str] | None = None) -> None:
        with _in_words():
            check_walk(rubric_rules(rubric), phase=phase, focus=focus, cycle_label=cycle_label)
            check_storable("walk", {"team": team}, ("team",))

    def update_walk(self, walk_id: str, **fields) -> Walk:
        allowed = {"school_id", "walk_date", "focus", "team", "cycle_label", "phase"}
        bad = set(fields) - allowed
        if bad:
            raise ServiceError(f"Walk field {sorted(bad)[0]} cannot be changed here.")
        if "focus" in fields:
            fields["focus"] = _as_focus(fields["focus"])
        if "walk_date" in fields:
            fields["walk_date"] = _as_date(fields["walk_date"])
        if "team" in fields:
            fields["team"] = [str(t).strip() for t in (fields["team"] or []) if str(t).strip()]
        if "cycle_label" in fields:
            fields["cycle_label"] = str(fields["cycle_label"] or "").strip()
        with self._tx() as s:
            walk = self._live(s, Walk, walk_id, "Walk")
            if "school_id" in fields and s.get(School, fields["school_id"]) is None:
                raise ServiceError(f"School {fields['school_id']} is not known on this device; "
                                   "choose one from the list.")
            self._check_walk_fields(self.rubric_for(walk), fields.get("focus", walk.focus),
                                    fields.get("phase", walk.phase), fields.get("cycle_label", walk.cycle_label),
                                    fields.get("team"))
            if all(getattr(walk, k) == v for k, v in fields.items()):
                return walk  # nothing changed: no outbox entry
            for k, v in fields.items():
                setattr(walk, k, v)
            self._record(s, walk, walk.id)
        return walk

    def delete_walk(self, walk_id: str) -> None:
        self._set_walk_deleted(walk_id, True)

    def restore_walk(self, walk_id: str) -> None:
        self._set_walk_deleted(walk_id, False)

    def _set_walk_deleted(self, walk_id: str, deleted: bool) -> None:
        with self._tx() as s:
            walk = _get(s, Walk, walk_id)
            if walk is None:
                raise ServiceError(f"Walk {walk_id} does not exist on this device.")
            if walk.deleted == deleted:
                return  # already so: no outbox entry
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
        self._check_visit_fields(grade=grade, subject=subject, class_type=class_type, student_count=student_count)
        with self._tx() as s:
            self._live(s, Walk, walk_id, "Walk")
            me = self.user_id()
            # numbers are never reused, not even after a delete, so "visit 7" always means one classroom;
            # within one transaction (a batch) the last number is remembered: we hold the write lock
            numbers = s.info.setdefault("lw_last_no", {})
            last = numbers.get((walk_id, me))
            if last is None:
                last = s.exec(select(func.max(Visit.visit_no)).where(Visit.walk_id == walk_id,
                                                                     Visit.observer_id == me)).one() or 0
            visit = Visit(id=new_id(), walk_id=walk_id, visit_no=last + 1, observer_id=me, grade=grade,
                          subject=subject, class_type=class_type, student_count=student_count,
                          started_at=utcnow())
            self._record(s, visit, walk_id)
            numbers[(walk_id, me)] = visit.visit_no
            s.info.setdefault("lw_new_visits", set()).add(visit.id)
        return visit

    @staticmethod
    def _check_visit_fields(**f) -> None:
        """The given fields of a visit (a partial edit gives some)."""
        with _in_words():
            check_visit(**f)

    def update_visit(self, visit_id: str, **fields) -> Visit:
        allowed = {"grade", "subject", "class_type", "student_count", "note", "calibration_code"}
        bad = set(fields) - allowed
        if bad:
            raise ServiceError(f"Visit field {sorted(bad)[0]} cannot be changed here.")
        self._check_visit_fields(**fields)
        if fields.get("note") is None and "note" in fields:
            fields["note"] = ""
        with self._tx() as s:
            visit = self._own_visit(s, visit_id)
            if all(getattr(visit, k) == v for k, v in fields.items()):
                return visit  # nothing changed: no outbox entry
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
            visit = _get(s, Visit, visit_id)
            if visit is None:
                raise ServiceError(f"Visit {visit_id} does not exist on this device.")
            if visit.observer_id not in (self.user_id(), LOCAL_USER):
                raise ServiceError("This visit was recorded by another observer; only they can delete it.")
            if visit.deleted == deleted:
                return  # already so: no outbox entry
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
        walk = _get(s, Walk, visit.walk_id)
        if walk is None or walk.deleted:
            raise ServiceError("This visit's walk was deleted; restore the walk to change its visits.")
        return self.rubric_for(walk)

    @staticmethod
    def _lookfor(rubric: Rubric, lookfor_id: str) -> None:
        with _in_words():
            rubric_rules(rubric).check_lookfor(lookfor_id)

    @staticmethod
    def _load_cell(s: Session, visit_id: str, lookfor_id: str, rid: str) -> None:
        """Read a tap's visit, walk and cell in ONE query (a tap's latency is mostly our own reads); the rows
        are kept for the checks that follow. In a batch they are usually in hand already."""
        kept = _kept(s)
        if (Visit, visit_id) in kept:
            return
        found = s.exec(select(Visit, Walk, Rating).outerjoin(Walk, Walk.id == Visit.walk_id)
                       .outerjoin(Rating, and_(Rating.visit_id == visit_id, Rating.lookfor_id == lookfor_id))
                       .where(Visit.id == visit_id)).first()
        if found is not None:
            for model, row in zip((Visit, Walk, Rating), found):
                if row is not None:
                    kept[(model, row.id)] = row
            if found[2] is None:
                s.info.setdefault("lw_absent", set()).add(rid)  # the cell is new: no second look needed

    def _set_cell(self, visit_id: str, lookfor_id: str, *, value: str | None, not_observed: bool,
                  deleted: bool, toggle: bool = False) -> Rating:
        """Set one rating cell. toggle: if the cell already holds exactly this choice, clear it instead
        (decided inside the transaction, so a double tap can never be read stale)."""
        rid = rating_id(visit_id, lookfor_id)
        with self._tx() as s:
            self._load_cell(s, visit_id, lookfor_id, rid)
            visit = self._own_visit(s, visit_id)
            rubric = self._rubric_of_visit(s, visit)
            # the rating as asked for (a toggle may turn it into a clear below, which is always allowed)
            with _in_words():
                rubric_rules(rubric).check_cell(lookfor_id, value, not_observed, deleted, visit.subject)
            row = _kept(s).get((Rating, rid))
            # a visit started in this transaction, or a cell the first read found missing, needs no query
            known_new = visit_id in s.info.get("lw_new_visits", ()) or rid in s.info.get("lw_absent", ())
            if row is None and not known_new:
                row = s.get(Rating, (visit_id, lookfor_id))
            chosen = row is not None and not row.deleted and (row.value, row.not_observed) == (value, not_observed)
            if toggle and chosen:
                value, not_observed, deleted = None, False, True
            if row is None:
                row = Rating(id=rid, visit_id=visit_id, lookfor_id=lookfor_id, value=None, deleted=True)
                if deleted:
                    return row  # clearing a cell that was never set: nothing to record
            if (row.value, row.not_observed, row.deleted) == (value, not_observed, deleted):
                return row  # already so: no outbox entry
            row.value, row.not_observed, row.deleted = value, not_observed, deleted
            self._record(s, row, visit.walk_id)
        return row

    def rate(self, visit_id: str, lookfor_id: str, value: str) -> Rating:
        return self._set_cell(visit_id, lookfor_id, value=str(value), not_observed=False, deleted=False)

    def mark_not_observed(self, visit_id: str, lookfor_id: str) -> Rating:
        return self._set_cell(visit_id, lookfor_id, value=None, not_observed=True, deleted=False)

    def clear_rating(self, visit_id: str, lookfor_id: str) -> Rating:
        return self._set_cell(visit_id, lookfor_id, value=None, not_observed=False, deleted=True)

    def tap(self, visit_id: str, lookfor_id: str, choice: str | None) -> Rating:
        """One tap on a choice (a scale value, or None for 'Not observed'); tapping the chosen one clears it.

        One transaction: the returned cell (deleted=True when the tap cleared it) is on disk when this returns.
        """
        if choice is None:
            return self._set_cell(visit_id, lookfor_id, value=None, not_observed=True, deleted=False, toggle=True)
        return self._set_cell(visit_id, lookfor_id, value=str(choice), not_observed=False, deleted=False,
                              toggle=True)

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
        with _in_words():  # too long, or a NUL: refused with the limit, never cut short
            check_note_text(text.strip() if isinstance(text, str) else text)
        with self._tx() as s:
            visit = self._own_visit(s, visit_id)
            rubric = self._rubric_of_visit(s, visit)
            if lookfor_id is not None:
                self._lookfor(rubric, lookfor_id)
            note = EvidenceNote(id=new_id(), visit_id=visit_id, lookfor_id=lookfor_id, text=text.strip())
            self._record(s, note, visit.walk_id)
        return note

    def set_note(self, visit_id: str, lookfor_id: str | None, text: str) -> EvidenceNote | None:
        """The one note per (visit, look-for) that the capture screen edits: create, replace, or delete if empty."""
        with self._tx() as s:
            visit = self._own_visit(s, visit_id)
            rubric = self._rubric_of_visit(s, visit)
            if lookfor_id is not None:
                self._lookfor(rubric, lookfor_id)
            q = select(EvidenceNote).where(EvidenceNote.visit_id == visit_id, EvidenceNote.deleted == False,  # noqa: E712
                                           EvidenceNote.lookfor_id == lookfor_id)
            note = s.exec(q).first()
            text = text.strip()
            with _in_words():  # too long, or a NUL: refused with the limit, never cut short
                check_note_text(text, deleted=not text)
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
            self._rubric_of_visit(s, visit)
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

    def unsent_visits(self) -> int:
        """How many visits have a change (the visit, a rating, a note) still in the outbox: not yet on the server."""
        with Session(self.engine) as s:
            rows = s.exec(select(Outbox.kind, Outbox.record_id, Outbox.data).where(Outbox.kind != "walk")).all()
        return len({rid if kind == "visit" else (data or {}).get("visit_id") for kind, rid, data in rows} - {None})


def _as_date(value) -> date:
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise ServiceError(f"Walk date '{value}' is not a date; use YYYY-MM-DD, e.g. 2026-09-14.") from None
    with _in_words():  # a date the server accepts (sync.protocol.times)
        check_time(value, "walk_date")
    return value


def _as_focus(focus) -> list[str]:
    if isinstance(focus, str) or not all(isinstance(f, str) for f in (focus or [])):
        raise ServiceError("Focus look-fors must be a list of look-for ids.")
    return list(focus or [])


def _kept(s: Session) -> dict:
    """Rows this transaction has read or written, held strongly: the session's identity map is weak, and in a
    batch the same walk and visit are needed by every action (reloading them dominated seeding time)."""
    return s.info.setdefault("lw_kept", {})


def _get(s: Session, model, key: str):
    kept = _kept(s)
    row = kept.get((model, key))
    if row is None:
        row = s.get(model, key)
        if row is not None:
            kept[(model, key)] = row
    return row
