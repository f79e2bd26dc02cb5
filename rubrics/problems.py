"""Rubric errors that teach: each problem names its file and line, says what is wrong and how to fix it."""
from __future__ import annotations

from dataclasses import dataclass

from sync.errors import LearnwalkError


@dataclass(frozen=True, order=True)
class RubricProblem:
    """One thing wrong in a rubric file. `line` is 1-based; `message` reads 'what is wrong; how to fix it'."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class RubricInvalid(LearnwalkError):
    """A rubric was refused; `.problems` lists every problem found, in file and line order."""

    def __init__(self, problems: list[RubricProblem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
