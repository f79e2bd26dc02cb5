"""The `learnwalk` command: a thin face that parses arguments and calls the services.

Each command lives in a module named for its area; this file only mounts them. The server's commands (serve,
admin, export --db) live with the server (sync/server/cli.py), which is the `server` extra: a tablet installs
the client alone, and there those commands say in one sentence what to install.
"""
from __future__ import annotations

import typer

from app.cli import app_cmd, build_web_cmd, debrief_cmd, export_cmd, rubric_cmd, store_cmd, sync_cmd
from app.cli_errors import fail

# what `pip install 'learnwalk[server]'` adds (pyproject.toml); any other missing module is a real error
SERVER_EXTRA = {"fastapi", "uvicorn", "alembic", "psycopg", "pydantic_settings"}
SERVER_MISSING = ("The central server is not installed here; install it with: pip install 'learnwalk[server]' "
                  "(in a checkout: pip install '.[server]').")

try:  # the one place the client imports the server
    from sync.server import cli as server_cli
except ModuleNotFoundError as exc:
    if (exc.name or "").split(".")[0] not in SERVER_EXTRA:
        raise
    server_cli = None

cli = typer.Typer(name="learnwalk", help="Learning walks: offline capture, sync, debrief and export.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None)  # usage errors as plain lines on stderr, as for every other error


def _server_missing() -> None:
    """Needs the server extra: pip install 'learnwalk[server]'."""
    raise fail(SERVER_MISSING)


if server_cli is not None:
    server_cli.mount(cli)  # serve, admin ...
else:  # the same names, taking any arguments, so each answers with the one sentence
    for name in ("serve", "admin"):
        cli.command(name, add_help_option=False, help=_server_missing.__doc__,
                    context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(_server_missing)
cli.command("app")(app_cmd.run_app)
cli.command("demo")(app_cmd.demo)
cli.command("build-web")(build_web_cmd.build_web)
cli.command("enroll")(sync_cmd.enroll)
cli.command("sync")(sync_cmd.sync)
cli.command("seed")(store_cmd.seed)
cli.command("tally")(debrief_cmd.tally)
cli.command("report")(debrief_cmd.report)
cli.command("export")(export_cmd.export_command(  # --db reads a server database; --server works everywhere
    server_cli.export_db if server_cli else lambda *_: _server_missing()))
cli.add_typer(rubric_cmd.rubric_app, name="rubric")


def main() -> None:
    cli()
