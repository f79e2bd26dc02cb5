"""Calibration: Cohen's kappa against a published worked example, and agreement over real paired visits."""
from __future__ import annotations

import pytest

from app.debrief.calibration import calibration, cohen_kappa, observer_drift, weighted_kappa


def test_kappa_matches_the_wikipedia_worked_example():
    # Wikipedia, "Cohen's kappa", Examples > Simple example: 50 grant proposals read by A and B;
    # yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> po = 0.7, pe = 0.5, kappa = 0.4.
    items = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    k = cohen_kappa(items)
    assert (k.items, k.po, k.pe) == (50, pytest.approx(0.7), pytest.approx(0.5))
    assert k.kappa == pytest.approx(0.4)


def _kappa_by_disagreement_weights(items, order):
    """The other textbook form, kappa_w = 1 - sum(v * observed) / sum(v * expected) with disagreement weights
    v = |i - j| / (k - 1), from the full k x k table: an independent computation to hold weighted_kappa to."""
    k, n = len(order), len(items)
    table = [[sum(1 for a, b in items if (a, b) == (x, y)) for y in order] for x in order]
    rows, cols = [sum(r) for r in table], [sum(c) for c in zip(*table)]
    v = [[abs(i - j) / (k - 1) for j in range(k)] for i in range(k)]
    observed = sum(v[i][j] * table[i][j] for i in range(k) for j in range(k)) / n
    expected = sum(v[i][j] * rows[i] * cols[j] for i in range(k) for j in range(k)) / (n * n)
    return 1 - observed / expected


def test_linear_weighted_kappa_matches_a_hand_worked_table_and_the_disagreement_weight_form():
    # 10 classrooms, 3 levels: exact 3+2+2, one step apart 2 (weight 1/2), two steps apart 1 (weight 0).
    # po_w = (7 + 2 * 0.5) / 10 = 0.8; rater A's shares 5,3,2 and B's 3,3,4 give pe_w = 53 / 100;
    # kappa_w = (0.8 - 0.53) / (1 - 0.53) = 0.5745 (unweighted kappa: po 0.7, pe 0.32 -> 0.5588)
    items = ([("1", "1")] * 3 + [("2", "2")] * 2 + [("3", "3")] * 2 + [("1", "2"), ("2", "3"), ("1", "3")])
    k = weighted_kappa(items, ["1", "2", "3"])
    assert (k.items, k.po, k.pe) == (10, pytest.approx(0.8), pytest.approx(0.53))
    assert k.kappa == pytest.approx(0.27 / 0.47) == pytest.approx(_kappa_by_disagreement_weights(items, "123"))
    assert cohen_kappa(items).kappa == pytest.approx(0.38 / 0.68)
    # on two levels the linear weights are 1 and 0: weighted kappa is Cohen's kappa (the Wikipedia example)
    two = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    assert weighted_kappa(two, ["no", "yes"]).kappa == pytest.approx(0.4)
    assert weighted_kappa([("na", "3")], ["1", "2", "3"]).kappa is None  # 'not observed' is not on the scale


def test_kappa_is_undefined_when_both_raters_use_one_category_only():
    k = cohen_kappa([("3", "3")] * 4)
    assert k.po == 1 and k.kappa is None


def test_kappa_of_no_items_is_undefined():
    assert cohen_kappa([]).kappa is None


@pytest.fixture
def paired_walk(store):
    w = store.walk()
    V = store.visit
    # P1 and P2 agree exactly on talk, P3 one step apart, P4 two steps apart
    V(w.id, "obs-a", {"t.talk": "3", "t.questions": "yes", "t.target": "seen"}, code="P1", grade="1", subject="ELA")
    V(w.id, "obs-b", {"t.talk": "3", "t.questions": "yes", "t.target": "not_seen"}, code="P1", grade="1",
      subject="ELA")
    V(w.id, "obs-a", {"t.talk": "2", "t.questions": "no", "t.target": "seen"}, code="P2", grade="3", subject="ELA")
    V(w.id, "obs-b", {"t.talk": "2", "t.questions": None, "t.target": "seen"}, code="P2", grade="3", subject="ELA")
    V(w.id, "obs-a", {"t.talk": "4", "t.questions": "yes", "t.target": "not_seen"}, code="P3", grade="5",
      subject="ELA")
    V(w.id, "obs-b", {"t.talk": "3", "t.questions": "yes", "t.target": "not_seen"}, code="P3", grade="5",
      subject="ELA")
    V(w.id, "obs-a", {"t.talk": "1"}, code="P4", grade="7", subject="ELA")
    V(w.id, "obs-c", {"t.talk": "3"}, code="P4", grade="7", subject="ELA")
    V(w.id, "obs-a", {"t.talk": "1"}, code="LONE", grade="8", subject="ELA")
    V(w.id, "obs-b", {"t.talk": "4"}, grade="8", subject="ELA")  # not a calibration visit
    return w


def test_agreement_per_lookfor_counts_exact_and_adjacent_pairs(store, paired_walk):
    cal = calibration(store.engine, store.catalog, paired_walk.id)
    assert cal.pairs == 4
    talk = next(a for a in cal.lookfors if a.lookfor_id == "t.talk")
    assert talk.compared == 4
    assert talk.exact == pytest.approx(2 / 4) and talk.adjacent == pytest.approx(3 / 4)
    # A: 3,2,4,1  B: 3,2,3,3 -> po .5; pe = (1*3 + 1*1 + 0 + 0)/16 = 4/16 -> kappa (.5-.25)/.75 = 1/3
    assert talk.kappa.kappa == pytest.approx(1 / 3)
    # linear weights 1, 2/3, 1/3, 0: po_w = (1 + 1 + 2/3 + 1/3) / 4 = 0.75; A's values 3,2,4,1 and B's 3,2,3,3
    assert talk.weighted.po == pytest.approx(0.75)
    assert talk.weighted.kappa == pytest.approx(_kappa_by_disagreement_weights(
        [("3", "3"), ("2", "2"), ("4", "3"), ("1", "3")], "1234"))
    assert next(a for a in cal.lookfors if a.lookfor_id == "t.questions").weighted is None  # two levels
    assert [(d.code, d.answers) for d in talk.disagreements] == [("P3", ("Fully", "Mostly")),
                                                                  ("P4", ("Not yet", "Mostly"))]


def test_not_observed_and_a_checklists_not_seen_are_answers_and_a_blank_is_not_compared(store, paired_walk):
    cal = calibration(store.engine, store.catalog, paired_walk.id)
    q = next(a for a in cal.lookfors if a.lookfor_id == "t.questions")
    assert q.compared == 3  # P4 left it blank on both sides: not compared
    assert [d.answers for d in q.disagreements] == [("No", "Not observed")]
    assert q.adjacent is None  # two levels: "adjacent" would be every answer
    target = next(a for a in cal.lookfors if a.lookfor_id == "t.target")
    assert target.compared == 3  # P1 Seen/Not seen, P2 Seen/Seen, P3 Not seen/Not seen; P4 blank: not compared
    assert [d.answers for d in target.disagreements] == [("Seen", "Not seen")]
    assert target.exact == pytest.approx(2 / 3)


def test_disagreements_name_observers_by_number_and_odd_codes_are_explained(store, paired_walk):
    cal = calibration(store.engine, store.catalog, paired_walk.id)
    talk = next(a for a in cal.lookfors if a.lookfor_id == "t.talk")
    assert talk.disagreements[1].observers == ("Observer 1", "Observer 3")
    assert cal.unpaired == ["Pair code LONE has only one finished visit; the partner's visit may be still open or not synced yet."]
    assert "obs-" not in str(cal.to_json())


def test_a_disagreement_shows_what_each_chosen_level_looks_like(store):
    from app.debrief.calibration import descriptors_for
    from app.viewmodels.debrief import DebriefVM
    from rubrics import builtin_rubrics

    dl = builtin_rubrics()["deeper-learning@2"]
    w = store.service.create_walk(school_id="school-1", rubric_id="deeper-learning", rubric_version=2,
                                  focus=["dl.interactive", "dl.engaged"])
    store.visit(w.id, "obs-a", {"dl.interactive": "3", "dl.engaged": None}, code="P1", grade="4", subject="Math")
    store.visit(w.id, "obs-b", {"dl.interactive": "2", "dl.engaged": "4"}, code="P1", grade="4", subject="Math")
    talk = next(a for a in calibration(store.engine, store.catalog, w.id).lookfors if a.lookfor_id == "dl.interactive")
    (d,) = talk.disagreements
    mostly, somewhat = dl.lookfor("dl.interactive").descriptor("3"), dl.lookfor("dl.interactive").descriptor("2")
    assert descriptors_for(dl, "dl.interactive", d.answers) == (mostly, somewhat) and mostly and somewhat
    # 'Not observed' has no descriptor; a rubric without descriptors gives none
    assert descriptors_for(dl, "dl.engaged", ("Not observed", "Yes")) == ("", dl.lookfor("dl.engaged").descriptor("4"))
    assert descriptors_for(builtin_rubrics()["deeper-learning@1"], "dl.interactive", d.answers) == ("", "")
    vm = DebriefVM(store.device, w.id)
    assert vm.disagreements()[0] == "Students learn with each other, pair P1: Observer 1 Mostly, Observer 2 Somewhat"
    assert vm.disagreement_anchors()[0] == [f"Mostly: {mostly}", f"Somewhat: {somewhat}"]
    assert vm.disagreement_anchors()[1] == [f"Yes: {dl.lookfor('dl.engaged').descriptor('4')}"]


def test_drift_is_each_observers_exact_agreement_on_each_walk_of_the_cycle(store):
    from datetime import date

    first = store.walk(cycle_label="Fall", phase="baseline", walk_date=date(2026, 9, 1))
    later = store.walk(cycle_label="Fall", phase="six-week", walk_date=date(2026, 10, 15))
    V = store.visit
    V(first.id, "obs-a", {"t.talk": "3", "t.questions": "yes"}, code="P1")
    V(first.id, "obs-b", {"t.talk": "3", "t.questions": "yes"}, code="P1")  # agree on both
    V(later.id, "obs-a", {"t.talk": "4", "t.questions": "yes", "t.target": "not_seen"}, code="P1")
    V(later.id, "obs-b", {"t.talk": "2", "t.questions": "yes", "t.target": "not_seen"}, code="P1")  # agree on 2
    V(later.id, "obs-c", {"t.talk": "2"})  # no pair: no drift row
    walks, rows = observer_drift(store.engine, store.catalog, later.id)
    assert [w.id for w in walks] == [first.id, later.id]
    # the checklist left blank by both on the first walk is not compared; "Not seen" by both is an agreement
    assert [(r.observer, r.cells) for r in rows] == [("Observer 1", [(2, 1.0), (3, pytest.approx(2 / 3))]),
                                                     ("Observer 2", [(2, 1.0), (3, pytest.approx(2 / 3))])]


def test_a_partners_visit_still_open_is_not_compared_yet(store):
    w = store.walk()
    store.visit(w.id, "obs-a", {"t.talk": "3"}, code="P1")
    store.visit(w.id, "obs-b", {"t.talk": "1"}, code="P1", finish=False)
    cal = calibration(store.engine, store.catalog, w.id)
    assert cal.pairs == 0 and cal.unpaired == [
        "Pair code P1 has only one finished visit; the partner's visit may be still open or not synced yet."]
