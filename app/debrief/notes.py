"""Evidence notes of a walk grouped by look-for: 'what we saw', read before the team says 'what it means'.

Notes carry no observer and no visit number here: the debrief reads patterns, not classrooms.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.store.models import EvidenceNote, Visit
from rubrics import Rubric

GENERAL = "General notes"

MEANING_PROMPTS = (
    "What patterns do we notice across classrooms?",
    "What does this tell us about our focus look-fors and our goal?",
    "What are we wondering? What will we try before the next walk?",
)


@dataclass
class NoteGroup:
    lookfor_id: str | None
    title: str
    texts: list[str]

    def counted(self) -> list[tuple[str, int]]:
        """Each distinct text once, with how many visits wrote it, in first-seen order."""
        counts: dict[str, int] = {}
        for t in self.texts:
            counts[t] = counts.get(t, 0) + 1
        return list(counts.items())


def walk_notes(engine: Engine, rubric: Rubric, walk_id: str, focus: list[str]) -> list[NoteGroup]:
    """Live notes of the walk's live visits, grouped by look-for (focus first, rubric order, general last)."""
    # a calibration partner's notes are evidence too, so every live visit's notes count here
    cond = Visit.deleted == False  # noqa: E712
    q = (select(EvidenceNote.lookfor_id, EvidenceNote.text).join(Visit, Visit.id == EvidenceNote.visit_id)
         .where(Visit.walk_id == walk_id, cond, EvidenceNote.deleted == False, EvidenceNote.text != "")  # noqa: E712
         .order_by(Visit.visit_no, EvidenceNote.updated_at))
    with Session(engine) as s:
        rows = s.execute(q).all()
    by_lf: dict[str | None, list[str]] = {}
    for lf_id, text in rows:
        by_lf.setdefault(lf_id, []).append(text)
    order = list(focus) + [lf.id for d in rubric.domains for lf in rubric.lookfors_in(d.id) if lf.id not in focus]
    labels = {lf.id: lf.label for lf in rubric.lookfors}
    groups = [NoteGroup(i, labels[i], by_lf[i]) for i in order if i in by_lf and i in labels]
    if None in by_lf:
        groups.append(NoteGroup(None, GENERAL, by_lf[None]))
    return groups
