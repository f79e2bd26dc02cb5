"""`learnwalk rubric validate | list | import-csv`: problems on stderr one per line, exit 0 or 1."""
from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from app.cli.rubric_cmd import rubric_app
from rubrics import builtin_rubric_paths, builtin_rubrics, load_rubric

FIXTURES = Path(__file__).parents[2] / "fixtures" / "rubrics"
TEMPLATE = builtin_rubric_paths()[0].parent / "district-template.csv"


def run(*args: str):
    return CliRunner().invoke(rubric_app, [str(a) for a in args])


def test_validate_prints_a_count_and_exits_0_when_all_files_are_valid():
    result = run("validate", *builtin_rubric_paths())
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "8 files valid" and result.stderr == ""  # four rubrics, two versions each


def test_validate_prints_each_problem_to_stderr_and_exits_1():
    result = run("validate", FIXTURES / "valid-small.yaml", FIXTURES / "many-problems.yaml",
                 FIXTURES / "unknown-key.yaml")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 5
    assert lines[0].startswith(f"{FIXTURES / 'many-problems.yaml'}:3: ")
    assert lines[-1].startswith(f"{FIXTURES / 'unknown-key.yaml'}:27: unknown key `lable`")
    assert result.stdout == ""


def test_validate_reports_a_missing_file_as_a_problem(tmp_path):
    result = run("validate", tmp_path / "nope.yaml")
    assert result.exit_code == 1 and "cannot read the file" in result.stderr


def test_validate_without_files_is_a_usage_error():
    assert run("validate").exit_code == 2


def test_list_shows_each_builtin_with_its_lookfor_count():
    result = run("list")
    assert result.exit_code == 0
    for key, rubric in builtin_rubrics().items():
        line = next(line for line in result.stdout.splitlines() if line.startswith(key + " "))
        assert f"{len(rubric.lookfors)} look-fors" in line and rubric.title in line


def test_list_adds_the_rubrics_of_an_extra_folder(tmp_path):
    shutil.copy(FIXTURES / "valid-small.yaml", tmp_path)
    result = run("list", "--dir", tmp_path)
    assert result.exit_code == 0
    assert any(line.startswith("fixture-small@1 ") and "2 look-fors" in line for line in result.stdout.splitlines())


def test_list_reports_broken_files_in_the_folder_and_exits_1(tmp_path):
    shutil.copy(FIXTURES / "valid-small.yaml", tmp_path)
    shutil.copy(FIXTURES / "unknown-scale.yaml", tmp_path)
    result = run("list", "--dir", tmp_path)
    assert result.exit_code == 1
    assert "fixture-small@1" in result.stdout
    assert result.stderr.startswith(f"{tmp_path / 'unknown-scale.yaml'}:28: ")


def test_import_csv_writes_valid_yaml(tmp_path):
    out = tmp_path / "walk.yaml"
    result = run("import-csv", TEMPLATE, "--out", out, "--id", "springfield", "--title", "Springfield walk")
    assert result.exit_code == 0, result.output
    rubric = load_rubric(out)
    assert (rubric.key, rubric.title, len(rubric.lookfors)) == ("springfield@1", "Springfield walk", 10)
    assert run("validate", out).exit_code == 0


def test_import_csv_writes_nothing_when_a_row_is_broken(tmp_path):
    out = tmp_path / "walk.yaml"
    result = run("import-csv", FIXTURES / "bad-rows.csv", "--out", out)
    assert result.exit_code == 1
    assert not out.exists()
    assert [line.split(": ", 1)[0] for line in result.stderr.splitlines()] == [
        f"{FIXTURES / 'bad-rows.csv'}:{n}" for n in (3, 5, 6, 6, 6)]


def test_import_csv_leaves_an_existing_output_alone_when_refused(tmp_path):
    out = tmp_path / "walk.yaml"
    out.write_text("keep me\n")
    result = run("import-csv", TEMPLATE, "--out", out, "--id", "ipg-math")
    assert result.exit_code == 1 and "choose another rubric id" in result.stderr
    assert out.read_text() == "keep me\n"


def test_rubric_commands_are_mounted_on_the_learnwalk_command():
    from app.cli import cli

    result = CliRunner().invoke(cli, ["rubric", "validate", str(FIXTURES / "valid-small.yaml")])
    assert result.exit_code == 0 and result.stdout.strip() == "1 file valid"
