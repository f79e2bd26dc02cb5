"""The look-fors an export names: each walk's rubric id@version, read from the district's published versions.

Visits keep the rubric version they were captured with, so every version a walk names stays exportable; the
wide CSV gets one column per look-for id (newest version's order first, then ids only older versions had).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlmodel import Session

from rubrics import Rubric
from sync.server.rubrics.registry import KnownRubrics


@dataclass(frozen=True)
class LookforInfo:
    domain: str
    domain_title: str
    label: str
    text: str
    labels: dict[str, str]  # scale value -> label
    evident: frozenset[str]


_UNKNOWN = LookforInfo("", "", "", "", {}, frozenset())


class LookforCatalog:
    """Rubrics of one district by (rubric_id, version); answers look-for details in O(1) per rating."""

    def __init__(self, conn: Connection, district_id: str, keys: list[tuple[str, int]]):
        known = KnownRubrics(Session(bind=conn), district_id)
        self.rubrics: dict[tuple[str, int], Rubric] = {}
        self._info: dict[tuple[str, int, str], LookforInfo] = {}
        self.position: dict[tuple[str, int, str], int] = {}  # a look-for's place in its rubric
        for rubric_id, version in sorted(set(keys), key=lambda k: (k[0], -k[1])):
            rubric = known.get(rubric_id, version)
            if rubric is None:  # push refuses unknown versions, so only a hand-edited database gets here
                continue
            self.rubrics[(rubric_id, version)] = rubric
            titles = {d.id: d.title for d in rubric.domains}
            for pos, lf in enumerate(rubric.lookfors):
                scale = rubric.scale(lf.scale)
                self._info[(rubric_id, version, lf.id)] = LookforInfo(
                    lf.domain, titles.get(lf.domain, ""), lf.label, lf.text,
                    {lv.value: lv.label for lv in scale.levels}, frozenset(scale.evident_values()))
                self.position[(rubric_id, version, lf.id)] = pos

    def info(self, rubric_id: str, version: int, lookfor_id: str) -> LookforInfo:
        return self._info.get((rubric_id, version, lookfor_id), _UNKNOWN)

    def column_ids(self, extra: list[str] = ()) -> list[str]:
        """Look-for ids in rubric order (newest version of each rubric first), then any other ids seen."""
        ids: dict[str, None] = {}
        for rubric in self.rubrics.values():
            ids.update((lf.id, None) for lf in rubric.lookfors)
        ids.update((i, None) for i in sorted(extra))
        return list(ids)

    def dictionary_rows(self):
        """One row per look-for of every rubric version in the export (the XLSX Look-fors sheet)."""
        for (rubric_id, version), rubric in self.rubrics.items():
            titles = {d.id: d.title for d in rubric.domains}
            for pos, lf in enumerate(rubric.lookfors, start=1):
                scale = rubric.scale(lf.scale)
                yield [rubric_id, version, rubric.title, pos, lf.id, lf.domain, titles.get(lf.domain, ""),
                       lf.label, lf.text, scale.id, "; ".join(f"{lv.value}={lv.label}" for lv in scale.levels),
                       int(scale.not_observed), ", ".join(scale.evident_values()),
                       ", ".join(lf.subjects or []), int(lf.equity)]


DICTIONARY_COLUMNS = ["rubric_id", "rubric_version", "rubric_title", "position", "lookfor_id", "domain",
                      "domain_title", "label", "text", "scale", "levels", "not_observed_allowed", "evident_values",
                      "subjects", "equity"]
