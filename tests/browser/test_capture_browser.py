"""A new observer's whole visit flow in the real app (headless Chromium), surviving a SIGKILL of the app."""
from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from tests.support.browser import by_id, focus_field, tap, type_into

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TALL = 4800

# three visits as an observer would record them: grade, subject, ratings (None = "Not observed"), notes
VISITS = [
    {"grade": "3", "subject": "Math",
     "ratings": {"dl.interactive": "3", "dl.affirming": "4", "dl.math-problem": "2", "dl.engaged": None,
                 "dl.quality-criteria": "seen", "dl.help-strategies": "not_seen"},
     "notes": {"dl.interactive": "Pairs compare strategies", None: "Stations, calm room"}},
    {"grade": "7", "subject": "ELA",
     "ratings": {"dl.interactive": "2", "dl.ela-text": "3", "dl.relevant": None, "dl.affirming": "3"},
     "notes": {"dl.affirming": "Anchor charts en español y English"}},
    {"grade": "K", "subject": "Science",
     "ratings": {"dl.interactive": "4", "dl.creating": "3", "dl.real-world": None},
     "notes": {}},
]


class Taps:
    """Clicks on the page, counted, each waiting for the app to show the result (as a person would)."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def choose(self, identifier: str) -> None:
        self.count += 1
        tap(by_id(self.page, identifier))
        by_id(self.page, identifier).and_(self.page.locator('[aria-checked="true"]')).wait_for(timeout=10_000)

    def open_note(self, lookfor_id: str) -> None:
        """Unfold a look-for's note (optional, like typing it: not counted among the visit's taps)."""
        tap(by_id(self.page, f"note:{lookfor_id}"))
        self.page.get_by_label(NOTE_LABELS[lookfor_id], exact=True).wait_for(timeout=10_000)

    def button(self, name: str) -> None:
        self.count += 1
        self.page.get_by_role("button", name=name, exact=True).click()


SMALL_TARGETS = """() => [...document.querySelectorAll('[flt-tappable], input, textarea')]
    .map(el => [el.getAttribute('aria-label') || el.getAttribute('flt-semantics-identifier') || el.textContent,
                el.getBoundingClientRect()])
    // a control cut by the bottom of the screen (its top less than a chip, 56 px, above the edge) reports only its
    // visible part: not a small target
    .filter(([name, r]) => r.width > 0 && r.top + 56 < window.innerHeight && (r.width < 48 || r.height < 48))
    .map(([name, r]) => `${name} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
TARGETS = "() => document.querySelectorAll('[flt-tappable], input, textarea').length"


def _checked(page, identifier: str) -> bool:
    return by_id(page, identifier).get_attribute("aria-checked") == "true"


def _expect_field_text(field, text: str) -> None:
    focus_field(field)
    expect(field).to_have_value(text, timeout=5_000)


def _rate_id(lookfor_id: str, value: str | None) -> str:
    return f"rate:{lookfor_id}:{value or 'na'}"


NOTE_LABELS = {None: "Visit note", "dl.interactive": "Note: Students learn with each other",
               "dl.affirming": "Note: Affirming environment"}


def test_new_observer_records_three_visits_and_finds_them_all_after_the_app_is_killed(app_process, ui_page, tmp_path):
    app = app_process(tmp_path / "tablet")
    # a viewport tall enough for the whole capture screen: Flutter's accessibility DOM can lag behind its own
    # scrolling, and a click then lands on the widget that used to be there (Flutter, not the app)
    page = ui_page(app.url, height=TALL)

    # an unenrolled tablet: add the school by name, pick two focus look-fors, start the walk
    page.get_by_role("button", name="New walk").click()
    type_into(page, "New school name", "Escuela Peña")
    page.get_by_role("button", name="Add school").click()
    page.get_by_role("checkbox", name="Escuela Peña").wait_for()  # added and chosen
    page.get_by_label("Students learn with each other", exact=True).click()
    page.get_by_label("Affirming environment", exact=True).click()
    page.get_by_role("button", name="Start walk").click()
    page.get_by_role("button", name="New visit").wait_for()

    taps_per_visit = []
    for n, visit in enumerate(VISITS, start=1):
        taps = Taps(page)
        taps.button("New visit")
        page.get_by_text(f"Visit {n}", exact=True).wait_for()
        taps.choose(f"grade:{visit['grade']}")
        taps.choose(f"subject:{visit['subject']}")
        for lookfor_id, value in visit["ratings"].items():
            taps.choose(_rate_id(lookfor_id, value))
        if n == 1:
            # clear-by-second-tap: a wrong tap, then the same tap again, leaves the look-for unrated
            by_id(page, "rate:dl.relevant:1").click()
            by_id(page, "rate:dl.relevant:1").and_(page.locator('[aria-checked="true"]')).wait_for()
            by_id(page, "rate:dl.relevant:1").click()
            by_id(page, "rate:dl.relevant:1").and_(page.locator('[aria-checked="false"]')).wait_for()
            # 6 tapped, the checklist's "Not seen" among them (a blank checklist would be unrated)
            expect(by_id(page, "progress")).to_have_text("6 of 16 rated")
            # every touch target (chips, buttons, fields: over a hundred here) is at least 48 x 48 px (the
            # screenshots of each screen in three sizes: tests/browser/test_tablet_capture_browser.py)
            assert page.evaluate(TARGETS) > 100 and page.evaluate(SMALL_TARGETS) == []
        for lookfor_id, text in visit["notes"].items():
            if lookfor_id is not None:  # a look-for's note is folded behind its note chip until used
                taps.open_note(lookfor_id)
            type_into(page, NOTE_LABELS[lookfor_id], text)
        taps.button("Finish visit")
        # look-fors were left unrated: the app asks once before finishing
        unrated = 16 - len(visit["ratings"]) if n == 1 else None
        if unrated is not None:
            page.get_by_text(f"{unrated} look-fors not rated: finish anyway?").wait_for()
        taps.button("Finish anyway")
        page.get_by_role("button", name="New visit").wait_for()
        taps_per_visit.append((taps.count, len(visit["ratings"])))

    page.set_viewport_size({"width": 800, "height": 1280})
    page.wait_for_timeout(400)
    assert page.evaluate(SMALL_TARGETS) == []
    page.set_viewport_size({"width": 800, "height": TALL})

    # one tap per rated look-for, plus new visit, grade, subject, finish and "finish anyway"
    assert all(count == rated + 5 for count, rated in taps_per_visit), taps_per_visit

    # offline: the web client asked nothing of the internet but Flutter's optional Rive runtime (it fails
    # harmlessly without a network; Flet 1.0.5's client always asks for it)
    assert [u for u in page.outside_requests if "rive" not in u] == []

    # a fourth visit is left open mid-way when the battery dies
    page.get_by_role("button", name="New visit").click()
    Taps(page).choose("grade:5")
    Taps(page).choose("rate:dl.affirming:2")
    app.kill()

    db = sqlite3.connect(f"file:{app.data_dir / 'learnwalk.sqlite'}?mode=ro", uri=True)
    stored = db.execute("select v.visit_no, r.lookfor_id, r.value, r.not_observed from rating r join visit v "
                        "on v.id = r.visit_id where r.deleted = 0 order by 1, 2").fetchall()
    notes = db.execute("select v.visit_no, coalesce(n.lookfor_id, ''), n.text from evidence_note n join visit v "
                       "on v.id = n.visit_id where n.deleted = 0 order by 1, 2").fetchall()
    db.close()
    assert notes == [(1, "", "Stations, calm room"), (1, "dl.interactive", "Pairs compare strategies"),
                     (2, "dl.affirming", "Anchor charts en español y English")]
    expected = sorted([(n, lf, value, int(value is None)) for n, v in enumerate(VISITS, 1)
                       for lf, value in v["ratings"].items()] + [(4, "dl.affirming", "2", 0)])
    assert stored == expected

    # the same tablet, started again: the open visit comes back where it was
    again = app_process(app.data_dir)
    page = ui_page(again.url, height=TALL)
    page.get_by_text("Visit 4", exact=True).wait_for(timeout=15_000)
    assert _checked(page, "grade:5") and _checked(page, "rate:dl.affirming:2")
    assert not _checked(page, "rate:dl.affirming:3")
    page.get_by_label("Back", exact=True).click()

    for n, visit in enumerate(VISITS, start=1):
        page.get_by_label(f"Edit visit {n}", exact=True).click()
        page.get_by_text(f"Visit {n}", exact=True).wait_for()
        assert _checked(page, f"grade:{visit['grade']}") and _checked(page, f"subject:{visit['subject']}")
        for lookfor_id, value in visit["ratings"].items():
            assert _checked(page, _rate_id(lookfor_id, value)), (n, lookfor_id)
        assert not _checked(page, "rate:dl.relevant:1") or n != 1
        for lookfor_id, text in visit["notes"].items():
            field = page.get_by_label(NOTE_LABELS[lookfor_id])  # a card with a note shows it unfolded
            _expect_field_text(field, text)
        page.get_by_label("Back", exact=True).click()
        page.get_by_role("button", name="New visit").wait_for()

    # delete asks first, and can be undone while the screen is open
    page.get_by_label("Delete visit 3", exact=True).click()
    page.get_by_role("button", name="Delete", exact=True).click()
    by_id(page, "visit:3").wait_for(state="detached")
    page.get_by_role("button", name="Undo delete of visit 3").click()
    by_id(page, "visit:3").wait_for()
    expect(by_id(page, "message")).to_contain_text("Visit 3 restored.")
