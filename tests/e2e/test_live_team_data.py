"""Live team data: while a screen showing team data watches, the lead's background sync task pulls on a short
interval by itself, so a teammate's visit pushed from a second device arrives on the lead's device without a tap
(the interval shortened through the setting LEARNWALK_LIVE_SYNC_SECONDS, as the app reads it)."""
from __future__ import annotations

import asyncio

from app.sync_service import LIVE_EVERY, live_every_setting
from tests.support import serverproc as harness


def test_a_teammates_visit_arrives_on_the_watching_leads_device_without_a_tap(server, district, device,
                                                                              monkeypatch):
    monkeypatch.setenv("LEARNWALK_LIVE_SYNC_SECONDS", "0.5")
    lead, obs = device("lead"), device("observer")
    assert lead.sync.live_every == 0.5
    lead.sync.sync_once()
    obs.sync.sync_once()
    walk = harness.new_walk(lead, district.school_id, team=[harness.user_of(obs)])
    lead.sync.sync_once()
    obs.sync.sync_once()
    rounds = []

    async def scenario() -> list[str]:
        task = asyncio.create_task(lead.sync.run_background(lambda: rounds.append(1)))
        try:
            while not rounds:  # the task's first round (on start)
                await asyncio.sleep(0.05)
            lead.sync.watch("debrief")  # the Debrief opened
            held_before = len(rounds)  # before the push: the lead's round may pull it while obs still pulls
            visit_ids = await asyncio.to_thread(harness.record_visits, obs, walk.id, 1)
            await asyncio.to_thread(obs.sync.sync_once)  # pushed from the teammate's device
            for _ in range(600):  # up to 60 s; nothing calls trigger() or sync_once() on the lead
                if set(visit_ids) <= {v.id for v in lead.capture.visits(walk.id)}:
                    break
                await asyncio.sleep(0.1)
            assert len(rounds) > held_before  # it came by a background round of its own
            return visit_ids
        finally:
            task.cancel()

    visit_ids = asyncio.run(scenario())
    assert set(visit_ids) <= {v.id for v in lead.capture.visits(walk.id)}
    assert lead.sync.last_report is not None


def test_the_live_interval_setting_falls_back_to_a_minute_unless_a_positive_number(monkeypatch):
    monkeypatch.setenv("LEARNWALK_LIVE_SYNC_SECONDS", "soon")
    assert live_every_setting() == LIVE_EVERY
    monkeypatch.setenv("LEARNWALK_LIVE_SYNC_SECONDS", "-1")
    assert live_every_setting() == LIVE_EVERY


def test_while_team_data_is_on_screen_a_failed_round_is_retried_within_the_live_interval(tmp_path, monkeypatch):
    import random

    from app.device import Device
    from app.sync_service import BACKOFF_CAP, LIVE_JITTER

    monkeypatch.setenv("LEARNWALK_LIVE_SYNC_SECONDS", "30")
    sync = Device.open(tmp_path / "lead").sync
    rng = random.Random(7)
    assert sync.next_delay(0, rng) is None  # nothing on screen, nothing failed: wait for a trigger
    assert max(sync.next_delay(12, rng) for _ in range(200)) > 30 * (1 + LIVE_JITTER)  # plain backoff grows
    assert max(sync.next_delay(12, rng) for _ in range(200)) <= BACKOFF_CAP
    sync.watch("debrief")
    delays = [sync.next_delay(12, rng) for _ in range(200)]
    assert max(delays) <= 30 * (1 + LIVE_JITTER)  # capped at the live interval while the Debrief is open
    assert 30 * (1 - LIVE_JITTER) <= sync.next_delay(0, rng) <= 30 * (1 + LIVE_JITTER)
    sync.unwatch("debrief")
    assert sync.next_delay(0, rng) is None
