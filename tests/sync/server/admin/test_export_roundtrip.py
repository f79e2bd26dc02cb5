"""Exports read back equal the ratings in the server database, for every format, on SQLite and PostgreSQL.

The data got there through the real server (enrolled devices pushing, an admin publishing rubric versions), and
the exports are downloaded over HTTP from the real server process or written by `learnwalk export --db`.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import readback, serverdata

from sync.server.export.rows import LONG_COLUMNS, VISIT_COLUMNS

FORMATS = ["csv", "csv-wide", "xlsx", "jsonl"]
LEARNWALK = str(Path(sys.executable).with_name("learnwalk"))


def download(world, who, fmt: str, **params) -> bytes:
    with serverdata.client(world.url, who.token) as c:
        r = c.get(f"/api/v1/export/{fmt}", params=params)
    assert r.status_code == 200, r.text
    return r.content


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_read_back_equals_the_ratings_in_the_database(world, server_db, fmt):
    expected = serverdata.expected_ratings(server_db.engine, world.north.id)
    assert len(expected) > 50 and any(no for *_, no in expected)  # values and "not observed" both present
    assert any(c.deleted for _, c in serverdata.stored_cells(server_db.engine, world.north.id))  # tombstones too
    got = readback.cells(fmt, download(world, world.north.members["admin"], fmt))
    assert got == expected


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cli_export_from_the_database_equals_the_ratings(world, server_db, db_url, tmp_path, fmt):
    out = tmp_path / f"north.{fmt}"
    run = subprocess.run([LEARNWALK, "export", "--db", db_url, "--district", world.north.id, "--format", fmt,
                          "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # no progress bar when stderr is not a terminal
    assert readback.cells(fmt, out.read_bytes()) == serverdata.expected_ratings(server_db.engine, world.north.id)
    assert not list(tmp_path.glob("*.part"))


def test_long_csv_has_the_contract_columns_first_and_describes_each_cell(world):
    rows = readback.csv_rows(download(world, world.north.members["admin"], "csv"))
    assert list(rows[0])[:12] == ["walk_id", "visit_id", "visit_no", "school_id", "walk_date", "grade", "subject",
                                  "rubric_id", "rubric_version", "lookfor_id", "value", "not_observed"]
    assert list(rows[0]) == LONG_COLUMNS
    talk = next(r for r in rows if r["lookfor_id"] == "cr.talk" and r["value"] == "3")
    assert (talk["lookfor_domain"], talk["lookfor_text"], talk["value_label"]) == (
        "core", "Students explain their thinking to each other.", "Mostly")
    bands = {(r["grade"], r["grade_band"]) for r in rows}
    assert ("PK", "K-2") in bands and ("7", "6-8") in bands and ("11", "9-12") in bands and ("", "") in bands
    assert all(r["updated_at"].endswith("Z") for r in rows)


def test_wide_csv_keeps_a_column_for_lookfors_only_older_versions_had(world, server_db):
    rows = readback.csv_rows(download(world, world.north.members["admin"], "csv-wide"))
    header = list(rows[0])
    assert header[:len(VISIT_COLUMNS)] == VISIT_COLUMNS
    assert {"cr.pace", "cr.exit-ticket", "sd.target-posted"} <= set(header)
    v1 = [r for r in rows if r["rubric_id"] == "coherence" and r["rubric_version"] == "1"]
    v2 = [r for r in rows if r["rubric_id"] == "coherence" and r["rubric_version"] == "2"]
    assert any(r["cr.pace"] for r in v1) and not any(r["cr.pace"] for r in v2)
    assert any(r["cr.exit-ticket"] for r in v2) and not any(r["cr.exit-ticket"] for r in v1)
    live_visits = {v for v, *_ in serverdata.expected_ratings(server_db.engine, world.north.id)}
    assert live_visits <= {r["visit_id"] for r in rows}  # visits with no ratings are rows too


def test_xlsx_has_visits_ratings_lookfors_and_tallies_sheets(world):
    sheets = readback.xlsx_sheets(download(world, world.north.members["admin"], "xlsx"))
    assert list(sheets) == ["Visits", "Ratings", "Look-fors", "Tallies", "Notes"]
    assert list(sheets["Visits"][0]) == VISIT_COLUMNS
    dictionary = {(r[0], r[1], r[4]) for r in sheets["Look-fors"][1:]}
    assert ("coherence", 1, "cr.pace") in dictionary and ("coherence", 2, "cr.exit-ticket") in dictionary
    ratings = sheets["Ratings"][1:]
    tallies = {(r[0], r[7]): r for r in sheets["Tallies"][1:]}
    col = {n: i for i, n in enumerate(sheets["Ratings"][0])}
    vcol = {n: i for i, n in enumerate(VISIT_COLUMNS)}
    marked = {r[col["visit_id"]] for r in ratings if r[col["value"]] or r[col["not_observed"]]}
    # a tally counts finished visits with at least one mark (sync.protocol.tally): not open ones, not empty ones
    counted = [v for v in sheets["Visits"][1:] if v[vcol["ended_at"]] and v[vcol["visit_id"]] in marked]
    left_out = [v for v in sheets["Visits"][1:] if v not in counted]
    assert counted and any(not v[vcol["ended_at"]] for v in left_out) and any(v[vcol["ended_at"]] for v in left_out)
    counted_ids = {v[vcol["visit_id"]] for v in counted}
    assert {w for w, _ in tallies} == {v[0] for v in counted}
    for (walk_id, lookfor_id), t in tallies.items():
        assert t[9] == sum(1 for v in counted if v[0] == walk_id)  # the look-for's base: the walk's counted visits
        cell = [r for r in ratings if r[col["walk_id"]] == walk_id and r[col["lookfor_id"]] == lookfor_id
                and r[col["visit_id"]] in counted_ids]
        assert t[10] == sum(1 for r in cell if r[col["value"]])          # rated
        assert t[11] == sum(1 for r in cell if r[col["not_observed"]])   # not observed


def test_jsonl_has_one_visit_per_line_with_its_notes(world):
    lines = [json.loads(x) for x in download(world, world.north.members["admin"], "jsonl").decode().splitlines()]
    assert len({v["visit_id"] for v in lines}) == len(lines)
    noted = [v for v in lines if v["notes"]]
    assert noted and noted[0]["notes"][0]["text"].endswith("ünïcode")


def test_filters_limit_the_export_by_school_dates_walk_and_rubric(world):
    admin = world.north.members["admin"]

    def visits(**params):
        return readback.csv_rows(download(world, admin, "csv-wide", **params))

    school = world.north.schools[0]
    assert {r["school_id"] for r in visits(school=school)} == {school}
    assert {r["walk_date"] for r in visits(**{"from": "2026-09-08", "to": "2026-09-15"})} == {"2026-09-08", "2026-09-15"}
    assert {r["walk_id"] for r in visits(walk=world.north.walks[1])} == {world.north.walks[1]}
    assert {(r["rubric_id"], r["rubric_version"]) for r in visits(rubric="coherence@1")} == {("coherence", "1")}
    assert {r["rubric_version"] for r in visits(rubric="coherence")} == {"1", "2"}


def test_a_text_cell_that_looks_like_a_formula_is_quoted_in_csv_only(world):
    admin = world.north.members["admin"]
    csv_labels = {r["cycle_label"] for r in readback.csv_rows(download(world, admin, "csv"))}
    assert "'=Cycle 1" in csv_labels and "=Cycle 1" not in csv_labels
    xlsx = readback.xlsx_sheets(download(world, admin, "xlsx"))["Visits"]
    assert "=Cycle 1" in {r[VISIT_COLUMNS.index("cycle_label")] for r in xlsx}


def test_each_role_exports_only_what_it_may_see(world, server_db):
    north = world.north
    everything = serverdata.expected_ratings(server_db.engine, north.id)
    mine = serverdata.expected_ratings(server_db.engine, north.id, north.members["observer"].user_id)
    theirs = serverdata.expected_ratings(server_db.engine, north.id, north.members["observer2"].user_id)
    assert mine and theirs and mine | theirs == everything
    assert readback.cells("csv", download(world, north.members["observer"], "csv")) == mine
    assert readback.cells("jsonl", download(world, north.members["observer2"], "jsonl")) == theirs
    assert readback.cells("csv", download(world, north.members["lead"], "csv")) == mine  # not on obs2's walk
    assert readback.cells("csv", download(world, north.members["outsider_lead"], "csv")) == theirs
    south = serverdata.expected_ratings(server_db.engine, world.south.id)
    assert readback.cells("csv", download(world, world.south.members["admin"], "csv")) == south
    assert not south & everything


def test_a_bad_filter_is_refused_with_how_to_fix_it(world, db_url, tmp_path):
    with serverdata.client(world.url, world.north.members["admin"].token) as c:
        r = c.get("/api/v1/export/csv", params={"from": "2026-13-01"})
        assert r.status_code == 422 and "YYYY-MM-DD" in r.json()["detail"]
        assert c.get("/api/v1/export/pdf").status_code == 404
    out = tmp_path / "x.csv"
    run = subprocess.run([LEARNWALK, "export", "--db", db_url, "--format", "csv", "--out", str(out),
                          "--from", "2026-10-01", "--to", "2026-09-01"], capture_output=True, text=True)
    assert run.returncode == 2 and "swap the two dates" in run.stderr and not out.exists()
    run = subprocess.run([LEARNWALK, "export", "--db", db_url, "--format", "csv", "--out", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "--district" in run.stderr and not out.exists()


def test_every_export_is_in_the_audit_log_with_its_filters(world):
    admin = world.north.members["admin"]
    download(world, admin, "jsonl", school=world.north.schools[1])
    with serverdata.client(world.url, admin.token) as c:
        entries = c.get("/api/v1/admin/audit", params={"action": "export"}).json()
    assert entries[0]["actor"] == admin.user_id
    assert entries[0]["after"] == {"format": "jsonl", "filters": {"school_id": world.north.schools[1]}}


def test_cli_export_from_the_server_with_a_token_equals_the_callers_ratings(world, server_db, tmp_path):
    out = tmp_path / "north.jsonl"
    admin = world.north.members["admin"]
    run = subprocess.run([LEARNWALK, "export", "--server", world.url, "--token", admin.token, "--format", "jsonl",
                          "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert readback.cells("jsonl", out.read_bytes()) == serverdata.expected_ratings(server_db.engine, world.north.id)


def test_cli_export_with_a_bad_token_says_so_and_leaves_no_file(world, tmp_path):
    out = tmp_path / "x.csv"
    run = subprocess.run([LEARNWALK, "export", "--server", world.url, "--token", "not-a-token", "--format", "csv",
                          "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "token is not valid" in run.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_the_long_csv_and_the_xlsx_ratings_sheet_hold_the_same_rows(world):
    admin = world.north.members["admin"]
    text_rows = readback.csv_rows(download(world, admin, "csv"))
    sheet = readback.xlsx_sheets(download(world, admin, "xlsx"))["Ratings"]

    def unguard(v: str) -> str:  # the CSV's formula guard, undone
        return v[1:] if v[:1] == "'" and v[1:2] in ("=", "+", "-", "@", "\t", "\r") else v

    from_csv = [tuple(unguard(r[c]) for c in LONG_COLUMNS) for r in text_rows]
    from_xlsx = [tuple("" if v is None else str(v) for v in row) for row in sheet[1:]]
    assert from_csv == from_xlsx and len(from_csv) > 50


def test_cli_draws_a_progress_bar_only_when_stderr_is_a_terminal(world, db_url, tmp_path):
    import os
    import pty

    leader, follower = pty.openpty()
    out = tmp_path / "tty.csv"
    run = subprocess.run([LEARNWALK, "export", "--db", db_url, "--district", world.north.id, "--format", "csv",
                          "--out", str(out)], stdout=subprocess.PIPE, stderr=follower, timeout=120,
                         env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
    os.close(follower)
    drawn = b""
    try:
        while chunk := os.read(leader, 65536):
            drawn += chunk
    except OSError:  # the terminal's other end is closed: everything was read
        pass
    os.close(leader)
    assert run.returncode == 0 and out.exists()
    assert b"Exporting ratings" in drawn


def test_cli_export_from_a_database_file_that_does_not_exist_creates_nothing(tmp_path):
    missing, out = tmp_path / "typo.sqlite", tmp_path / "x.csv"
    run = subprocess.run([LEARNWALK, "export", "--db", str(missing), "--format", "csv", "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "no database file" in run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_checklists_not_seen_is_exported_as_its_value_like_any_level(world, server_db, fmt):
    expected = serverdata.expected_ratings(server_db.engine, world.north.id)
    assert any(value == "not_seen" for _, _, value, _ in expected)  # the world's checklist walks answer it
    got = readback.cells(fmt, download(world, world.north.members["admin"], fmt))
    assert {c for c in got if c[2] == "not_seen"} == {c for c in expected if c[2] == "not_seen"}
