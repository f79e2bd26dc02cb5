"""The Visit capture screen: header (number, timer, grade, subject, class type, students) and the look-fors.

Look-fors are grouped by domain with the walk's focus look-fors first; a subject-specific look-for is shown only
when its subject is chosen, a grade-limited one (e.g. grades 3-12) only when the grade is in its range or not
chosen yet. Each look-for's details (what each level looks like, its source) are plain data for the info sheet.
Every tap is written through the service before the method returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from app.store.services import LOCAL_USER, CaptureService, ServiceError
from app.viewmodels._format import clock, elapsed_seconds, plural
from app.viewmodels.observers import observer_label
from rubrics import LookFor
from sync.protocol.tally import is_checklist
from sync.protocol.vocabulary import (CLASS_TYPES, GRADES, NOT_OBSERVED_LABEL,  # noqa: F401 (the view's word)
                                      SUBJECTS, class_type_label)

NOT_OBSERVED = "na"  # the value part of a "Not observed" choice's identifier: rate:<lookfor_id>:na


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class LevelWords:
    label: str  # the level's label, e.g. "Mostly"
    text: str  # what that level looks like for this look-for


@dataclass
class LookForItem:
    id: str
    label: str
    text: str
    focus: bool
    choices: list[Choice]
    not_observed_allowed: bool
    value: str | None = None
    not_observed: bool = False
    note: str = ""
    visible: bool = True  # False: for another subject or grade than the visit's
    levels: list[LevelWords] = field(default_factory=list)  # lowest first; empty: the rubric does not describe them
    source: str = ""  # "Document — section" for the info sheet
    source_url: str = ""
    short_visit: bool | None = None
    checklist: bool = False  # a scale authored with one level: "Seen" or its derived "Not seen" (a value)

    @property
    def has_details(self) -> bool:
        return bool(self.levels or self.source)

    @property
    def info_name(self) -> str:
        """What a screen reader says for the card's info control."""
        return f"What each level looks like: {self.label}"

    @property
    def short_visit_text(self) -> str:
        if self.short_visit is None:
            return ""
        return ("Can usually be seen in a 5-15 minute visit." if self.short_visit else
                "Often needs more than a short visit; mark it Not observed if it did not come up.")

    @property
    def rated(self) -> bool:
        """Answered: a value (a checklist's "Not seen" among them) or "Not observed"; a blank is not rated."""
        return self.value is not None or self.not_observed

    @property
    def chosen(self) -> str | None:
        """The choice shown as chosen: a value, "na" (not observed) or None."""
        if self.not_observed:
            return NOT_OBSERVED
        return self.value

    def choice_name(self, label: str) -> str:
        """A choice's screen-reader name: the look-for with the level, so a row of chips is told apart."""
        return f"{self.label}: {label}"

    def is_chosen(self, choice: str | None) -> bool:
        """choice None (or "na") means the "Not observed" choice."""
        if choice in (None, NOT_OBSERVED):
            return self.not_observed
        return self.chosen == choice


@dataclass
class Section:
    title: str
    items: list[LookForItem] = field(default_factory=list)
    focus: bool = False


class CaptureVM:
    grades = [Choice(g, g) for g in GRADES]
    subjects = [Choice(s, s) for s in SUBJECTS]
    class_types = [Choice(c, class_type_label(c)) for c in CLASS_TYPES]

    def __init__(self, service: CaptureService, visit_id: str, after_finish: Callable[[], None] | None = None):
        self.service = service
        self.visit = service.visit(visit_id)
        self.walk = service.walk(self.visit.walk_id)
        self.rubric = service.rubric_for(self.walk)
        self._after_finish = after_finish
        self._ratings = service.ratings(visit_id)
        self._notes = {n.lookfor_id: n.text for n in service.notes(visit_id)}
        self._drafts: dict[str | None, str] = {}  # note text typed and not saved yet, by look-for id
        self.mine = self.visit.observer_id in (service.user_id(), LOCAL_USER)
        # a teammate's visit is read-only here (the service refuses changes to it): it says whose it is
        self.observer = "" if self.mine else observer_label(service.visits(self.walk.id), self.visit.observer_id)

    # ---- header -----------------------------------------------------------------------------------

    @property
    def visit_id(self) -> str:
        return self.visit.id

    @property
    def title(self) -> str:
        # visit numbers are per observer: a teammate's "Visit 1" is told apart by its observer
        return f"{self.observer} · Visit {self.visit.visit_no}" if self.observer else f"Visit {self.visit.visit_no}"

    @property
    def read_only_text(self) -> str:
        """What a teammate's visit says at its top ("" for this device's own visits)."""
        return (f"Recorded by {self.observer}: you can read it here; only they can change it." if self.observer
                else "")

    @property
    def finished(self) -> bool:
        return self.visit.ended_at is not None

    def elapsed(self, now: datetime | None = None) -> int:
        return elapsed_seconds(self.visit.started_at, self.visit.ended_at, now)

    def timer_text(self, now: datetime | None = None) -> str:
        return clock(self.elapsed(now))

    def _update(self, **fields) -> None:
        self.visit = self.service.update_visit(self.visit.id, **fields)

    def choose_grade(self, grade: str) -> None:
        """One tap picks a grade; a tap on the chosen grade clears it."""
        self._update(grade=None if self.visit.grade == grade else grade)

    def choose_subject(self, subject: str) -> None:
        if subject not in SUBJECTS:
            raise ServiceError(f"Subject '{subject}' is not one of {', '.join(SUBJECTS)}.")
        self._update(subject=None if self.visit.subject == subject else subject)

    def choose_class_type(self, class_type: str | None) -> None:
        self._update(class_type=None if class_type in (None, "", self.visit.class_type) else class_type)

    def set_student_count(self, text: str) -> None:
        text = text.strip()
        if not text:
            self._update(student_count=None)
            return
        if not text.isdigit():
            raise ServiceError(f"Student count '{text}' is not a whole number; write digits only, e.g. 24.")
        self._update(student_count=int(text))

    PAIR_CODE_HELP = ("Only when two observers are in this classroom at the same time: both type the same short "
                      "code (e.g. P1), so the Debrief compares your ratings and counts the classroom once.")

    @property
    def pair_code(self) -> str:
        return self.visit.calibration_code or ""

    def set_pair_code(self, text: str) -> None:
        """The calibration pair code (optional): trimmed and upper-cased, so "p1 " and "P1" make one pair."""
        code = text.strip().upper()
        self._update(calibration_code=code or None)

    # ---- look-fors --------------------------------------------------------------------------------

    def _item(self, lf: LookFor) -> LookForItem:
        scale = self.rubric.scale(lf.scale)
        r = self._ratings.get(lf.id)
        src = lf.source
        checklist = is_checklist(scale)
        # a checklist keeps "Seen" first, where observers tap it, and its derived "Not seen" after it
        levels = [*scale.authored_levels(), scale.levels[0]] if checklist else scale.levels
        choices = [Choice(lv.value, lv.label) for lv in levels]
        return LookForItem(id=lf.id, label=lf.label, text=lf.text, focus=lf.id in self.walk.focus,
                           choices=choices, checklist=checklist,
                           not_observed_allowed=scale.not_observed, value=r.value if r else None,
                           not_observed=bool(r and r.not_observed), note=self._notes.get(lf.id, ""),
                           visible=lf.applies_to(self.visit.subject, self.visit.grade),
                           levels=[LevelWords(lv.label, lf.descriptor(lv.value)) for lv in scale.levels
                                   if lf.descriptor(lv.value)],
                           source=" — ".join(x for x in (src.document, src.section) if x) if src else "",
                           source_url=src.url if src else "", short_visit=lf.short_visit)

    def visible_lookfors(self) -> list[LookFor]:
        """The look-fors of the visit's subject and grade (an unchosen subject or grade shows them all)."""
        return [lf for lf in self.rubric.lookfors if lf.applies_to(self.visit.subject, self.visit.grade)]

    @property
    def empty_text(self) -> str:
        """Why no look-for is shown (a K-2 visit on a 3-12 rubric), or ""."""
        if self.visible_lookfors():
            return ""
        grade = f"grade {self.visit.grade}" if self.visit.grade else "this visit"
        return (f"None of this rubric's look-fors is meant for {grade}" +
                (f" {self.visit.subject}" if self.visit.subject else "") +
                ". Check the grade, or walk this classroom with another rubric.")

    def sections(self, include_hidden: bool = False) -> list[Section]:
        """Focus look-fors first, then one section per domain. include_hidden also lists the look-fors of
        other subjects (item.visible False), for a screen that shows and hides them in place."""
        visible = self.rubric.lookfors if include_hidden else self.visible_lookfors()
        by_id = {lf.id: lf for lf in visible}
        out = []
        focus = [self._item(by_id[f]) for f in self.walk.focus if f in by_id]
        if focus:
            out.append(Section("Focus look-fors", focus, focus=True))
        for d in self.rubric.domains:
            items = [self._item(lf) for lf in visible if lf.domain == d.id and lf.id not in self.walk.focus]
            if items:
                out.append(Section(d.title, items))
        return out

    def item(self, lookfor_id: str) -> LookForItem:
        try:
            return self._item(self.rubric.lookfor(lookfor_id))
        except StopIteration:
            raise ServiceError(f"Look-for {lookfor_id} is not in {self.rubric.key}.") from None

    def tap(self, lookfor_id: str, choice: str | None) -> LookForItem:
        """One tap on a scale value (a checklist's "Not seen" is its value NOT_SEEN_VALUE), or on "Not observed"
        (None or "na"); a tap on the chosen one clears it, back to not rated."""
        row = self.service.tap(self.visit.id, lookfor_id, None if choice == NOT_OBSERVED else choice)
        if row.deleted:
            self._ratings.pop(lookfor_id, None)
        else:
            self._ratings[lookfor_id] = row
        return self.item(lookfor_id)

    @property
    def rated_count(self) -> int:
        """Look-fors shown and answered: a value (a checklist's "Seen" or "Not seen") or not observed."""
        return sum(1 for lf in self.visible_lookfors() if lf.id in self._ratings)

    @property
    def hidden_rated_count(self) -> int:
        """Ratings kept for look-fors of another subject or grade (after the subject or grade was changed)."""
        visible = {lf.id for lf in self.visible_lookfors()}
        return sum(1 for k in self._ratings if k not in visible)

    @property
    def progress_short(self) -> str:
        """The sticky header's progress: "5 of 16 rated"."""
        return f"{self.rated_count} of {len(self.visible_lookfors())} rated"

    @property
    def progress_text(self) -> str:
        text = f"{self.rated_count} of {plural(len(self.visible_lookfors()), 'look-for')} rated"
        if self.hidden_rated_count:
            text += f" ({self.hidden_rated_count} more kept for another subject or grade)"
        return text

    @property
    def kept_text(self) -> str:
        """Ratings kept for another subject or grade, in words ("" when none)."""
        n = self.hidden_rated_count
        return f"{plural(n, 'rating')} kept for another subject or grade." if n else ""

    def shown_order(self) -> list[str]:
        """The look-fors shown, in screen order (focus first, then by domain)."""
        return [i.id for s in self.sections() for i in s.items]

    def next_unrated(self, after: str | None = None) -> str | None:
        """The first look-for shown without an answer after `after` (from the top when None, wrapping round),
        or None when every one shown is answered."""
        order = self.shown_order()
        start = order.index(after) + 1 if after in order else 0
        for lookfor_id in order[start:] + order[:start]:
            if lookfor_id not in self._ratings:
                return lookfor_id
        return None

    # ---- notes and finish -------------------------------------------------------------------------

    def note(self, lookfor_id: str | None) -> str:
        return self._notes.get(lookfor_id, "")

    def set_note(self, lookfor_id: str | None, text: str) -> None:
        """lookfor_id None is the note for the whole visit; empty text removes the note."""
        if lookfor_id is not None:
            self.item(lookfor_id)  # a clear error for an unknown look-for, before anything is written
        if text.strip() == self._notes.get(lookfor_id, ""):
            return
        self.service.set_note(self.visit.id, lookfor_id, text)
        if text.strip():
            self._notes[lookfor_id] = text.strip()
        else:
            self._notes.pop(lookfor_id, None)

    def draft_note(self, lookfor_id: str | None, text: str) -> None:
        """Note text as typed: kept until save_drafts (the screen calls it a moment after typing pauses)."""
        self._drafts[lookfor_id] = text

    @property
    def has_drafts(self) -> bool:
        return bool(self._drafts)

    def save_drafts(self) -> None:
        """Save every note typed since the last save, through the service (so it syncs like any note). A note
        that is refused (too long) is dropped from the drafts and the first refusal raised after the rest."""
        drafts, self._drafts = self._drafts, {}
        refused = None
        for lookfor_id, text in drafts.items():
            try:
                self.set_note(lookfor_id, text)
            except ServiceError as exc:
                refused = refused or exc
        if refused is not None:
            raise refused

    @property
    def unrated_count(self) -> int:
        """Look-fors shown on this visit and left without a rating or "not observed"."""
        return len(self.visible_lookfors()) - self.rated_count

    @property
    def empty(self) -> bool:
        """Nothing rated and nothing marked not observed: the tallies would not count this visit."""
        return not self._ratings

    def finish_question(self) -> str | None:
        """What to ask before finishing (asked once, by the screen), or None to finish straight away."""
        if self.finished:
            return None
        if self.empty:
            return ("Nothing is rated on this visit, so it will not count in the tallies: finish anyway, "
                    "or discard it?")
        if self.unrated_count:
            return f"{plural(self.unrated_count, 'look-for')} not rated: finish anyway?"
        return None

    def discard(self) -> str:
        """Delete this visit (an empty one, from the finish question); return the walk id to go back to."""
        self.service.delete_visit(self.visit.id)
        return self.walk.id

    def finish(self) -> str:
        """Record the end time; return the walk id to go back to."""
        self.visit = self.service.finish_visit(self.visit.id)
        if self._after_finish is not None:
            try:
                self._after_finish()
            except Exception:  # a sync hiccup must never undo or block a finished visit
                pass
        return self.walk.id

    def reopen(self) -> None:
        self.visit = self.service.reopen_visit(self.visit.id)
