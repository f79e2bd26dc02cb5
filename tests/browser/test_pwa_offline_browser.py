"""The built web app as an observer's tablet, end to end: enrolled against a real `learnwalk serve`, a whole visit
recorded with the server gone, the page reloaded with its static host gone too (the service worker serves it),
the browser killed right after a tap, and, once the server is back, the visit on the server exactly once with
every cell, with no tap on Sync. Every request off loopback goes to a proxy that refuses it."""
from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support import serverproc as harness
from tests.support.browser import by_id, focus_field, tap, type_into
from tests.support.pwa import (StaticServer, pwa_browser, pwa_dist,  # noqa: F401 (fixtures)
                                rating_choices, site_with_server)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]  # four cold starts of the app

TALL = 4800  # the whole capture screen at once: Flutter's accessibility DOM can lag behind its own scrolling
NOTE = "Pairs compare strategies; anchor chart en español"
FOCUS = ["Students learn with each other", "Affirming environment"]  # of the default rubric, deeper learning


def checked(page, identifier: str) -> bool:
    return by_id(page, identifier).get_attribute("aria-checked") == "true"


def choose(page, identifier: str) -> None:
    """Tap and wait until the screen shows it chosen (in the built app: once the tap is on the tablet's storage)."""
    tap(by_id(page, identifier))
    by_id(page, identifier).and_(page.locator('[aria-checked="true"]')).wait_for(timeout=30_000)


def export_jsonl(db_url: str, district_id: str, out: Path) -> list[dict]:
    learnwalk = Path(harness.LEARNWALK)
    subprocess.run([str(learnwalk), "export", "--db", db_url, "--district", district_id, "--format", "jsonl",
                    "--out", str(out)], check=True, capture_output=True, timeout=120)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_a_visit_recorded_offline_in_the_built_app_reaches_the_server_once_with_every_cell(
        pwa_dist, pwa_browser, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    db = harness.Db(db_url)
    district = db.district()
    code = district.code(district.user("lead"))
    port = harness.free_port()
    server_url = f"http://127.0.0.1:{port}"
    site = StaticServer(site_with_server(pwa_dist, tmp_path / "site", server_url)).start()
    # the app is served from its own origin; the server answers it by name (CORS), never "*"
    server = harness.ServerProc(db_url, env={"LEARNWALK_CORS_ORIGINS": site.url.rstrip("/")}).start(port=port)
    browser = pwa_browser(tmp_path / "profile")
    page = None
    try:
        page = browser.open(site.url)
        browser.wait_offline_ready(page)

        # enroll with the code from the admin; the server address is the one the district's build offers
        page.get_by_label("Settings", exact=True).click()
        field = page.get_by_label("Server address", exact=True)
        focus_field(field)  # Flutter fills a field's DOM value only while it has focus
        expect(field).to_have_value(server_url)
        type_into(page, "Enrollment code", code)
        page.get_by_role("button", name="Enroll").click()
        expect(by_id(page, "message")).to_contain_text("Enrolled.", timeout=30_000)
        page.get_by_label("Back", exact=True).click()
        page.get_by_role("button", name="New walk").click()
        # the first round (started by enrolling) brought the district's school
        expect(page.get_by_role("checkbox", name="Lincoln Elementary")).to_be_visible(timeout=60_000)

        server.stop()  # no Wi-Fi from here on
        page.set_viewport_size({"width": 800, "height": TALL})
        page.wait_for_timeout(1000)
        page.get_by_role("checkbox", name="Lincoln Elementary").click()
        for name in FOCUS:
            page.get_by_label(name, exact=True).click()
        page.get_by_role("button", name="Start walk").click()
        page.get_by_role("button", name="New visit").click()
        page.get_by_text("Visit 1", exact=True).wait_for(timeout=30_000)
        choose(page, "grade:3")
        choose(page, "subject:Math")
        page.wait_for_timeout(500)  # the subject's look-fors are shown
        choices = rating_choices(page)
        assert len(choices) >= 8, choices
        expected: dict[str, str | None] = {}
        for n, (lookfor, values) in enumerate(choices.items()):
            value = "na" if n == 0 else next(v for v in values if v != "na")  # one "Not observed"
            choose(page, f"rate:{lookfor}:{value}")
            expected[lookfor] = None if value == "na" else value
        type_into(page, "Visit note", NOTE)
        page.get_by_role("button", name="Finish visit").click()
        page.get_by_role("button", name="New visit").wait_for(timeout=30_000)

        # the page again with its static host gone as well: the service worker serves the app
        site.stop()
        page.reload(wait_until="commit")
        browser.open(site.url, page=page)
        page.locator('[flt-semantics-identifier^="walk:"]').first.click()
        page.locator('[flt-semantics-identifier^="visit:"]').first.click()
        page.get_by_text("Visit 1", exact=True).wait_for(timeout=30_000)
        for lookfor, value in expected.items():
            assert checked(page, f"rate:{lookfor}:{value or 'na'}"), lookfor

        # a second visit, and the browser killed right after its tap shows as saved
        page.get_by_label("Back", exact=True).click()
        page.get_by_role("button", name="New visit").click()
        first = next(iter(expected))
        tapped = f"rate:{first}:{next(v for v in choices[first] if v != 'na')}"
        choose(page, tapped)
        choose(page, "class:inclusion")  # a visit fact, the last tap: shown only once it is on storage too
        browser.kill()  # SIGKILL: no unload, no goodbye to storage, as a crash or iOS would
        browser.launch()
        page = browser.open(site.url, until=None)
        page.set_viewport_size({"width": 800, "height": TALL})
        page.get_by_text("Visit 2", exact=True).wait_for(timeout=180_000)  # the open visit comes back
        assert checked(page, tapped) and checked(page, "class:inclusion")

        # the server back: the app finds it by itself and sends everything, with no tap on Sync
        server.start(port=port)
        deadline = time.monotonic() + 180
        visits: list[dict] = []
        while time.monotonic() < deadline:
            visits = export_jsonl(db_url, district.id, tmp_path / "export.jsonl")
            if len(visits) == 2 and all(v["ratings"] for v in visits):
                break
            time.sleep(3)
        by_no = Counter(v["visit_no"] for v in visits)
        assert by_no == {1: 1, 2: 1}, visits  # each visit exactly once
        v1 = next(v for v in visits if v["visit_no"] == 1)
        got = {r["lookfor_id"]: (None if r["not_observed"] else r["value"]) for r in v1["ratings"]}
        assert got == expected
        assert Counter(r["lookfor_id"] for r in v1["ratings"]).most_common(1)[0][1] == 1  # no cell twice
        assert [(n["lookfor_id"], n["text"]) for n in v1["notes"]] == [(None, NOTE)]  # the visit's own note
        v2 = next(v for v in visits if v["visit_no"] == 2)
        assert [(r["lookfor_id"], r["value"]) for r in v2["ratings"]] == [(first, tapped.rsplit(":", 1)[1])]
        assert v2["class_type"] == "inclusion"
        assert browser.outside == []
    except Exception:
        if page is not None:  # what the screen showed when it went wrong, beside the test's files
            page.screenshot(path=os.environ.get("LEARNWALK_FAILED_SHOT", str(tmp_path / "failed.png")))
        raise
    finally:
        server.stop()
        site.stop()
        db.engine.dispose()
