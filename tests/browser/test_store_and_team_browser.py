"""In the real app (headless Chromium): an emptied store is told on the Walks screen until dismissed, and a walk's
creator adds a teammate on the Walk screen."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.device import Device
from app.store.db import db_path
from app.store.seed import seed
from tests.support.browser import by_id, tap, type_into

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_walks_screen_says_an_emptied_store_was_replaced_until_the_observer_dismisses_it(
        tmp_path, app_process, ui_page):
    folder = tmp_path / "tablet"
    with Device.open(folder) as device:
        seed(device.capture, walks=1, visits=2)
    db_path(folder).write_bytes(b"")
    app = app_process(folder)
    page = ui_page(app.url)
    expect(page.get_by_text("The data on this device was replaced")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("emptied (0 bytes)", exact=False)).to_be_visible()
    tap(by_id(page, "dismiss-store-notice"))
    expect(page.get_by_text("The data on this device was replaced")).to_have_count(0, timeout=10_000)
    with Device.open(folder) as device:
        assert device.store_notice() is None


def test_a_walks_creator_adds_a_teammate_by_their_learnwalk_id(tmp_path, app_process, ui_page):
    folder = tmp_path / "tablet"
    with Device.open(folder) as device:
        seed(device.capture, walks=1, visits=1)
        [walk] = device.capture.walks()
    app = app_process(folder)
    page = ui_page(app.url, height=2400)
    tap(by_id(page, f"walk:{walk.id}"))
    expect(page.get_by_text("Only people on the team can add visits", exact=False)).to_be_visible(timeout=20_000)
    type_into(page, "Teammate's learnwalk id", "u-teammate-1")
    tap(by_id(page, "add-to-team"))
    expect(page.locator("span").get_by_text("Added to the team", exact=False)).to_be_visible(timeout=10_000)
    expect(page.get_by_text("u-teammate-1", exact=True)).to_be_visible()
    with Device.open(folder) as device:
        assert device.capture.walk(walk.id).team[-1] == "u-teammate-1"
