"""The command line's face of the error root: one plain sentence on stderr with the exit codes of DESIGN.md
section 7. Outside the app.cli package so the server's CLI (sync.server.cli), which app.cli mounts, can import it
in any order."""
from __future__ import annotations

import functools
import sys
from typing import Callable, TypeVar

import typer

from sync.errors import LearnwalkError

F = TypeVar("F", bound=Callable)


def fail(message: str, code: int = 1) -> "typer.Exit":
    """Print one plain sentence to stderr and return the Exit to raise."""
    print(message, file=sys.stderr)
    return typer.Exit(code)


def speaks(command: F) -> F:
    """The CLI's one error handler: a LearnwalkError out of the command is printed as its sentence, exit 1."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LearnwalkError as exc:
            raise fail(str(exc)) from None
    return run  # type: ignore[return-value]
