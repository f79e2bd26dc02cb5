"""Visits recorded before a checklist's "Not seen" was a value keep their meaning on the server (migration 0007), as
the device store's migration 0004 does on each tablet: one rule, sync.protocol.legacy_checklists, so both ends
write the same cells without talking to each other.

Per district: each visit the rule gives "Not seen" cells gets them in its visit_cells row, written as the push
writes cells (sync.server.ingest.cells.merge), by the device that wrote the visit's latest answered cell, stamped
with that cell's time. That device holds the visit as it is here (unless it has changes still waiting, which its
own migration queues) and derives the same cells, so a pull, which never sends a device its own cells, need not
send them. The visits that changed get new numbers from the district's counter, so every other device pulls
their cells, whatever its own migration derived from the copy it held.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from rubrics import Rubric, RubricInvalid, builtin_rubrics, parse_rubric
from sync.protocol import utcnow
from sync.protocol.cells import DELETED, DEVICE, LOOKFOR, NOT_OBSERVED, UPDATED_AT, VALUE
from sync.protocol.legacy_checklists import NOT_SEEN_VALUE, answered_at, not_seen_lookfors
from sync.server.ingest.cells import decode, merge
from sync.server.models import District, RubricVersion, Visit, VisitCells, Walk


def _rubrics(conn: Connection) -> dict[tuple[str, str, int], Rubric | None]:
    """(district, rubric id, version) -> the rubric (None: one that no longer parses, left as it is)."""
    rv = RubricVersion.__table__
    out: dict[tuple[str, str, int], Rubric | None] = {}
    parsed: dict[str, Rubric | None] = {}
    for d, rid, version, text in conn.execute(select(rv.c.district_id, rv.c.rubric_id, rv.c.version, rv.c.yaml_text)):
        if text not in parsed:
            try:
                parsed[text] = parse_rubric(text, source=f"{rid}@{version}")
            except RubricInvalid:
                parsed[text] = None
        out[(d, rid, version)] = parsed[text]
    return out


PAGE = 2000  # visits read at a time: a large server's cells never sit in memory at once


def migrate_checklists(conn: Connection) -> int:
    """Write the "Not seen" cells of every visit the rule names; return how many cells were written."""
    rubrics = _rubrics(conn)
    builtins = builtin_rubrics()
    v, w, vc = Visit.__table__, Walk.__table__, VisitCells.__table__
    query = (select(v.c.id, v.c.district_id, v.c.subject, v.c.grade, w.c.rubric_id, w.c.rubric_version,
                    vc.c.devices, vc.c.cells)
             .join(w, w.c.id == v.c.walk_id).join(vc, vc.c.visit_id == v.c.id).order_by(v.c.id).limit(PAGE))
    written, after = 0, None
    while True:
        rows = conn.execute(query if after is None else query.where(v.c.id > after)).all()
        if not rows:
            return written
        after = rows[-1][0]
        changed: dict[str, list[tuple[str, str, str]]] = {}  # district -> (visit id, devices, cells) to write
        for vid, district, subject, grade, rubric_id, version, devices, stored in rows:
            rubric = rubrics.get((district, rubric_id, version), builtins.get(f"{rubric_id}@{version}"))
            if rubric is None:
                continue
            ids, cells = decode(devices, stored)
            plain = [tuple(c[LOOKFOR:]) for c in cells]
            lookfors = not_seen_lookfors(rubric, subject, grade, plain)
            if not lookfors:
                continue
            at = answered_at(plain)
            # the writer of the latest answered cell (the last in look-for order among equal times)
            latest = [c for c in cells if c[UPDATED_AT] == at and not c[DELETED] and (c[NOT_OBSERVED] or c[VALUE])]
            writer = ids[max(latest, key=lambda c: c[LOOKFOR])[DEVICE]]
            merged = merge(devices, stored, [[0, lf, NOT_SEEN_VALUE, False, False, at] for lf in lookfors], writer)
            changed.setdefault(district, []).append((vid, merged.devices, merged.cells))
            written += len(lookfors)
        now = utcnow()
        for district in sorted(changed):
            visits = changed[district]
            # the district's numbers, reserved as every writer reserves them (sync.server.seq)
            top = conn.execute(update(District).where(District.id == district)
                               .values(change_counter=District.change_counter + len(visits))
                               .returning(District.change_counter)).scalar_one()
            for n, (vid, devices, cells) in enumerate(visits, top - len(visits) + 1):
                conn.execute(update(vc).where(vc.c.visit_id == vid).values(devices=devices, cells=cells))
                conn.execute(update(v).where(v.c.id == vid).values(change_seq=n, server_updated_at=now))
