"""The server refuses what the tablet refuses: one table of cases through the device's capture service and the
server's push rules (both on the rule book, sync.protocol.rules), and a push over HTTP carrying records the tablet
would never make, each answered rejected with its reason while the rest of the batch lands."""
from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from app.store.catalog import RubricCatalog
from app.store.db import open_engine
from app.store.services import _SAYS, CaptureService, ServiceError
from sync.protocol import new_id
from sync.protocol.cells import all_good, cell_problem
from sync.protocol.rules import REASONS
from sync.server.deps import Caller
from sync.server.ingest.rules import Refused, Rules
from sync.server.models import EvidenceNote, Visit, Walk
from sync.server.rubrics.registry import KnownRubrics
from tests.support import serverproc as harness

RUBRIC = ("deeper-learning", 1)  # dl.math-problem is rated only in Math visits, dl.ela-text only in ELA ones
TS = "2026-11-25T09:30:00.000000Z"
NOT_OBSERVED, CLEAR = "<not observed>", "<clear>"
FIVE = ["dl.grade-level-task", "dl.relevant", "dl.real-world", "dl.interactive", "dl.creating"]


def test_every_rule_of_the_book_has_the_device_s_words():
    assert set(_SAYS) == set(REASONS)


# ---- the two faces -------------------------------------------------------------------------------------

class Tablet:
    """A device store with a school, a walk on deeper-learning@1 and a visit without a subject."""

    def __init__(self, path, school_id: str):
        engine = open_engine(path)
        self.svc = CaptureService(engine, RubricCatalog(engine))
        self.svc.add_school("Lincoln Elementary", school_id=school_id)
        self.walk = self.svc.create_walk(school_id=school_id, rubric_id=RUBRIC[0], rubric_version=RUBRIC[1],
                                         focus=FIVE[:2])
        self.visit = self.svc.start_visit(self.walk.id)
        self.note = self.svc.add_note(self.visit.id, "Pairs compare strategies")

    def says(self, action) -> str | None:
        """The device's words if it refuses the action, else None."""
        try:
            action(self.svc)
        except ServiceError as refused:
            return str(refused)
        return None


class Server:
    """The server's push rules on a real server database, given the records and cells of one push; the tablet's
    walk, visit and note (as it would send them) are applied first."""

    def __init__(self, db, district, tablet: Tablet):
        self.s = Session(db.engine)
        caller = Caller(device_id="parity-device", user_id=district.user("observer"), role="observer",
                        district_id=district.id)
        self.rules = Rules(caller, KnownRubrics(self.s, district.id), {district.school_id},
                           {"walk": {}, "visit": {}, "note": {}})
        self.q = 0
        self.walk, self.visit, self.note = (r.model_dump(mode="json") for r in (tablet.walk, tablet.visit, tablet.note))
        assert [self.record(k, r) for k, r in (("walk", self.walk), ("visit", self.visit), ("note", self.note))] \
            == [None, None, None]

    def record(self, kind: str, snapshot: dict, op_seq: int | None = None) -> str | None:
        """The reason a push would answer for this record, or None if it is taken."""
        self.q += 1
        try:
            self.rules.apply(kind, snapshot, op_seq or self.q)
        except Refused as why:
            return str(why)
        return None

    def cell(self, visit_id: str, cell: list) -> str | None:
        """The reason for this wire cell, from the check one by one; the set check of new visits agrees."""
        rules = self.rules.cell_rules(visit_id)
        problem = cell_problem(cell, rules.problem)
        triples = rules.triples_of([cell])
        if not cell[4]:  # tombstones always go one by one
            assert (triples is not None and all_good([cell], triples)) == (problem is None)
        return problem

    def close(self):
        self.s.close()


@pytest.fixture
def faces(tmp_path, server_db, district):
    tablet = Tablet(tmp_path / "tablet", district.school_id)
    server = Server(server_db, district, tablet)
    yield tablet, server
    server.close()
    tablet.svc.engine.dispose()


def _both(tablet: Tablet, server: Server, device_action, server_answer, words, reason):
    said, answered = tablet.says(device_action), server_answer()
    if words is None:
        assert (said, answered) == (None, None)
    else:
        assert said is not None and words in said, said
        assert answered is not None and reason in answered, answered


# ---- the table ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, words, reason", [
    ({"focus": FIVE}, "Choose 1 to 3 focus look-fors", "a walk has 1 to 3 focus look-fors, not 5"),
    ({"focus": []}, "Choose 1 to 3 focus look-fors", "a walk has 1 to 3 focus look-fors, not 0"),
    ({"focus": ["dl.relevant", "dl.relevant"]}, "can be chosen once", "focus look-for dl.relevant is chosen twice"),
    ({"focus": ["t.talk"]}, "Focus look-for t.talk is not in deeper-learning@1",
     "focus look-for t.talk is not in deeper-learning@1"),
    ({"phase": "midyear"}, "Phase 'midyear' is not one of", "phase 'midyear' is not one of"),
    # the rule book's text limits are the record shape's, which the server reads a record with first
    ({"cycle_label": "x" * 121}, "cycle label can be at most 120", "cycle_label: String should have at most 120"),
    ({"focus": FIVE[:3], "phase": "end-of-cycle", "cycle_label": "x" * 120}, None, None),
], ids=["5 focus", "no focus", "focus twice", "focus of another rubric", "phase", "long cycle label", "good walk"])
def test_a_walk_is_refused_by_the_server_exactly_when_the_tablet_refuses_it(faces, fields, words, reason):
    tablet, server = faces
    args = dict(school_id=server.walk["school_id"], rubric_id=RUBRIC[0], rubric_version=RUBRIC[1], focus=FIVE[:1])
    _both(tablet, server, lambda svc: svc.create_walk(**args | fields),
          lambda: server.record("walk", server.walk | {"id": new_id()} | fields), words, reason)


@pytest.mark.parametrize("fields, words, reason", [
    ({"subject": "Recess"}, "Subject 'Recess' is not one of", "subject 'Recess' is not one of ELA, Math"),
    ({"grade": "13"}, "Grade '13' is not one of", "grade '13' is not one of"),
    ({"class_type": "honors"}, "Class type 'honors' is not one of", "class type 'honors' is not one of"),
    ({"student_count": 201}, "from 0 to 200", "student count 201 is not a whole number from 0 to 200"),
    ({"calibration_code": "c" * 41}, "calibration code can be at most 40",
     "calibration_code: String should have at most 40"),
    ({"grade": "K", "subject": "Social Studies", "class_type": "inclusion", "student_count": 200,
      "calibration_code": "c" * 40}, None, None),
], ids=["subject", "grade", "class type", "student count", "long calibration code", "good visit"])
def test_a_visit_is_refused_by_the_server_exactly_when_the_tablet_refuses_it(faces, fields, words, reason):
    tablet, server = faces
    start = {k: v for k, v in fields.items() if k != "calibration_code"}

    def on_tablet(svc):
        visit = svc.start_visit(tablet.walk.id, **start)
        if "calibration_code" in fields:
            svc.update_visit(visit.id, calibration_code=fields["calibration_code"])
    snapshot = server.visit | {"id": new_id(), "visit_no": 2} | fields
    _both(tablet, server, on_tablet, lambda: server.record("visit", snapshot), words, reason)


@pytest.mark.parametrize("subject, then_subject, lookfor, choice, words, reason", [
    ("ELA", None, "dl.math-problem", "3", "dl.math-problem is only rated in Math visits; this visit is ELA",
     "dl.math-problem is rated only in Math visits; this visit is ELA"),
    ("Science", None, "dl.ela-text", NOT_OBSERVED, "only rated in ELA visits", "rated only in ELA visits"),
    ("Math", None, "dl.math-problem", "3", None, None),
    (None, None, "dl.math-problem", "3", None, None),
    # a subject change keeps the ratings made before it, and a kept rating can be cleared
    ("Math", "ELA", "dl.math-problem", "3", None, None),
    ("ELA", None, "dl.math-problem", CLEAR, None, None),
    (None, None, "dl.relevant", "5", "'5' is not on the scale of dl.relevant; choose one of 1, 2, 3, 4",
     "'5' is not on the scale of dl.relevant"),
    (None, None, "dl.quality-criteria", NOT_OBSERVED, "must be rated; 'Not observed' is not allowed",
     "dl.quality-criteria: 'not observed' cannot be recorded on its scale"),
    (None, None, "dl.quality-criteria", "seen", None, None),
    (None, None, "t.talk", "3", "Look-for t.talk is not in deeper-learning@1",
     "look-for t.talk is not in the walk's rubric deeper-learning@1"),
    (None, None, "t.talk", CLEAR, "Look-for t.talk is not in deeper-learning@1", "look-for t.talk is not in"),
], ids=["math in ELA", "ELA in Science", "math in Math", "math without subject", "rated, then subject changed",
        "kept rating cleared", "off the scale", "not observed disallowed", "presence", "look-for of another rubric",
        "clear of another rubric's look-for"])
def test_a_rating_is_refused_by_the_server_exactly_when_the_tablet_refuses_it(faces, subject, then_subject, lookfor,
                                                                               choice, words, reason):
    tablet, server = faces
    value, no, deleted = {NOT_OBSERVED: (None, True, False), CLEAR: (None, False, True)}.get(choice,
                                                                                             (choice, False, False))

    def on_tablet(svc):
        visit = svc.start_visit(tablet.walk.id, subject=subject)
        {NOT_OBSERVED: lambda: svc.mark_not_observed(visit.id, lookfor),
         CLEAR: lambda: svc.clear_rating(visit.id, lookfor)}.get(choice, lambda: svc.rate(visit.id, lookfor, value))()
        if then_subject:
            svc.update_visit(visit.id, subject=then_subject)

    def on_server():
        # the push carries the visit once, in its latest state, with the op_seq of its latest change
        vid, q = new_id(), server.q
        cell_q, visit_q = (q + 1, q + 2) if then_subject else (q + 2, q + 1)
        snapshot = server.visit | {"id": vid, "visit_no": 2, "subject": then_subject or subject}
        assert server.record("visit", snapshot, visit_q) is None
        server.q = q + 2
        return server.cell(vid, [cell_q, lookfor, value, no, deleted, TS])
    _both(tablet, server, on_tablet, on_server, words, reason)


@pytest.mark.parametrize("fields, words, reason", [
    ({"text": "   "}, "An evidence note needs some text.", "an evidence note needs some text"),
    ({"text": "Turn and talk", "lookfor_id": "t.talk"}, "Look-for t.talk is not in deeper-learning@1",
     "look-for t.talk is not in the walk's rubric"),
    ({"text": "Turn and talk", "lookfor_id": "dl.math-problem"}, None, None),
], ids=["blank", "look-for of another rubric", "good note"])
def test_a_note_is_refused_by_the_server_exactly_when_the_tablet_refuses_it(faces, fields, words, reason):
    tablet, server = faces
    _both(tablet, server, lambda svc: svc.add_note(tablet.visit.id, fields["text"], fields.get("lookfor_id")),
          lambda: server.record("note", server.note | {"id": new_id()} | fields), words, reason)


# ---- over HTTP: a push of records the tablet refuses -------------------------------------------------

def test_a_push_of_what_the_tablet_refuses_is_answered_rejected_per_record_and_the_rest_lands(
        server, server_db, district, device):
    dev = device("observer")
    dev.sync.sync_once()  # the district's school and rubrics
    cap = dev.capture
    walk = harness.new_walk(dev, district.school_id)
    good = harness.record_visits(dev, walk.id, 2)  # Math visits, 3 ratings each (dl.math-problem among them)
    five = harness.new_walk(dev, district.school_id)
    recess = cap.start_visit(walk.id, grade="4")
    ela = cap.start_visit(walk.id, subject="ELA")
    cap.rate(ela.id, "dl.ela-text", "2")
    math_in_ela = cap.rate(ela.id, "dl.relevant", "3")
    kept = cap.start_visit(walk.id, subject="Math")  # rated, then the subject changed: the rating stays
    cap.rate(kept.id, "dl.math-problem", "4")
    cap.update_visit(kept.id, subject="ELA")
    entries = dev.sync.store.pending(0, 10_000)

    def tampered(record_id, **changes):
        """The record's latest entry, changed as only another client could make it."""
        entry = [e for e in entries if e.record_id == record_id][-1]
        return entry, harness.harness_entry(entry, data_json=json.dumps(json.loads(entry.data_json) | changes))
    bad = dict([tampered(five.id, focus=FIVE), tampered(recess.id, subject="Recess"),
                tampered(math_in_ela.id, lookfor_id="dl.math-problem")])
    with harness.api(server.url, harness.token_of(dev)) as http:
        answer = http.post("/api/v1/push", content=harness.push_body([bad.get(e, e) for e in entries])).json()

    refused = {e.seq for e in bad}
    assert answer["results"] == sorted([
        {"op_seq": bad_entry.seq, "status": "rejected", "reason": why} for bad_entry, why in (
            (next(e for e in bad if e.record_id == five.id), "a walk has 1 to 3 focus look-fors, not 5."),
            (next(e for e in bad if e.record_id == recess.id),
             "subject 'Recess' is not one of ELA, Math, Science, Social Studies, Other."),
            (next(e for e in bad if e.record_id == math_in_ela.id),
             "dl.math-problem is rated only in Math visits; this visit is ELA."))], key=lambda r: r["op_seq"])
    # nothing of them is stored; every other record and cell is
    sent = json.loads(harness.push_body(entries))
    items = len(sent["walks"]) + len(sent["visits"]) + len(sent["notes"]) + sum(len(c) for _, c in sent["cells"])
    assert answer["applied"] == items - len(refused) and answer["last_op_seq"] == entries[-1].seq
    assert {w.id for w in server_db.rows(Walk, Walk.district_id == district.id)} == {walk.id}
    assert {v.id for v in server_db.rows(Visit, Visit.district_id == district.id)} == {*good, ela.id, kept.id}
    cells = server_db.cells(district.id)
    assert (ela.id, "dl.math-problem") not in cells and (ela.id, "dl.relevant") not in cells
    assert cells[(ela.id, "dl.ela-text")].value == "2" and cells[(kept.id, "dl.math-problem")].value == "4"
    assert len(cells) == 2 * 3 + 2
    assert server_db.rows(EvidenceNote, EvidenceNote.district_id == district.id) == []
