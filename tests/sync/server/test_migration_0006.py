"""Revision 0006 on a database at 0005 holding walk_member rows that visits made before explicit membership
(injected directly, as an older server wrote them): each walk's members become exactly its creator and its team, a
lead added by that rule gets the walk's visits renumbered, one audit entry per walk that changed, and a lead who was
a member only through a visit no longer receives the walk's other visits from the real server."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from alembic import command
from sqlalchemy import select, text

from sync.server.db import alembic_config
from sync.server.models import AuditLog, Visit, Walk, WalkMember
from tests.support import serverdata
from tests.support import serverproc as harness

AT = datetime(2026, 6, 1, 10, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    yield from harness.empty_engine(request.param, tmp_path)


def _walk(wid: str, created_by: str, team: list[str], seq: int) -> dict:
    return {"id": wid, "school_id": "s1", "walk_date": date(2026, 6, 1), "rubric_id": "sample-district",
            "rubric_version": 1, "focus": [], "team": team, "cycle_label": "", "phase": "baseline",
            "created_by": created_by, "updated_at": AT, "deleted": False, "district_id": "d1", "change_seq": seq,
            "server_updated_at": AT, "device_id": "dev1"}


def _visit(vid: str, wid: str, observer: str, seq: int) -> dict:
    return {"id": vid, "walk_id": wid, "visit_no": seq, "observer_id": observer, "note": "", "started_at": AT,
            "updated_at": AT, "deleted": False, "district_id": "d1", "change_seq": seq, "server_updated_at": AT,
            "device_id": "dev1"}


def _members(c) -> set[tuple[str, str]]:
    return {(r.walk_id, r.user_id) for r in c.execute(select(WalkMember))}


def test_0006_makes_each_walks_members_its_creator_and_team_and_audits_each_change(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0005")
    with engine.begin() as c:
        c.execute(text("INSERT INTO district (id, name, change_counter, created_at) "
                       "VALUES ('d1', 'North', 10, '2026-12-01 08:00:00')"))
        c.execute(text("INSERT INTO app_user (id, district_id, email, role, active, created_at) VALUES "
                       "('creator', 'd1', 'c@x.org', 'lead', true, '2026-12-01 08:00:00'), "
                       "('by-visit', 'd1', 'v@x.org', 'lead', true, '2026-12-01 08:00:00'), "
                       "('on-team', 'd1', 't@x.org', 'lead', true, '2026-12-01 08:00:00'), "
                       "('obs', 'd1', 'o@x.org', 'observer', true, '2026-12-01 08:00:00')"))
        c.execute(Walk.__table__.insert(), [_walk("w1", "creator", ["obs", "on-team", "Principal"], 1),
                                            _walk("w-right", "creator", ["obs"], 2)])
        c.execute(Visit.__table__.insert(), [_visit("v-creator", "w1", "creator", 3),
                                             _visit("v-by-visit", "w1", "by-visit", 4),
                                             _visit("v-right", "w-right", "obs", 5)])
        # as the older server left them: the creator, a lead who wrote a visit, an observer on the team; the lead on
        # the team never indexed; a row of a walk that is gone
        c.execute(WalkMember.__table__.insert(), [
            {"walk_id": "w1", "user_id": u} for u in ("creator", "by-visit", "obs")] + [
            {"walk_id": "w-right", "user_id": u} for u in ("creator", "obs")] + [
            {"walk_id": "w-gone", "user_id": "by-visit"}])

    command.upgrade(cfg, "0006")

    with engine.connect() as c:
        # "Principal" (a role name on the team) is no user: it stays on the walk's team and grants nothing
        assert _members(c) == {("w1", "creator"), ("w1", "obs"), ("w1", "on-team"),
                               ("w-right", "creator"), ("w-right", "obs")}
        entries = list(c.execute(select(AuditLog).where(AuditLog.action == "walk.team")))
        assert [(e.record_id, e.actor) for e in entries] == [("w1", "server")]  # w-right was right already
        assert entries[0].before == {"members": ["by-visit", "creator", "obs"]}
        assert entries[0].after["members"] == ["creator", "obs", "on-team"]
        assert "a visit no longer makes its observer one" in entries[0].after["reason"]
        # the lead put on by the rule receives the walk's visits: they are numbered above every earlier cursor
        seqs = {r[0]: r[1] for r in c.execute(text("SELECT id, change_seq FROM visit"))}
        counter = c.execute(text("SELECT change_counter FROM district WHERE id = 'd1'")).scalar()
        assert counter == 11 and seqs == {"v-creator": 11, "v-by-visit": 11, "v-right": 5}

    command.downgrade(cfg, "0005")
    command.upgrade(cfg, "0006")  # run again: nothing left to change
    with engine.connect() as c:
        assert len(list(c.execute(select(AuditLog).where(AuditLog.action == "walk.team")))) == 1


def test_a_lead_who_was_a_member_only_through_a_visit_receives_no_more_of_the_walks_visits(server, server_db,
                                                                                             district):
    """The real server on a database where an older server had made a lead a member by their visit: once
    migration 0006's rule has run, that lead's pull brings only their own visit's walk, not its other visits."""
    from sync.server.membership import rebuild_all

    creator = serverdata.enroll(server.url, district.code(district.user("lead")))
    joiner = serverdata.enroll(server.url, district.code(district.user("lead")))
    walk = {"id": "w-team-of-one", "school_id": district.school_id, "walk_date": "2026-06-01",
            "rubric_id": "sample-district", "rubric_version": 1, "focus": ["sd.target-posted"], "team": [],
            "phase": "baseline", "created_by": creator["user_id"], "updated_at": "2026-06-01T10:00:00Z"}
    visit = {"id": "v-of-creator", "walk_id": walk["id"], "visit_no": 1, "observer_id": creator["user_id"],
             "grade": "3", "subject": "ELA", "started_at": "2026-06-01T10:00:00Z",
             "updated_at": "2026-06-01T10:00:00Z"}
    with serverdata.client(server.url, creator["token"]) as c:
        r = c.post("/api/v1/push", json={"from_seq": 1, "to_seq": 2, "walks": [[1, walk]], "visits": [[2, visit]]})
        assert r.status_code == 200 and r.json()["results"] == [], r.text
    with server_db.write() as s:  # the row an older server wrote when the joiner pushed a visit into the walk
        s.add(WalkMember(walk_id=walk["id"], user_id=joiner["user_id"]))
    with serverdata.client(server.url, joiner["token"]) as c:
        seen = [ch["record_id"] for ch in c.get("/api/v1/changes", params={"since": 0}).json()["changes"]
                if ch["kind"] == "visit"]
    assert seen == ["v-of-creator"]  # the stray row let them see it

    with server_db.engine.begin() as conn:
        rebuild_all(conn, district.id)  # migration 0006's rule, for this district of the shared database
    with serverdata.client(server.url, creator["token"]) as c:
        visit2 = {**visit, "grade": "4", "updated_at": "2026-06-02T10:00:00Z"}
        r = c.post("/api/v1/push", json={"from_seq": 3, "to_seq": 3, "visits": [[3, visit2]]})  # changed since
        assert r.status_code == 200 and r.json()["results"] == [], r.text
    with serverdata.client(server.url, joiner["token"]) as c:
        after = [ch["record_id"] for ch in c.get("/api/v1/changes", params={"since": 0}).json()["changes"]
                 if ch["kind"] == "visit"]
    assert after == []
    with server_db.engine.connect() as conn:
        entry = conn.execute(select(AuditLog).where(AuditLog.action == "walk.team",
                                                    AuditLog.record_id == walk["id"])).one()
    assert entry.before == {"members": sorted([creator["user_id"], joiner["user_id"]])}
    assert entry.after["members"] == [creator["user_id"]]
