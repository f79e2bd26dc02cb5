"""The Debrief view-model over the hand-computed walk: what the screen shows and says."""
from __future__ import annotations

from app.viewmodels.debrief import DebriefVM


def test_rows_say_the_numbers_of_the_tally_in_words(store, hand_walk):
    vm = DebriefVM(store.device, hand_walk.id)
    row = vm.row("t.talk")
    assert row.identifier == "tally:t.talk"
    assert row.numbers == ("Rated 5 · not observed 1 · Not yet 1 · Somewhat 1 · Mostly 2 · Fully 1 · "
                           "evident 3 of 5 (60%, 95% interval 23-88%)")
    assert vm.row("t.target").numbers == "Seen in 3 of 4 rated visits (75%, 95% interval 30-95%)"
    assert vm.row("t.questions").spoken.startswith("Questions. Focus · Equity. Rated 5")


def test_chart_segments_are_shares_of_the_base_lightest_first(store, hand_walk):
    segs = DebriefVM(store.device, hand_walk.id).row("t.talk").segments
    assert [(s.label, s.count, round(s.share, 2)) for s in segs] == [
        ("Not yet", 1, 0.2), ("Somewhat", 1, 0.2), ("Mostly", 2, 0.4), ("Fully", 1, 0.2)]
    assert segs[0].color != segs[-1].color


def test_sections_put_focus_first_with_a_legend_per_scale(store, hand_walk):
    secs = DebriefVM(store.device, hand_walk.id).sections()
    assert [s.title for s in secs] == ["Focus look-fors", "Student talk", "Tasks"]
    assert secs[2].legend == "Bars show each level, lightest to darkest: Not yet, Somewhat, Mostly, Fully; Not seen, Seen"


def test_a_small_filter_is_explained_and_its_rows_show_no_numbers(store, hand_walk):
    vm = DebriefVM(store.device, hand_walk.id)
    vm.set_filter("grade_band", "K-2")
    assert "fewer than 3 visits" in vm.suppressed_note
    assert vm.row("t.talk").segments == [] and vm.row("t.talk").numbers == "Not shown: fewer than 3 visits."
    vm.set_filter("grade_band", "all")
    assert vm.suppressed_note == "" and vm.summary == "6 visits · 2 observers · all visits"


def test_observer_filter_offers_observers_by_number(store, hand_walk):
    vm = DebriefVM(store.device, hand_walk.id)
    assert [c.label for c in vm.filter_choices()["observer"]] == ["All", "Observer 1", "Observer 2"]
    vm.set_filter("observer", "2")
    assert vm.tally.visits == 3 and vm.chosen("observer") == "2"


def test_calibration_and_equity_tables_hold_no_identity(store, hand_walk):
    vm = DebriefVM(store.device, hand_walk.id)
    head, rows = vm.calibration_table()
    assert head == ["Look-for", "Pairs", "Exact", "Adjacent", "Kappa", "Weighted kappa"]
    assert rows[0][:3] == ["Questions", "1", "0%"]
    assert vm.disagreements()[0] == "Questions, pair P1: Observer 1 Yes, Observer 2 No"
    head, rows = vm.equity_table()
    assert head == ["Look-for", "General (4)", "Inclusion", "Special education"]
    assert rows == [["Questions", "67% (2 of 3)", "fewer than 3 visits", "fewer than 3 visits"]]
    assert "obs-" not in str((vm.calibration_table(), vm.disagreements(), vm.equity_table(), vm.drift_table()))


def test_a_walk_without_visits_says_so_instead_of_showing_zeros(store):
    vm = DebriefVM(store.device, store.walk().id)
    assert vm.empty_note.startswith("No counted visits on this walk yet")
    assert vm.row("t.talk").numbers == "Not rated: no visit it applies to."
    full = DebriefVM(store.device, store.walk().id)
    store.visit(full.walk_id, "obs-a", {"t.talk": "2"}, grade="1", subject="ELA")
    assert DebriefVM(store.device, full.walk_id).empty_note == ""


def test_visits_left_out_of_the_tallies_are_said_in_words(store):
    w = store.walk()
    assert DebriefVM(store.device, w.id).not_counted_note == ""
    store.visit(w.id, "obs-a", {"t.talk": "2"}, finish=False)
    assert DebriefVM(store.device, w.id).not_counted_note == "1 visit in progress, not counted"
    store.visit(w.id, "obs-b", {"t.talk": "2"}, finish=False)
    store.visit(w.id, "obs-b", {})
    assert DebriefVM(store.device, w.id).not_counted_note == (
        "2 visits in progress, not counted · 1 finished visit with nothing rated, not counted")


def test_the_debrief_says_how_fresh_the_team_data_is_and_refresh_reads_new_visits(store):
    from datetime import datetime, timedelta, timezone

    w = store.walk()
    vm = DebriefVM(store.device, w.id)
    now = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    assert vm.updated_text(None).startswith("Only this tablet's visits")
    assert vm.updated_text(now - timedelta(seconds=30), now) == "Team data updated just now"
    assert vm.updated_text(now - timedelta(minutes=2, seconds=5), now) == "Team data updated 2 min ago"
    for value in ("3", "4", "1"):
        store.visit(w.id, "obs-b", {"t.talk": value})  # as a sync round would bring them
    assert vm.tally.visits == 0
    vm.refresh()
    assert vm.tally.visits == 3 and vm.row("t.talk").numbers.endswith("evident 2 of 3 (67%, 95% interval 21-94%)")
