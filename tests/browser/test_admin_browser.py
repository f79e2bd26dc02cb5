"""The Admin screen in the real app (headless Chromium) against the real server: a CSV rubric chosen with the file
picker and holding one error is refused with the validator's message pointing at its line, and nothing is
published; fixed, it publishes; an export for one school, picked by name, arrives as a browser download named
for it, and nothing is written under the tablet's data folder. Every control is at least 48x48 px."""
from __future__ import annotations

import os
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from sync.server import directory
from sync.server.db import writer
from tests.support import readback, serverdata
from tests.support import serverproc as harness
from tests.support.browser import by_id, files_under, measure_targets, learnwalk_exe, settle, tap, type_into

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# screenshots go to a scratch folder, so a test run leaves the checkout as it was; to refresh the documented
# ones: LEARNWALK_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/browser/test_admin_browser.py
SHOTS = Path(os.environ.get("LEARNWALK_SCREENSHOTS") or tempfile.mkdtemp(prefix="learnwalk-screenshots-"))
VIEWPORTS = {"portrait": (820, 1180), "landscape": (1180, 820), "phone": (390, 844)}

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


def open_admin(ui_page, app, width=820, height=4000):
    page = ui_page(app.url, width=width, height=height)
    tap(page.get_by_label("Admin", exact=True))
    by_id(page, "admin-export").wait_for(timeout=30_000)
    return page


def test_admin_publishes_a_picked_csv_rubric_after_fixing_its_error_and_downloads_an_export(
        world, admin_tablet, app_process, ui_page, tmp_path):
    page = open_admin(ui_page, app_process(admin_tablet))
    bad = tmp_path / "walkthrough.csv"
    bad.write_text(HEADER + ROWS.format(scale="sometimes"))
    with page.expect_file_chooser(timeout=15_000) as chooser:
        tap(by_id(page, "admin-choose-file"))
    chooser.value.set_files(str(bad))
    expect(by_id(page, "message")).to_contain_text("walkthrough.csv loaded (3 lines)", timeout=15_000)
    tap(by_id(page, "admin-publish"))
    problems = by_id(page, "rubric-problems")
    expect(problems).to_contain_text("Line 3: ", timeout=15_000)
    expect(problems).to_contain_text("sometimes")
    # the line itself, numbered as in the file, under the problem
    expect(problems).to_contain_text("3 │ talk,,wt.evidence,Students cite evidence when they speak.,Evidence,"
                                     "sometimes,,no")
    assert not {k for k in published(world) if k[0] == "walkthrough"}

    type_into(page, "Rubric file text", HEADER + ROWS.format(scale="four-level"))
    tap(by_id(page, "admin-publish"))
    expect(by_id(page, "message")).to_contain_text("Published walkthrough@1", timeout=15_000)
    assert ("walkthrough", 1) in published(world)
    assert problems.count() == 0 or "Line 3:" not in problems.inner_text()  # the old problem is gone

    school_id = world.north.schools[1]
    school_name = "North school 2"  # serverdata's names
    tap(by_id(page, "export-format:csv"))
    tap(by_id(page, f"export-school:{school_id}"))
    before = files_under(admin_tablet)
    with page.expect_download(timeout=60_000) as info:
        tap(by_id(page, "admin-export"))
    download = info.value
    today = datetime.now(timezone.utc).date().isoformat()
    assert download.suggested_filename == f"learnwalk-north-school-2-{today}.csv"
    saved = tmp_path / "got.csv"
    download.save_as(saved)
    rows = readback.csv_rows(saved.read_bytes())
    assert {(r["school_id"], r["school_name"]) for r in rows} == {(school_id, school_name)}
    expected = {c for c in serverdata.expected_ratings(world.db.engine, world.north.id)
                if c[0] in {r["visit_id"] for r in rows}}
    assert readback.cells("csv", saved.read_bytes()) == expected and expected
    expect(by_id(page, "message")).to_contain_text(download.suggested_filename, timeout=15_000)
    assert files_under(admin_tablet) == before  # nothing written under the tablet's data folder
    assert not (admin_tablet / "exports").exists()


def test_every_control_on_the_admin_screen_is_at_least_48_px_and_screenshots(world, admin_tablet, app_process,
                                                                             ui_page):
    app = app_process(admin_tablet)
    for name, (width, height) in VIEWPORTS.items():
        page = open_admin(ui_page, app, width=width, height=4000)
        page.wait_for_timeout(1000)
        count, small = measure_targets(page, width=page.viewport_size["width"])
        assert count >= 20, name  # the check sees the controls
        assert small == [], name
        if name != "phone":
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(1500)
            page.screenshot(path=str(SHOTS / f"admin-{name}.png"))
            settle(page.get_by_text("Recent changes (audit log)", exact=True))  # people, devices, audit in names
            page.wait_for_timeout(1000)
            page.screenshot(path=str(SHOTS / f"admin-names-{name}.png"))
