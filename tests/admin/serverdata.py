"""Server databases for export tests: a district with walks on two rubric versions, edge cases included.

Rows are written with the server's own directory functions (districts, schools, users, rubric versions) and
plain inserts for walks, visits, ratings and notes; the server process tests push data through the real API.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

from sqlmodel import Session, select

from sync.protocol import rating_id
from sync.server import directory
from sync.server.db import writer
from sync.server.models import EvidenceNote, Rating, RubricVersion, Visit, Walk, metadata
from sync.protocol import new_id

# A district rubric in two versions: v2 drops "cr.pace" and adds "cr.exit-ticket" (old visits stay exportable).
CUSTOM_V1 = """id: coherence
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
{lookfors}
"""
_LF = """  - id: {id}
    domain: core
    text: {text}
    label: {label}
    scale: four
"""
V1_LOOKFORS = [("cr.grade-level", "Students work on grade-level tasks.", "Grade-level work"),
               ("cr.pace", "The lesson keeps a brisk pace.", "Pace"),
               ("cr.talk", "Students explain their thinking to each other.", "Student talk")]
V2_LOOKFORS = [("cr.grade-level", "Students work on grade-level tasks.", "Grade-level work"),
               ("cr.exit-ticket", "An exit ticket checks today's target.", "Exit ticket"),
               ("cr.talk", "Students explain their thinking to each other.", "Student talk")]


def custom_yaml(version: int) -> str:
    lfs = V1_LOOKFORS if version == 1 else V2_LOOKFORS
    return CUSTOM_V1.format(version=version, lookfors="".join(_LF.format(id=i, text=t, label=l) for i, t, l in lfs))


def publish_custom(s: Session, district_id: str, version: int) -> None:
    from rubrics import parse_rubric
    text = custom_yaml(version)
    s.add(RubricVersion(district_id=district_id, rubric_id="coherence", version=version, yaml_text=text,
                        content_hash=parse_rubric(text).content_hash(), published_by="test"))


def make_district(engine, name: str) -> dict:
    with Session(writer(engine)) as s:
        d = directory.create_district(s, name)
        schools = [directory.create_school(s, d.id, f"{name} school {i}") for i in (1, 2)]
        users = {role: directory.create_user(s, d.id, role, f"{role}@{name.lower().replace(' ', '')}.org")
                 for role in ("observer", "lead", "admin")}
        publish_custom(s, d.id, 1)
        publish_custom(s, d.id, 2)
        s.commit()
        return {"id": d.id, "schools": [x.id for x in schools], "users": {k: u.id for k, u in users.items()}}


def fill(engine, district: dict, walks: int = 4, visits: int = 5, seed: int = 1) -> None:
    """Walks alternating sample-district@1, coherence@1 and coherence@2, with every kind of cell."""
    rng = random.Random(seed)
    keys = [("sample-district", 1, ["sd.target-posted", "sd.work-displayed", "sd.checks-understanding"], ["seen"]),
            ("coherence", 1, [i for i, _, _ in V1_LOOKFORS], ["1", "2", "3", "4"]),
            ("coherence", 2, [i for i, _, _ in V2_LOOKFORS], ["1", "2", "3", "4"])]
    d = district["id"]
    observer = district["users"]["observer"]
    with Session(writer(engine)) as s:
        for w in range(walks):
            rubric_id, version, lookfors, values = keys[w % len(keys)]
            walk = Walk(id=new_id(), school_id=district["schools"][w % 2], walk_date=date(2026, 9, 1) + timedelta(days=7 * w),
                        rubric_id=rubric_id, rubric_version=version, cycle_label="=Cycle 1" if w == 0 else f"Cycle {w} é",
                        phase="baseline", created_by=observer, district_id=d)
            s.add(walk)
            for n in range(1, visits + 1):
                visit = Visit(id=new_id(), walk_id=walk.id, visit_no=n, observer_id=observer,
                              grade=rng.choice(["PK", "K", "3", "7", "11", None]), subject=rng.choice(["ELA", "Math", None]),
                              class_type=rng.choice(["general", "inclusion", None]), district_id=d,
                              deleted=(n == visits and w == 1))
                s.add(visit)
                if n == 2:
                    continue  # a visit with no ratings
                for lf in lookfors:
                    roll = rng.random()
                    r = Rating(id=rating_id(visit.id, lf), visit_id=visit.id, lookfor_id=lf, walk_id=walk.id,
                               owner_id=observer, district_id=d,
                               value=None if roll < 0.2 else rng.choice(values), not_observed=roll < 0.2,
                               deleted=roll > 0.93,
                               updated_at=datetime(2026, 9, 1, 10, 0, tzinfo=timezone.utc) + timedelta(minutes=n))
                    s.add(r)
                s.add(EvidenceNote(id=new_id(), visit_id=visit.id, lookfor_id=lookfors[0], walk_id=walk.id,
                                   owner_id=observer, district_id=d, text=f"Visit {n}: \"quoted\", comma; ünïcode"))
        s.commit()


def expected_ratings(engine, district_id: str) -> set[tuple]:
    """(visit_id, lookfor_id, value, not_observed) of every live rating of live visits of live walks."""
    with Session(engine) as s:
        rows = s.exec(select(Rating.visit_id, Rating.lookfor_id, Rating.value, Rating.not_observed)
                      .join(Visit, Visit.id == Rating.visit_id).join(Walk, Walk.id == Visit.walk_id)
                      .where(Rating.district_id == district_id, Rating.deleted == False,  # noqa: E712
                             Visit.deleted == False, Walk.deleted == False)).all()  # noqa: E712
    return {(v, lf, val or "", bool(no)) for v, lf, val, no in rows}


def create_schema(engine) -> None:
    metadata.create_all(engine)
