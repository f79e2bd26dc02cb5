"""CLI face for the device store: seed synthetic walks."""
from __future__ import annotations

from app.cli._common import not_built


def seed() -> None:
    """Record realistic synthetic walks on this device (demos, training, benchmarks)."""
    raise not_built("learnwalk seed")
