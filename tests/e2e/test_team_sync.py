"""Visits captured offline on two devices reach the server once and the lead's tablet shows the whole team."""
from __future__ import annotations

from collections import Counter


from tests.support import serverproc as harness
from sync.server.models import Visit as SVisit


def test_lead_holds_both_devices_visits_and_server_holds_each_once(server, server_db, district, device):
    lead, obs = device("lead"), device("observer")
    lead.sync.sync_once()
    obs.sync.sync_once()  # both receive the school and rubrics
    walk = harness.new_walk(lead, district.school_id, team=[harness.user_of(obs)])
    lead.sync.sync_once()  # the walk reaches the server ...
    obs.sync.sync_once()   # ... and the observer's tablet, which then goes offline
    assert [w.id for w in obs.capture.walks()] == [walk.id]

    lead_visits = harness.record_visits(lead, walk.id, 3)
    obs_visits = harness.record_visits(obs, walk.id, 4)
    obs.sync.sync_once()
    lead.sync.sync_once()

    held = {v.id for v in lead.capture.visits(walk.id)}
    assert held == set(lead_visits) | set(obs_visits)
    assert sum(len(lead.capture.ratings(v)) for v in obs_visits) == 4 * 3
    on_server = Counter(v.id for v in server_db.rows(SVisit, SVisit.walk_id == walk.id))
    assert set(on_server) == held and set(on_server.values()) == {1}
    cells = server_db.cells(district.id, SVisit.walk_id == walk.id)  # fails on a cell stored twice
    assert {vid for vid, _ in cells} == held and len(cells) == 7 * 3
    assert lead.sync.status().pending == 0 and obs.sync.status().pending == 0


def test_observer_receives_walks_but_only_their_own_visits(server, district, device):
    lead, obs = device("lead"), device("observer")
    lead.sync.sync_once()
    walk = harness.new_walk(lead, district.school_id)
    harness.record_visits(lead, walk.id, 2)
    lead.sync.sync_once()
    obs.sync.sync_once()
    assert [w.id for w in obs.capture.walks()] == [walk.id]
    assert obs.capture.visits(walk.id) == []


def test_a_visit_into_a_walk_does_not_make_a_lead_a_member_the_creator_adding_them_does(server, server_db, district,
                                                                                         device):
    """Membership is explicit (issue 16): it replaced test_lead_joining_a_walk_with_a_visit_then_receives_its_earlier_
    visits, where a lead's first visit in another's walk made them a member and showed them its earlier visits."""
    from sync.server.models import AuditLog

    creator, obs, joiner = device("lead"), device("observer"), device("lead")
    for d in (creator, obs, joiner):
        d.sync.sync_once()
    walk = harness.new_walk(creator, district.school_id, team=[harness.user_of(obs)])
    creator.sync.sync_once()
    obs.sync.sync_once()
    joiner.sync.sync_once()
    earlier = harness.record_visits(obs, walk.id, 2)
    obs.sync.sync_once()
    mine = harness.record_visits(joiner, walk.id, 1)
    joiner.sync.sync_once()  # not on the team: the visit is refused with its reason, nothing seen
    refused = [r for r in joiner.sync.status().rejected if r.kind == "visit"]
    assert refused and {r.record_id for r in refused} == set(mine)
    assert all("whose team does not include you" in r.reason for r in refused)
    assert {v.id for v in joiner.capture.visits(walk.id)} == set(mine)  # only its own, kept on the device
    assert not server_db.rows(SVisit, SVisit.id == mine[0])

    creator.capture.update_walk(walk.id, team=[*creator.capture.walk(walk.id).team, harness.user_of(joiner)])
    creator.sync.sync_once()
    joiner.sync.retry_rejected()
    joiner.sync.sync_once()
    joiner.sync.sync_once()
    assert {v.id for v in joiner.capture.visits(walk.id)} == set(earlier) | set(mine)
    created, added = sorted(server_db.rows(AuditLog, AuditLog.action == "walk.team", AuditLog.record_id == walk.id),
                            key=lambda e: e.id)
    assert created.before == {"members": []}
    assert created.after == {"members": sorted([harness.user_of(creator), harness.user_of(obs)])}
    assert added.before == created.after and harness.user_of(joiner) in added.after["members"]

    creator.capture.update_walk(walk.id, team=[harness.user_of(obs)])  # taken off the team again
    creator.sync.sync_once()
    later = harness.record_visits(obs, walk.id, 1)
    obs.sync.sync_once()
    joiner.sync.sync_once()
    assert later[0] not in {v.id for v in joiner.capture.visits(walk.id)}


def test_only_the_creator_a_lead_on_the_team_or_an_admin_changes_a_walks_team(server, district, device):
    creator, teammate, outsider = device("lead"), device("observer"), device("observer")
    for d in (creator, teammate, outsider):
        d.sync.sync_once()
    walk = harness.new_walk(creator, district.school_id, team=[harness.user_of(teammate)])
    creator.sync.sync_once()
    teammate.sync.sync_once()
    teammate.capture.update_walk(walk.id, team=[harness.user_of(teammate), harness.user_of(outsider)])
    teammate.sync.sync_once()  # an observer on the team may edit the walk, not its members
    [refused] = [r for r in teammate.sync.status().rejected if r.kind == "walk"]
    assert refused.record_id == walk.id
    assert "can be changed only by its creator, a lead on its team or an admin" in refused.reason


def test_admin_receives_the_whole_district(server, district, device):
    obs, admin = device("observer"), device("admin")
    obs.sync.sync_once()
    walk = harness.new_walk(obs, district.school_id)
    visits = harness.record_visits(obs, walk.id, 2)
    obs.sync.sync_once()
    admin.sync.sync_once()
    assert {v.id for v in admin.capture.visits(walk.id)} == set(visits)


def test_another_districts_devices_never_receive_this_districts_records(server, server_db, district, device):
    lead = device("lead")
    lead.sync.sync_once()
    walk = harness.new_walk(lead, district.school_id)
    harness.record_visits(lead, walk.id, 2)
    lead.sync.sync_once()
    other = server_db.district()
    outsider = device("admin", other)
    outsider.sync.sync_once()
    assert outsider.capture.walks() == []
    assert {s.id for s in outsider.capture.schools()} == {other.school_id}


def test_a_pulled_record_never_overwrites_a_pending_local_change(server, district, device):
    lead = device("lead")
    lead.sync.sync_once()
    walk = harness.new_walk(lead, district.school_id)
    (vid,) = harness.record_visits(lead, walk.id, 1)
    lead.sync.sync_once()
    lead.capture.update_visit(vid, note="changed offline")
    lead.sync.store.reset_cursor()  # force the server's older copy to come back in a pull
    from sync.client import RoundReport, SyncClient

    with SyncClient(server.url, harness.token_of(lead)) as client:
        client.pull(lead.sync.store, RoundReport())
    assert lead.capture.visit(vid).note == "changed offline"
    assert lead.sync.status().pending == 1
