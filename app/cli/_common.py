"""Shared plumbing of the device commands: the --data-dir option and opening the device core."""
from __future__ import annotations

from pathlib import Path

import typer

DataDir = typer.Option(None, "--data-dir", help="Folder holding this device's data (default: the app's data folder)")


def resolve_data_dir(data_dir: Path | None) -> Path:
    from app.store.db import default_data_dir

    return data_dir or default_data_dir()


def open_device(data_dir: Path | None, *, existing: bool = False):
    """The device core of --data-dir (app.device.Device); a store that cannot be opened raises StoreError."""
    from app.device import Device

    return Device.open(resolve_data_dir(data_dir), existing=existing)
