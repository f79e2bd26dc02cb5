"""Enrolling a tablet and syncing it from the app's own Settings and Sync screens, against a real server."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import by_id, type_into

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_observer_enrolls_in_settings_syncs_now_and_gets_the_district_school(app_process, ui_page, sync_server,
                                                                               tmp_path):
    district = sync_server.db.district()
    code = district.code(district.user("observer"))
    app = app_process(tmp_path / "tablet")
    page = ui_page(app.url)

    page.get_by_label("Settings", exact=True).click()
    type_into(page, "Server address", "walks.district.org")
    page.get_by_role("button", name="Enroll").click()
    expect(by_id(page, "message")).to_contain_text("must start with http:// or https://")

    type_into(page, "Server address", sync_server.url)
    type_into(page, "Enrollment code", code)
    page.get_by_role("button", name="Enroll").click()
    expect(by_id(page, "message")).to_contain_text("Enrolled.", timeout=15_000)
    expect(page.get_by_text(f"Enrolled with {sync_server.url}", exact=False).first).to_be_visible()

    page.get_by_label("Back", exact=True).click()
    page.get_by_label("Sync", exact=True).click()
    # enrolling woke the app's background sync task: a round has run (or runs now) without "Sync now"
    expect(page.get_by_text("just now", exact=True)).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Sync now").click()
    expect(by_id(page, "message")).to_contain_text("Synced:", timeout=15_000)
    expect(page.get_by_text("Everything is sent.")).to_be_visible()
    expect(by_id(page, "connection")).to_contain_text("Online")  # the badge, in every app bar

    # the district's school came down with the sync: a new walk offers it
    page.get_by_label("Back", exact=True).click()
    page.get_by_role("button", name="New walk").click()
    expect(page.get_by_role("checkbox", name="Lincoln Elementary")).to_be_visible(timeout=10_000)
