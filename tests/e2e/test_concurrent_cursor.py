"""Concurrent pushes from several devices never let a pulling device's cursor skip a change."""
from __future__ import annotations

import threading

from tests.support import serverproc as harness
from sync.client import RoundReport, SyncClient


def test_a_device_pulling_during_concurrent_pushes_ends_up_with_every_visit(server, district, device):
    admin = device("admin")
    observers = [device("observer") for _ in range(4)]
    admin.sync.sync_once()
    walk = harness.new_walk(admin, district.school_id, team=[harness.user_of(o) for o in observers])
    admin.sync.sync_once()
    expected = set()
    for obs in observers:
        obs.sync.sync_once()
        expected |= set(harness.record_visits(obs, walk.id, 12, ratings=2))
    pushing = [True]
    errors = []

    def push(obs):
        try:
            # small batches: many short transactions interleaving on the district counter
            with SyncClient(server.url, harness.token_of(obs), batch_entries=6) as client:
                client.push(obs.sync.store, RoundReport())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def pull():
        with SyncClient(server.url, harness.token_of(admin)) as client:
            while pushing[0]:
                client.pull(admin.sync.store, RoundReport())

    puller = threading.Thread(target=pull)
    pushers = [threading.Thread(target=push, args=(o,)) for o in observers]
    puller.start()
    for t in pushers:
        t.start()
    for t in pushers:
        t.join()
    pushing[0] = False
    puller.join()
    assert errors == []
    admin.sync.sync_once()  # one more round: only changes after the cursor arrive
    assert {v.id for v in admin.capture.visits(walk.id)} == expected
    assert sum(len(admin.capture.ratings(v)) for v in expected) == len(expected) * 2
