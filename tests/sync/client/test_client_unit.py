"""The sync client and the background task against scripted HTTP answers (httpx.MockTransport), on a real device store."""
from __future__ import annotations

import asyncio
import json
import random
import time

import httpx
import pytest

from tests.support import serverproc as harness
from app.store.sync_adapter import DeviceSyncStore
from app.sync_service import BACKOFF_CAP, SyncError, SyncService, backoff_delay
from sync.client import RoundReport, SyncClient, SyncFailed
from sync.protocol import EnrollResponse

ENROLLED = EnrollResponse(device_id="d1", token="t" * 43, user_id="u1", role="observer", district_id="x",
                          district_name="Test")


@pytest.fixture
def dev(tmp_path):
    d = harness.new_device(tmp_path / "dev")
    d.capture.add_school("Lincoln", school_id="s1")
    d.sync.store.save_enrollment("http://server.test", ENROLLED)
    walk = harness.new_walk(d, "s1")
    harness.record_visits(d, walk.id, 2, ratings=2)  # 1 + 2 x 4 = 9 entries
    yield d
    d.engine.dispose()


def _items(push: dict) -> int:
    return len(push["walks"]) + len(push["visits"]) + len(push["notes"]) + sum(len(c) for _, c in push["cells"])


def _answer_all(request: httpx.Request) -> httpx.Response:
    push = json.loads(request.content)
    return httpx.Response(200, json={"last_op_seq": push["to_seq"], "applied": _items(push), "results": []})


def _empty_pull(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"changes": [], "cursor": 0, "more": False})


def test_a_batch_refused_as_too_large_is_split_until_it_fits(dev):
    sizes = []

    def handler(request):
        if request.url.path.endswith("/push"):
            push = json.loads(request.content)
            n = push["to_seq"] - push["from_seq"] + 1  # outbox entries: seqs 1..9 have no gaps here
            sizes.append(n)
            return httpx.Response(413, json={"detail": "too big"}) if n > 3 else _answer_all(request)
        return _empty_pull(request)

    with SyncClient("http://server.test", "tok", transport=httpx.MockTransport(handler)) as client:
        report = client.sync(dev.sync.store)
    # split into 1-2, 3-4, 5-6, 7-9: the first visit's start and finish now travel apart, so 9 answers, not 7
    assert report.applied == 9 and dev.sync.status().pending == 0
    assert sizes[0] == 9 and max(s for s in sizes if s <= 3) == 3


def test_a_round_counts_the_servers_answers_and_keeps_each_rejected_record(dev):
    def handler(request):
        if request.url.path.endswith("/push"):
            push = json.loads(request.content)
            (visit_id, cells), _ = push["cells"]
            return httpx.Response(200, json={"last_op_seq": push["to_seq"], "applied": 5, "results": [
                {"op_seq": push["walks"][0][0], "status": "duplicate"},
                {"op_seq": cells[0][0], "status": "rejected", "reason": "That look-for is not on the rubric."}]})
        return _empty_pull(request)

    with SyncClient("http://server.test", "tok", transport=httpx.MockTransport(handler)) as client:
        report = client.sync(dev.sync.store)
    assert report.as_dict() == {"pushed": {"applied": 5, "duplicate": 1, "rejected": 1}, "pulled": 0}
    assert report.rejected_reasons == ["That look-for is not on the rubric."]
    status = dev.sync.status()
    assert status.pending == 0 and [(r.kind, r.reason) for r in status.rejected] == [
        ("rating", "That look-for is not on the rubric.")]


class _WatchedStore(DeviceSyncStore):
    """The real device store, noting which reads of the outbox have happened."""

    def __init__(self, engine, catalog):
        super().__init__(engine, catalog)
        self.reads: list[int] = []

    def pending(self, after_seq, limit):
        entries = super().pending(after_seq, limit)
        self.reads.append(after_seq)
        return entries


def test_the_next_batch_is_read_while_a_push_is_on_the_wire(dev):
    store = _WatchedStore(dev.engine, dev.capture.catalog)
    overlapped = []

    def handler(request):
        push = json.loads(request.content)
        deadline = time.monotonic() + 5
        while push["to_seq"] not in store.reads and time.monotonic() < deadline:
            time.sleep(0.005)  # hold the answer until the read after this batch has happened, if it ever does
        overlapped.append(push["to_seq"] in store.reads)
        return _answer_all(request)

    with SyncClient("http://server.test", "tok", transport=httpx.MockTransport(handler), batch_entries=4) as client:
        client.push(store, RoundReport())
    assert overlapped == [True, True, True] and store.reads == [0, 4, 8, 9]
    assert dev.sync.status().pending == 0


def test_out_of_order_keeps_every_entry_and_says_what_to_do(dev):
    def handler(request):
        push = json.loads(request.content)
        return httpx.Response(200, json={"results": [{"op_seq": push["from_seq"], "status": "out_of_order",
                                                      "reason": "expected op_seq 40 next"}],
                                         "last_op_seq": 39, "applied": 0})

    with SyncClient("http://server.test", "tok", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(SyncFailed, match="re-enroll"):
            client.push(dev.sync.store, RoundReport())
    assert dev.sync.status().pending == 9


def test_a_lost_connection_fails_the_round_in_words_and_keeps_the_outbox(dev):
    def handler(request):
        raise httpx.ConnectError("refused")

    service = SyncService(dev.engine, dev.capture.catalog, transport=httpx.MockTransport(handler))
    with pytest.raises(SyncError, match="could not be reached"):
        service.sync_once()
    status = service.status()
    assert status.pending == 9 and "could not be reached" in status.last_error and status.last_success is None


def test_reset_required_repulls_from_zero_and_keeps_the_outbox(dev):
    dev.sync.store.set_meta(pull_cursor="500")
    seen = []

    def handler(request):
        if request.url.path.endswith("/push"):
            return httpx.Response(200, json={"results": [], "last_op_seq": 9, "applied": 7})
        seen.append(int(request.url.params["since"]))
        if seen[-1] == 500:
            return httpx.Response(200, json={"changes": [], "cursor": 0, "more": False, "reset_required": True})
        return httpx.Response(200, json={"changes": [], "cursor": 7, "more": False})

    with SyncClient("http://server.test", "tok", transport=httpx.MockTransport(handler)) as client:
        client.pull(dev.sync.store, RoundReport())
    assert seen == [500, 0] and dev.sync.store.cursor() == 7 and dev.sync.status().pending == 9


def test_backoff_is_full_jitter_doubling_from_one_second_to_five_minutes():
    rng = random.Random(1)
    for failures, ceiling in ((1, 1), (2, 2), (5, 16), (12, BACKOFF_CAP), (40, BACKOFF_CAP)):
        delays = [backoff_delay(failures, rng) for _ in range(300)]
        assert 0 <= min(delays) and max(delays) <= ceiling
        assert max(delays) > 0.8 * ceiling  # spread over the whole range, not clustered


def test_the_background_task_syncs_on_start_on_trigger_and_when_the_network_returns(dev):
    online = {"up": False}
    pushes = []

    def handler(request):
        if not online["up"]:
            raise httpx.ConnectError("offline")
        if request.url.path.endswith("/health"):
            return httpx.Response(200, json={"status": "ok", "protocol": 1})
        if request.url.path.endswith("/push"):
            pushes.append(1)
            return _answer_all(request)
        return _empty_pull(request)

    service = SyncService(dev.engine, dev.capture.catalog, transport=httpx.MockTransport(handler))
    service.probe_every = 0.05
    rounds = []

    async def scenario():
        task = asyncio.create_task(service.run_background(lambda: rounds.append(service.status())))
        while not rounds:
            await asyncio.sleep(0.01)
        assert rounds[0].last_error and rounds[0].pending == 9  # the start-up round failed: offline
        online["up"] = True  # the probe notices and syncs without waiting out the backoff
        while len(rounds) < 2:
            await asyncio.sleep(0.01)
        assert rounds[1].pending == 0 and rounds[1].last_error is None
        harness.record_visits(dev, dev.capture.walks()[0].id, 1, ratings=1)
        service.trigger()  # e.g. "Sync now", or a finished visit
        while len(rounds) < 3:
            await asyncio.sleep(0.01)
        assert rounds[2].pending == 0
        task.cancel()

    asyncio.run(asyncio.wait_for(scenario(), timeout=20))
    assert len(pushes) == 2


def test_a_pulled_change_this_device_cannot_read_is_left_out_counted_and_the_round_completes(dev):
    walk_id = dev.capture.walks()[0].id
    at = "2026-11-25T09:30:00.000000Z"
    bad = {"id": "v-bad", "walk_id": walk_id, "visit_no": 8, "observer_id": "u2", "started_at": "not a time"}
    odd = {"id": "v-odd", "walk_id": walk_id, "visit_no": 9, "observer_id": "u2",
           "cells": [["dl.x", 3], ["dl.y", "3", False, False, at]]}

    def handler(request):
        return httpx.Response(200, json={"changes": [{"kind": "visit", "record_id": v["id"], "seq": 4 + i,
                                                      "data": v} for i, v in enumerate((bad, odd))],
                                         "cursor": 5, "more": False})

    report = RoundReport()
    with SyncClient("http://server.test", "tok", transport=httpx.MockTransport(handler)) as client:
        client.pull(dev.sync.store, report)
    assert (report.pulled, report.skipped) == (2, 2)  # v-odd and its readable cell; v-bad and one cell left out
    assert report.as_dict()["skipped"] == 2 and dev.sync.store.cursor() == 5
    assert [v.id for v in dev.capture.visits(walk_id) if v.id.startswith("v-")] == ["v-odd"]


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                                     httpx.RemoteProtocolError("cut")])
def test_the_sync_and_admin_clients_say_a_transport_failure_in_the_same_words_without_class_names(failure):
    from sync.admin_client import AdminClient, AdminClientError

    def handler(request):
        raise failure

    with SyncClient("http://server.test", "tok", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(SyncFailed) as synced:
            client.enroll("ABCD-1234")
    with AdminClient("http://server.test", "tok", transport=httpx.MockTransport(handler)) as admin:
        with pytest.raises(AdminClientError) as listed:
            admin.users()
    for err in (synced.value, listed.value):
        text = str(err)
        assert text.startswith("The server at http://server.test could not be reached (") and err.retryable
        assert type(failure).__name__ not in text and "Error" not in text
    assert str(synced.value).endswith("changes stay on this device and sync later.")
    assert str(listed.value).endswith("check the address and the network, then try again.")


def test_an_error_answer_is_its_problem_detail_or_its_status_in_words_for_both_clients(dev):
    from sync.admin_client import AdminClient, AdminClientError

    def handler(request):
        if request.url.path.endswith("/enroll") or request.url.path.endswith("/users"):
            return httpx.Response(403, json={"type": "about:blank", "title": "Not allowed", "status": 403,
                                             "detail": "This needs the admin role; ask your district admin."})
        return httpx.Response(502, text="<html>bad gateway</html>")

    transport = httpx.MockTransport(handler)
    with SyncClient("http://server.test", "tok", transport=transport) as client, \
            AdminClient("http://server.test", "tok", transport=transport) as admin:
        with pytest.raises(SyncFailed) as a:
            client.enroll("ABCD-1234")
        with pytest.raises(AdminClientError) as b:
            admin.users()
        with pytest.raises(SyncFailed) as gateway:
            client.pull(dev.sync.store, RoundReport())
    for err in (a.value, b.value):
        assert str(err) == "This needs the admin role; ask your district admin."
        assert err.status == 403 and not err.retryable
    assert gateway.value.status == 502 and gateway.value.retryable
    assert str(gateway.value).startswith("The server answered 502 Bad Gateway;") and "<html>" not in str(gateway.value)


def test_a_sync_round_reports_one_round_report_type_to_the_service_and_the_cli(dev):
    def handler(request):
        return _answer_all(request) if request.url.path.endswith("/push") else _empty_pull(request)

    service = SyncService(dev.engine, dev.capture.catalog, transport=httpx.MockTransport(handler))
    report = service.sync_once()
    # 9 outbox entries, 7 records and cells (a visit's start and finish travel as one snapshot)
    assert isinstance(report, RoundReport) and report.applied == 7
    assert report.as_dict() == {"pushed": {"applied": 7, "duplicate": 0, "rejected": 0}, "pulled": 0}


def test_a_round_on_the_inline_executor_the_browser_uses_sends_and_acknowledges_the_same(dev, monkeypatch):
    import sync.client as client_mod
    monkeypatch.setattr(client_mod, "_worker", lambda name: client_mod.InlineExecutor())
    bodies = []

    def handler(request):
        if request.url.path.endswith("/push"):
            bodies.append(json.loads(request.content))
            return _answer_all(request)
        return _empty_pull(request)

    with SyncClient("http://server.test", "tok", transport=httpx.MockTransport(handler)) as client:
        client.batch_entries = 3  # several batches: read-ahead and acknowledgement interleave in line
        report = client.sync(dev.sync.store)
    assert report.applied == sum(_items(b) for b in bodies) and len(bodies) >= 2
    assert dev.sync.status().pending == 0


def test_the_inline_executor_hands_a_task_error_to_result():
    from sync.client import InlineExecutor
    f = InlineExecutor().submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        f.result()
