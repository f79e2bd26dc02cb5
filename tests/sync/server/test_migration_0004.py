"""Revision 0004 on a database at 0003 holding rows that break today's rules, injected directly (as an older
server or a bug stored them): each is moved to the quarantine table with its content and reason (a walk with its
visits, a visit with its cells and notes), one audit entry each, and the rows that keep the rules stay."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from alembic import command
from sqlalchemy import select, text

from sync.server.db import alembic_config
from sync.server.models import AuditLog, EvidenceNote, Quarantine, Visit, VisitCells, Walk
from tests.support import serverdata
from tests.support import serverproc as harness

AT = datetime(2026, 6, 1, 10, tzinfo=timezone.utc)
GOOD_CELL = [0, "sd.target-posted", "seen", False, False, "2026-06-01T10:00:00.000000Z"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    yield from harness.empty_engine(request.param, tmp_path)


def _walk(wid: str, **kw) -> dict:
    return {"id": wid, "school_id": "s1", "walk_date": date(2026, 6, 1), "rubric_id": "sample-district",
            "rubric_version": 1, "focus": [], "team": [], "cycle_label": "", "phase": "baseline", "created_by": "u1",
            "updated_at": AT, "deleted": False, "district_id": "d1", "change_seq": 1, "server_updated_at": AT,
            "device_id": "dev1", **kw}


def _visit(vid: str, wid: str, **kw) -> dict:
    return {"id": vid, "walk_id": wid, "visit_no": 1, "observer_id": "u1", "note": "", "started_at": AT,
            "updated_at": AT, "deleted": False, "district_id": "d1", "change_seq": 2, "server_updated_at": AT,
            "device_id": "dev1", **kw}


def _note(nid: str, vid: str, **kw) -> dict:
    return {"id": nid, "visit_id": vid, "lookfor_id": None, "text": "ok", "updated_at": AT, "deleted": False,
            "district_id": "d1", "change_seq": 3, "server_updated_at": AT, "device_id": "dev1", "walk_id": "w1",
            "owner_id": "u1", **kw}


def _cells(vid: str, cells: list) -> dict:
    return {"visit_id": vid, "devices": json.dumps(["dev1"]), "cells": json.dumps(cells)}


def test_0004_moves_rows_that_break_the_rules_to_quarantine_with_an_audit_entry_each(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0003")
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as c:
        c.execute(text("INSERT INTO district (id, name, change_counter, created_at) "
                       "VALUES ('d1', 'North', 9, '2026-12-01 08:00:00')"))
        c.execute(Walk.__table__.insert(), [_walk("w1"), _walk("w-old", walk_date=date(999, 1, 1))])
        c.execute(Visit.__table__.insert(), [
            _visit("v1", "w1"), _visit("v-under-old-walk", "w-old"),
            _visit("v-1970", "w1", started_at=datetime(1970, 1, 1, tzinfo=timezone.utc)),
            _visit("v-long-note", "w1", note="x" * 4001), _visit("v-bad-cell", "w1"), _visit("v-broken", "w1")]
            + ([_visit("v-nul", "w1", note="a\x00b")] if sqlite else []))  # PostgreSQL cannot hold one at all
        c.execute(EvidenceNote.__table__.insert(), [_note("n1", "v1"), _note("n-long", "v1", text="y" * 5000),
                                                    _note("n-under-1970", "v-1970")])
        c.execute(VisitCells.__table__.insert(), [
            _cells("v1", [GOOD_CELL]),
            _cells("v-long-note", [GOOD_CELL]),
            _cells("v-bad-cell", [[0, "sd.target-posted", "seen", False, False, "0999-01-01T00:00:00.000000Z"]]),
            _cells("v-broken", [[0, "sd.target-posted"]])])

    command.upgrade(cfg, "0004")

    with engine.connect() as c:
        held = {r.record_id: r for r in c.execute(select(Quarantine))}
        expected = {"w-old", "v-under-old-walk", "v-1970", "v-long-note", "n-long", "n-under-1970", "v-bad-cell",
                    "v-broken"} | ({"v-nul"} if sqlite else set())
        assert set(held) == expected
        assert "walk_date" in held["w-old"].reason and "window" in held["w-old"].reason
        assert held["v-under-old-walk"].reason == "its walk w-old was quarantined"
        assert "over the limit of 4000" in held["n-long"].reason
        assert json.loads(held["n-long"].content)["text"] == "y" * 5000  # the original content, kept
        assert "cannot be read" in held["v-broken"].reason
        if sqlite:
            assert "NUL" in held["v-nul"].reason and json.loads(held["v-nul"].content)["note"] == "a\x00b"
        # the long-note visit's cells went with it (one entry each: kind visit and kind cells)
        kinds = sorted(r.kind for r in held.values())
        assert kinds.count("walk") == 1 and kinds.count("note") == 2
        assert {r[0] for r in c.execute(text("SELECT id FROM walk"))} == {"w1"}
        # a visit whose cells could not be read keeps its facts; its cells are set aside
        assert {r[0] for r in c.execute(text("SELECT id FROM visit"))} == {"v1", "v-bad-cell", "v-broken"}
        assert {r[0] for r in c.execute(text("SELECT id FROM evidence_note"))} == {"n1"}
        assert {r[0] for r in c.execute(text("SELECT visit_id FROM visit_cells"))} == {"v1"}
        audited = list(c.execute(select(AuditLog).where(AuditLog.action == "quarantine")))
        assert len(audited) == c.execute(text("SELECT count(*) FROM quarantine")).scalar()
        assert all(a.actor == "server" and a.district_id == "d1" and a.after["reason"] for a in audited)

    command.downgrade(cfg, "0003")
    command.upgrade(cfg, "0004")  # nothing left to move: the run finds the rows that remain good
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM quarantine")).scalar() == 0


def test_an_admin_reads_the_quarantined_rows_of_their_district_only(server, server_db, district):
    other = server_db.district()
    with server_db.write() as s:
        for d, rid in ((district, "v-here"), (other, "v-there")):
            s.add(Quarantine(district_id=d.id, kind="visit", record_id=rid, reason="the visit's note is 4001 "
                             "characters, over the limit of 4000", content=json.dumps({"id": rid})))
    token = serverdata.enroll(server.url, district.code(district.user("admin")))["token"]
    with serverdata.client(server.url, token) as c:
        rows = c.get("/api/v1/admin/quarantine").json()
    assert [(r["kind"], r["record_id"]) for r in rows] == [("visit", "v-here")]
    assert "over the limit of 4000" in rows[0]["reason"] and json.loads(rows[0]["content"]) == {"id": "v-here"}
    observer = serverdata.enroll(server.url, district.code(district.user("observer")))["token"]
    with serverdata.client(server.url, observer) as c:
        assert c.get("/api/v1/admin/quarantine").status_code == 403
