"""The export query both ends speak: format names and filters (school, date range, walk, rubric).

`learnwalk export` checks its options with these on any install (its --server path needs no server code); the
server's export routes parse the same query with the same code. Errors say in one sentence how to fix the input.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sync.errors import LearnwalkError

EXPORT_FORMATS = ("csv", "csv-wide", "xlsx", "jsonl")  # the server's writers: sync.server.export.FORMATS


class ExportError(LearnwalkError, ValueError):
    """Export input that cannot be used; the message is one plain sentence saying what to fix."""


@dataclass(frozen=True)
class ExportFilters:
    school_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    walk_id: str | None = None
    rubric_id: str | None = None
    rubric_version: int | None = None

    @classmethod
    def parse(cls, school: str | None = None, date_from: str | None = None, date_to: str | None = None,
              walk: str | None = None, rubric: str | None = None) -> "ExportFilters":
        """Filters from text as typed on a command line or in a query string."""
        start, end = _date("from", date_from), _date("to", date_to)
        if start and end and start > end:
            raise ExportError(f"The date range is empty: from {start} is after to {end}; swap the two dates.")
        rubric_id, version = None, None
        if rubric:
            rubric_id, _, raw_version = rubric.strip().partition("@")
            if raw_version:
                if not (raw_version.isascii() and raw_version.isdigit() and len(raw_version) <= 9):
                    raise ExportError(f"Rubric '{rubric}' has a version that is not a number (of at most 9 "
                                      "digits); write it as ID or ID@VERSION, e.g. sample-district@1.")
                version = int(raw_version)
        return cls(school_id=_text(school), date_from=start, date_to=end, walk_id=_text(walk),
                   rubric_id=_text(rubric_id), rubric_version=version)

    def as_query(self) -> dict:
        """The filters as the query parameters of the export endpoints (the inverse of parse)."""
        rubric = self.rubric_id and (f"{self.rubric_id}@{self.rubric_version}" if self.rubric_version else self.rubric_id)
        pairs = {"school": self.school_id, "from": self.date_from and self.date_from.isoformat(),
                 "to": self.date_to and self.date_to.isoformat(), "walk": self.walk_id, "rubric": rubric}
        return {k: v for k, v in pairs.items() if v}

    def as_dict(self) -> dict:
        """The filters that are set, as plain values (for the audit log and file names)."""
        out = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items()}
        return {k: v for k, v in out.items() if v is not None}


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _date(name: str, value: str | None) -> date | None:
    value = _text(value)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ExportError(f"The '{name}' date '{value}' is not a date; write it as YYYY-MM-DD, "
                          "e.g. 2026-09-30.") from None


# ---- download names -------------------------------------------------------------------------------------------

EXTENSIONS = {"csv": "csv", "csv-wide": "csv", "xlsx": "xlsx", "jsonl": "jsonl"}


def slug(text: str) -> str:
    """A school's name as a file-name part: lower case ASCII words joined by '-' ("Riverside Middle" ->
    "riverside-middle"; accents dropped, other characters become separators)."""
    import re
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def download_name(ext: str, school: str | None, day: date | str, *tags: str) -> str:
    """The name a download arrives under in the user's browser, for every export and the debrief PDF:
    learnwalk-<school>-<date>[-<tag>...].<ext>, e.g. learnwalk-riverside-2026-12-02.xlsx. school None: every
    school ("all-schools")."""
    where = slug(school) if school else "all-schools"
    parts = ["learnwalk", where or "school", day.isoformat() if isinstance(day, date) else day,
             *(slug(t) for t in tags if t)]
    return "-".join(p for p in parts if p) + f".{ext}"


def export_download_name(fmt: str, filters: ExportFilters, school_name: str | None, today: date) -> str:
    """An export's download name: its school (or all schools), its date range (else the day it was made), and
    what else narrows it (the wide layout, a walk, a rubric)."""
    if fmt not in EXTENSIONS:
        raise ExportError(f"Format '{fmt}' is not one of {', '.join(EXTENSIONS)}; pick one of them.")
    start, end = filters.date_from, filters.date_to
    if start and end:
        day = f"{start.isoformat()}-to-{end.isoformat()}"
    elif start or end:
        day = f"from-{start.isoformat()}" if start else f"until-{end.isoformat()}"
    else:
        day = today.isoformat()
    rubric = filters.rubric_id and (f"{filters.rubric_id}-v{filters.rubric_version}" if filters.rubric_version
                                    else filters.rubric_id)
    tags = ["wide" if fmt == "csv-wide" else "", filters.walk_id and f"walk-{filters.walk_id[:8]}", rubric or ""]
    return download_name(EXTENSIONS[fmt], school_name, day, *tags)
