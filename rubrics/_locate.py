"""Where a value sits in a rubric file: maps a path like ('lookfors', 3, 'text') to its 1-based line.

Paths are the same tuples pydantic uses in its error `loc`, so schema errors and the loader's own checks share one
way of naming a place. The ruamel.yaml round-trip nodes keep 0-based positions (`.lc.key(k)`, `.lc.item(i)`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ruamel.yaml.scalarbool import ScalarBoolean

from rubrics.problems import RubricProblem

Path = tuple[Any, ...]


class Locator:
    """Turns paths into file:line problems. `line_map` rewrites lines (a CSV import reports its own rows)."""

    def __init__(self, root: Any, source: str, line_map: Callable[[int], int] | None = None):
        self.root = root
        self.source = source
        self._map = line_map or (lambda n: n)

    def line(self, path: Sequence[Any]) -> int:
        """Line of the deepest part of `path` present in the file (a missing key points at its owner)."""
        node = self.root
        line = getattr(getattr(node, "lc", None), "line", 0) or 0
        for seg in path:
            lc = getattr(node, "lc", None)
            if lc is None:
                break
            if isinstance(node, dict) and seg in node:
                line = lc.key(seg)[0]
            elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
                line = lc.item(seg)[0]
            else:
                break
            node = node[seg]
        return self._map(line + 1)

    def problem(self, path: Sequence[Any], message: str) -> RubricProblem:
        return RubricProblem(self.source, self.line(path), message)

    def at_line(self, line: int, message: str) -> RubricProblem:
        """A problem at a 1-based line of the YAML text (e.g. a syntax error)."""
        return RubricProblem(self.source, self._map(line), message)


def plain(node: Any) -> Any:
    """ruamel's commented containers and scalar subclasses as plain dict/list/str/int/float/bool/None."""
    if isinstance(node, dict):
        return {plain(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, ScalarBoolean):
        return bool(node)
    if isinstance(node, bool) or node is None:
        return node
    for kind in (str, int, float):
        if isinstance(node, kind):
            return kind(node)
    return node
