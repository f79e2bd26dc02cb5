"""Debrief fixtures: a small rubric and a hand-built walk on a real SQLite store, through the device core."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from app.device import Device
from app.store.models import Meta
from app.store.services import CaptureService
from rubrics import Rubric

RUBRIC = Rubric.model_validate({
    "id": "debrief-test", "version": 1, "title": "Debrief test rubric",
    "scales": [
        {"id": "four", "evident_from": "3", "levels": [
            {"value": "1", "label": "Not yet"}, {"value": "2", "label": "Somewhat"},
            {"value": "3", "label": "Mostly"}, {"value": "4", "label": "Fully"}]},
        {"id": "yesno", "evident_from": "yes", "levels": [
            {"value": "no", "label": "No"}, {"value": "yes", "label": "Yes"}]},
        {"id": "presence", "not_observed": False, "levels": [{"value": "seen", "label": "Seen"}]},
    ],
    "domains": [{"id": "talk", "title": "Student talk"}, {"id": "task", "title": "Tasks"}],
    "lookfors": [
        {"id": "t.talk", "domain": "talk", "text": "Students talk about the content.", "label": "Student talk",
         "scale": "four"},
        {"id": "t.questions", "domain": "talk", "text": "Many students ask questions.", "label": "Questions",
         "scale": "yesno", "equity": True},
        {"id": "t.math", "domain": "task", "text": "The math task is grade-level.", "label": "Math task",
         "scale": "four", "subjects": ["Math"]},
        {"id": "t.target", "domain": "task", "text": "A learning target is posted.", "label": "Target posted",
         "scale": "presence"},
    ],
})


class Store:
    """A device store that can act as different observers."""

    def __init__(self, data_dir):
        self.device = Device.open(data_dir)
        self.engine, self.catalog, self.service = self.device.engine, self.device.catalog, self.device.capture
        self.catalog.register(RUBRIC)
        self.service.add_school("Test School", school_id="school-1")

    def set_meta(self, key: str, value: str) -> None:
        with Session(self.engine) as s:
            s.merge(Meta(key=key, value=value))
            s.commit()

    def as_observer(self, user_id: str) -> CaptureService:
        self.set_meta("user_id", user_id)
        self.service.forget_identity()
        return self.service

    def walk(self, focus=("t.questions",), **kw):
        return self.service.create_walk(school_id="school-1", rubric_id=RUBRIC.id, rubric_version=1,
                                        focus=list(focus), walk_date=kw.pop("walk_date", date(2026, 11, 20)), **kw)

    def visit(self, walk_id: str, observer: str, ratings: dict, code: str | None = None, finish: bool = True,
              **fields):
        """One visit, finished unless finish=False; ratings map look-for -> value, or None for 'not observed'."""
        svc = self.as_observer(observer)
        with svc.batch():  # the same service calls as taps, committed together to keep the tests quick
            v = svc.start_visit(walk_id, **fields)
            for lf, value in ratings.items():
                if value is None:
                    svc.mark_not_observed(v.id, lf)
                else:
                    svc.rate(v.id, lf, value)
            if code:
                svc.update_visit(v.id, calibration_code=code)
            if finish:
                svc.finish_visit(v.id)
        return v


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "device")


@pytest.fixture
def hand_walk(store):
    """The hand-computed walk of tests/app/debrief/test_tally.py (see the table there)."""
    w = store.walk()
    V = store.visit
    V(w.id, "obs-a", {"t.talk": "3", "t.questions": "yes", "t.math": "4", "t.target": "seen"},
      grade="1", subject="Math", class_type="general", code="P1")
    V(w.id, "obs-a", {"t.talk": "2", "t.questions": "no", "t.target": "seen"},
      grade="2", subject="ELA", class_type="general")
    V(w.id, "obs-a", {"t.talk": None, "t.questions": "yes", "t.math": "2", "t.target": "not_seen"},
      grade="4", subject="Math", class_type="inclusion")
    V(w.id, "obs-b", {"t.talk": "4", "t.questions": None, "t.target": "seen"},
      grade="5", subject="ELA", class_type="general")
    V(w.id, "obs-b", {"t.talk": "1", "t.questions": "yes", "t.math": "3"},
      grade="7", subject="Math", class_type="special-education")
    v6 = V(w.id, "obs-b", {"t.talk": "3", "t.questions": "yes", "t.target": "seen"},
           grade="3", subject="Science", class_type="general")
    store.as_observer("obs-b").clear_rating(v6.id, "t.target")  # a cleared cell is a tombstone: not counted
    # the calibration partner of visit 1: same classroom, so the tallies count it once (obs-a sorts first)
    V(w.id, "obs-b", {"t.talk": "1", "t.questions": "no", "t.math": "1", "t.target": "seen"},
      grade="1", subject="Math", class_type="general", code="P1")
    gone = V(w.id, "obs-a", {"t.talk": "4", "t.questions": "yes"}, grade="8", subject="Math")
    store.as_observer("obs-a").delete_visit(gone.id)
    other = store.walk()  # another walk's ratings must not leak in
    V(other.id, "obs-a", {"t.talk": "4", "t.questions": "no"}, grade="1", subject="Math")
    return w
