"""The district CSV template (one look-for per row) converted to rubric YAML, with problems at their CSV rows.

Columns: domain, domain_title, lookfor_id, text, label, scale, subjects, equity (docs/rubric-format.md). The
generated YAML is checked by the YAML loader too, with its lines mapped back to the CSV rows they came from.
"""
from __future__ import annotations

import csv
import difflib
import io
import json
import re
from pathlib import PurePath

from rubrics import limits
from rubrics._guard import check_text
from rubrics.loader import _parse, builtin_rubrics
from rubrics.problems import RubricInvalid, RubricProblem
from rubrics.schema import ID_HELP, ID_RE

# what each level of the row's scale looks like, lowest level first
DESCRIPTOR_COLUMNS = ["descriptor_1", "descriptor_2", "descriptor_3", "descriptor_4"]
COLUMNS = ["domain", "domain_title", "lookfor_id", "text", "label", "scale", "subjects", "equity",
           "grades", "short_visit", "source_document", "source_section", "source_url", *DESCRIPTOR_COLUMNS]
REQUIRED = ["domain", "lookfor_id", "text", "label", "scale"]

# The scales a CSV row may name, as YAML (the shipped rubrics define the same ids the same way).
SCALE_YAML = {
    "presence": ["levels:", "  - {value: seen, label: Seen}", "not_observed: false", "evident_from: seen"],
    "yes-no": ["levels:", "  - {value: \"no\", label: \"No\"}", "  - {value: \"yes\", label: \"Yes\"}",
               "not_observed: false", "evident_from: \"yes\""],
    "four-level": ["levels:", "  - {value: \"1\", label: Not yet}", "  - {value: \"2\", label: Somewhat}",
                   "  - {value: \"3\", label: Mostly}", "  - {value: \"4\", label: \"Yes\"}",
                   "not_observed: true", "evident_from: \"3\""],
}
_SCALE_NAMES = {
    "presence": ["presence", "observed", "seen", "checklist", "observed/not yet seen"],
    "yes-no": ["yes-no", "yes/no", "yesno", "yes no", "yes_no"],
    "four-level": ["four-level", "4-level", "four level", "four_level", "1-4", "not yet/somewhat/mostly/yes"],
}
SCALE_VALUES = {"presence": ["seen"], "yes-no": ["no", "yes"], "four-level": ["1", "2", "3", "4"]}
SCALE_ALIASES = {alias: canon for canon, names in _SCALE_NAMES.items() for alias in names}
_TRUE, _FALSE = {"yes", "y", "true", "1", "x"}, {"no", "n", "false", "0", ""}


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def _q(text: str) -> str:
    """A YAML scalar for `text`: plain when it is a simple lowercase word or id, else a JSON (= YAML) string."""
    if re.fullmatch(r"[a-z][a-z0-9_.-]*", text) and text not in {"true", "false", "null", "yes", "no", "on", "off",
                                                                  "y", "n"}:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return "".join(ch if _printable(ch) else f"\\U{ord(ch):08x}" for ch in quoted)


def _printable(ch: str) -> bool:
    """YAML's printable set, less the characters it folds as line breaks (which JSON leaves raw)."""
    n = ord(ch)
    return (0x20 <= n <= 0x7E or 0xA0 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD and n != 0xFEFF
            or 0x10000 <= n <= 0x10FFFF) and ch not in "\u2028\u2029"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-._") or "district-rubric"


class _Rows:
    """The CSV rows as dicts keyed by template column, each with the line it starts on; problems collected."""

    def __init__(self, csv_text: str, source: str):
        self.source, self.problems = source, []
        reader = csv.reader(io.StringIO(csv_text.lstrip("\ufeff"), newline=""))
        self.rows: list[tuple[int, dict[str, str]]] = []
        try:
            header = next(reader, None)
            if header is None or not any(h.strip() for h in header):
                self.add(1, "the file has no header row; start with the template's header: " + ",".join(COLUMNS))
                return
            columns = self._columns(header)
            if columns is None:
                return
            start = reader.line_num + 1
            for cells in reader:
                if any(c.strip() for c in cells):
                    if len(self.rows) == limits.MAX_LOOKFORS:
                        self.add(start, f"this is look-for row {len(self.rows) + 1:,}; a rubric holds at most "
                                        f"{limits.MAX_LOOKFORS:,} look-fors, so split the rows into two files")
                        return
                    if len(cells) > len(columns):
                        self.add(start, f"this row has {len(cells)} cells but the header has {len(columns)}; put "
                                        "text that contains a comma in double quotes")
                    else:
                        row = {c: (v.strip() if c else "") for c, v in zip(columns, cells)}
                        self.rows.append((start, {c: row.get(c, "") for c in COLUMNS}))
                start = reader.line_num + 1
        except csv.Error as exc:
            self.add(reader.line_num or 1, f"the CSV cannot be read ({exc}); check the quotes on this row")
        if not self.rows and not self.problems:
            self.add(1, "the file has a header but no look-for rows; add one row per look-for")

    def add(self, line: int, message: str) -> None:
        self.problems.append(RubricProblem(self.source, line, message))

    def _columns(self, header: list[str]) -> list[str] | None:
        by_key = {_key(c): c for c in COLUMNS}
        columns = []
        for name in header:
            canon = by_key.get(_key(name))
            if canon is None and name.strip():
                near = difflib.get_close_matches(name.strip().lower(), COLUMNS, n=1)
                hint = f"did you mean `{near[0]}`?" if near else "remove the column or rename it;"
                self.add(1, f"unknown column `{name.strip()}`; {hint} the template's columns are {', '.join(COLUMNS)}")
            columns.append(canon or "")
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            self.add(1, f"the header lacks the column(s) {', '.join(missing)}; add them (the template's columns "
                        f"are {', '.join(COLUMNS)})")
            return None
        return columns


def _check_rows(rows: _Rows) -> tuple[dict[str, tuple[str, int]], list[tuple[int, dict]]]:
    """Domains (id -> title, first line) and look-fors (line, fields) from the rows; problems go to rows.add."""
    domains: dict[str, tuple[str, int]] = {}
    lookfors: list[tuple[int, dict]] = []
    first_id: dict[str, int] = {}
    for line, r in rows.rows:
        blank = [c for c in REQUIRED if not r[c]]
        if blank:
            rows.add(line, f"this row has no {', '.join(blank)}; fill in every required column "
                           f"({', '.join(REQUIRED)})")
            continue
        for col in ("domain", "lookfor_id"):
            if not ID_RE.match(r[col]):
                rows.add(line, f"{col} `{r[col]}` has characters that are not allowed; {ID_HELP}, "
                               f"e.g. `{_slug(r[col])}`")
        if r["lookfor_id"] in first_id:
            rows.add(line, f"duplicate lookfor_id `{r['lookfor_id']}` (first used at line "
                           f"{first_id[r['lookfor_id']]}); give each row its own id")
        first_id.setdefault(r["lookfor_id"], line)
        scale = SCALE_ALIASES.get(re.sub(r"\s+", " ", r["scale"].lower()))
        if scale is None:
            rows.add(line, f"unknown scale `{r['scale']}`; use presence, yes-no or four-level")
        equity = r["equity"].lower()
        if equity not in _TRUE | _FALSE:
            rows.add(line, f"equity `{r['equity']}` is not yes or no; write yes, no, or leave it blank (= no)")
        if "," in r["subjects"]:
            rows.add(line, f"subjects `{r['subjects']}` contains a comma; separate subjects with semicolons, "
                           "e.g. Math;Science")
        subjects = [s.strip() for s in r["subjects"].split(";") if s.strip()]
        short = r["short_visit"].lower()
        if short and short not in _TRUE | _FALSE:
            rows.add(line, f"short_visit `{r['short_visit']}` is not yes or no; write yes (it can be seen in a "
                           "5-15 minute visit), no, or leave it blank (not said)")
        source = {k: r[f"source_{k}"] for k in ("document", "section", "url") if r[f"source_{k}"]}
        if source and "document" not in source:
            rows.add(line, "this row has a source_section or source_url but no source_document; name the "
                           "document the look-for comes from")
        levels = SCALE_VALUES.get(scale or "", [])
        described = {i: r[c] for i, c in enumerate(DESCRIPTOR_COLUMNS) if r[c]}
        if described and scale is not None:
            extra = [DESCRIPTOR_COLUMNS[i] for i in described if i >= len(levels)]
            missing = [DESCRIPTOR_COLUMNS[i] for i in range(len(levels)) if i not in described]
            if extra:
                rows.add(line, f"{', '.join(extra)} is filled in, but the {scale} scale has {len(levels)} "
                               f"level(s); describe its levels in descriptor_1 to descriptor_{len(levels)} only")
            elif missing:
                rows.add(line, f"{', '.join(missing)} is blank; describe every level of the {scale} scale "
                               "(lowest first), or leave all the descriptor columns blank")
        if r["domain"] not in domains:
            if not r["domain_title"]:
                rows.add(line, f"the first row of domain `{r['domain']}` has no domain_title; fill it in (later "
                               "rows of the same domain may leave it blank)")
            domains[r["domain"]] = (r["domain_title"], line)
        elif r["domain_title"] and domains[r["domain"]][0] and r["domain_title"] != domains[r["domain"]][0]:
            title, first = domains[r["domain"]]
            rows.add(line, f"domain `{r['domain']}` is titled \"{title}\" at line {first} but \"{r['domain_title']}\" "
                           "here; use one title, or leave domain_title blank after the first row")
        lookfors.append((line, {"id": r["lookfor_id"], "domain": r["domain"], "text": r["text"],
                                "label": r["label"], "scale": scale, "subjects": subjects,
                                "equity": equity in _TRUE, "grades": r["grades"],
                                "short_visit": None if not short else short in _TRUE, "source": source,
                                "descriptors": {levels[i]: t for i, t in described.items() if i < len(levels)}}))
    return domains, lookfors


def csv_to_yaml(csv_text: str, source: str, rubric_id: str | None = None, title: str | None = None) -> str:
    """The rubric YAML for a district CSV; raises RubricInvalid with every problem at `source`:<CSV line>."""
    check_text(csv_text, source, csv=True)  # size, NUL bytes, UTF-16 and binary files, before the CSV reader sees them
    rows = _Rows(csv_text, source)
    domains, lookfors = _check_rows(rows)
    if rows.problems:
        raise RubricInvalid(rows.problems)
    name = PurePath(source).name
    stem = PurePath(source).stem
    rubric_id = rubric_id if rubric_id is not None else _slug(stem)
    title = title if title is not None else (re.sub(r"[-_]+", " ", stem).strip().capitalize() or "District rubric")

    lines: list[str] = []
    origin: list[int] = []  # origin[i]: the CSV line that YAML line i+1 came from

    def emit(text: str, csv_line: int = 1) -> None:
        lines.append(text)
        origin.append(csv_line)

    emit(f"# Converted from {name} by `learnwalk rubric import-csv`. Once published, an id@version never")
    emit("# changes: after any edit, raise `version`.")
    emit(f"id: {_q(rubric_id)}")
    emit("version: 1")
    emit(f"title: {_q(title)}")
    emit(f"description: {_q(f'Look-fors imported from the district spreadsheet {name}.')}")
    emit("source_notes:")
    emit(f"  - {_q(f'Converted from {name} (learnwalk district CSV template).')}")
    emit("scales:")
    for scale in [s for s in SCALE_YAML if any(lf["scale"] == s for _, lf in lookfors)]:
        emit(f"  - id: {scale}")
        for part in SCALE_YAML[scale]:
            emit(f"    {part}")
    emit("domains:")
    for did, (dtitle, line) in domains.items():
        emit(f"  - id: {_q(did)}", line)
        emit(f"    title: {_q(dtitle)}", line)
    emit("lookfors:")
    for line, lf in lookfors:
        emit(f"  - id: {_q(lf['id'])}", line)
        for key in ("domain", "text", "label", "scale"):
            emit(f"    {key}: {_q(lf[key])}", line)
        if lf["subjects"]:
            emit(f"    subjects: [{', '.join(_q(s) for s in lf['subjects'])}]", line)
        if lf["equity"]:
            emit("    equity: true", line)
        if lf["grades"]:
            emit(f"    grades: {_q(lf['grades'])}", line)
        if lf["short_visit"] is not None:
            emit(f"    short_visit: {'true' if lf['short_visit'] else 'false'}", line)
        if lf["source"]:
            emit("    source:", line)
            for key, value in lf["source"].items():
                emit(f"      {key}: {_q(value)}", line)
        if lf["descriptors"]:
            emit("    descriptors:", line)
            for value, text in lf["descriptors"].items():
                emit(f"      {json.dumps(value)}: {_q(text)}", line)
    text = "\n".join(lines) + "\n"
    if len(text.encode()) > limits.MAX_BYTES:
        raise RubricInvalid([RubricProblem(source, 1, f"the rubric made from this CSV would be {len(text.encode()):,} "
                                                      f"bytes, more than the {limits.MAX_BYTES:,} a rubric file may "
                                                      "hold; shorten the texts or split the rows into two files")])
    rubric, _ = _parse(text, source, line_map=lambda n: origin[n - 1] if 0 < n <= len(origin) else 1)
    taken = builtin_rubrics().get(rubric.key)
    if taken is not None and taken.content_hash() != rubric.content_hash():
        raise RubricInvalid([RubricProblem(source, 1, f"the id `{rubric.id}` belongs to the built-in rubric "
                                                      f"{taken.key} ({taken.title}); choose another rubric id")])
    return text
