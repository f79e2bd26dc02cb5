"""The `learnwalk` command: a thin face that parses arguments and calls the services.

Each command lives in a module named for its area; this file only mounts them.
"""
from __future__ import annotations

import typer

from app.cli import app_cmd, debrief_cmd, export_cmd, rubric_cmd, server_cmd, store_cmd, sync_cmd

cli = typer.Typer(name="learnwalk", help="Learning walks: offline capture, sync, debrief and export.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None)  # usage errors as plain lines on stderr, as for every other error

cli.command("serve")(server_cmd.serve)
cli.add_typer(server_cmd.admin_app, name="admin")
cli.command("app")(app_cmd.run_app)
cli.command("demo")(app_cmd.demo)
cli.command("enroll")(sync_cmd.enroll)
cli.command("sync")(sync_cmd.sync)
cli.command("seed")(store_cmd.seed)
cli.command("tally")(debrief_cmd.tally)
cli.command("report")(debrief_cmd.report)
cli.command("export")(export_cmd.export)
cli.add_typer(rubric_cmd.rubric_app, name="rubric")


def main() -> None:
    cli()
