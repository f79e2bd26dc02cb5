"""A look-for's level descriptors in the real app (headless Chromium): one tap on the card's info control opens
them, Close closes them, and rating the look-for is still one tap."""
from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import by_id, tap, type_into

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TALL = 4800
# to refresh the documented screenshots: LEARNWALK_SCREENSHOTS=docs/screenshots pytest this file
SHOTS = Path(os.environ.get("LEARNWALK_SCREENSHOTS") or tempfile.mkdtemp(prefix="learnwalk-screenshots-"))
LOOKFOR = "dl.interactive"
NAME = "What each level looks like: Students learn with each other"
MOSTLY = "Most students talk about the content in a structured way and respond to each other's ideas."


def test_descriptors_open_from_a_card_and_close_and_a_rating_is_still_one_tap(app_process, ui_page, tmp_path):
    app = app_process(tmp_path / "tablet")
    page = ui_page(app.url, height=TALL)
    page.get_by_role("button", name="New walk").click()
    type_into(page, "New school name", "Escuela Peña")
    page.get_by_role("button", name="Add school").click()
    page.get_by_role("checkbox", name="Escuela Peña").wait_for()
    page.get_by_label("Students learn with each other", exact=True).click()
    page.get_by_label("Affirming environment", exact=True).click()  # a walk has two or three focus look-fors
    page.get_by_role("button", name="Start walk").click()
    page.get_by_role("button", name="New visit").click()
    page.get_by_text("Visit 1", exact=True).wait_for()
    # a tablet's own size from here on: the dialog is placed in the middle of the viewport it opens in
    page.set_viewport_size({"width": 820, "height": 1180})
    page.wait_for_timeout(1000)

    # the info control has a name a screen reader says, and opens the descriptors in large text
    info = by_id(page, f"info:{LOOKFOR}")
    expect(info).to_have_attribute("aria-label", NAME)
    assert page.get_by_role("button", name=NAME).count() >= 1
    tap(info)
    sheet = by_id(page, f"info-sheet:{LOOKFOR}")
    sheet.wait_for(timeout=10_000)
    dialog = page.get_by_role("alertdialog")
    for words in ("Not yet", "Somewhat", "Mostly", MOSTLY, "Source: DESE Kaleidoscope"):
        expect(dialog).to_contain_text(words)

    for name, size in (("lookfor-details-portrait.png", (820, 1180)), ("lookfor-details-landscape.png", (1180, 820))):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.wait_for_timeout(700)  # the first frame after a resize can still show the previous picture
        page.screenshot(path=str(SHOTS / name))

    by_id(page, "info-close").click()
    sheet.wait_for(state="detached", timeout=10_000)
    # opening the descriptors and closing them rated nothing
    by_id(page, f"rate:{LOOKFOR}:3").wait_for()
    assert all(by_id(page, f"rate:{LOOKFOR}:{v}").get_attribute("aria-checked") == "false" for v in "1234")

    # one tap rates it, stored before the screen shows it
    by_id(page, f"rate:{LOOKFOR}:3").click()
    by_id(page, f"rate:{LOOKFOR}:3").and_(page.locator('[aria-checked="true"]')).wait_for(timeout=10_000)
    db = sqlite3.connect(f"file:{app.data_dir / 'learnwalk.sqlite'}?mode=ro", uri=True)
    stored = db.execute("select lookfor_id, value from rating where deleted = 0").fetchall()
    db.close()
    assert stored == [(LOOKFOR, "3")]
