"""A device syncing through a network that cuts, duplicates and delays: after retries every record is on the
server exactly once, the outbox is empty, and an answer lost after the server committed changes nothing when the
push is sent again (the replay gets the first answers back)."""
from __future__ import annotations

import json
import time

import pytest
from sqlmodel import Session
from sync.client import RoundReport, SyncClient, SyncFailed
from sync.push_wire import build_push
from tests.support.faultcheck import (answer_all_applied, assert_exactly_once, assert_numbered_once, capture_some,
                                     harness, last_op_seq, numbers_taken, outbox, pending_entries, server_records,
                                     server_state, sync_until_done)


def _ready(proxied_device, district, role="observer", visits=8):
    dev = proxied_device(role)
    dev.sync.sync_once()  # school and rubrics arrive
    capture_some(dev, district.school_id, visits)
    return dev


@pytest.mark.parametrize("cut_at", [10, "half"])
def test_a_request_cut_before_the_server_has_it_all_commits_nothing_and_the_retry_applies_it_once(
        proxy, proxied_device, district, server_db, cut_at):
    dev = _ready(proxied_device, district)
    before = server_state(server_db, district.id)
    pending, entries = outbox(dev), pending_entries(dev)
    fault = proxy.plan("cut_request", arg=0)
    # the request is as long as its body; cut inside the headers, or in the middle of the body
    body_len = len(harness.push_body(entries))
    fault.arg = 10 if cut_at == 10 else 200 + body_len // 2

    with pytest.raises(SyncFailed) as failed:
        with SyncClient(proxy.url, harness.token_of(dev)) as client:
            client.sync(dev.sync.store)
    assert failed.value.retryable
    assert outbox(dev) == pending  # nothing was acknowledged
    assert server_state(server_db, district.id) == before  # nothing was written
    sync_until_done(dev, proxy.url)
    assert_exactly_once(dev, server_db, district.id)
    assert_numbered_once(before, server_state(server_db, district.id), entries)  # the retry alone wrote


def test_a_cut_in_the_second_batch_keeps_the_first_batch_acknowledged_and_the_rest_arrives_once(
        proxy, proxied_device, district, server_db):
    dev = _ready(proxied_device, district, visits=10)
    total, entries = len(outbox(dev)), pending_entries(dev)
    before = server_state(server_db, district.id)
    proxy.plan("pass", arg=0)  # the first batch goes through
    proxy.plan("cut_request", arg=300)
    with pytest.raises(SyncFailed):
        with SyncClient(proxy.url, harness.token_of(dev), batch_entries=20) as client:
            client.sync(dev.sync.store)
    assert len(outbox(dev)) == total - 20
    assert last_op_seq(server_db, dev) == 20
    assert_numbered_once(before, server_state(server_db, district.id), entries[:20])  # the first batch alone
    failures = sync_until_done(dev, proxy.url, batch_entries=20)
    assert failures == []
    assert_exactly_once(dev, server_db, district.id)
    # every batch written once: a visit whose cells came in a later batch took one more number then, no more
    assert server_state(server_db, district.id)["counter"] == before["counter"] + numbers_taken(entries, 20)


@pytest.mark.slow
@pytest.mark.parametrize("lost", ["nothing_arrives", "headers_cut", "last_bytes_missing", "late_past_timeout"])
def test_an_answer_lost_after_the_server_committed_is_answered_the_same_on_retry_and_changes_nothing(
        proxy, proxied_device, district, server_db, lost):
    dev = _ready(proxied_device, district)
    pending, entries = outbox(dev), pending_entries(dev)
    before = server_state(server_db, district.id)
    if lost == "late_past_timeout":
        proxy.plan("delay_response", arg=3.0)
    else:
        proxy.plan("cut_response", arg={"nothing_arrives": 0, "headers_cut": 25, "last_bytes_missing": -8}[lost])

    with pytest.raises(SyncFailed) as failed:
        with SyncClient(proxy.url, harness.token_of(dev), timeout=1.0) as client:
            client.sync(dev.sync.store)
    assert failed.value.retryable
    assert outbox(dev) == pending  # the device never saw the answer, so it keeps every entry
    deadline = time.monotonic() + 60
    while not proxy.exchanges()[0].answers:  # a slow server may still be answering when the client gives up
        assert time.monotonic() < deadline
        time.sleep(0.05)
    committed = server_state(server_db, district.id)
    assert_numbered_once(before, committed, entries)  # the server did commit
    assert last_op_seq(server_db, dev) == pending[-1][0]
    if lost == "late_past_timeout":
        time.sleep(2.5)  # let the late answer go (to nobody) before the retry

    report = RoundReport()
    with SyncClient(proxy.url, harness.token_of(dev)) as client:
        client.push(dev.sync.store, report)
    first, retry = proxy.exchanges()[0], proxy.exchanges()[-1]
    assert first.fault in ("cut_response", "delay_response") and retry.fault is None
    assert retry.bodies()[0] == first.bodies()[0]  # the replay gets exactly the first answers back
    assert first.bodies()[0] == answer_all_applied(entries)  # and those said: every record and cell applied
    assert server_state(server_db, district.id) == committed  # nothing was written again, nothing renumbered
    assert (report.applied, report.duplicate, report.rejected) == (build_push(entries).items, 0, 0)
    assert_exactly_once(dev, server_db, district.id)


def test_a_retry_in_one_bigger_batch_overlapping_a_push_whose_answer_was_lost_applies_only_the_rest(
        proxy, proxied_device, district, server_db):
    """The first 20 entries went as one push whose answer was lost; the retry carries them again inside one push of
    everything, coalesced differently (a record changed on both sides of entry 20 travels once, in its latest
    state). The server answers the part it had as it did then, applies the rest once, and renumbers nothing
    that did not change."""
    dev = _ready(proxied_device, district, visits=6)
    pending, entries = outbox(dev), pending_entries(dev)
    before = server_state(server_db, district.id)
    proxy.plan("cut_response", arg=0)
    with pytest.raises(SyncFailed):
        with SyncClient(proxy.url, harness.token_of(dev), batch_entries=20) as client:
            client.sync(dev.sync.store)
    assert outbox(dev) == pending and last_op_seq(server_db, dev) == 20
    first = server_state(server_db, district.id)
    assert_numbered_once(before, first, entries[:20])
    assert first["counter"] < before["counter"] + numbers_taken(entries)  # some records are left for the retry

    report = RoundReport()
    with SyncClient(proxy.url, harness.token_of(dev)) as client:
        client.push(dev.sync.store, report)
    retry = proxy.exchanges()[-1]
    assert retry.fault is None and retry.bodies() == [answer_all_applied(entries)]
    assert (report.applied, report.duplicate, report.rejected) == (build_push(entries).items, 0, 0)
    after = server_state(server_db, district.id)
    assert after["counter"] == first["counter"] + numbers_taken(entries, processed=20)
    # a record whose latest change (and, for a visit, whose cells' latest changes) the first push carried kept
    # the number it took then
    sent = json.loads(build_push(entries).body)
    later_cells = {vid for vid, cells in sent["cells"] if any(c[0] > 20 for c in cells)}
    kept = [(kind, snap["id"]) for kind, key in (("walk", "walks"), ("visit", "visits"), ("note", "notes"))
            for q, snap in sent[key] if q <= 20 and snap["id"] not in later_cells]
    assert kept and all(after["rows"][k] == first["rows"][k] for k in kept)
    assert_exactly_once(dev, server_db, district.id)


def test_a_resend_under_new_op_seqs_after_a_lost_answer_is_answered_duplicate_and_ends_unchanged(
        proxy, proxied_device, district, server_db):
    """The same content queued again (as retry_rejected does) is recognised by content: every record and cell of
    the resend (each once, in its latest state, under its new op_seq) is answered duplicate, and nothing is
    written or renumbered."""
    dev = _ready(proxied_device, district, visits=3)
    pending = outbox(dev)
    proxy.plan("cut_response", arg=0)
    with pytest.raises(SyncFailed):
        with SyncClient(proxy.url, harness.token_of(dev)) as client:
            client.sync(dev.sync.store)
    content = server_records(server_db, district.id)
    with Session(harness.writer_of(dev)) as s:  # the entries come back under new numbers, content unchanged
        s.connection().exec_driver_sql("UPDATE outbox SET rejected_reason = 'lost', rejected_at = CURRENT_TIMESTAMP")
        s.commit()
    assert dev.sync.store.retry_rejected() == len(pending)
    resent = pending_entries(dev)
    assert [e.seq for e in resent] == [q for q, *_ in outbox(dev)] and resent[0].seq > pending[-1][0]
    state = server_state(server_db, district.id)
    report = RoundReport()
    with SyncClient(proxy.url, harness.token_of(dev)) as client:
        client.push(dev.sync.store, report)
    # identical content: every record and every cell of the push (each under its latest new op_seq) is a
    # duplicate, nothing is applied
    body = json.loads(build_push(resent).body)
    op_seqs = [q for kind in ("walks", "visits", "notes") for q, _ in body[kind]]
    op_seqs += [c[0] for _, cells in body["cells"] for c in cells]
    assert len(op_seqs) == build_push(resent).items > 0
    assert proxy.exchanges()[-1].bodies()[0] == {
        "last_op_seq": resent[-1].seq, "applied": 0,
        "results": [{"op_seq": q, "status": "duplicate", "reason": None} for q in sorted(op_seqs)]}
    assert (report.applied, report.duplicate, report.rejected) == (0, len(op_seqs), 0)
    assert server_records(server_db, district.id) == content  # what the server holds did not change
    assert server_state(server_db, district.id) == state  # not even renumbered
    assert_exactly_once(dev, server_db, district.id)


def test_a_push_duplicated_on_the_wire_is_applied_once_and_both_copies_get_the_same_answers(
        proxy, proxied_device, district, server_db):
    dev = _ready(proxied_device, district)
    entries = pending_entries(dev)
    before = server_state(server_db, district.id)
    proxy.plan("duplicate")
    sync_until_done(dev, proxy.url, attempts=1)
    (twice,) = proxy.exchanges()
    a, b = twice.bodies()
    assert len(twice.answers) == 2 and a == b == answer_all_applied(entries)
    assert_numbered_once(before, server_state(server_db, district.id), entries)  # applied by one copy only
    assert_exactly_once(dev, server_db, district.id)


def test_every_push_and_pull_duplicated_still_ends_with_each_record_once(proxy, proxied_device, district, server_db):
    dev = _ready(proxied_device, district, visits=6)
    entries = pending_entries(dev)
    before = server_state(server_db, district.id)
    for _ in range(4):
        proxy.plan("duplicate")
        proxy.plan("duplicate", path="/api/v1/changes")
    sync_until_done(dev, proxy.url, attempts=1, batch_entries=10)
    assert len(proxy.exchanges()) == 4
    for exchange in proxy.exchanges():
        a, b = exchange.bodies()
        assert a == b and a["results"] == []
    # each of the four pushes applied once: the counter moved by what v2 numbers for the four batches
    assert server_state(server_db, district.id)["counter"] == before["counter"] + numbers_taken(entries, 10)
    assert_exactly_once(dev, server_db, district.id)


@pytest.mark.slow
def test_a_push_delayed_past_the_client_timeout_arriving_after_the_retry_changes_nothing(
        proxy, proxied_device, district, server_db):
    dev = _ready(proxied_device, district)
    entries = pending_entries(dev)
    before = server_state(server_db, district.id)
    late = proxy.plan("delay_request", arg=2.5)
    with pytest.raises(SyncFailed):
        with SyncClient(proxy.url, harness.token_of(dev), timeout=1.0) as client:
            client.sync(dev.sync.store)
    sync_until_done(dev, proxy.url, attempts=1)  # the retry overtakes the delayed original
    after_retry = server_state(server_db, district.id)
    assert late.done.wait(30)  # the original has now reached the server too
    first, retry = proxy.exchanges()
    assert first.fault == "delay_request" and retry.fault is None
    assert first.bodies()[0] == retry.bodies()[0] == answer_all_applied(entries)
    assert server_state(server_db, district.id) == after_retry
    assert_numbered_once(before, after_retry, entries)
    assert_exactly_once(dev, server_db, district.id)


def test_a_short_delay_on_every_request_only_slows_the_round(proxy, proxied_device, district, server_db):
    dev = _ready(proxied_device, district, visits=4)
    for path in ("/api/v1/push", "/api/v1/changes"):
        proxy.plan("delay_request", path=path, arg=0.3)
        proxy.plan("delay_response", path=path, arg=0.3)
    started = time.monotonic()
    assert sync_until_done(dev, proxy.url, attempts=1, batch_entries=15) == []
    assert time.monotonic() - started >= 0.9
    assert_exactly_once(dev, server_db, district.id)


@pytest.mark.parametrize("fault,arg", [("cut_response", 40), ("cut_request", 30), ("duplicate", 0)])
def test_a_lead_pulling_through_a_faulty_network_ends_with_the_whole_team(
        proxy, proxied_device, device, district, server_db, fault, arg):
    lead = proxied_device("lead")
    lead.sync.sync_once()
    obs = device("observer")  # straight to the server
    obs.sync.sync_once()
    walk = harness.new_walk(lead, district.school_id, team=[harness.user_of(obs)])
    lead.sync.sync_once()
    obs.sync.sync_once()
    visits = harness.record_visits(obs, walk.id, 5)
    obs.sync.sync_once()
    cursor = lead.sync.store.cursor()
    proxy.plan(fault, path="/api/v1/changes", arg=arg)

    failures = sync_until_done(lead, proxy.url)
    if fault != "duplicate":
        assert len(failures) == 1
    assert lead.sync.store.cursor() > cursor
    assert {v.id for v in lead.capture.visits(walk.id)} == set(visits)
    assert sum(len(lead.capture.ratings(v)) for v in visits) == 5 * 3
    assert lead.sync.status().pending == 0


def test_the_proxy_passes_requests_through_unchanged(proxy, proxied_device, district, server_db):
    """Without faults the proxy is invisible: one round, each answer as the server gave it."""
    dev = _ready(proxied_device, district, visits=2)
    entries = pending_entries(dev)
    sync_until_done(dev, proxy.url, attempts=1)
    (push,) = proxy.exchanges()
    assert entries[0].seq == 1 and push.fault is None
    assert push.request.split(b"\r\n\r\n", 1)[1] == harness.push_body(entries)  # the body as the client built it
    assert push.bodies() == [answer_all_applied(entries)]
    assert_exactly_once(dev, server_db, district.id)
