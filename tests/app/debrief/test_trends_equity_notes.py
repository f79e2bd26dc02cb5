"""Cycle trends, the equity pause and evidence notes over real walks."""
from __future__ import annotations

from datetime import date

import pytest

from app.debrief.equity import equity_pause
from app.debrief.notes import GENERAL, walk_notes
from app.debrief.trends import cycle_trend


def three_visits(store, walk, talk_values, questions=("yes", "yes", "yes")):
    for i, (t, q) in enumerate(zip(talk_values, questions)):
        store.visit(walk.id, "obs-a", {"t.talk": t, "t.questions": q}, grade=str(i + 1), subject="ELA")


def test_cycle_trend_puts_walks_in_phase_order_with_the_change_per_focus_lookfor(store):
    end = store.walk(focus=("t.talk",), cycle_label="Fall 2026", phase="end-of-cycle", walk_date=date(2026, 12, 15))
    base = store.walk(focus=("t.talk",), cycle_label="Fall 2026", phase="baseline", walk_date=date(2026, 9, 20))
    mid = store.walk(focus=("t.talk", "t.questions"), cycle_label="Fall 2026", phase="six-week",
                     walk_date=date(2026, 11, 1))
    store.walk(focus=("t.talk",), cycle_label="Spring 2027")  # another cycle: not part of the trend
    three_visits(store, base, ["1", "2", "3"], ["no", "no", "yes"])  # talk 1/3 evident
    three_visits(store, mid, ["3", "2", "3"], ["no", "yes", "yes"])  # 2/3
    three_visits(store, end, ["3", "4", "3"])  # 3/3
    trend = cycle_trend(store.engine, store.catalog, mid.id)
    assert [w.phase for w in trend.walks] == ["baseline", "six-week", "end-of-cycle"]
    assert trend.visits == [3, 3, 3]
    talk, questions = trend.rows
    assert talk.lookfor_id == "t.talk" and talk.shares == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert talk.change == pytest.approx(66.7)
    assert questions.lookfor_id == "t.questions" and questions.change == pytest.approx(66.7)
    # 1 of 3 against 3 of 3: the 95% intervals (6-79% and 44-100%) overlap, and the table says so in words
    assert talk.too_close and talk.change_text == "+67 pts, too close to call"
    assert [round(iv[0], 2) for iv in talk.intervals] == [0.06, 0.21, 0.44]
    assert trend.to_json()["lookfors"][0]["too_close_to_call"] is True


def test_a_walk_without_a_cycle_is_its_own_trend_with_no_change(store, hand_walk):
    trend = cycle_trend(store.engine, store.catalog, hand_walk.id)
    assert [w.id for w in trend.walks] == [hand_walk.id]
    assert trend.rows[0].change is None


def test_equity_pause_shows_only_equity_lookfors_by_class_type_with_suppression(store, hand_walk):
    pause = equity_pause(store.engine, store.catalog, hand_walk.id)
    t = pause.tally
    assert [x.id for x in t.lookfors] == ["t.questions"]
    assert {g.label: (g.visits, g.suppressed) for g in t.groups} == {
        "General": (4, False), "Inclusion": (1, True), "Special education": (1, True)}
    general = t.group_cells["t.questions"]["general"]
    assert (general.counts, general.not_observed) == ({"no": 1, "yes": 2}, 1)


def test_notes_group_by_lookfor_focus_first_and_general_last(store):
    w = store.walk(focus=("t.talk",))
    svc = store.as_observer("obs-a")
    v = store.visit(w.id, "obs-a", {"t.talk": "3"}, grade="1", subject="ELA")
    svc.add_note(v.id, "Pairs explained their reasoning to each other.", "t.questions")
    svc.add_note(v.id, "Two students built on a partner's idea.", "t.talk")
    svc.add_note(v.id, "Room set up in table groups.")
    gone = svc.add_note(v.id, "Deleted note.", "t.talk")
    svc.delete_note(gone.id)
    groups = walk_notes(store.engine, store.catalog.get("debrief-test", 1), w.id, w.focus)
    assert [(g.title, g.texts) for g in groups] == [
        ("Student talk", ["Two students built on a partner's idea."]),
        ("Questions", ["Pairs explained their reasoning to each other."]),
        (GENERAL, ["Room set up in table groups."])]
