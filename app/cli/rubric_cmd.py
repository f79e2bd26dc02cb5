"""CLI face for rubric files: `learnwalk rubric validate | list | import-csv`. The rules live in rubrics/."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from app.cli_errors import speaks
from rubrics import RubricInvalid, RubricProblem, builtin_rubrics, csv_to_yaml, load_rubric, validate_files

rubric_app = typer.Typer(help="Check, list and import rubric files (look-fors as YAML or a district CSV).",
                         no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _report(problems: list[RubricProblem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


@rubric_app.command("validate")
def validate(files: list[Path] = typer.Argument(..., help="Rubric files (.yaml, or a district .csv)")) -> None:
    """Check rubric files; print each problem as file:line: what is wrong; how to fix it."""
    problems = validate_files(files)
    if problems:
        _report(problems)
        raise typer.Exit(1)
    print(f"{len(files)} file{'s' if len(files) != 1 else ''} valid")


@rubric_app.command("list")
def list_rubrics(directory: Path | None = typer.Option(None, "--dir", help="Also list the rubric files in this folder")
                 ) -> None:
    """List the installed rubrics: id@version, look-for count and title."""
    rows = [(r.key, len(r.lookfors), r.title, "built-in") for r in builtin_rubrics().values()]
    problems: list[RubricProblem] = []
    if directory is not None:
        if not directory.is_dir():
            print(f"{directory} is not a folder; give --dir a folder that holds rubric .yaml files.", file=sys.stderr)
            raise typer.Exit(1)
        for path in sorted(directory.glob("*.y*ml")):
            try:
                r = load_rubric(path)
            except RubricInvalid as exc:
                problems += exc.problems
                continue
            rows.append((r.key, len(r.lookfors), r.title, str(path)))
    width = max(len(key) for key, *_ in rows)
    for key, count, title, origin in sorted(rows):
        print(f"{key:<{width}}  {count:>3} look-fors  {title}  ({origin})")
    if problems:
        _report(problems)
        raise typer.Exit(1)


@rubric_app.command("import-csv")
@speaks
def import_csv(file: Path = typer.Argument(..., help="The district CSV (see rubrics/data/district-template.csv)"),
               out: Path = typer.Option(..., "--out", help="Where to write the rubric YAML"),
               rubric_id: str | None = typer.Option(None, "--id", help="Rubric id (default: from the file name)"),
               title: str | None = typer.Option(None, "--title", help="Rubric title (default: from the file name)"),
               ) -> None:
    """Convert a district CSV into rubric YAML; writes nothing if any row has a problem."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{file}:1: cannot read the file ({exc}); check the path, or save it as UTF-8 CSV", file=sys.stderr)
        raise typer.Exit(1) from None
    yaml_text = csv_to_yaml(text, source=str(file), rubric_id=rubric_id, title=title)  # RubricInvalid: speaks
    out.write_text(yaml_text, encoding="utf-8")
    print(f"wrote {out}")
