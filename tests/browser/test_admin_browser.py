"""The Admin screen in the real app (headless Chromium) against the real server: a CSV rubric with one error is
refused with the validator's message and nothing is published; fixed, it publishes; then an export is saved."""
from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from sync.server import directory
from sync.server.db import writer
from tests.support import readback, serverdata
from tests.support import serverproc as harness
from tests.support.browser import by_id, learnwalk_exe, tap, type_into

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HEADER = "domain,domain_title,lookfor_id,text,label,scale,subjects,equity\n"
ROWS = ("talk,Student talk,wt.pairs,Students talk in pairs about the task.,Pair talk,presence,,no\n"
        "talk,,wt.evidence,Students cite evidence when they speak.,Evidence,{scale},,no\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('admin-ui') / 'server.sqlite'}"
    db = harness.Db(url)
    server = harness.ServerProc(url).start()
    yield serverdata.World.build(server.url, db, walks=3, visits=3)
    server.stop()
    db.engine.dispose()


@pytest.fixture
def admin_tablet(world, tmp_path):
    """A device data folder enrolled (with `learnwalk enroll`) for North's admin."""
    with Session(writer(world.db.engine)) as s:
        code = directory.issue_code(s, world.north.members["admin"].user_id)
        s.commit()
    data = tmp_path / "admin-tablet"
    subprocess.run([*learnwalk_exe(), "enroll", "--data-dir", str(data), "--server", world.url, "--code", code],
                   check=True, capture_output=True, timeout=60)
    return data


def published(world) -> set[tuple[str, int]]:
    with serverdata.client(world.url, world.north.members["admin"].token) as c:
        return {(r["rubric_id"], r["version"]) for r in c.get("/api/v1/admin/rubrics").json()}


def test_admin_publishes_a_csv_rubric_after_fixing_its_error_and_exports(world, admin_tablet, app_process, ui_page):
    app = app_process(admin_tablet)
    page = ui_page(app.url)
    tap(page.get_by_label("Admin", exact=True))
    type_into(page, "Rubric file name", "walkthrough.csv")
    type_into(page, "Rubric file text", HEADER + ROWS.format(scale="sometimes"))
    tap(by_id(page, "admin-publish"))
    problems = by_id(page, "rubric-problems")
    expect(problems).to_contain_text("walkthrough.csv:3: ", timeout=15_000)
    expect(problems).to_contain_text("sometimes")
    assert not {k for k in published(world) if k[0] == "walkthrough"}

    type_into(page, "Rubric file text", HEADER + ROWS.format(scale="four-level"))
    tap(by_id(page, "admin-publish"))
    expect(by_id(page, "message")).to_contain_text("Published walkthrough@1", timeout=15_000)
    assert ("walkthrough", 1) in published(world)
    assert problems.count() == 0 or "walkthrough.csv:3:" not in problems.inner_text()  # the old problem is gone

    tap(by_id(page, "export-format:csv"))
    tap(by_id(page, "admin-export"))
    expect(by_id(page, "message")).to_contain_text("Saved the export", timeout=30_000)
    saved = admin_tablet / "exports" / "learnwalk-csv.csv"
    assert readback.cells("csv", saved.read_bytes()) == serverdata.expected_ratings(world.db.engine, world.north.id)
