"""The rubric file format: pydantic models for scales, domains and look-fors.

A rubric is data, not code. A published id@version never changes; its content hash proves it.
Levels are listed from lowest to highest so "at or above the evident level" is an index comparison.
"""
from __future__ import annotations

import hashlib
import json
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rubrics.limits import MAX_VERSION

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
ID_HELP = "ids use lowercase letters, digits, '.', '_' and '-', and start with a letter or digit"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    value: str = Field(description="Stored value, e.g. 'yes' or '3'")
    label: str = Field(description="What the observer taps, e.g. 'Mostly'")

    @field_validator("value", mode="before")
    @classmethod
    def _value_as_text(cls, v):
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class Scale(_Strict):
    id: str
    levels: list[Level] = Field(min_length=1, description="Lowest first")
    not_observed: bool = Field(True, description="Whether 'Not observed' may be chosen")
    evident_from: str | None = Field(
        None, description="Lowest level value counted as 'evident' in tallies; default: the highest level"
    )

    @field_validator("evident_from", mode="before")
    @classmethod
    def _evident_as_text(cls, v):
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @model_validator(mode="after")
    def _checklist_gets_not_seen(self):
        """A scale authored with one level ("Seen") is a checklist: it gets a second, derived level below it,
        "Not seen" (NOT_SEEN_VALUE), so "not seen" is an answer stored as a value and a blank cell means
        "not rated" as on every scale. After validation, so an author's problem keeps its level's index and line;
        a scale that already has it (a normalised scale parsed again) is left as it is."""
        if len(self.levels) == 1 and self.levels[0].value != _not_seen()[0]:
            value, label = _not_seen()
            object.__setattr__(self, "levels", [Level(value=value, label=label), *self.levels])
        return self

    @property
    def checklist(self) -> bool:
        """Authored as one level ("Seen"): its levels are the derived "Not seen" and that one."""
        return len(self.levels) == 2 and self.levels[0].value == _not_seen()[0]

    def authored_levels(self) -> list[Level]:
        """The levels as the rubric's author wrote them (a checklist's derived "Not seen" left out)."""
        return self.levels[1:] if self.checklist else list(self.levels)

    def values(self) -> list[str]:
        return [lv.value for lv in self.levels]

    def label_of(self, value: str | None) -> str:
        for lv in self.levels:
            if lv.value == value:
                return lv.label
        return ""

    def evident_values(self) -> list[str]:
        vals = self.values()
        start = vals.index(self.evident_from) if self.evident_from in vals else len(vals) - 1
        return vals[start:]


def _not_seen() -> tuple[str, str]:
    """(value, label) of a checklist's derived lowest level. Imported late, as in grade_span: the vocabulary sits
    in sync.protocol, which loads sqlmodel."""
    from sync.protocol.vocabulary import NOT_SEEN_LABEL, NOT_SEEN_VALUE

    return NOT_SEEN_VALUE, NOT_SEEN_LABEL


class Domain(_Strict):
    id: str
    title: str
    description: str = ""


class Source(_Strict):
    """Where one look-for comes from: the document, the part of it, and an address to read it at."""
    document: str = Field(min_length=1, description="e.g. 'DESE Deeper Learning Guidance Tool'")
    section: str = Field("", description="e.g. 'Core Action 3f' or 'Just-in-Time Scaffolding'")
    url: str = Field("", description="http:// or https:// address of the public page")


def grade_span(grades: str) -> tuple[str, ...]:
    """The grades a `grades` range names ("3-12" -> 3, 4, ..., 12; "K" -> K), in the vocabulary's order.
    Imported late: the vocabulary sits in sync.protocol, which loads sqlmodel, and most rubrics never ask."""
    from sync.protocol.vocabulary import GRADES

    low, dash, high = grades.partition("-")
    low, high = low.strip().upper(), (high if dash else low).strip().upper()
    if low not in GRADES or high not in GRADES or GRADES.index(low) > GRADES.index(high):
        raise ValueError(grades)
    return GRADES[GRADES.index(low):GRADES.index(high) + 1]


class LookFor(_Strict):
    id: str
    domain: str
    text: str = Field(min_length=1)
    label: str = Field(min_length=1, description="Short label for buttons and charts")
    scale: str
    subjects: list[str] | None = Field(None, description="Shown only for these subjects; None = all")
    equity: bool = False
    # added in rubric format 2; None (left out) keeps a file's content hash what it was before they existed
    descriptors: dict[str, str] | None = Field(None, description="Level value -> what that level looks like here")
    source: Source | None = None
    short_visit: bool | None = Field(None, description="True: can be seen in a 5-15 minute visit; None: not said")
    grades: str | None = Field(None, description="Grade range it is shown for, e.g. '3-12'; None = every grade")

    @field_validator("descriptors", mode="before")
    @classmethod
    def _level_keys_as_text(cls, v):
        if isinstance(v, dict):
            return {str(k) if isinstance(k, (int, float)) and not isinstance(k, bool) else k: d for k, d in v.items()}
        return v

    @field_validator("grades", mode="before")
    @classmethod
    def _grades_as_text(cls, v):
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    def applies_to(self, subject: str | None, grade: str | None = None) -> bool:
        """Shown in a visit of this subject and grade; an unrecorded subject or grade (None) shows every look-for."""
        if self.subjects and subject is not None and subject not in self.subjects:
            return False
        return self.grades is None or grade is None or grade in grade_span(self.grades)

    def descriptor(self, value: str | None) -> str:
        """What the level `value` looks like for this look-for ("" when the rubric does not say)."""
        return (self.descriptors or {}).get(value or "", "")


# look-for keys added after rubrics were published: left out, they are left out of the hash too, so every rubric
# written before them keeps the content hash servers and devices stored for it
ADDED_LOOKFOR_KEYS = ("descriptors", "source", "short_visit", "grades")


class Rubric(_Strict):
    id: str
    version: int = Field(ge=1, le=MAX_VERSION)
    title: str
    description: str = ""
    source_notes: list[str] = Field(default_factory=list)
    scales: list[Scale] = Field(min_length=1)
    domains: list[Domain] = Field(min_length=1)
    lookfors: list[LookFor] = Field(min_length=1)

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def content_hash(self) -> str:
        """sha256 of the canonical JSON of the content; two files with the same id@version must agree."""
        content = self.model_dump(mode="json")
        for scale, dumped in zip(self.scales, content["scales"]):
            if scale.checklist:  # the derived "Not seen" is not the author's: hashes stay what they were before it
                dumped["levels"] = dumped["levels"][1:]
        for lf in content["lookfors"]:
            for key in ADDED_LOOKFOR_KEYS:
                if lf.get(key) is None:
                    del lf[key]
        blob = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def scale(self, scale_id: str) -> Scale:
        return next(s for s in self.scales if s.id == scale_id)

    def lookfor(self, lookfor_id: str) -> LookFor:
        return next(lf for lf in self.lookfors if lf.id == lookfor_id)

    def scale_of(self, lookfor_id: str) -> Scale:
        return self.scale(self.lookfor(lookfor_id).scale)

    def lookfors_in(self, domain_id: str) -> list[LookFor]:
        return [lf for lf in self.lookfors if lf.domain == domain_id]
