"""CLI face for the Flet client and the demo."""
from __future__ import annotations

from app.cli._common import not_built


def run_app() -> None:
    """Run the learnwalk app (web mode when there is no display)."""
    raise not_built("learnwalk app")


def demo() -> None:
    """Run the server and the app with a demo district, on embedded SQLite."""
    raise not_built("learnwalk demo")
