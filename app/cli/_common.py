"""Shared CLI plumbing: opening the device, and errors as one plain sentence on stderr with the exit codes of
DESIGN.md section 7."""
from __future__ import annotations

import functools
import sys
from pathlib import Path
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


DataDir = typer.Option(None, "--data-dir", help="Folder holding this device's data (default: the app's data folder)")


def resolve_data_dir(data_dir: Path | None) -> Path:
    from app.store.db import default_data_dir

    return data_dir or default_data_dir()


def open_device(data_dir: Path | None, *, existing: bool = False):
    """The device core of --data-dir (app.device.Device); a store that cannot be opened raises StoreError."""
    from app.device import Device

    return Device.open(resolve_data_dir(data_dir), existing=existing)
