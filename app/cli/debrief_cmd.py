"""CLI face for the debrief: tallies and the printable report."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from app.cli._common import DataDir, open_device
from app.cli_errors import fail, speaks


@speaks
def tally(
    walk: str = typer.Option(..., "--walk", help="The walk's id"),
    data_dir: Path = DataDir,
    by: str = typer.Option(None, "--by", help="Break down by grade_band, subject, class_type or observer"),
    grade_band: str = typer.Option(None, "--grade-band", help="Only this grade band: K-2, 3-5, 6-8 or 9-12"),
    subject: str = typer.Option(None, "--subject", help="Only visits of this subject"),
    class_type: str = typer.Option(None, "--class-type", help="Only this class type"),
    observer: int = typer.Option(None, "--observer", help="Only the visits of Observer N"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (shape in DESIGN.md section 7)"),
) -> None:
    """Show the look-for tallies of a walk."""
    from app.debrief import Filters, TallyError
    from app.debrief.tally import check_request
    from app.debrief.text import render

    filters = Filters(grade_band, subject, class_type, observer)
    try:
        check_request(filters, by)
    except TallyError as exc:
        raise fail(str(exc), code=2) from None  # a usage error
    with open_device(data_dir, existing=True) as device:
        result = device.debrief.tally(walk, by=by, filters=filters)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        typer.echo(render(result))


@speaks
def report(
    walk: str = typer.Option(..., "--walk", help="The walk's id"),
    out: Path = typer.Option(..., "--out", help="The PDF file to write"),
    data_dir: Path = DataDir,
) -> None:
    """Write a printable debrief report (PDF) for a walk."""
    if out.suffix.lower() != ".pdf":
        raise fail(f"{out}: the report is a PDF; give --out a name ending in .pdf.", code=2)
    if not out.parent.exists():
        raise fail(f"{out.parent}: this folder does not exist; create it or choose another --out.")
    try:
        with open_device(data_dir, existing=True) as device:
            pages = device.debrief.write_report(walk, out)
    except OSError as exc:
        raise fail(f"{out}: could not write the report ({exc.strerror}); choose another --out.") from None
    typer.echo(f"Wrote {out} ({pages} page{'s' if pages != 1 else ''}).")
