"""Cycles and their priorities sync like walks: exactly once, scoped by district, created and changed only by leads
and admins; a cycle's three walks recorded on two devices give the lead each priority's trend against its target."""
from __future__ import annotations

import pytest

from app.debrief.trends import REACHED, UNDECIDED, cycle_trend
from app.store.services import ServiceError
from sync.server.models import Cycle as SCycle, Walk as SWalk
from tests.support import serverproc as harness
from tests.support.cycles import START, TALK, WHY, cycle_world, make_cycle

RUBRIC = harness.RUBRIC


def test_a_cycle_with_two_priorities_and_three_walks_on_two_devices_gives_each_priority_its_trend_and_target(
        server, server_db, district, device):
    lead, obs = device("lead"), device("observer")
    cycle, walks = cycle_world(lead, obs, district)

    on_server = server_db.rows(SCycle, SCycle.id == cycle.id)
    assert len(on_server) == 1 and on_server[0].district_id == district.id  # exactly once, in its district
    assert on_server[0].priorities == [{"lookfors": [TALK], "target": 60}, {"lookfors": [WHY], "target": 50}]
    assert {w.cycle_id for w in server_db.rows(SWalk, SWalk.district_id == district.id)} == {cycle.id}
    # the observer's tablet holds the cycle too, and its walks took the cycle's priorities as their focus
    assert [c.id for c in obs.capture.cycles(district.school_id)] == [cycle.id]
    assert all(w.focus == [TALK, WHY] and w.cycle_label == "Fall 2026" for w in obs.capture.walks())

    trend = cycle_trend(lead.engine, lead.capture.catalog, walks["end-of-cycle"].id)
    assert [w.phase for w in trend.walks] == ["baseline", "six-week", "end-of-cycle"]
    assert trend.visits == [8, 8, 8]
    talk, why = trend.rows
    assert (talk.lookfor_id, talk.priority, talk.target) == (TALK, 1, 60)
    assert (why.lookfor_id, why.priority, why.target) == (WHY, 2, 50)
    assert talk.shares == [2 / 8, 4 / 8, 8 / 8] and why.shares == [1 / 8, 2 / 8, 3 / 8]
    # 8 of 8: the Wilson interval 68-100% lies above 60%; 3 of 8: 14-69% holds 50%
    assert talk.status == REACHED and why.status == UNDECIDED
    assert talk.target_text == ("Target 60% by the end-of-cycle walk · latest 100% (95% interval 68-100%): "
                                "target reached")
    assert why.change_text == "+25 pts, too close to call"


def test_observers_read_cycles_but_only_leads_and_admins_create_or_change_them(server, server_db, district,
                                                                                device):
    lead, obs = device("lead"), device("observer")
    lead.sync.sync_once()
    obs.sync.sync_once()
    with pytest.raises(ServiceError, match="Leads and admins create and change cycles"):
        make_cycle(obs, district.school_id)
    assert obs.capture.pending_count() == 0  # nothing was saved

    cycle = make_cycle(lead, district.school_id)
    lead.sync.sync_once()
    obs.sync.sync_once()
    assert obs.capture.cycle(cycle.id).priorities[0]["target"] == 60
    with pytest.raises(ServiceError, match="Leads and admins"):
        obs.capture.update_cycle(cycle.id, name="Renamed")

    # a push that bypasses the tablet's check is refused by the server with the same rule
    snapshot = {**lead.capture.cycle(cycle.id).model_dump(mode="json"), "name": "Renamed by an observer"}
    with harness.api(server.url, harness.token_of(obs)) as c:
        answer = c.post("/api/v1/push", json={"from_seq": 1, "to_seq": 1, "cycles": [[1, snapshot]]}).json()
    assert answer["results"][0]["status"] == "rejected"
    assert "only by a lead or an admin" in answer["results"][0]["reason"]
    assert server_db.rows(SCycle, SCycle.id == cycle.id)[0].name == "Fall 2026"

    # the lead's change of a target reaches the observer; a replayed push changes nothing twice
    lead.capture.update_cycle(cycle.id, priorities=[{"lookfors": [TALK], "target": 70},
                                                    {"lookfors": [WHY], "target": 50}])
    lead.sync.sync_once()
    obs.sync.sync_once()
    assert obs.capture.cycle(cycle.id).priorities[0]["target"] == 70
    assert len(server_db.rows(SCycle, SCycle.id == cycle.id)) == 1


def test_a_cycle_is_seen_only_in_its_district(server, server_db, district, device):
    lead = device("lead")
    lead.sync.sync_once()
    cycle = make_cycle(lead, district.school_id)
    lead.sync.sync_once()
    other = server_db.district()
    stranger = device("lead", other)
    stranger.sync.sync_once()
    assert stranger.capture.cycles() == []
    # a cycle for another district's school is refused with the reason
    with harness.api(server.url, harness.token_of(stranger)) as c:
        snapshot = {**lead.capture.cycle(cycle.id).model_dump(mode="json"), "id": "c-elsewhere"}
        answer = c.post("/api/v1/push", json={"from_seq": 1, "to_seq": 1, "cycles": [[1, snapshot]]}).json()
    assert answer["results"][0]["status"] == "rejected" and "not a school of this district" in \
        answer["results"][0]["reason"]
    assert server_db.rows(SCycle, SCycle.id == "c-elsewhere") == []


def test_a_bad_cycle_is_refused_on_the_tablet_with_words_and_nothing_is_saved(server, district, device):
    lead = device("lead")
    lead.sync.sync_once()
    with pytest.raises(ServiceError, match="write a whole percent from 1 to 100"):
        make_cycle(lead, district.school_id, targets=(160, 50))
    with pytest.raises(ServiceError, match="name 1 to 3 in all, each once"):
        lead.capture.create_cycle(school_id=district.school_id, name="X", start_date=START, rubric_id=RUBRIC[0],
                                  rubric_version=RUBRIC[1], priorities=[{"lookfors": [TALK], "target": 60},
                                                                        {"lookfors": [TALK], "target": 50}])
    assert lead.capture.pending_count() == 0 and lead.capture.cycles() == []
