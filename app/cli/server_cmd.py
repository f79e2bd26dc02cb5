"""CLI face for the central server: serve, and the admin commands."""
from __future__ import annotations

import typer

from app.cli._common import not_built

admin_app = typer.Typer(help="Manage districts, schools, users and enrollment codes on the server database.",
                        no_args_is_help=True)


def serve() -> None:
    """Run the central server (upgrades its schema first)."""
    raise not_built("learnwalk serve")


@admin_app.command("create-district")
def create_district(name: str) -> None:
    """Create a district; prints its id."""
    raise not_built("learnwalk admin create-district")
