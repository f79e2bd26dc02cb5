"""Shared CLI plumbing: plain one-sentence errors on stderr, and the exit codes of DESIGN.md section 7."""
from __future__ import annotations

import sys
from pathlib import Path

import typer


def fail(message: str, code: int = 1) -> "typer.Exit":
    """Print one plain sentence to stderr and return the Exit to raise."""
    print(message, file=sys.stderr)
    return typer.Exit(code)


DataDir = typer.Option(None, "--data-dir", help="Folder holding this device's data (default: the app's data folder)")


def resolve_data_dir(data_dir: Path | None) -> Path:
    from app.store.db import default_data_dir

    return data_dir or default_data_dir()
