"""The shared tally definition (sync.protocol.tally) and the device's SQL aggregate built from it.

The parity with the server's XLSX Tallies sheet over real synced data is tests/sync/server/admin/test_tallies_sheet_parity.py;
here the rule itself, on a real device store, one behaviour per test.
"""
from __future__ import annotations

import subprocess
import sys

from app.debrief import walk_tally
from sync.protocol.tally import LookforRule, TallyRules

from tests.app.debrief.conftest import RUBRIC


def tally(store, walk):
    return walk_tally(store.engine, store.catalog, walk.id)


def rule(lookfor_id: str) -> LookforRule:
    return TallyRules.of(RUBRIC).rule(lookfor_id)


def test_the_definition_imports_neither_the_app_nor_the_server():
    code = ("import sys, sync.protocol.tally; "
            "print(sorted(m for m in sys.modules if m == 'app' or m.startswith(('app.', 'sync.server'))))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_evident_is_from_the_scales_evident_from_and_a_checklist_shares_over_its_rated_cells():
    talk = rule("t.talk").count(6, {"1": 1, "2": 1, "3": 2, "4": 1}, 1)
    assert (talk.rated, talk.evident, talk.share_base, talk.counts) == (5, 3, 5, {"1": 1, "2": 1, "3": 2, "4": 1})
    seen = rule("t.target").count(6, {"seen": 3}, 0)
    assert (seen.rated, seen.evident, seen.share_base) == (3, 3, 3)  # 3 blanks: not rated, no share moves
    said = rule("t.target").count(6, {"seen": 3, "not_seen": 2}, 0)  # "Not seen" is a value, counted as rated
    assert (said.rated, said.evident, said.share_base, said.counts) == (5, 3, 5, {"not_seen": 2, "seen": 3})


def test_a_value_off_the_scale_is_not_rated():
    assert rule("t.questions").count(3, {"yes": 2, "maybe": 1}, 0).rated == 2


def test_a_subject_limited_lookfor_applies_to_its_subjects_and_to_visits_with_no_subject():
    math = rule("t.math")
    assert [math.applies_to(s) for s in ("Math", "ELA", None, "")] == [True, False, True, True]
    kinds = {("Math", None): 3, ("ELA", None): 2, (None, None): 1}  # (subject, grade): counted visits
    assert math.base(kinds) == 4
    assert rule("t.talk").base(kinds) == 6
    assert TallyRules.of(RUBRIC).outside_base("ELA") == {"t.math"}


def test_a_rating_left_outside_its_lookfors_base_is_not_counted(store):
    # rated as a math visit, then the subject was corrected: the capture screen no longer shows that look-for,
    # so the tally must not count it either (or it would read "rated 1 of 0 visits")
    w = store.walk()
    v = store.visit(w.id, "obs-a", {"t.talk": "3", "t.math": "4"}, subject="Math")
    store.as_observer("obs-a").update_visit(v.id, subject="ELA")
    for n in range(2):
        store.visit(w.id, "obs-a", {"t.talk": "2", "t.math": "2"}, subject="Math")
    t = tally(store, w)
    math = t.get("t.math").cell
    assert (math.visits, math.rated, math.counts) == (2, 2, {"1": 0, "2": 2, "3": 0, "4": 0})
    assert t.get("t.talk").cell.rated == 3


def test_a_calibration_code_shared_by_three_observers_counts_the_first_observers_visits_only(store):
    w = store.walk()
    for obs in ("obs-c", "obs-a", "obs-b"):
        store.visit(w.id, obs, {"t.talk": "4"}, code="C1", subject="ELA")
    store.visit(w.id, "obs-a", {"t.talk": "1"}, code="C1", subject="ELA")  # the first observer's second visit
    for n in range(2):
        store.visit(w.id, "obs-c", {"t.talk": "2"}, subject="ELA")
    t = tally(store, w)
    assert t.visits == 4 and t.get("t.talk").cell.counts == {"1": 1, "2": 2, "3": 0, "4": 1}


def test_a_deleted_partner_does_not_hide_its_partners_visit(store):
    w = store.walk()
    gone = store.visit(w.id, "obs-a", {"t.talk": "1"}, code="P")
    store.as_observer("obs-a").delete_visit(gone.id)
    store.visit(w.id, "obs-b", {"t.talk": "4"}, code="P")
    for n in range(2):
        store.visit(w.id, "obs-b", {"t.talk": "3"})
    assert tally(store, w).get("t.talk").cell.counts == {"1": 0, "2": 0, "3": 2, "4": 1}


def test_an_open_visit_and_an_empty_finished_visit_change_no_number(store):
    w = store.walk()
    for value in ("4", "4", "3", "4", "1"):
        store.visit(w.id, "obs-a", {"t.talk": value})
    before = tally(store, w)
    store.visit(w.id, "obs-b", {"t.talk": "1"}, finish=False)  # left open (the app was closed mid-visit)
    store.visit(w.id, "obs-b", {})  # finished with nothing rated
    store.visit(w.id, "obs-b", {"t.questions": None})  # only "not observed": finished and marked, so counted
    after = tally(store, w)
    talk_before, talk_after = before.get("t.talk").cell, after.get("t.talk").cell
    assert (talk_before.evident, talk_before.rated) == (talk_after.evident, talk_after.rated) == (4, 5)
    assert after.visits == before.visits + 1
    assert (after.in_progress, after.empty_finished) == (1, 1)
    assert after.to_json()["not_counted"] == {"in_progress": 1, "finished_empty": 1}


def test_an_open_or_empty_first_observer_leaves_the_partners_visit_counted(store):
    w = store.walk()
    store.visit(w.id, "obs-a", {"t.talk": "1"}, code="P", finish=False)
    store.visit(w.id, "obs-b", {"t.talk": "4"}, code="P")
    store.visit(w.id, "obs-a", {}, code="Q")
    store.visit(w.id, "obs-b", {"t.talk": "3"}, code="Q")
    assert tally(store, w).get("t.talk").cell.counts == {"1": 0, "2": 0, "3": 1, "4": 1}


def test_the_python_face_of_the_rule_counts_as_the_sql_face():
    from sync.protocol.tally import VisitFacts, counted_of, is_mark

    assert [is_mark(v, n) for v, n in (("3", False), (None, True), (None, False), ("", False))] == [
        True, True, False, False]
    facts = [VisitFacts("b", "P", True, True), VisitFacts("a", "P", False, True),  # a's open: b counts
             VisitFacts("a", None, True, False), VisitFacts("c", "Q", True, True), VisitFacts("a", "Q", True, True)]
    assert counted_of(facts) == [True, False, False, False, True]


GRADED = RUBRIC.model_copy(update={
    "id": "debrief-graded",
    "lookfors": [*RUBRIC.lookfors, RUBRIC.lookfors[0].model_copy(update={"id": "t.upper", "grades": "3-12"})]})


def test_a_grade_limited_lookfors_base_is_the_visits_of_its_grades_and_those_with_no_grade(store):
    # the capture screen hides a 3-12 look-for in a kindergarten visit: its share must not count such visits
    store.catalog.register(GRADED)
    w = store.service.create_walk(school_id="school-1", rubric_id=GRADED.id, rubric_version=1, focus=["t.upper"])
    for grade in ("K", "K", "K"):
        store.visit(w.id, "obs-a", {"t.talk": "2"}, grade=grade, subject="ELA")
    moved = store.visit(w.id, "obs-a", {"t.talk": "3", "t.upper": "4"}, grade="4", subject="ELA")
    store.as_observer("obs-a").update_visit(moved.id, grade="K")  # corrected: its t.upper rating stays stored
    store.visit(w.id, "obs-a", {"t.talk": "4", "t.upper": "4"}, grade="4", subject="Math")
    store.visit(w.id, "obs-b", {"t.talk": "1", "t.upper": "1"}, grade="4", subject="ELA")
    store.visit(w.id, "obs-b", {"t.talk": "3", "t.upper": "3"}, grade=None, subject=None)
    t = tally(store, w)
    upper, talk, math = t.get("t.upper").cell, t.get("t.talk").cell, t.get("t.math").cell
    assert t.visits == 7 and talk.visits == 7
    assert (upper.visits, upper.rated, upper.evident) == (3, 3, 2)  # the 4 kindergarten visits are outside
    assert math.visits == 2  # the subject limit is unchanged: the Math visit and the one with no subject
    by_band = walk_tally(store.engine, store.catalog, w.id, by="grade_band", threshold=1)
    assert {k: c.visits for k, c in by_band.group_cells["t.upper"].items()} == {"K-2": 0, "3-5": 2, "": 1}


def test_a_rubric_without_grade_limits_reads_no_grade_to_tally(store):
    # the fast path: the aggregate groups by subject alone unless a look-for is grade-limited
    from sqlalchemy import event

    store.catalog.register(GRADED)
    plain = store.walk()
    graded = store.service.create_walk(school_id="school-1", rubric_id=GRADED.id, rubric_version=1,
                                          focus=["t.upper"])
    for w in (plain, graded):
        store.visit(w.id, "obs-a", {"t.talk": "2", "t.upper" if w is graded else "t.math": "3"}, grade="K")
    seen: list[str] = []
    listen = lambda conn, cursor, statement, *rest: seen.append(statement)  # noqa: E731
    event.listen(store.engine, "before_cursor_execute", listen)
    try:
        tally(store, plain)
        plain_sql, seen[:] = list(seen), []
        graded_upper = tally(store, graded).get("t.upper").cell
    finally:
        event.remove(store.engine, "before_cursor_execute", listen)
    assert plain_sql and not any("grade" in q for q in plain_sql)
    assert any("grade" in q for q in seen) and (graded_upper.visits, graded_upper.rated) == (0, 0)
