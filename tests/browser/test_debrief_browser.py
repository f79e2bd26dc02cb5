"""The Debrief screen in the real app (headless Chromium): a tally row reads the same numbers as `learnwalk tally`."""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from app.store.db import open_engine
from app.store.seed import seed
from app.store.services import CaptureService
from tests.support.browser import by_id, files_under, measure_targets, learnwalk_exe, tap

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROW = re.compile(r"Rated (\d+) · not observed (\d+) · (.*) · evident (\d+) of (\d+) \(\d+%, 95% interval "
                 r"(\d+)-(\d+)%\)$")


def cli_tally(data_dir, walk_id, *extra) -> dict:
    done = subprocess.run([*learnwalk_exe(), "tally", "--data-dir", str(data_dir), "--walk", walk_id, "--json",
                           *extra], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def live_round_state(data_dir, logs) -> str:
    """The lead device's last round (from its Meta) and the app's last log lines."""
    from sqlalchemy import text

    engine = open_engine(data_dir)
    with engine.connect() as c:
        meta = dict(c.execute(text("SELECT key, value FROM meta WHERE key IN "
                                   "('last_sync_at', 'last_sync_error', 'pull_cursor')")).all())
    engine.dispose()
    tail = b"".join(p.read_bytes()[-3000:] for p in sorted(logs.glob("app-*.log"))).decode(errors="replace")
    return f"meta {meta}; app log: {tail}"


def read_row(page, lookfor_id: str) -> dict:
    """The numbers a screen reader hears for one tally row, parsed back into the JSON's terms."""
    text = by_id(page, f"tally:{lookfor_id}").inner_text(timeout=15_000)
    m = ROW.search(text)
    assert m, f"tally row text not in the expected words: {text!r}"
    levels = [int(part.rsplit(" ", 1)[1]) for part in m.group(3).split(" · ")]
    return {"rated": int(m.group(1)), "not_observed": int(m.group(2)), "counts": levels,
            "evident": int(m.group(4)), "interval": [int(m.group(6)), int(m.group(7))]}


def from_json(lf: dict) -> dict:
    return {"rated": lf["rated"], "not_observed": lf["not_observed"], "counts": list(lf["counts"].values()),
            "evident": lf["evident"], "interval": [round(x * 100) for x in lf["interval"]]}


@pytest.fixture
def seeded_dir(tmp_path):
    data = tmp_path / "tablet"
    engine = open_engine(data)
    service = CaptureService(engine)
    seed(service, walks=1, visits=24, rubric_key="deeper-learning@1", seed=11)
    walk_id = service.walks()[0].id
    engine.dispose()
    return data, walk_id


def test_debrief_tally_row_matches_learnwalk_tally_json_and_follows_a_filter(seeded_dir, app_process, ui_page):
    data, walk_id = seeded_dir
    whole = cli_tally(data, walk_id)
    rated_lfs = [lf for lf in whole["lookfors"] if len(lf["counts"]) > 2]  # a four-level scale, not a checklist
    target = next(lf for lf in rated_lfs if lf["focus"]) if any(lf["focus"] for lf in rated_lfs) else rated_lfs[0]

    app = app_process(data)
    page = ui_page(f"{app.url}walks/{walk_id}")
    by_id(page, "debrief").click()  # the Walk screen's "Debrief" button
    assert read_row(page, target["id"]) == from_json(target)

    # a grade band with enough visits on both sides of the filter, tapped on screen, matches the CLI filter
    groups = cli_tally(data, walk_id, "--by", "grade_band")["groups"]
    band = next(g["key"] for g in groups if not g["suppressed"] and whole["visits"] - g["visits"] >= 3)
    page.get_by_text("Filters", exact=True).click()
    by_id(page, f"filter:grade_band:{band}").click()
    by_id(page, f"filter:grade_band:{band}").and_(page.locator('[aria-checked="true"]')).wait_for(timeout=10_000)
    filtered = next(lf for lf in cli_tally(data, walk_id, "--grade-band", band)["lookfors"]
                    if lf["id"] == target["id"])
    assert filtered["rated"] != target["rated"]  # the filter changes the numbers, so the check can fail
    page.wait_for_function(
        "([id, n]) => { const e = document.querySelector(`[flt-semantics-identifier=\"tally:${id}\"]`);"
        " return e && e.innerText.startsWith(`Rated ${n} `) || (e && e.innerText.includes(`. Rated ${n} `)); }",
        arg=[target["id"], filtered["rated"]], timeout=10_000)
    assert read_row(page, target["id"]) == from_json(filtered)


def test_an_open_visit_and_an_empty_finished_visit_change_no_share_and_finishing_unrated_asks_first(
        seeded_dir, app_process, ui_page):
    data, walk_id = seeded_dir
    target = next(lf for lf in cli_tally(data, walk_id)["lookfors"] if len(lf["counts"]) > 1)
    app = app_process(data)
    page = ui_page(f"{app.url}walks/{walk_id}", height=4800)
    by_id(page, "debrief").click()
    before = read_row(page, target["id"])
    page.get_by_label("Back", exact=True).click()

    # a visit with one rating: Finish asks once, "Keep rating" stays; Back leaves it open
    page.get_by_role("button", name="New visit").click()
    lowest = next(iter(target["counts"]))
    tap(by_id(page, f"rate:{target['id']}:{lowest}"))
    by_id(page, f"rate:{target['id']}:{lowest}").and_(page.locator('[aria-checked="true"]')).wait_for(
        timeout=10_000)
    page.get_by_role("button", name="Finish visit", exact=True).click()
    page.get_by_text(re.compile(r"^\d+ look-fors not rated: finish anyway\?$")).wait_for(timeout=10_000)
    page.get_by_role("button", name="Keep rating", exact=True).click()
    page.get_by_role("button", name="Finish visit", exact=True).wait_for()
    page.get_by_label("Back", exact=True).click()

    # a visit with nothing rated: the question offers to discard it; finished anyway, it is not counted
    page.get_by_role("button", name="New visit").click()
    page.get_by_role("button", name="Finish visit", exact=True).click()
    page.get_by_text(re.compile("^Nothing is rated on this visit")).wait_for(timeout=10_000)
    assert page.get_by_role("button", name="Discard visit", exact=True).is_visible()
    page.get_by_role("button", name="Finish anyway", exact=True).click()
    page.get_by_role("button", name="New visit").wait_for()

    by_id(page, "debrief").click()
    by_id(page, "not-counted").wait_for(timeout=15_000)
    assert by_id(page, "not-counted").inner_text() == (
        "1 visit in progress, not counted · 1 finished visit with nothing rated, not counted")
    assert read_row(page, target["id"]) == before == from_json(
        next(lf for lf in cli_tally(data, walk_id)["lookfors"] if lf["id"] == target["id"]))


def test_the_debrief_pdf_button_hands_the_report_to_the_browser_as_a_download(seeded_dir, app_process, ui_page,
                                                                              tmp_path):
    data, walk_id = seeded_dir
    engine = open_engine(data)
    service = CaptureService(engine)
    walk = service.walk(walk_id)
    school = next(s.name for s in service.schools() if s.id == walk.school_id)
    engine.dispose()
    assert school in ("Maple Street Elementary", "Riverside Middle", "Harbor High")  # the seed's schools
    app = app_process(data)
    page = ui_page(f"{app.url}walks/{walk_id}/debrief")
    by_id(page, "debrief-pdf").wait_for(timeout=15_000)
    before = files_under(data)
    with page.expect_download(timeout=60_000) as info:
        by_id(page, "debrief-pdf").click()
    download = info.value
    saved = tmp_path / "got.pdf"
    download.save_as(saved)
    # named for its school and date, as every download is (learnwalk-riverside-middle-2026-12-02-debrief.pdf)
    assert download.suggested_filename == (f"learnwalk-{school.lower().replace(' ', '-')}-"
                                           f"{walk.walk_date.isoformat()}-debrief.pdf")
    body = saved.read_bytes()
    assert body.startswith(b"%PDF-") and len(body) > 5_000
    text = subprocess.run(["pdftotext", str(saved), "-"], capture_output=True, text=True, check=True).stdout
    assert "95% interval" in text
    assert files_under(data) == before  # nothing written under the tablet's data folder (the host's disk)


def test_a_teammates_visits_appear_on_the_leads_open_debrief_with_no_tap(app_process, ui_page, sync_server,
                                                                          tmp_path):
    from playwright.sync_api import expect

    from tests.support import serverproc as harness

    district = sync_server.db.district()
    lead = harness.new_device(tmp_path / "lead", sync_server.url, district.code(district.user("lead")))
    obs = harness.new_device(tmp_path / "obs", sync_server.url, district.code(district.user("observer")))
    lead.sync.sync_once()
    obs.sync.sync_once()
    walk = harness.new_walk(lead, district.school_id, team=[harness.user_of(obs)])
    harness.record_visits(lead, walk.id, 3)
    lead.sync.sync_once()
    obs.sync.sync_once()
    lead.engine.dispose()

    app = app_process(lead.path, extra_env={"LEARNWALK_LIVE_SYNC_SECONDS": "3"})  # a minute in the field
    page = ui_page(f"{app.url}walks/{walk.id}/debrief")
    expect(page.get_by_text(re.compile(r"^3 visits · "))).to_be_visible(timeout=30_000)
    expect(by_id(page, "updated")).to_contain_text("Team data updated", timeout=30_000)

    harness.record_visits(obs, walk.id, 3)  # the teammate's tablet pushes; nobody touches the lead's screen
    obs.sync.sync_once()
    pushed = time.monotonic()
    try:
        expect(page.get_by_text(re.compile(r"^6 visits · 2 observers"))).to_be_visible(timeout=90_000)
    except AssertionError:  # say what the lead's device knew, so a miss can be told from a slow round
        raise AssertionError(f"not redrawn {time.monotonic() - pushed:.0f} s after the push; "
                             f"{live_round_state(lead.path, tmp_path)}") from None


# screenshots go to a scratch folder, so a test run leaves the checkout as it was; to refresh the documented
# ones: LEARNWALK_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/browser/test_debrief_browser.py
SHOTS = Path(os.environ.get("LEARNWALK_SCREENSHOTS") or tempfile.mkdtemp(prefix="learnwalk-screenshots-"))


def test_every_control_on_the_debrief_screen_is_at_least_48_px_in_every_section_and_screenshots(
        seeded_dir, app_process, ui_page):
    data, walk_id = seeded_dir
    app = app_process(data)
    for name, (width, height) in {"portrait": (820, 1180), "landscape": (1180, 820), "phone": (390, 844)}.items():
        page = ui_page(f"{app.url}walks/{walk_id}/debrief", width=width, height=6000)
        by_id(page, "debrief-pdf").wait_for(timeout=15_000)
        page.wait_for_timeout(1000)
        if name != "phone":
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(1500)
            page.screenshot(path=str(SHOTS / f"debrief-{name}.png"))
            page.set_viewport_size({"width": width, "height": 6000})
            page.wait_for_timeout(1000)
        page.get_by_text("Filters", exact=True).click()
        by_id(page, "filter:grade_band:K-2").wait_for(timeout=10_000)
        for section in ("tallies", "evidence", "trend", "calibration", "equity"):
            tap(by_id(page, f"section:{section}"))
            by_id(page, f"section:{section}").and_(page.locator('[aria-checked="true"]')).wait_for(timeout=10_000)
            page.wait_for_timeout(500)
            count, small = measure_targets(page, width=page.viewport_size["width"])
            assert count >= 10, (name, section)  # the check sees the controls
            assert small == [], (name, section)
