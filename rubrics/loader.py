"""Reading rubric files: YAML text to a validated Rubric, or every problem with its line; and the built-in rubrics.

A rubric with any problem is never returned: parse_rubric raises RubricInvalid listing all of them. validate_files
also enforces the versioning rule: a published id@version never changes, so a file that reuses a known id@version
with different content (by Rubric.content_hash) is refused.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from rubrics import limits
from rubrics._checks import check_rubric_data, schema_problems
from rubrics._guard import decode, load_yaml, out_of_time
from rubrics._locate import Locator, plain
from rubrics.problems import RubricInvalid, RubricProblem
from rubrics.schema import Rubric

_REQUIRED_TOP = "id, version, title, scales, domains and lookfors"


def _first_key_line(text: str, line: int, start: int) -> int | None:
    """The 1-based line, between `start` and `line`, holding the same key as `line` does (a duplicate key)."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    head = lines[line - 1].split(":", 1)[0].lstrip(" -")
    indent = len(lines[line - 1]) - len(lines[line - 1].lstrip(" -"))
    for n in range(max(start, 1), line):
        candidate = lines[n - 1]
        if candidate.split(":", 1)[0].lstrip(" -") == head and len(candidate) - len(candidate.lstrip(" -")) == indent:
            return n
    return None


def _syntax_problem(exc: YAMLError, text: str, source: str, line_map: Callable[[int], int]) -> RubricProblem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context_mark", None)
    if "duplicate key" in what:
        first = _first_key_line(text, line, context.line + 1 if context is not None else 1)
        fix = (f" (first at line {line_map(first)})" if first else "") + "; remove or rename one of the two keys"
    elif "mapping values are not allowed" in what:
        fix = "; text containing ': ' must be in quotes, e.g. text: \"Goal: students explain\""
    elif "another document" in what:
        fix = "; a rubric file holds one YAML document: remove the second `---` and what follows, or split the file"
    elif "'\\t'" in what:
        fix = "; indent with spaces, not tabs"
    else:
        fix = "; check the indentation and quoting on this line and the line before it"
    return RubricProblem(source, line_map(line), f"YAML syntax error: {what}{fix}")


def _parse(text: str, source: str, line_map: Callable[[int], int] | None = None) -> tuple[Rubric, Locator]:
    mapped = line_map or (lambda n: n)
    started = time.monotonic()
    try:
        root = load_yaml(text, source, mapped)
    except MarkedYAMLError as exc:
        raise RubricInvalid([_syntax_problem(exc, text, source, mapped)]) from None
    except YAMLError as exc:
        raise RubricInvalid([RubricProblem(source, mapped(1), f"YAML syntax error: {exc}; check the file")]) from None
    if root is None:
        raise RubricInvalid([RubricProblem(source, mapped(1), f"the file is empty; a rubric needs {_REQUIRED_TOP}")])
    if not isinstance(root, dict):
        raise RubricInvalid([RubricProblem(source, mapped(1), "the top level must be a mapping of keys, not a "
                                           f"{type(root).__name__}; start with `id:` and `version:` lines "
                                           f"(a rubric needs {_REQUIRED_TOP})")])
    out_of_time(source, mapped, started)
    at = Locator(root, source, line_map)
    data = plain(root)
    problems, covered = check_rubric_data(data, at)
    rubric = None
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        problems += schema_problems(exc, data, at, covered)
    out_of_time(source, mapped, started)
    if problems or rubric is None:
        raise RubricInvalid(problems)
    return rubric, at


def parse_rubric(text: str, source: str = "<text>") -> Rubric:
    """The rubric in YAML `text`; raises RubricInvalid with every problem found (`source` names the file)."""
    return _parse(text, source)[0]


def _read(path: Path) -> str:
    """The file's text; a file too large, not UTF-8, UTF-16 or binary is refused with the fix (before parsing)."""
    try:
        with path.open("rb") as f:
            data = f.read(limits.MAX_BYTES + 1)  # never more: a larger file is refused on its size
            size = max(len(data), path.stat().st_size)
    except OSError as exc:
        raise RubricInvalid([RubricProblem(str(path), 1, f"cannot read the file ({exc.strerror}); "
                                                         "check the path, or save it as UTF-8")]) from None
    return decode(data, str(path), size)


def _load(path: str | Path) -> tuple[Rubric, int]:
    """The rubric in a .yaml/.yml or .csv file, and the line its version is on."""
    path = Path(path)
    text = _read(path)
    if path.suffix.lower() == ".csv":
        from rubrics.csv_import import csv_to_yaml

        return parse_rubric(csv_to_yaml(text, source=str(path)), source=str(path)), 1
    rubric, at = _parse(text, str(path))
    return rubric, at.line(("version",))


def load_rubric(path: str | Path) -> Rubric:
    """The rubric in a YAML file (or a district CSV template); raises RubricInvalid with every problem found."""
    return _load(path)[0]


def validate_files(paths: Iterable[str | Path], known: dict[str, Rubric] | None = None) -> list[RubricProblem]:
    """Every problem in the files, including an id@version already known (built-in, `known`, or an earlier file
    in `paths`) with different content. An empty list means all files are valid."""
    seen: dict[str, tuple[Rubric, str]] = {k: (r, "a built-in rubric") for k, r in builtin_rubrics().items()}
    for key, rubric in (known or {}).items():
        seen.setdefault(key, (rubric, "an installed rubric"))
    problems: list[RubricProblem] = []
    for path in paths:
        try:
            rubric, version_line = _load(path)
        except RubricInvalid as exc:
            problems += exc.problems
            continue
        previous = seen.get(rubric.key)
        if previous is None:
            seen[rubric.key] = (rubric, str(path))
        elif previous[0].content_hash() != rubric.content_hash():
            newest = max(r.version for r, _ in seen.values() if r.id == rubric.id)
            problems.append(RubricProblem(
                str(path), version_line,
                f"reuses {rubric.key} with different content ({previous[1]} already defines it); a published "
                f"version never changes, so give it version {newest + 1}"))
    return problems


def builtin_rubric_paths() -> list[Path]:
    """The rubric YAML files shipped in rubrics/data/ (the newest version of each), sorted by name, then the
    earlier versions kept in rubrics/data/earlier/: a published version never changes and never goes away, so a
    device holding walks rated with it (or a server that registered it) still reads them."""
    data = resources.files("rubrics").joinpath("data")
    newest = sorted(Path(str(p)) for p in data.iterdir() if p.name.endswith((".yaml", ".yml")))
    earlier = data.joinpath("earlier")
    kept = sorted(Path(str(p)) for p in earlier.iterdir() if p.name.endswith((".yaml", ".yml"))) \
        if earlier.is_dir() else []
    return newest + kept


@functools.cache
def _builtins() -> dict[str, Rubric]:
    rubrics: dict[str, Rubric] = {}
    for path in builtin_rubric_paths():
        rubric = load_rubric(path)
        if rubric.key in rubrics:
            raise RubricInvalid([RubricProblem(str(path), 1, f"{rubric.key} is shipped twice; give one of the "
                                                             "built-in files a new id or version")])
        rubrics[rubric.key] = rubric
    return rubrics


def builtin_rubrics() -> dict[str, Rubric]:
    """The shipped rubrics keyed by "id@version" (parsed once; each call returns a new dict)."""
    return dict(_builtins())
