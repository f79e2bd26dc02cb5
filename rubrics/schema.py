"""The rubric file format: pydantic models for scales, domains and look-fors.

A rubric is data, not code. A published id@version never changes; its content hash proves it.
Levels are listed from lowest to highest so "at or above the evident level" is an index comparison.
"""
from __future__ import annotations

import hashlib
import json
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


class Domain(_Strict):
    id: str
    title: str
    description: str = ""


class LookFor(_Strict):
    id: str
    domain: str
    text: str = Field(min_length=1)
    label: str = Field(min_length=1, description="Short label for buttons and charts")
    scale: str
    subjects: list[str] | None = Field(None, description="Shown only for these subjects; None = all")
    equity: bool = False

    def applies_to(self, subject: str | None) -> bool:
        return not self.subjects or subject is None or subject in self.subjects


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
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def scale(self, scale_id: str) -> Scale:
        return next(s for s in self.scales if s.id == scale_id)

    def lookfor(self, lookfor_id: str) -> LookFor:
        return next(lf for lf in self.lookfors if lf.id == lookfor_id)

    def scale_of(self, lookfor_id: str) -> Scale:
        return self.scale(self.lookfor(lookfor_id).scale)

    def lookfors_in(self, domain_id: str) -> list[LookFor]:
        return [lf for lf in self.lookfors if lf.domain == domain_id]
