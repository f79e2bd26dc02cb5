"""Pull pages, tombstones and rating conflicts between two devices of one observer."""
from __future__ import annotations

from tests.support import serverproc as harness
from sync.server.models import AuditLog, Visit as SVisit


def test_pull_pages_cover_every_change_once_in_order(server, district, device):
    obs, admin = device("observer"), device("admin")
    obs.sync.sync_once()
    walk = harness.new_walk(obs, district.school_id)
    harness.record_visits(obs, walk.id, 6, ratings=3)
    obs.sync.sync_once()
    with harness.api(server.url, harness.token_of(admin)) as http:
        whole = http.get("/api/v1/changes", params={"since": 0}).json()
        assert whole["more"] is False
        paged, cursor, pages = [], 0, 0
        while True:
            page = http.get("/api/v1/changes", params={"since": cursor, "limit": 4}).json()
            paged += page["changes"]
            cursor, pages = page["cursor"], pages + 1
            if not page["more"]:
                break
    assert pages > 5 and cursor == whole["cursor"]
    assert [c["seq"] for c in paged] == sorted(c["seq"] for c in paged)
    key = lambda c: (c["kind"], c["record_id"])  # noqa: E731
    assert sorted(map(key, paged)) == sorted(map(key, whole["changes"])) and len(set(map(key, paged))) == len(paged)


def test_a_deleted_visit_reaches_the_team_as_a_tombstone_and_a_restore_lifts_it(server, server_db, district, device):
    lead, obs = device("lead"), device("observer")
    lead.sync.sync_once()
    walk = harness.new_walk(lead, district.school_id, team=[harness.user_of(obs)])
    lead.sync.sync_once()
    obs.sync.sync_once()
    (vid,) = harness.record_visits(obs, walk.id, 1)
    obs.sync.sync_once()
    lead.sync.sync_once()
    assert [v.id for v in lead.capture.visits(walk.id)] == [vid]

    obs.capture.delete_visit(vid)
    obs.sync.sync_once()
    lead.sync.sync_once()
    assert lead.capture.visits(walk.id) == []
    (row,) = server_db.rows(SVisit, SVisit.id == vid)
    assert row.deleted is True  # kept as a tombstone, not removed

    obs.capture.restore_visit(vid)
    obs.sync.sync_once()
    lead.sync.sync_once()
    assert [v.id for v in lead.capture.visits(walk.id)] == [vid]


def test_a_rating_cell_is_last_writer_wins_and_the_replaced_value_is_audited(server, server_db, district, tmp_path):
    user = district.user("observer")
    first = harness.new_device(tmp_path / "a", server.url, district.code(user))
    second = harness.new_device(tmp_path / "b", server.url, district.code(user))  # same observer, 2nd tablet
    first.sync.sync_once()
    walk = harness.new_walk(first, district.school_id)
    (vid,) = harness.record_visits(first, walk.id, 1, ratings=0)
    rubric = first.capture.catalog.get(*harness.RUBRIC)
    lf = rubric.lookfors[0].id
    low, high = rubric.scale_of(lf).values()[0], rubric.scale_of(lf).values()[-1]
    first.capture.rate(vid, lf, low)
    first.sync.sync_once()
    second.sync.sync_once()
    second.capture.rate(vid, lf, high)
    second.sync.sync_once()
    first.sync.sync_once()

    assert first.capture.ratings(vid)[lf].value == high
    (audit,) = server_db.rows(AuditLog, AuditLog.district_id == district.id, AuditLog.action == "rating.replaced")
    assert (audit.before["value"], audit.after["value"]) == (low, high)
    for d in (first, second):
        d.engine.dispose()


def test_a_device_that_only_pulls_still_shows_when_it_last_synced(server, server_db, district, device):
    from sync.server.models import Device

    lead = device("lead")
    device_id = lead.sync.store.meta("device_id")["device_id"]
    assert server_db.rows(Device, Device.id == device_id)[0].last_sync_at is None
    lead.sync.sync_once()  # nothing to push: the round is one pull
    assert server_db.rows(Device, Device.id == device_id)[0].last_sync_at is not None
