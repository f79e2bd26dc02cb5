"""Cycles on the real screens (headless Chromium): a cycle with two priorities and targets and its three walks,
recorded on two tablets and synced through the real server; the lead's Debrief and its PDF show each priority's
trend against its target; the New walk screen picks the school's cycle and the walk takes its priorities."""
from __future__ import annotations

import re
import subprocess

import pytest

from app.debrief.trends import cycle_trend
from app.store.db import open_engine
from app.store.models import Walk
from app.store.services import CaptureService
from tests.support import serverproc as harness
from tests.support.browser import by_id, tap
from tests.support.cycles import TALK, WHY, cycle_world

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def lead_with_cycle(sync_server, tmp_path):
    district = sync_server.db.district()
    lead = harness.new_device(tmp_path / "lead", sync_server.url, district.code(district.user("lead")))
    obs = harness.new_device(tmp_path / "obs", sync_server.url, district.code(district.user("observer")))
    cycle, walks = cycle_world(lead, obs, district)
    trend = cycle_trend(lead.engine, lead.capture.catalog, walks["end-of-cycle"].id)
    sentences = {r.lookfor_id: trend.sentence(r) for r in trend.rows}
    lead.engine.dispose()
    obs.engine.dispose()
    return lead.path, cycle, walks, sentences


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_leads_debrief_and_pdf_show_each_prioritys_trend_against_its_target(lead_with_cycle, app_process,
                                                                                   ui_page, tmp_path):
    path, cycle, walks, sentences = lead_with_cycle
    # what the screen must say, worked out by hand from the visits recorded (tests/support/cycles.py)
    assert sentences[TALK] == ("Priority 1, Students learn with each other: Baseline 25%, Six-week 50%, End of cycle "
                               "100%; change +75 pts. Target 60% by the end-of-cycle walk · latest 100% (95% interval "
                               "68-100%): target reached.")
    assert sentences[WHY] == ("Priority 2, Students say what and why: Baseline 12%, Six-week 25%, End of cycle 38%; "
                              "change +25 pts, too close to call. Target 50% by the end-of-cycle walk · latest 38% "
                              "(95% interval 14-69%): too close to call against the target.")
    app = app_process(path)
    page = ui_page(f"{app.url}walks/{walks['end-of-cycle'].id}/debrief", height=3200)
    by_id(page, "section:trend").click()
    for lf in (TALK, WHY):
        assert _words(by_id(page, f"target:{lf}").inner_text(timeout=20_000)) == sentences[lf]
    page.get_by_text(re.compile("Leads and admins set the priorities and targets; observers read them")).wait_for()

    with page.expect_download(timeout=60_000) as info:
        by_id(page, "debrief-pdf").click()
    saved = tmp_path / "debrief.pdf"
    info.value.save_as(saved)
    text = _words(subprocess.run(["pdftotext", str(saved), "-"], capture_output=True, text=True,
                                 check=True).stdout)
    assert "Cycle trend: Fall 2026" in text
    for lf in (TALK, WHY):
        assert sentences[lf] in text


def test_new_walk_picks_the_schools_cycle_and_the_walk_takes_its_priorities(lead_with_cycle, app_process, ui_page):
    path, cycle, walks, _ = lead_with_cycle
    app = app_process(path)
    page = ui_page(f"{app.url}walks/new", height=4800)
    chip = by_id(page, f"cycle:{cycle.id}")
    chip.and_(page.locator('[aria-checked="true"]')).wait_for(timeout=20_000)  # the school's newest cycle
    priorities = _words(by_id(page, "cycle-priorities").inner_text())
    assert "Priority 1: Students learn with each other, target 60% by the end-of-cycle walk" in priorities
    assert "Priority 2: Students say what and why, target 50% by the end-of-cycle walk" in priorities
    page.get_by_text("Leads and admins create and change cycles; observers pick one for their walks.").wait_for()
    tap(by_id(page, "start-walk"))
    page.wait_for_url(re.compile(r"/walks/[0-9a-f-]{36}$"), timeout=20_000)
    new_id = page.url.rsplit("/", 1)[1]
    app.stop()
    engine = open_engine(path)
    try:
        walk = CaptureService(engine).walk(new_id)
        assert (walk.cycle_id, walk.focus, walk.cycle_label) == (cycle.id, [TALK, WHY], "Fall 2026")
        assert new_id not in {w.id for w in walks.values()} and isinstance(walk, Walk)
    finally:
        engine.dispose()
