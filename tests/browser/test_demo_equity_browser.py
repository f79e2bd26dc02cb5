"""The demo district's equity pause on the lead's real Debrief (headless Chromium): the table pooled over the cycle's
three walks shows the inclusion and English-learner classrooms that the walk alone suppresses, and says which walks
were pooled and why."""
from __future__ import annotations

import pytest

from app.device import Device
from tests.support.browser import by_id
from tests.support.demo_world import build_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_demo_cycles_pooled_equity_pause_shows_groups_one_walk_suppresses(app_process, ui_page, tmp_path):
    lead_dir = build_demo(tmp_path / "demo")
    device = Device.open(lead_dir)
    try:
        end = next(w for w in device.capture.walks() if w.phase == "end-of-cycle")
    finally:
        device.close()
    app = app_process(lead_dir)
    page = ui_page(f"{app.url}walks/{end.id}/debrief", height=4800)
    by_id(page, "section:equity").click()
    why = " ".join(by_id(page, "pooled-why").inner_text(timeout=30_000).split())
    assert why.startswith("Pooled over 3 walks of this cycle (baseline 2026-")
    assert "groups under 3 visits are still not shown" in why
    gains = by_id(page, "pooled-gains").inner_text()
    assert gains.startswith("Shown here, hidden on at least one walk alone: ")
    assert "Inclusion" in gains and "English learners" in gains
    # the walk's own table still hides them
    page.get_by_text("fewer than 3 visits").first.wait_for()
    node = by_id(page, "pooled-equity")
    pooled = " ".join((node.get_attribute("aria-label") or node.inner_text()).split())
    assert "Inclusion (6)" in pooled and "English learners (6)" in pooled and "95% interval" in pooled
