"""Server data for admin/export tests, put there the way production data gets there.

Districts, schools and users are made with the server's directory functions (as `learnwalk admin` does); every
device is enrolled with a one-time code over HTTP; rubric versions are published by an admin through the admin
API; walks, visits, ratings (values, "not observed", cleared cells) and notes are pushed by observers' devices.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import httpx
from sqlmodel import Session, select

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, new_id
from sync.server import directory
from sync.server.db import writer
from sync.server.ingest.cells import rows
from sync.server.models import Visit, VisitCells, Walk

_LF = "  - {{id: {id}, domain: core, text: \"{text}\", label: \"{label}\", scale: four}}\n"
_RUBRIC = """id: coherence
version: {version}
title: Coherence check
scales:
  - id: four
    levels:
      - {{value: "1", label: Not yet}}
      - {{value: "2", label: Somewhat}}
      - {{value: "3", label: Mostly}}
      - {{value: "4", label: "Yes"}}
    not_observed: true
    evident_from: "3"
domains:
  - id: core
    title: Core actions
lookfors:
{lookfors}"""
# v2 drops cr.pace and adds cr.exit-ticket: visits on v1 keep their cr.pace ratings in every export
LOOKFORS = {1: [("cr.grade-level", "Students work on grade-level tasks.", "Grade-level work"),
                ("cr.pace", "The lesson keeps a brisk pace.", "Pace"),
                ("cr.talk", "Students explain their thinking to each other.", "Student talk")],
            2: [("cr.grade-level", "Students work on grade-level tasks.", "Grade-level work"),
                ("cr.exit-ticket", "An exit ticket checks today's target.", "Exit ticket"),
                ("cr.talk", "Students explain their thinking to each other.", "Student talk")]}
SAMPLE = ["sd.target-posted", "sd.work-displayed", "sd.checks-understanding"]


def coherence_yaml(version: int) -> str:
    return _RUBRIC.format(version=version, lookfors="".join(_LF.format(id=i, text=t, label=lb)
                                                            for i, t, lb in LOOKFORS[version]))


def client(url: str, token: str | None = None) -> httpx.Client:
    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=url, headers=headers, timeout=60)


def enroll(url: str, code: str) -> dict:
    with client(url) as c:
        r = c.post("/api/v1/enroll", json={"code": code, "device_name": "test tablet"})
        r.raise_for_status()
        return r.json()


@dataclass
class Member:
    role: str
    user_id: str
    token: str
    device_id: str
    op_seq: int = 0

    def push(self, url: str, records: list[tuple[str, dict]]) -> dict:
        """Push these changes (in the order made) as one v2 push, the way the device builds it: each record once
        in its latest state with the op_seq of its latest change, ratings as cells grouped by visit."""
        first = self.op_seq + 1
        latest: dict[str, dict] = {"walk": {}, "visit": {}, "rating": {}, "note": {}}
        for kind, data in records:
            self.op_seq += 1
            key = (data["visit_id"], data["lookfor_id"]) if kind == "rating" else data["id"]
            latest[kind].pop(key, None)  # re-added: records go in the order of their latest change
            latest[kind][key] = (self.op_seq, data)
        cells: dict[str, list] = {}
        for q, d in latest["rating"].values():
            cells.setdefault(d["visit_id"], []).append([q, d["lookfor_id"], d.get("value"),
                                                        d.get("not_observed", False), d.get("deleted", False),
                                                        d["updated_at"]])
        body = {"from_seq": first, "to_seq": self.op_seq, "cells": [[v, c] for v, c in cells.items()],
                **{f"{kind}s": [[q, d] for q, d in latest[kind].values()] for kind in ("walk", "visit", "note")}}
        with client(url, self.token) as c:
            r = c.post("/api/v1/push", json=body)
            r.raise_for_status()
            answer = r.json()
        assert answer["results"] == [] and answer["last_op_seq"] == self.op_seq, answer
        return answer


@dataclass
class DistrictData:
    id: str
    schools: list[str]
    members: dict[str, Member] = field(default_factory=dict)  # observer, observer2, lead, admin
    walks: list[str] = field(default_factory=list)


def _iso(t: datetime) -> str:
    return t.isoformat()


def walk_records(d: DistrictData, observer: Member, lead: Member, rng: random.Random, walks: int,
                 visits: int) -> list[tuple[str, dict]]:
    """Walks on sample-district@1, coherence@1 and coherence@2, with every kind of cell and a deleted visit."""
    keys = [("sample-district", 1, SAMPLE, ["seen", "not_seen"], False),  # a checklist: Seen or Not seen
            ("coherence", 1, [i for i, _, _ in LOOKFORS[1]], ["1", "2", "3", "4"], True),
            ("coherence", 2, [i for i, _, _ in LOOKFORS[2]], ["1", "2", "3", "4"], True)]
    t0 = datetime(2026, 9, 1, 8, 0, tzinfo=timezone.utc)
    out: list[tuple[str, dict]] = []
    for w in range(walks):
        rubric_id, version, lookfors, values, can_skip = keys[w % len(keys)]
        walk_id = new_id()
        d.walks.append(walk_id)
        out.append(("walk", {"id": walk_id, "school_id": d.schools[w % 2],
                             "walk_date": (date(2026, 9, 1) + timedelta(days=7 * w)).isoformat(),
                             "rubric_id": rubric_id, "rubric_version": version, "focus": lookfors[:2],
                             "team": [lead.user_id], "cycle_label": "=Cycle 1" if w == 0 else f"Cycle {w} é",
                             "phase": "baseline", "updated_at": _iso(t0)}))
        for n in range(1, visits + 1):
            visit_id = new_id()
            visit = {"id": visit_id, "walk_id": walk_id, "visit_no": n, "grade": rng.choice(["PK", "K", "3", "7", "11", None]),
                     "subject": rng.choice(["ELA", "Math", None]), "class_type": rng.choice(["general", "inclusion", None]),
                     "student_count": rng.choice([None, 18, 24]), "started_at": _iso(t0 + timedelta(minutes=15 * n)),
                     # visit 3 is left open (the tablet died mid-visit): exported, never counted in a tally
                     "ended_at": None if n == 3 else _iso(t0 + timedelta(minutes=15 * n + 10)),
                     "updated_at": _iso(t0 + timedelta(minutes=15 * n)), "deleted": False}
            out.append(("visit", visit))
            if n == 2:
                continue  # a visit with no ratings
            for lf in lookfors:
                roll = rng.random()
                skip = can_skip and roll < 0.2
                out.append(("rating", {"visit_id": visit_id, "lookfor_id": lf,
                                       "value": None if skip else rng.choice(values), "not_observed": skip,
                                       "updated_at": _iso(t0 + timedelta(minutes=15 * n + 1))}))
                if roll > 0.9:  # cleared again: a tombstone, never exported
                    out.append(("rating", {"visit_id": visit_id, "lookfor_id": lf,
                                           "value": None, "not_observed": False, "deleted": True,
                                           "updated_at": _iso(t0 + timedelta(minutes=15 * n + 2))}))
            out.append(("note", {"id": new_id(), "visit_id": visit_id, "lookfor_id": lookfors[0],
                                 "text": f"Visit {n}: \"quoted\", comma; ünïcode", "updated_at": _iso(t0)}))
            if n == visits and w == 1:
                out.append(("visit", {**visit, "deleted": True, "updated_at": _iso(t0 + timedelta(hours=3))}))
    return out


@dataclass
class World:
    url: str
    db: object
    north: DistrictData
    south: DistrictData

    @classmethod
    def build(cls, url: str, db, walks: int = 6, visits: int = 5) -> "World":
        made = [cls._district(url, db, name, walks, visits, seed) for seed, name in enumerate(("North", "South"))]
        return cls(url, db, *made)

    @staticmethod
    def _district(url: str, db, name: str, walks: int, visits: int, seed: int) -> DistrictData:
        with Session(writer(db.engine), expire_on_commit=False) as s:
            dist = directory.create_district(s, f"{name} {uuid.uuid4().hex[:6]}")
            schools = [directory.create_school(s, dist.id, f"{name} school {i}").id for i in (1, 2)]
            users = {key: directory.create_user(s, dist.id, role, f"{key}-{uuid.uuid4().hex[:6]}@example.org").id
                     for key, role in (("observer", "observer"), ("observer2", "observer"), ("lead", "lead"),
                                       ("outsider_lead", "lead"), ("admin", "admin"))}
            codes = {key: directory.issue_code(s, uid) for key, uid in users.items()}
            s.commit()
        d = DistrictData(dist.id, schools)
        for key, code in codes.items():
            e = enroll(url, code)
            d.members[key] = Member(e["role"], e["user_id"], e["token"], e["device_id"])
        with client(url, d.members["admin"].token) as c:
            for version in (1, 2):
                r = c.post("/api/v1/admin/rubrics", json={"filename": f"coherence-v{version}.yaml",
                                                          "text": coherence_yaml(version)})
                assert r.status_code == 201, r.text
        rng = random.Random(seed)
        obs, lead = d.members["observer"], d.members["lead"]
        obs.push(url, walk_records(d, obs, lead, rng, walks, visits))
        # a second observer's walk the lead is not part of: leads must not see it, admins must
        obs2 = d.members["observer2"]
        obs2.push(url, walk_records(d, obs2, d.members["outsider_lead"], rng, 1, 3))
        return d


def stored_cells(engine, district_id: str, observer_id: str | None = None) -> list:
    """Every stored cell (sync.server.ingest.cells.CellRow, tombstones too) of live visits of live walks, with its visit id."""
    with Session(engine) as s:
        # a visit's cells have no district of their own: they are its visit's
        stmt = (select(Visit.id, VisitCells.devices, VisitCells.cells)
                .join(Visit, Visit.id == VisitCells.visit_id).join(Walk, Walk.id == Visit.walk_id)
                .where(Visit.district_id == district_id, Visit.deleted == False,  # noqa: E712
                       Walk.deleted == False))  # noqa: E712
        if observer_id:
            stmt = stmt.where(Visit.observer_id == observer_id)
        stored = s.exec(stmt).all()
    return [(visit_id, c) for visit_id, devices, cells in stored for c in rows(devices, cells)]


def expected_ratings(engine, district_id: str, observer_id: str | None = None) -> set[tuple]:
    """(visit_id, lookfor_id, value, not_observed) of every live rating of live visits of live walks."""
    return {(v, c.lookfor_id, c.value or "", bool(c.not_observed))
            for v, c in stored_cells(engine, district_id, observer_id) if not c.deleted}
