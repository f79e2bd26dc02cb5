"""Device store migration 0004: visits recorded when a blank checklist cell meant "Not seen" get that answer as the
value 'not_seen' (sync.protocol.legacy_checklists, the rule the server's migration 0007 applies); a visit with a
change still waiting for sync also queues those cells, so the server gets them; the rest of the store is untouched."""
from __future__ import annotations

import json
import shutil
import sqlite3

from app.store.db import db_path, open_engine
from sync.protocol import RatingData, rating_id
from sync.protocol.cells import push_cell
from tests.support.legacy_checklists import EXPECTED, RUBRIC_KEY, RUBRIC_YAML, VISITS
from tests.support.legacy_store import SHIPPED

PENDING = "v-mathk"  # its visit record is waiting for sync


def v3_store(data, tmp_path, rubric_known=True):
    only = tmp_path / "v3-migrations"
    only.mkdir(exist_ok=True)
    for name in ("0001_initial.sql", "0002_cycles.sql", "0003_rating_without_visit_index.sql"):
        shutil.copy(SHIPPED / name, only)
    open_engine(data, migrations_dir=only).dispose()
    con = sqlite3.connect(db_path(data))
    with con:
        if rubric_known:
            con.execute("INSERT INTO rubric_doc (key, yaml_text, content_hash) VALUES (?, ?, 'h')",
                        (RUBRIC_KEY, RUBRIC_YAML))
        con.execute("INSERT INTO walk (id, school_id, walk_date, rubric_id, rubric_version, focus, team, cycle_label,"
                    " phase, created_by, updated_at, deleted) VALUES ('w1', 's1', '2026-10-01', 'legacy-checklist', "
                    "1, '[\"t.talk\"]', '[]', '', 'baseline', 'local', '2026-10-01 09:00:00.000000', 0)")
        for n, (vid, (subject, grade, cells)) in enumerate(VISITS.items(), 1):
            con.execute("INSERT INTO visit (id, walk_id, visit_no, observer_id, grade, subject, note, started_at, "
                        "ended_at, updated_at, deleted) VALUES (?, 'w1', ?, 'local', ?, ?, '', "
                        "'2026-10-01 09:00:00.000000', '2026-10-01 09:50:00.000000', "
                        "'2026-10-01 09:50:00.000000', 0)", (vid, n, grade, subject))
            for lf, value, na, deleted, at in cells:
                con.execute("INSERT INTO rating (id, visit_id, lookfor_id, value, not_observed, updated_at, deleted) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", (rating_id(vid, lf), vid, lf, value, na, at, deleted))
        con.execute("INSERT INTO outbox (kind, record_id, walk_id, data, created_at) VALUES "
                    "('visit', ?, 'w1', '{}', '2026-10-01 09:50:00.000000')", (PENDING,))
    con.close()


def _rows(data):
    con = sqlite3.connect(db_path(data))
    try:
        ratings = {(v, lf): (val, na, d, at) for v, lf, val, na, d, at in con.execute(
            "SELECT visit_id, lookfor_id, value, not_observed, deleted, updated_at FROM rating")}
        outbox = [(k, r, w, json.loads(d)) for k, r, w, d in con.execute(
            "SELECT kind, record_id, walk_id, data FROM outbox ORDER BY seq")]
        version = con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()
    return ratings, outbox, version


def test_old_blank_checklists_become_not_seen_and_a_pending_visit_queues_them(tmp_path):
    data = tmp_path / "tablet"
    v3_store(data, tmp_path)
    before, _, _ = _rows(data)
    open_engine(data).dispose()  # migrates v3 -> latest
    ratings, outbox, version = _rows(data)
    assert version >= 4
    made = {}
    for vid, (lfs, at) in EXPECTED.items():
        for lf in lfs:
            assert ratings[(vid, lf)] == ("not_seen", 0, 0, at), (vid, lf)
            made[(vid, lf)] = at
    # nothing else changed: answered cells, the visit with nothing answered, the look-fors not shown
    assert {k: v for k, v in ratings.items() if k not in made} == {k: v for k, v in before.items() if k not in made}
    assert ("v-ela4", "c.math") not in ratings and ("v-empty", "c.posted") not in ratings
    # only the visit waiting for sync queues its new cells, after what was queued, as a push reads them
    assert [(k, r) for k, r, _, _ in outbox] == [("visit", PENDING)] + [
        ("rating", rating_id(PENDING, lf)) for lf in sorted(EXPECTED[PENDING][0])]
    for _, rid, walk_id, snap in outbox[1:]:
        cell = RatingData.model_validate(snap)
        assert walk_id == "w1" and cell.id == rid and cell.value == "not_seen" and not cell.deleted
        assert cell.updated_at.isoformat(sep=" ").startswith(EXPECTED[PENDING][1][:19])
        assert push_cell(7, snap) == (PENDING, [7, cell.lookfor_id, "not_seen", False, False,
                                                "2026-10-01T09:41:12.500000Z"])


def test_the_migrated_cells_read_back_through_the_app_as_not_seen_and_the_tally_counts_them(tmp_path):
    from app.debrief import walk_tally
    from app.device import Device

    data = tmp_path / "tablet"
    v3_store(data, tmp_path)
    device = Device.open(data)
    t = walk_tally(device.capture.engine, device.capture.catalog, "w1")
    posted = t.get("c.posted").cell
    # counted visits: v-ela4, v-mathk, v-open (v-empty has nothing answered): Not seen 2, Seen 1
    assert (posted.counts, posted.rated, posted.base) == ({"not_seen": 2, "seen": 1}, 3, 3)


def test_a_walk_of_a_rubric_the_device_does_not_hold_is_left_as_it_is(tmp_path):
    data = tmp_path / "tablet"
    v3_store(data, tmp_path, rubric_known=False)
    before, queued, _ = _rows(data)
    open_engine(data).dispose()
    after, outbox, version = _rows(data)
    assert version >= 4 and after == before and outbox == queued
