"""`learnwalk tally` and `learnwalk report` run as the installed console script, on a seeded device store."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.debrief import walk_tally
from app.store.catalog import RubricCatalog
from app.store.db import open_engine
from app.store.seed import seed
from app.store.services import CaptureService

LEARNWALK = str(Path(sys.executable).with_name("learnwalk"))


def run(*args):
    return subprocess.run([LEARNWALK, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    data = tmp_path_factory.mktemp("device")
    engine = open_engine(data)
    service = CaptureService(engine)
    seed(service, walks=1, visits=24, rubric_key="deeper-learning@1", seed=7)
    walk = service.walks()[0]
    return data, engine, RubricCatalog(engine), walk


def test_tally_json_is_the_walk_tally_with_the_contract_fields(seeded):
    data, engine, catalog, walk = seeded
    done = run("tally", "--data-dir", str(data), "--walk", walk.id, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out == json.loads(json.dumps(walk_tally(engine, catalog, walk.id).to_json()))
    assert out["walk"] == walk.id and out["visits"] == 24
    first = out["lookfors"][0]
    assert {"id", "rated", "not_observed", "counts"} <= set(first)
    assert first["id"] == walk.focus[0] and first["focus"] is True
    assert all(lf["rated"] == sum(lf["counts"].values()) for lf in out["lookfors"])


def test_tally_by_grade_band_prints_a_readable_table(seeded):
    data, engine, catalog, walk = seeded
    done = run("tally", "--data-dir", str(data), "--walk", walk.id, "--by", "grade_band")
    assert done.returncode == 0, done.stderr
    t = walk_tally(engine, catalog, walk.id)
    lf = t.lookfors[0]
    assert "Focus look-fors" in done.stdout and "By grade band" in done.stdout
    assert f"{lf.cell.evident}/{lf.cell.base}" in done.stdout and f"({lf.id})" in done.stdout


def test_tally_rejects_an_unknown_grouping_with_usage_status(seeded):
    data, _, _, walk = seeded
    done = run("tally", "--data-dir", str(data), "--walk", walk.id, "--by", "teacher")
    assert done.returncode == 2
    assert done.stderr.strip() == ("Cannot break down by 'teacher'; choose one of grade_band, subject, class_type, "
                                   "observer.")


def test_tally_of_an_unknown_walk_says_so_in_one_sentence(seeded):
    data, *_ = seeded
    done = run("tally", "--data-dir", str(data), "--walk", "no-such-walk")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Walk no-such-walk is not on this device" in done.stderr


def test_tally_of_a_folder_without_data_points_at_data_dir(tmp_path):
    done = run("tally", "--data-dir", str(tmp_path), "--walk", "x")
    assert done.returncode == 1 and "pass the --data-dir the app uses" in done.stderr


def test_report_writes_a_pdf_whose_text_holds_the_walks_numbers(seeded, tmp_path):
    data, engine, catalog, walk = seeded
    out = tmp_path / "walk.pdf"
    done = run("report", "--data-dir", str(data), "--walk", walk.id, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    lf = walk_tally(engine, catalog, walk.id).lookfors[0]
    assert f"({lf.cell.evident} of {lf.cell.base}" in text and lf.lookfor.label in text


def test_report_refuses_an_output_name_that_is_not_a_pdf(seeded, tmp_path):
    data, _, _, walk = seeded
    done = run("report", "--data-dir", str(data), "--walk", walk.id, "--out", str(tmp_path / "walk.txt"))
    assert done.returncode == 2 and "ending in .pdf" in done.stderr
