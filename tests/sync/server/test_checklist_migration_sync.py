"""Both stores' checklist migrations (server 0007, device store 0004) end with the same cells everywhere.

The data takes the production path: two enrolled devices record a walk the way an older app did (checklist
look-fors left blank, meaning "Not seen") and sync it to the real server; one visit is still waiting to be sent.
Then the server's database and both devices' stores are put back to the schema before the change and upgraded, as
an update does; after one more sync each, the creator's device, the teammate's device and the server hold the same
cells for every visit (each once), and nothing is left waiting.
"""
from __future__ import annotations

import sqlite3

from alembic import command
from sqlalchemy import text
from sqlmodel import Session, select

from app.store.db import db_path
from app.store.models import Outbox, Rating
from sync.protocol import times
from sync.server.db import alembic_config
from tests.support import serverproc as harness

RUBRIC = harness.RUBRIC  # deeper-learning@1: two checklist look-fors, dl.quality-criteria and dl.help-strategies


def _device_cells(dev) -> dict:
    with Session(dev.engine) as s:
        return {(r.visit_id, r.lookfor_id): (r.value, r.not_observed, r.deleted, times.canonical(r.updated_at))
                for r in s.exec(select(Rating)).all()}


def _server_cells(db, district_id) -> dict:
    return {k: (c.value, c.not_observed, c.deleted, c.updated_at) for k, c in db.cells(district_id).items()}


def _as_before(path) -> None:
    """The store as schema 3 had it: the rating table keyed by its id again (0005 keys it by visit and look-for)."""
    con = sqlite3.connect(db_path(path), isolation_level=None)
    con.executescript("""
        BEGIN;
        CREATE TABLE rating_v3 (id VARCHAR(36) NOT NULL, visit_id VARCHAR(36) NOT NULL, lookfor_id VARCHAR(80) NOT NULL,
            value VARCHAR(40), not_observed BOOLEAN NOT NULL, updated_at DATETIME NOT NULL, deleted BOOLEAN NOT NULL,
            PRIMARY KEY (id), UNIQUE (visit_id, lookfor_id));
        INSERT INTO rating_v3 SELECT id, visit_id, lookfor_id, value, not_observed, updated_at, deleted FROM rating;
        DROP TABLE rating;
        ALTER TABLE rating_v3 RENAME TO rating;
        PRAGMA user_version = 3;
        COMMIT;""")
    con.close()


def test_after_both_migrations_and_a_sync_the_devices_and_the_server_hold_the_same_cells(tmp_path):
    url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    db = harness.Db(url)
    server = harness.ServerProc(url).start()
    district = db.district()
    lead_user, mate_user = district.user("lead"), district.user("lead")  # a co-lead: sees the walk's visits
    lead = harness.new_device(tmp_path / "lead", server.url, district.code(lead_user))
    mate = harness.new_device(tmp_path / "mate", server.url, district.code(mate_user))
    lead.sync.sync_once()  # the district's schools
    rubric = lead.capture.catalog.get(*RUBRIC)
    walk = lead.capture.create_walk(school_id=district.school_id, rubric_id=RUBRIC[0], rubric_version=RUBRIC[1],
                                    focus=["dl.interactive"], team=[mate_user])
    first = lead.capture.start_visit(walk.id, grade="3", subject="Math")
    lead.capture.rate(first.id, "dl.interactive", "3")
    lead.capture.rate(first.id, "dl.quality-criteria", "seen")  # dl.help-strategies blank: "Not seen" back then
    lead.capture.finish_visit(first.id)
    empty = lead.capture.start_visit(walk.id, grade="3", subject="Math")  # nothing answered: stays as it is
    lead.capture.finish_visit(empty.id)
    lead.sync.sync_once()
    mate.sync.sync_once()  # the walk and the lead's visits reach the teammate
    mine = mate.capture.start_visit(walk.id, grade="5", subject="ELA")  # the teammate's own visit
    mate.capture.rate(mine.id, "dl.engaged", "2")
    mate.capture.rate(mine.id, "dl.help-strategies", "seen")
    mate.capture.clear_rating(mine.id, "dl.help-strategies")  # cleared: a tombstone, "Not seen" back then
    mate.capture.finish_visit(mine.id)
    for dev in (lead, mate, lead, mate):
        dev.sync.sync_once()
    late = lead.capture.start_visit(walk.id, grade="3", subject="Math")  # recorded offline: still waiting
    lead.capture.mark_not_observed(late.id, "dl.interactive")
    lead.capture.finish_visit(late.id)
    assert _device_cells(mate).keys() >= {(first.id, "dl.interactive")}  # the teammate holds the lead's visit

    # the update: the server's database and both stores back at the schema before the change, then upgraded
    server.stop()
    for dev in (lead, mate):
        dev.engine.dispose()
        _as_before(dev.path)
    with db.engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    command.upgrade(alembic_config(db.engine), "0007")
    server.start(port=server.port)  # where the devices were enrolled
    lead, mate = harness.new_device(lead.path), harness.new_device(mate.path)  # each store migrates on opening

    checklists = [lf.id for lf in rubric.lookfors if rubric.scale(lf.scale).checklist]
    assert checklists == ["dl.quality-criteria", "dl.help-strategies"]
    lead_cells = _device_cells(lead)
    assert lead_cells[(first.id, "dl.help-strategies")][0] == "not_seen"
    assert lead_cells[(first.id, "dl.quality-criteria")][0] == "seen"
    assert lead_cells[(late.id, "dl.quality-criteria")][0] == "not_seen"  # the waiting visit, queued
    assert not any(vid == empty.id for vid, _ in lead_cells)
    assert _device_cells(mate)[(mine.id, "dl.help-strategies")][0] == "not_seen"  # the cleared one

    for dev in (lead, mate, lead, mate):
        dev.sync.sync_once()

    on_server = _server_cells(db, district.id)
    assert on_server[(late.id, "dl.help-strategies")][0] == "not_seen"  # sent by the lead's device
    assert on_server[(first.id, "dl.help-strategies")][0] == "not_seen"  # written by the server's migration
    assert on_server[(mine.id, "dl.help-strategies")][:3] == ("not_seen", False, False)
    assert not any(vid == empty.id for vid, _ in on_server)
    assert _device_cells(lead) == on_server
    assert _device_cells(mate) == on_server
    for dev in (lead, mate):
        with Session(dev.engine) as s:
            assert s.exec(select(Outbox)).all() == []
        dev.engine.dispose()
    server.stop()
    db.engine.dispose()
