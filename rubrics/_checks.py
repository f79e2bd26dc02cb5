"""The rubric checks beyond field types: ids, cross-references, duplicates, scales; and schema errors in words.

Every check reads the plain parsed data defensively (a value of the wrong type is left to the schema, which reports
it once) and reports through a Locator, so each problem carries the line it is about.
"""
from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from rubrics import limits
from rubrics._locate import Locator, Path
from rubrics.problems import RubricProblem
from rubrics.schema import ID_HELP, ID_RE, Domain, Level, LookFor, Rubric, Scale, Source, grade_span
from sync.protocol.text import unstorable
from sync.protocol.vocabulary import NOT_SEEN_LABEL, NOT_SEEN_VALUE

KEY_HINTS = {
    "id": "a stable id such as dl.interactive",
    "version": "a whole number, 1 for a new rubric",
    "title": "the name people see",
    "scales": "the rating scales, e.g. a four-level Not yet..Yes scale",
    "domains": "the groups look-fors are shown in",
    "lookfors": "the look-fors themselves",
    "levels": "a list of {value, label}, lowest first",
    "value": "the stored value, e.g. \"3\"",
    "label": "the short text observers tap or see on charts",
    "domain": "the id of one of the rubric's domains",
    "text": "the full look-for sentence observers read",
    "scale": "the id of one of the rubric's scales",
    "document": "the name of the document the look-for comes from",
}


def _ids(items: list[tuple[int, dict]]) -> list[str]:
    return [it["id"] for _, it in items if isinstance(it.get("id"), str)]


def _items(data: dict, key: str) -> list[tuple[int, dict]]:
    """(index, mapping) for each mapping entry of the list under `key`; anything else is the schema's to report."""
    seq = data.get(key)
    if not isinstance(seq, list):
        return []
    return [(i, it) for i, it in enumerate(seq) if isinstance(it, dict)]


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9_.-]+", "-", text.strip().lower()).strip("-._")
    return s or "my-id"


def _short(value: Any) -> str:
    """A value as the file wrote it, cut short (a hostile file may hold a 1 MB number)."""
    shown = repr(value) if not isinstance(value, int) or len(str(value)) <= 40 else f"{str(value)[:20]}..."
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _known(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "(none defined)"


def check_rubric_data(data: dict, at: Locator) -> tuple[list[RubricProblem], set[Path]]:
    """Problems the schema cannot see, and the paths they cover (schema errors there are not repeated)."""
    problems: list[RubricProblem] = []
    covered: set[Path] = set()

    def add(path: Path, message: str) -> None:
        problems.append(at.problem(path, message))
        covered.add(path)

    def check_id(path: Path, what: str) -> None:
        owner = data
        for seg in path[:-1]:
            owner = owner[seg]
        value = owner.get(path[-1])
        if isinstance(value, str) and not ID_RE.match(value):
            shown = f"`{value[:limits.MAX_ID]}`" if value.strip() else "is empty and"
            add(path, f"{what} id {shown} has characters that are not allowed; {ID_HELP}, "
                      f"e.g. `{_slug(value)[:limits.MAX_ID]}`")
        elif isinstance(value, str) and len(value) > (most := limits.MAX_RUBRIC_ID if what == "rubric" else
                                                      limits.MAX_ID):
            add(path, f"{what} id `{value[:20]}...` is {len(value)} characters long, more than the {most} an id "
                      f"may have; shorten it, e.g. `{value[:most].rstrip('-._')}`")

    def check_text(path: Path, what: str) -> None:
        owner = data
        for seg in path[:-1]:
            owner = owner[seg]
        value = owner.get(path[-1])
        if isinstance(value, str) and not value.strip():
            key = path[-1]
            add(path, f"{what} has an empty `{key}`; write {KEY_HINTS.get(key, 'a value')}")

    def check_unique(seen: dict[str, int], key: str, i: int, path: Path, what: str, fix: str) -> None:
        """Remember where an id first stood; a later copy is a problem pointing back at the first."""
        if key in seen:
            first = at.line(path[:1] + (seen[key],) + path[2:])
            add(path, f"duplicate {what} `{key}` (first defined at line {first}); {fix}")
        else:
            seen[key] = i

    def check_storable(value: Any, path: Path) -> None:
        # a YAML escape (\0, \x00, \ud800) makes text no database can store, in any field
        if isinstance(value, dict):
            for key, item in value.items():
                check_storable(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                check_storable(item, path + (i,))
        elif isinstance(value, str) and (why := unstorable(value)) is not None:
            add(path, f"`{path[-1] if path else 'the file'}` {why} (written as an escape such as \\0 or "
                      "\\ud800 in quotes)")

    check_storable(data, ())
    check_id(("id",), "rubric")
    check_text(("title",), "the rubric")
    version = data.get("version")
    if "version" in data and not (type(version) is int and version >= 1):
        add(("version",), f"version must be a positive whole number (1, 2, ...), not {_short(version)}; "
                          "write e.g. `version: 1` without quotes")
    elif "version" in data and version > limits.MAX_VERSION:
        add(("version",), f"version {_short(version)} is larger than {limits.MAX_VERSION:,}, the largest a server "
                          "can store; versions count up from 1, so give the next number after the newest "
                          "published version")

    scales = _items(data, "scales")
    first_scale: dict[str, int] = {}
    for i, sc in scales:
        sid = sc.get("id")
        where = f"scale `{sid}`" if isinstance(sid, str) else f"scale #{i + 1}"
        check_id(("scales", i, "id"), "scale")
        if isinstance(sid, str):
            check_unique(first_scale, sid, i, ("scales", i, "id"), "scale id", "rename one or remove the copy")
        levels = _items(sc, "levels")
        first_value: dict[str, int] = {}
        for j, lv in levels:
            lpath = ("scales", i, "levels", j)
            check_text(lpath + ("label",), f"level #{j + 1} of {where}")
            raw = lv.get("value")
            if isinstance(raw, (int, float, str)) and not isinstance(raw, bool):
                value = str(raw)
                if not value.strip():
                    add(lpath + ("value",), f"level #{j + 1} of {where} has an empty `value`; "
                                            "write the stored value, e.g. \"3\" or \"yes\"")
                elif value == NOT_SEEN_VALUE and not (j == 0 and len(levels) == 2
                                                      and lv.get("label") == NOT_SEEN_LABEL):
                    # the one place it may stand: first of two, a checklist as Scale normalises it (parsed again)
                    add(lpath + ("value",), f"level #{j + 1} of {where} uses the value `{NOT_SEEN_VALUE}`, which is "
                                            f"reserved for a checklist's \"{NOT_SEEN_LABEL}\"; give the level another "
                                            "value (e.g. `not-yet`), or, for a checklist, list only its one level "
                                            "(\"Seen\"): \"Not seen\" is added to it")
                elif value in first_value:
                    first = at.line(("scales", i, "levels", first_value[value], "value"))
                    add(lpath + ("value",), f"{where} lists level value `{value}` twice (first at line {first}); "
                                            "give each level its own value")
                else:
                    first_value[value] = j
        ev = sc.get("evident_from")
        if isinstance(ev, (int, float, str)) and not isinstance(ev, bool) and first_value \
                and str(ev) not in first_value:
            add(("scales", i, "evident_from"),
                f"{where} has evident_from `{ev}`, which is not one of its level values "
                f"({', '.join(first_value)}); set it to the lowest value that counts as evident")

    domains = _items(data, "domains")
    first_domain: dict[str, int] = {}
    for i, dm in domains:
        did = dm.get("id")
        check_id(("domains", i, "id"), "domain")
        check_text(("domains", i, "title"), f"domain `{did}`" if isinstance(did, str) else f"domain #{i + 1}")
        if isinstance(did, str):
            check_unique(first_domain, did, i, ("domains", i, "id"), "domain id", "rename one or merge them")

    scale_ids, domain_ids = _ids(scales), _ids(domains)
    first_lookfor: dict[str, int] = {}
    used_domains: set[str] = set()
    for i, lf in _items(data, "lookfors"):
        lid = lf.get("id")
        where = f"look-for `{lid}`" if isinstance(lid, str) else f"look-for #{i + 1}"
        check_id(("lookfors", i, "id"), "look-for")
        if isinstance(lid, str):
            check_unique(first_lookfor, lid, i, ("lookfors", i, "id"), "look-for id",
                         "give each look-for its own id")
        check_text(("lookfors", i, "text"), where)
        check_text(("lookfors", i, "label"), where)
        scale = lf.get("scale")
        if isinstance(scale, str) and scales and scale not in scale_ids:
            add(("lookfors", i, "scale"), f"{where} uses scale `{scale}`, which is not defined; "
                                          f"use one of: {_known(scale_ids)}, or add it under `scales:`")
        domain = lf.get("domain")
        if isinstance(domain, str):
            used_domains.add(domain)
            if domains and domain not in domain_ids:
                add(("lookfors", i, "domain"), f"{where} names domain `{domain}`, which is not defined; "
                                               f"use one of: {_known(domain_ids)}, or add it under `domains:`")
        if lf.get("subjects") == []:
            add(("lookfors", i, "subjects"), f"{where} has an empty subjects list, which would show it for every "
                                             "subject; list the subjects, or remove `subjects` to mean all")
        levels = {sc.get("id"): [str(lv.get("value")) for _, lv in _items(sc, "levels")] for _, sc in scales}
        _check_added(lf, ("lookfors", i), where, levels.get(scale) if isinstance(scale, str) else None, add)

    if isinstance(data.get("lookfors"), list):
        for i, dm in domains:
            did = dm.get("id")
            if isinstance(did, str) and did not in used_domains and first_domain.get(did) == i:
                add(("domains", i, "id"), f"domain `{did}` has no look-fors; add look-fors with "
                                          f"`domain: {did}`, or remove the domain")
    if "version" in data:
        covered.add(("version",))  # the schema would accept "2" or 2.0; the check above is the only word on it
    return problems, covered


_URL_RE = re.compile(r"^https?://\S+$")


def _check_added(lf: dict, path: Path, where: str, values: list[str] | None, add) -> None:
    """The look-for keys of rubric format 2: descriptors per level, source, grades (short_visit is the schema's)."""
    desc = lf.get("descriptors")
    if isinstance(desc, dict):
        if not desc:
            add(path + ("descriptors",), f"{where} has an empty `descriptors` mapping; describe each level "
                                         "(`\"1\": what Not yet looks like`), or remove `descriptors`")
        given, unknown = [], False
        for key, text in desc.items():
            value = str(key) if isinstance(key, (int, float)) and not isinstance(key, bool) else key
            if not isinstance(value, str):
                continue
            if values is not None and value not in values:
                unknown = True  # most likely a mistyped level: that problem is the one to fix first
                add(path + ("descriptors", key), f"{where} describes level `{value}`, which is not on its scale "
                                                 f"(levels {', '.join(values)}); use one of those values")
            else:
                given.append(value)
            if value in given and isinstance(text, str) and not text.strip():
                add(path + ("descriptors", key), f"{where} has an empty descriptor for level `{value}`; write what "
                                                 "that level looks like for this look-for")
        missing = [v for v in values or () if v not in given]
        if desc and values is not None and missing and not unknown:
            add(path + ("descriptors",), f"{where} describes levels {', '.join(given)} but not "
                                         f"{', '.join(missing)}; describe every level of its scale, so observers "
                                         "have an anchor for each, or remove `descriptors`")
    src = lf.get("source")
    if isinstance(src, dict):
        doc = src.get("document")
        if isinstance(doc, str) and not doc.strip():
            add(path + ("source", "document"), f"{where} has an empty source `document`; write "
                                               f"{KEY_HINTS['document']}")
        url = src.get("url")
        if isinstance(url, str) and url.strip() and not _URL_RE.match(url.strip()):
            add(path + ("source", "url"), f"{where} has source url {_short(url)}, which is not a web address; "
                                          "write it in full, starting with https:// (or leave `url` out)")
    grades = lf.get("grades")
    if isinstance(grades, int) and not isinstance(grades, bool):
        grades = str(grades)
    if isinstance(grades, str):
        try:
            grade_span(grades)
        except ValueError:
            from sync.protocol.vocabulary import GRADES

            add(path + ("grades",), f"{where} has grades {_short(grades)}, which is not a grade range; write the "
                                    f"lowest and highest grade, lowest first, e.g. `grades: \"3-12\"` or "
                                    f"`grades: K-2` (grades: {', '.join(GRADES)})")


# --- schema errors, in words ----------------------------------------------------------------------------------

_OWNERS: list[tuple[tuple[str, ...], type[BaseModel]]] = [
    (("scales", "#", "levels", "#"), Level), (("scales", "#"), Scale), (("domains", "#"), Domain),
    (("lookfors", "#", "source"), Source), (("lookfors", "#"), LookFor), ((), Rubric),
]


def _owner(loc: Path) -> tuple[Path, type[BaseModel]]:
    for shape, model in _OWNERS:
        if len(loc) >= len(shape) and all(s == "#" and isinstance(v, int) or s == v for s, v in zip(shape, loc)):
            return loc[:len(shape)], model
    return (), Rubric


def _describe(owner: Path, data: Any) -> str:
    node = data
    try:
        for seg in owner:
            node = node[seg]
    except (KeyError, IndexError, TypeError):
        node = None
    ident = node.get("id") if isinstance(node, dict) else None
    if not owner:
        return "the rubric"
    kind = {"scales": "scale", "domains": "domain", "lookfors": "look-for"}[owner[0]]
    if len(owner) == 3:  # a look-for's source
        return "the source of " + _describe(owner[:2], data)
    if len(owner) == 4:
        scale = data["scales"][owner[1]]
        sid = scale.get("id") if isinstance(scale, dict) else None
        return f"level #{owner[3] + 1} of " + (f"scale `{sid}`" if isinstance(sid, str) else f"scale #{owner[1] + 1}")
    return f"{kind} `{ident}`" if isinstance(ident, str) else f"{kind} #{owner[1] + 1}"


def _fields(model: type[BaseModel]) -> tuple[list[str], list[str]]:
    """(required, allowed) keys of a schema model."""
    names = list(model.model_fields)
    return [n for n in names if model.model_fields[n].is_required()], names


def schema_problems(exc: ValidationError, data: Any, at: Locator, covered: set[Path]) -> list[RubricProblem]:
    """Each pydantic error as a problem at its line, in words that say what to write instead."""
    problems = []
    errors = exc.errors()
    misspelt = set()  # (owner, required key) pairs an unknown key already points at with "did you mean"
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden" and loc:
            owner, model = _owner(loc)
            misspelt.update((owner, k) for k in difflib.get_close_matches(str(loc[-1]), _fields(model)[1], n=1))
    for err in errors:
        loc: Path = tuple(err["loc"])
        if any(loc[:len(c)] == c for c in covered) or err["type"] == "string_too_short":
            continue  # already reported by the checks above, with more to say
        owner, model = _owner(loc)
        where = _describe(owner, data)
        rest = loc[len(owner):]
        field = rest[0] if rest else None
        allowed = _fields(model)[1]
        kind = err["type"]
        if kind == "missing" and (owner, field) in misspelt:
            continue
        if kind == "missing" and field is not None:
            msg = f"{where} has no `{field}`; add `{field}:` with {KEY_HINTS.get(field, 'a value')}"
        elif kind == "extra_forbidden" and field is not None:
            near = difflib.get_close_matches(str(field), allowed, n=1)
            hint = f"did you mean `{near[0]}`?" if near else "remove it or fix its spelling;"
            msg = f"unknown key `{field}` in {where}; {hint} allowed keys: {', '.join(allowed)}"
        else:
            what = f"`{field}` of {where}" if field is not None else where
            if len(rest) > 1:
                what = f"entry #{rest[1] + 1} of {what}" if isinstance(rest[1], int) else what
            msg = f"{what} {_TYPE_FIX.get(kind, err['msg'].lower() + '; correct this value')}"
        problems.append(at.problem(loc, msg))
    return problems


_TYPE_FIX = {
    "string_type": "must be text; write it as text, in quotes if it looks like a number, date or true/false",
    "list_type": "must be a list; write `[a, b]` or one `- item` per line",
    "bool_type": "must be true or false; write `true` or `false`",
    "bool_parsing": "must be true or false; write `true` or `false`",
    "model_type": "must be a mapping of keys; write it as `- id: ...` followed by its other keys",
    "dict_type": "must be a mapping of keys; write it as `key: value` lines",
    "too_short": "is empty; add at least one entry",
}
