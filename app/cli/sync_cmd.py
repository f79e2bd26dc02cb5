"""CLI face for the sync client: enroll a device, run one sync round."""
from __future__ import annotations

from app.cli._common import not_built


def enroll() -> None:
    """Enroll this device with a one-time code from an admin."""
    raise not_built("learnwalk enroll")


def sync() -> None:
    """Run one push+pull round with the server."""
    raise not_built("learnwalk sync")
