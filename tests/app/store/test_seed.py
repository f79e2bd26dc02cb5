"""The seeder: deterministic, realistic content recorded only through the capture service."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import Session, select

from app.store.models import EvidenceNote, Rating, Visit, Walk
from app.store.seed import seed, seed_visits
from app.store.services import ServiceError
from tests.support.storetest import count, make_service, outbox


def _content(svc) -> dict:
    """Everything seeded, without ids (ids are fresh UUIDs on every run)."""
    with Session(svc.engine) as s:
        walks = s.exec(select(Walk).order_by(Walk.walk_date, Walk.school_id)).all()
        out = []
        for w in walks:
            visits = s.exec(select(Visit).where(Visit.walk_id == w.id).order_by(Visit.visit_no)).all()
            out.append((w.school_id, str(w.walk_date), w.phase, tuple(w.focus), tuple(w.team), [
                (v.visit_no, v.grade, v.subject, v.class_type, v.student_count, v.ended_at is not None,
                 sorted((r.lookfor_id, r.value, r.not_observed)
                        for r in s.exec(select(Rating).where(Rating.visit_id == v.id))),
                 sorted((n.lookfor_id or "", n.text)
                        for n in s.exec(select(EvidenceNote).where(EvidenceNote.visit_id == v.id))))
                for v in visits]))
    return {"walks": out}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One seeded store shared by the read-only checks below (seeding is the slow part)."""
    d = tmp_path_factory.mktemp("seeded")
    svc = make_service(d)
    summary = seed(svc, walks=6, visits=50, rubric_key="deeper-learning@1", seed=7)
    yield svc, summary, d
    svc.engine.dispose()


def test_the_same_seed_gives_the_same_content_and_another_seed_does_not(tmp_path):
    runs = []
    for name, n in (("a", 3), ("b", 3), ("c", 4)):
        svc = make_service(tmp_path / name)
        seed(svc, walks=2, visits=8, rubric_key="test-walk@1", seed=n)
        runs.append(_content(svc))
        svc.engine.dispose()
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_every_seeded_record_came_with_its_outbox_entry(seeded):
    svc, summary, d = seeded
    entries = outbox(d)
    assert len(entries) == summary.changes
    kinds = Counter(e["kind"] for e in entries)
    assert kinds == {"walk": summary.walks, "visit": 2 * summary.visits,  # started, then finished
                     "rating": summary.ratings + summary.not_observed, "note": summary.notes}
    assert count(d, "walk") == 6 and count(d, "visit") == 300 == summary.visits
    assert count(d, "rating") == summary.ratings + summary.not_observed
    assert count(d, "evidence_note") == summary.notes
    assert count(d, "visit", "ended_at IS NULL") == 0


def test_walks_span_a_twelve_week_cycle_in_three_phases_with_fixed_focus(seeded):
    svc, _, _ = seeded
    walks = sorted(svc.walks(), key=lambda w: w.walk_date)
    assert [w.phase for w in walks] == ["baseline"] * 2 + ["six-week"] * 2 + ["end-of-cycle"] * 2
    assert (walks[-1].walk_date - walks[0].walk_date).days <= 12 * 7
    assert all(w.walk_date.weekday() < 5 for w in walks)
    by_school = {}
    for w in walks:
        assert 2 <= len(w.focus) <= 3
        by_school.setdefault(w.school_id, set()).add(tuple(w.focus))
    assert all(len(f) == 1 for f in by_school.values())  # a school keeps its priorities through the cycle


def test_visits_have_plausible_grades_subjects_and_class_sizes(seeded):
    svc, _, _ = seeded
    visits = [v for w in svc.walks() for v in svc.visits(w.id)]
    assert {v.subject for v in visits} == {"ELA", "Math", "Science", "Social Studies"}
    assert {v.grade for v in visits} <= {"K", *map(str, range(1, 13))} and len({v.grade for v in visits}) > 8
    assert any(v.class_type is None for v in visits) and any(v.class_type == "inclusion" for v in visits)
    sizes = [v.student_count for v in visits if v.student_count is not None]
    assert min(sizes) >= 6 and max(sizes) <= 30 and len(sizes) < len(visits)


def test_subject_lookfors_appear_only_in_their_subject(seeded):
    svc, _, _ = seeded
    with Session(svc.engine) as s:
        rows = s.exec(select(Rating.lookfor_id, Visit.subject).join(Visit, Visit.id == Rating.visit_id)).all()
    assert {subj for lf, subj in rows if lf == "dl.math-problem"} == {"Math"}
    assert {subj for lf, subj in rows if lf == "dl.ela-text"} == {"ELA"}


def test_about_a_tenth_of_cells_are_not_observed_and_only_where_allowed(seeded):
    svc, _, _ = seeded
    with Session(svc.engine) as s:
        rows = s.exec(select(Rating)).all()
    presence = {"dl.quality-criteria", "dl.help-strategies"}  # presence scale: not observed is not allowed
    assert not any(r.not_observed for r in rows if r.lookfor_id in presence)
    four = [r for r in rows if r.lookfor_id not in presence]
    share = sum(r.not_observed for r in four) / len(four)
    assert 0.07 < share < 0.13
    assert {r.value for r in four if not r.not_observed} == {"1", "2", "3", "4"}


def test_focus_lookfors_improve_from_baseline_to_end_of_cycle_and_others_do_not(seeded):
    svc, _, _ = seeded
    evident = {}  # (phase, is_focus) -> share of rated cells at level 3 or 4
    with Session(svc.engine) as s:
        rows = s.exec(select(Walk.phase, Walk.focus, Rating.lookfor_id, Rating.value)
                      .join(Visit, Visit.walk_id == Walk.id).join(Rating, Rating.visit_id == Visit.id)
                      .where(Rating.value.in_(["1", "2", "3", "4"]))).all()
    for phase, focus, lf, value in rows:
        evident.setdefault((phase, lf in focus), []).append(value in ("3", "4"))
    share = {k: sum(v) / len(v) for k, v in evident.items()}
    assert share[("end-of-cycle", True)] - share[("baseline", True)] > 0.15
    assert abs(share[("end-of-cycle", False)] - share[("baseline", False)]) < 0.1


def test_seed_uses_the_devices_school_and_refuses_an_unknown_one(svc, school, data_dir):
    summary = seed(svc, walks=1, visits=2, rubric_key="test-walk", school_id=school.id)
    assert summary.school_ids == [school.id] and summary.rubric_key == "test-walk@1"
    assert [s.id for s in svc.schools()] == [school.id]  # no sample schools added
    with pytest.raises(ServiceError, match="School nope is not known"):
        seed(svc, walks=1, visits=1, rubric_key="test-walk@1", school_id="nope")


@pytest.mark.parametrize("key, words", [("nope@1", "Rubric nope@1 is not on this device; choose one of"),
                                        ("test-walk@x", "must be a whole number")])
def test_seed_refuses_an_unknown_rubric_and_records_nothing(svc, data_dir, key, words):
    with pytest.raises(ServiceError, match=words):
        seed(svc, walks=1, visits=1, rubric_key=key)
    assert count(data_dir, "outbox") == 0


def test_seed_visits_adds_finished_visits_to_an_existing_walk_after_the_present_ones(svc, walk, data_dir):
    svc.start_visit(walk.id)
    summary = seed_visits(svc, walk.id, visits=5, seed=3)
    visits = svc.visits(walk.id)
    assert [v.visit_no for v in visits] == [1, 2, 3, 4, 5, 6]
    assert summary.visits == 5 and all(v.ended_at is not None for v in visits[1:])
    assert len(outbox(data_dir)) == 2 + summary.changes  # the walk and visit 1, then the seeded changes
    assert summary.ratings + summary.not_observed == count(data_dir, "rating")
