"""The app as a tablet user meets it (headless Chromium, the real app process): the capture header stays on screen,
"Next unrated" finds the look-for left, a note being typed survives a SIGKILL, a teammate's visit is read-only,
every control is at least 48 x 48 px, every screen shows the connection badge, and New walk has a date picker
and the district's people.

Screenshots go to a scratch folder unless LEARNWALK_SCREENSHOTS names one (docs/screenshots refreshes the
documented ones).
"""
from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.device import Device
from app.store.models import Meta, Visit
from app.viewmodels.capture import CaptureVM
from tests.support.browser import by_id, focus_field, in_view, measure_targets, tap

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("LEARNWALK_SCREENSHOTS") or tempfile.mkdtemp(prefix="learnwalk-screenshots-"))
SIZES = {"portrait": (820, 1180), "landscape": (1180, 820), "phone": (390, 844)}
PEOPLE = [{"id": "u-coach", "email": "coach@district.example", "role": "lead"},
          {"id": "u-ap", "email": "assistant.principal@district.example", "role": "observer"}]


def _device(folder: Path, *, rate_all_but_one: bool = False, people: bool = False):
    """A tablet with a walk and an open Grade 3 Math visit (every look-for but the last rated, if asked);
    returns (walk id, visit id, the look-for left unrated or None)."""
    with Device.open(folder) as device:
        svc = device.capture
        school = svc.add_school("Riverside Elementary")
        walk = svc.create_walk(school_id=school.id, rubric_id="deeper-learning", rubric_version=2,
                               focus=["dl.interactive", "dl.affirming"])
        visit = svc.start_visit(walk.id, grade="3", subject="Math")
        left = None
        if rate_all_but_one:
            vm = CaptureVM(svc, visit.id)
            order = vm.shown_order()
            left = [i for i in order if not vm.item(i).checklist][-1]  # the last one on a level scale
            for lookfor_id in order:  # checklists too: "Not seen" (their last chip) is an answer, a blank is not
                if lookfor_id != left:
                    vm.tap(lookfor_id, vm.item(lookfor_id).choices[-1].value)
        if people:  # as a sync round keeps them (SyncService._keep_people)
            from sqlmodel import Session
            with Session(svc.engine) as s:
                s.add(Meta(key="people", value=json.dumps(PEOPLE)))
                s.commit()
        return walk.id, visit.id, left


@pytest.mark.parametrize("size", list(SIZES))
def test_the_header_stays_on_screen_while_the_last_lookfor_is_rated_after_next_unrated(
        size, tmp_path, app_process, ui_page):
    walk_id, visit_id, left = _device(tmp_path / "tablet", rate_all_but_one=True)
    width, height = SIZES[size]
    app = app_process(tmp_path / "tablet")
    page = ui_page(app.url, width=width, height=height)  # the open visit comes back on start
    timer, progress = by_id(page, "timer"), by_id(page, "progress")
    expect(progress).to_contain_text("15 of 16 rated", timeout=20_000)
    before = timer.bounding_box()
    chip = by_id(page, f"rate:{left}:2")
    assert not in_view(chip)  # the last look-for starts far below the fold

    tap(by_id(page, "next-unrated"))  # jumps to the one look-for left
    expect(chip).to_be_in_viewport(timeout=10_000)
    tap(chip)
    chip.and_(page.locator('[aria-checked="true"]')).wait_for(timeout=10_000)
    expect(progress).to_contain_text("16 of 16 rated")
    # the timer and the progress did not scroll away: they are where they were, wholly on screen
    assert in_view(timer) and in_view(progress) and in_view(by_id(page, "finish-visit"))
    assert timer.bounding_box()["y"] == pytest.approx(before["y"], abs=2)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"capture-last-lookfor-{size}.png"))

    tap(by_id(page, "next-unrated"))  # nothing left: it says so
    expect(by_id(page, "message")).to_contain_text("Every look-for shown is answered")
    with sqlite3.connect(app.data_dir / "learnwalk.sqlite") as db:
        assert db.execute("select value from rating where lookfor_id = ? and deleted = 0", (left,)).fetchone() == ("2",)


def test_a_note_being_typed_survives_a_sigkill_two_seconds_later(tmp_path, app_process, ui_page):
    walk_id, visit_id, _ = _device(tmp_path / "tablet")
    app = app_process(tmp_path / "tablet")
    page = ui_page(app.url, width=820, height=1180)
    chip = by_id(page, "note:dl.interactive")
    chip.wait_for(timeout=20_000)
    assert page.get_by_label("Note: Students learn with each other", exact=True).count() == 0  # folded
    # each choice is named with its look-for, not by its level alone; the identifiers stay as they were
    chip_named = page.get_by_role("checkbox", name="Students learn with each other: Not yet", exact=True)
    expect(chip_named).to_have_count(1)
    assert chip_named.get_attribute("flt-semantics-identifier") == "rate:dl.interactive:1"
    assert page.get_by_role("checkbox", name="Not yet", exact=True).count() == 0
    expect(page.get_by_role("button", name="Add a note: Students learn with each other", exact=True)).to_have_count(1)
    tap(chip)
    field = page.get_by_label("Note: Students learn with each other", exact=True)
    focus_field(field)
    page.keyboard.type("Pairs compare strategies", delay=40)  # as a person types; the field is never left
    page.wait_for_timeout(1500)
    app.kill()
    with sqlite3.connect(app.data_dir / "learnwalk.sqlite") as db:
        notes = db.execute("select lookfor_id, text from evidence_note where deleted = 0").fetchall()
        queued = db.execute("select count(*) from outbox where kind = 'note'").fetchone()[0]
    assert notes == [("dl.interactive", "Pairs compare strategies")]
    assert queued >= 1  # saved through the service: queued to sync like any note


def test_a_choice_named_with_its_lookfor_is_one_node_that_takes_the_tap_itself(tmp_path, app_process, ui_page):
    _device(tmp_path / "tablet")
    app = app_process(tmp_path / "tablet")
    page = ui_page(app.url, width=820, height=1180)
    chip = page.get_by_role("checkbox", name="Students learn with each other: Not yet", exact=True)
    chip.wait_for(timeout=20_000)
    # the named checkbox is what a keyboard focuses and a screen reader activates; no unnamed button inside it
    assert chip.get_attribute("flt-tappable") is not None and chip.get_attribute("tabindex") == "0"
    assert chip.locator('[role="button"]').count() == 0
    chip.evaluate("el => el.click()")  # a screen reader's activation: a click on the node, no pointer
    chip.and_(page.locator('[aria-checked="true"]')).wait_for(timeout=10_000)
    with sqlite3.connect(app.data_dir / "learnwalk.sqlite") as db:
        assert db.execute("select value from rating where lookfor_id = 'dl.interactive' and deleted = 0"
                          ).fetchone() == ("1",)


def test_a_teammates_visit_is_read_only_and_titled_by_its_observer(tmp_path, app_process, ui_page):
    walk_id, mine, _ = _device(tmp_path / "tablet")
    with Device.open(tmp_path / "tablet") as device:
        from sqlmodel import Session
        from app.store.models import Rating
        from sync.protocol import rating_id
        with Session(device.capture.engine) as s:  # as a pull writes a teammate's visit
            s.add(Visit(id="teammate-visit", walk_id=walk_id, visit_no=1, observer_id="zz-teammate"))
            s.add(Rating(id=rating_id("teammate-visit", "dl.interactive"), visit_id="teammate-visit",
                         lookfor_id="dl.interactive", value="3"))
            s.commit()
    app = app_process(tmp_path / "tablet")
    page = ui_page(f"{app.url}visits/teammate-visit", width=820, height=1180)
    expect(page.get_by_text("Observer 2 · Visit 1", exact=True)).to_be_visible(timeout=20_000)
    expect(by_id(page, "read-only")).to_contain_text("only they can change it")
    assert by_id(page, "finish-visit").count() == 0 and by_id(page, "next-unrated").count() == 0
    assert by_id(page, "note:dl.interactive").count() == 0
    assert by_id(page, "rate:dl.interactive:3").get_attribute("aria-checked") == "true"
    by_id(page, "rate:dl.interactive:1").click()
    page.wait_for_timeout(800)
    assert by_id(page, "rate:dl.interactive:1").get_attribute("aria-checked") == "false"
    expect(by_id(page, "message")).to_be_hidden()  # nothing was tried, so nothing was refused
    with sqlite3.connect(app.data_dir / "learnwalk.sqlite") as db:
        assert db.execute("select value from rating where visit_id = 'teammate-visit'").fetchall() == [("3",)]
    page.screenshot(path=str(SHOTS / "capture-teammate-portrait.png"))


SCREENS = ["capture", "walks", "walk", "new-walk", "sync", "settings"]


@pytest.mark.parametrize("screen", SCREENS)
def test_every_control_is_at_least_48_px_and_the_badge_shows_in_every_orientation(
        screen, tmp_path, app_process, ui_page):
    walk_id, visit_id, _ = _device(tmp_path / "tablet", people=True)
    if screen != "capture":
        with Device.open(tmp_path / "tablet") as device:
            device.capture.finish_visit(visit_id)  # else the app opens the visit left open
    route = {"capture": f"visits/{visit_id}", "walks": "", "walk": f"walks/{walk_id}", "new-walk": "walks/new",
             "sync": "sync", "settings": "settings"}[screen]
    app = app_process(tmp_path / "tablet")
    page = ui_page(app.url + route, width=820, height=1180)
    badge = by_id(page, "connection")
    badge.wait_for(timeout=20_000)
    # not enrolled: the badge says nothing is sent, in words, and what is waiting, in visits and walks
    says = badge.get_attribute("aria-label") or badge.text_content()
    assert "Not enrolled" in says and "1 visit and 1 walk waiting to send" in says
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.mouse.move(width / 2, height / 2)
        page.mouse.wheel(0, -20_000)  # back to the top
        page.mouse.move(2, height / 2)  # in the margin: no control shows a hover in the screenshot
        page.wait_for_timeout(600)  # the first frame after a resize can still show the previous picture
        expect(badge).to_be_in_viewport()
        page.screenshot(path=str(SHOTS / f"{screen}-{name}.png"))
        count, small = measure_targets(page, width=width)
        assert count >= 3 and small == [], (name, small)


def _day_name(d: date) -> str:
    """How Flutter's date picker names a day button: "15, Sunday, November 15, 2026"."""
    return f"{d.day}, {d:%A}, {d:%B} {d.day}, {d.year}"


def test_new_walk_takes_its_date_from_the_picker_and_its_team_from_the_districts_people(
        tmp_path, app_process, ui_page):
    folder = tmp_path / "tablet"
    with Device.open(folder) as device:
        device.capture.add_school("Riverside Elementary")
        from sqlmodel import Session
        with Session(device.capture.engine) as s:  # as a sync round keeps them (SyncService._keep_people)
            s.add(Meta(key="people", value=json.dumps(PEOPLE)))
            s.commit()
    app = app_process(folder)
    page = ui_page(f"{app.url}walks/new", width=390, height=2400)  # phone width; tall, so nothing scrolls
    today = date.today()
    expect(by_id(page, "walk-date")).to_contain_text(f"{today:%a} {today.day} {today:%b} {today.year}",
                                                     timeout=20_000)  # today unless changed
    tap(by_id(page, "walk-date"))
    page.get_by_role("button", name="Previous month").click()
    earlier = (today.replace(day=1) - timedelta(days=1)).replace(day=15)
    page.get_by_role("button", name=_day_name(earlier), exact=True).click()
    page.get_by_role("button", name="OK", exact=True).click()
    expect(by_id(page, "walk-date")).to_contain_text(f"{earlier.day} {earlier:%b} {earlier.year}")

    page.get_by_role("checkbox", name="coach@district.example").click()
    field = page.get_by_label("Guests (names, separated by commas)", exact=True)
    focus_field(field)
    field.fill("Visiting coach")
    page.get_by_label("Students learn with each other", exact=True).click()
    page.get_by_label("Affirming environment", exact=True).click()
    expect(page.get_by_role("checkbox", name="Affirming environment")).to_be_checked()
    page.wait_for_timeout(1000)  # the tick's animation
    page.screenshot(path=str(SHOTS / "new-walk-team-phone.png"))  # the whole screen at phone width
    page.get_by_role("button", name="Start walk").click()
    page.get_by_role("button", name="New visit").wait_for(timeout=15_000)
    with sqlite3.connect(folder / "learnwalk.sqlite") as db:
        walk_date, team = db.execute("select walk_date, team from walk").fetchone()
    # the chosen person by learnwalk id (what gives them access, as "Add to team" does), the guest by name
    assert walk_date == earlier.isoformat() and json.loads(team) == ["u-coach", "Visiting coach"]
    # the walk's team shows the person by email, not by id
    expect(page.get_by_text("coach@district.example", exact=True)).to_be_visible()
