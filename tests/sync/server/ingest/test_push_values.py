"""What the server stores every device can read back: a time outside the window a store accepts (a year-999 cell,
year 1 or 9999 with a zone, 1970), text no database holds (a NUL) and an over-long note are each answered
"rejected" with their reason, nothing of them is stored, the rest of the push lands, and a replay or a re-send
gets the same answers, never a 500, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

from sync.protocol import new_id
from sync.protocol.rules import NOTE_MAX
from sync.server.models import EvidenceNote, OpResult, Visit, Walk
from tests.support import serverproc as harness

BEFORE = "is before 2000-01-01, so the device's clock was wrong; set the device's date and time, then edit it again."
AHEAD = "is more than a day ahead of the server's clock, so the device's clock was wrong"
NUL = "holds a NUL character (\\x00), which"
LOOKFORS = ["dl.relevant", "dl.real-world", "dl.interactive", "dl.creating", "dl.engaged", "dl.affirming",
            "dl.jit-scaffolding"]  # not rated by record_visits, rated in any subject on the scale 1-4


class Poisoned:
    """A device's good push (a walk, a Math visit with 3 ratings, a note) with records and cells appended after
    it that only a broken client (or a wrong clock) sends: expected[op_seq] is the reason each is answered with."""

    def __init__(self, dev, district, team: list[str] | None = None):
        walk = harness.new_walk(dev, district.school_id, team)
        (self.visit_id,) = harness.record_visits(dev, walk.id, 1)
        self.note_id = dev.capture.add_note(self.visit_id, "Pairs compare strategies").id
        self.walk_id = walk.id
        self.body = json.loads(harness.push_body(dev.sync.store.pending(0, 10_000)))
        self.good = self.body["to_seq"]
        self.walk = self.body["walks"][0][1]
        self.visit = self.body["visits"][0][1]
        self.note = self.body["notes"][0][1]
        self.expected: dict[int, str] = {}
        self.sent: dict[str, set[str]] = {"walk": set(), "visit": set(), "note": set()}

    def _next(self, reason: str) -> int:
        self.body["to_seq"] += 1
        self.expected[self.body["to_seq"]] = reason
        return self.body["to_seq"]

    def record(self, kind: str, reason: str, **changes) -> None:
        base = {"walk": self.walk, "visit": self.visit, "note": self.note}[kind]
        data = base | {"id": new_id()} | changes
        self.sent[kind].add(data["id"])
        self.body[kind + "s"].append([self._next(reason), data])

    def cell(self, reason: str, lookfor: str, value="2", at="2026-11-25T09:30:00.000000Z", visit_id=None) -> None:
        self.body["cells"].append([visit_id or self.visit_id, [[self._next(reason), lookfor, value, False, False, at]]])


def _poison(p: Poisoned) -> None:
    lf = iter(LOOKFORS)
    p.cell(f"dl.relevant: updated_at 0999-01-01T09:30:00.000000Z {BEFORE}", next(lf), at="0999-01-01T09:30:00.000000Z")
    p.cell(f"dl.real-world: updated_at 1970-01-01T00:00:00.000000Z {BEFORE}", next(lf),
           at="1970-01-01T00:00:00.000000Z")
    p.cell("dl.interactive: updated_at 9999-12-31T23:59:59.999999Z " + AHEAD, next(lf),
           at="9999-12-31T23:59:59.999999Z")
    p.cell("dl.creating: updated_at must be a UTC ISO date-time such as 2026-11-25T09:30:00Z.", next(lf),
           at="0001-01-01T00:00:00+01:00")
    p.cell(f"dl.engaged: the value '2\\x00' {NUL} cannot be stored; remove it.", next(lf), value="2\x00")
    p.cell(f"a rating's look-for id 'dl.affirming\\x00' {NUL} cannot be stored; remove it.", "dl.affirming\x00")
    p.cell("a rating names visit v\\x00, which the server does not have.", next(lf), visit_id="v\x00")
    walk_date = p.walk["walk_date"]
    p.record("walk", "walk_date 0999-01-01 is before 2000-01-01; pick the walk's real date.", walk_date="0999-01-01")
    p.record("walk", f"updated_at 0001-01-01T00:00:00+01:00 {BEFORE}", updated_at="0001-01-01T00:00:00+01:00")
    p.record("walk", f"the walk's cycle label {NUL} no database can store; remove it.", cycle_label="Fall\x00",
             walk_date=walk_date)
    p.record("walk", f"the walk's id {NUL} no database can store; remove it.", id="w\x00" + new_id()[:30])
    p.record("walk", f"the walk's team {NUL} no database can store; remove it.", team=["lead\x00"])
    p.record("visit", "started_at 9999-12-31T23:59:59-01:00 " + AHEAD, started_at="9999-12-31T23:59:59-01:00",
             visit_no=2)
    p.record("visit", f"updated_at 1970-01-01T00:00:00Z {BEFORE}", updated_at="1970-01-01T00:00:00Z", visit_no=3)
    p.record("visit", f"updated_at 0001-01-01T00:00:00+01:00 {BEFORE}", updated_at="0001-01-01T00:00:00+01:00",
             visit_no=4)
    p.record("visit", f"the visit's note {NUL} no database can store; remove it.", note="turn\x00and talk", visit_no=5)
    p.record("visit", f"the visit's note is longer than {NOTE_MAX} characters.", note="x" * (NOTE_MAX + 1), visit_no=6)
    p.record("note", f"the evidence note {NUL} no database can store; remove it.", text="Pairs\x00")
    p.record("note", f"the evidence note is longer than {NOTE_MAX} characters.", text="y" * (NOTE_MAX + 1))
    p.record("note", f"updated_at 0999-01-01T00:00:00Z {BEFORE}", updated_at="0999-01-01T00:00:00Z")
    p.record("note", f"the evidence note's look-for id {NUL} no database can store; remove it.", lookfor_id="dl.relevant\x00")


def _rejected(answer: dict, expected: dict[int, str]) -> dict[int, str]:
    assert {r["status"] for r in answer["results"]} == {"rejected"}, answer
    return {r["op_seq"]: r["reason"] for r in answer["results"]}


def test_a_poisoned_push_is_rejected_per_record_and_the_rest_lands(server, server_db, district, device):
    dev = device("observer")
    dev.sync.sync_once()  # the district's school and rubrics
    p = Poisoned(dev, district)
    _poison(p)
    body = json.dumps(p.body).encode()
    with harness.api(server.url, harness.token_of(dev)) as http:
        first = http.post("/api/v1/push", content=body)
        assert first.status_code == 200, first.text
        answer = first.json()
        got = _rejected(answer, p.expected)
        for q, reason in p.expected.items():
            assert got.get(q, "").startswith(reason) or got.get(q) == reason, (q, reason, got.get(q))
        assert set(got) == set(p.expected)
        # 1 walk, 1 visit, 3 cells, 1 note: every good record and cell lands
        assert (answer["applied"], answer["last_op_seq"]) == (6, p.body["to_seq"])

        again = http.post("/api/v1/push", content=body)  # a replay: the same answers, nothing more stored
        assert (again.status_code, again.json()) == (200, answer)

        # the same observer sends the same values again, as new changes: the same reasons, no 500
        resend = Poisoned.__new__(Poisoned)
        resend.__dict__.update(p.__dict__)
        resend.body = {"from_seq": p.body["to_seq"] + 1, "to_seq": p.body["to_seq"], "walks": [], "visits": [],
                       "cells": [], "notes": []}
        resend.expected, resend.sent = {}, {"walk": set(), "visit": set(), "note": set()}
        _poison(resend)
        later = http.post("/api/v1/push", content=json.dumps(resend.body).encode())
        assert later.status_code == 200, later.text
        assert sorted(_rejected(later.json(), resend.expected).values()) == sorted(got.values())

    assert {w.id for w in server_db.rows(Walk, Walk.district_id == district.id)} == {p.walk_id}
    assert {v.id for v in server_db.rows(Visit, Visit.district_id == district.id)} == {p.visit_id}
    assert {n.id for n in server_db.rows(EvidenceNote, EvidenceNote.district_id == district.id)} == {p.note_id}
    cells = server_db.cells(district.id)
    assert sorted(lf for _, lf in cells) == ["dl.grade-level-task", "dl.hqim-as-designed", "dl.math-problem"]
    assert all(c.updated_at.startswith("2026-") for c in cells.values())
    # the reasons kept for replays quote what was sent, without its NUL
    assert not any("\x00" in (r.reason or "") for r in server_db.rows(OpResult))


def test_a_device_that_pulls_after_a_poisoned_push_gets_every_good_record(server, district, device):
    observer, lead = device("observer"), device("lead")
    observer.sync.sync_once()
    p = Poisoned(observer, district, team=[harness.user_of(lead)])  # the lead is on the walk: sees its visits
    _poison(p)
    with harness.api(server.url, harness.token_of(observer)) as http:
        assert http.post("/api/v1/push", content=json.dumps(p.body).encode()).status_code == 200

    lead.sync.sync_once()  # raises if the round failed

    assert [v.id for v in lead.capture.visits(p.walk_id)] == [p.visit_id]
    assert set(lead.capture.ratings(p.visit_id)) == {"dl.grade-level-task", "dl.hqim-as-designed",
                                                     "dl.math-problem"}
    assert [n.id for n in lead.capture.notes(p.visit_id)] == [p.note_id]
