"""CLI face for exports of synced data: `learnwalk export (--db URL | --server URL --token T) --format ... --out FILE`.

--server goes through the admin client and works on every install; --db reads a server database, so it needs
the server's own code: the main CLI hands that in (`export_command(local)`, local = sync.server.cli.export_db).
The file is written next to its final name and renamed only when complete, so a failed export never leaves a
half-written file behind. A progress bar is drawn only when stderr is a terminal.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import typer

from app.cli_errors import fail, speaks

FORMAT_HELP = "csv (one row per rating), csv-wide (one row per visit), xlsx or jsonl"


@contextmanager
def _progress(total: int | None, unit: str) -> Iterator:
    """A callback that advances a rich progress bar on a terminal, or does nothing otherwise."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    counter = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    with Progress("[progress.description]{task.description}", BarColumn(), counter, TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"Exporting {unit}", total=total)
        yield lambda n: bar.advance(task, n)


def _remote(server: str, token: str, fmt: str, filters, out) -> None:
    from sync.admin_client import AdminClient

    with AdminClient(server, token) as client, _progress(None, "bytes") as advance:
        client.export(fmt, filters.as_query(), out, advance)


def export_command(local: Callable[..., None]) -> Callable:
    """The `export` command, with local(db, district, fmt, filters, out, progress) doing the --db path; a
    LearnwalkError out of either source is printed as its sentence (exit 1)."""

    @speaks
    def export(fmt: str = typer.Option(..., "--format", help=FORMAT_HELP),
               out: Path = typer.Option(..., "--out", help="File to write (replaced only when the export completes)"),
               db: str | None = typer.Option(None, "--db", help="Server database URL or SQLite file (local export)"),
               server: str | None = typer.Option(None, "--server",
                                                 help="Server address, e.g. https://walks.example.org"),
               token: str | None = typer.Option(None, "--token", help="An admin device token (with --server)"),
               district: str | None = typer.Option(None, "--district",
                                                   help="District id (with --db, if it holds several)"),
               school: str | None = typer.Option(None, "--school", help="Only this school id"),
               date_from: str | None = typer.Option(None, "--from", help="Walks on or after this date (YYYY-MM-DD)"),
               date_to: str | None = typer.Option(None, "--to", help="Walks on or before this date (YYYY-MM-DD)"),
               walk: str | None = typer.Option(None, "--walk", help="Only this walk id"),
               rubric: str | None = typer.Option(None, "--rubric", help="Only walks on this rubric: ID or ID@VERSION"),
               ) -> None:
        """Export synced walk data: long CSV, wide CSV, XLSX or JSONL, by stable look-for id."""
        from sync.protocol.export import EXPORT_FORMATS, ExportError, ExportFilters

        if (db is None) == (server is None):
            raise fail("Give exactly one source: --db URL (the server database) or --server URL --token T.", 2)
        if server is not None and not token:
            raise fail("--server needs --token with an admin device's token.", 2)
        if fmt not in EXPORT_FORMATS:
            raise fail(f"Format '{fmt}' is not one of {', '.join(EXPORT_FORMATS)}; pick one of them.", 2)
        try:
            filters = ExportFilters.parse(school, date_from, date_to, walk, rubric)
        except ExportError as exc:
            raise fail(str(exc), 2) from None
        if not out.parent.is_dir():
            raise fail(f"The folder {out.parent} does not exist; create it or choose another --out.")
        part = out.with_name(out.name + ".part")
        try:
            with open(part, "wb") as stream:
                if db is not None:
                    local(db, district, fmt, filters, stream, _progress)
                else:
                    _remote(server, token, fmt, filters, stream)
            os.replace(part, out)
        finally:
            part.unlink(missing_ok=True)
        print(str(out))

    return export
