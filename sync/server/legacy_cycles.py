"""Old free-text cycle labels become cycles on the server (migration 0005), as the device store's migration 0002
does on each tablet: one cycle per (school, label key), named by sync.protocol.legacy_cycle_id, so both ends give
the same walks the same cycle without talking to each other.

Per district: each labelled walk gets its cycle_id; each new cycle takes its first walk's label (live walks before
deleted ones; baseline, six-week, end of cycle, other; then date) as its name, the earliest walk date as its start,
that walk's rubric, one priority per focus look-for and no target (a lead sets targets later). Cycles and the walks
that changed get new numbers from the district's counter, so every device pulls them.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from sync.protocol import PHASES, legacy_cycle_id, utcnow
from sync.server.models import Cycle, District, Walk


def migrate_labels(conn: Connection) -> int:
    """Make the cycles of every labelled walk that names none; return how many cycles were made."""
    walks = Walk.__table__
    rows = conn.execute(select(walks.c.id, walks.c.district_id, walks.c.school_id, walks.c.cycle_label,
                               walks.c.walk_date, walks.c.phase, walks.c.deleted, walks.c.rubric_id,
                               walks.c.rubric_version, walks.c.focus, walks.c.created_by)
                        .where(walks.c.cycle_id.is_(None), walks.c.cycle_label != "")).mappings().all()
    rank = {p: i for i, p in enumerate(PHASES)}
    by_cycle: dict[tuple[str, str], list] = {}
    for r in rows:
        if r["cycle_label"].strip():
            by_cycle.setdefault((r["district_id"], legacy_cycle_id(r["school_id"], r["cycle_label"])), []).append(r)
    existing = set(conn.execute(select(Cycle.__table__.c.id)).scalars())
    made = 0
    now = utcnow()
    for district_id in sorted({d for d, _ in by_cycle}):
        mine = {cid: ws for (d, cid), ws in by_cycle.items() if d == district_id}
        count = len(mine) + sum(len(ws) for ws in mine.values())
        # the district's numbers, reserved as every writer reserves them (sync.server.seq)
        top = conn.execute(update(District).where(District.id == district_id)
                           .values(change_counter=District.change_counter + count)
                           .returning(District.change_counter)).scalar_one()
        n = top - count + 1
        for cid in sorted(mine):
            ws = mine[cid]
            first = min(ws, key=lambda r: (bool(r["deleted"]), rank.get(r["phase"], len(rank)), _day(r["walk_date"]),
                                           r["id"]))
            if cid not in existing:
                conn.execute(Cycle.__table__.insert().values(
                    id=cid, school_id=first["school_id"], name=first["cycle_label"].strip()[:120],
                    start_date=min(_day(r["walk_date"]) for r in ws), rubric_id=first["rubric_id"],
                    rubric_version=first["rubric_version"],
                    priorities=[{"lookfors": [f], "target": None} for f in (first["focus"] or [])],
                    created_by=first["created_by"], migrated=True, updated_at=now, deleted=False,
                    district_id=district_id, change_seq=n, server_updated_at=now, device_id=""))
                existing.add(cid)
                made += 1
            n += 1
            for r in sorted(ws, key=lambda r: r["id"]):
                conn.execute(update(walks).where(walks.c.id == r["id"])
                             .values(cycle_id=cid, change_seq=n, server_updated_at=now))
                n += 1
    return made


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
