"""`learnwalk sync` killed with SIGKILL in the middle of a push, then run again: every record on the server exactly
once, nothing lost on the device, the device store intact."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time

import pytest

from app.store.db import db_path
from app.store.seed import seed
from tests.support.faultcheck import (assert_exactly_once, device_records, harness, highest_seq_issued, last_op_seq,
                                     numbers_taken, outbox, pending_entries, pushed_items, server_state)


def _sync_cmd(data_dir) -> list[str]:
    return [harness.LEARNWALK, "sync", "--data-dir", str(data_dir), "--json"]


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["request_never_forwarded", "server_committed_answer_held",
                                    "answer_delivered_kill_at_once", "answer_delivered_kill_after_20ms"])
def test_sync_killed_mid_push_then_run_again_ends_with_every_record_once_and_nothing_lost(
        proxy, proxied_device, district, server_db, moment):
    dev = proxied_device("observer")
    dev.sync.sync_once()
    seed(dev.capture, walks=1, visits=60, rubric_key="deeper-learning@1", school_id=district.school_id, seed=3)
    held = device_records(dev)
    queued, entries = outbox(dev), pending_entries(dev)
    before = server_state(server_db, district.id)
    dev.engine.dispose()

    if moment == "request_never_forwarded":
        fault = proxy.plan("drop")
    elif moment == "server_committed_answer_held":
        fault = proxy.plan("hold_response")
    else:
        fault = proxy.plan("pass")
        proxy.plan("drop", path="/api/v1/changes")  # the round cannot finish before the kill
    child = subprocess.Popen(_sync_cmd(dev.path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if moment.startswith("answer_delivered"):
            assert fault.done.wait(60), "the push never went through"
            if moment.endswith("20ms"):
                time.sleep(0.02)
        else:
            assert fault.reached.wait(60), "the push never reached the proxy"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        proxy.clear()
        fault.release.set()
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL

    with sqlite3.connect(db_path(dev.path)) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    left = outbox(dev)
    assert device_records(dev) == held  # the kill lost nothing on the device
    assert set(left) <= set(queued)  # acknowledged entries leave the outbox; none is changed or made up
    if moment == "request_never_forwarded":
        assert left == queued and last_op_seq(server_db, dev) == 0
    if moment == "server_committed_answer_held":
        assert left == queued and last_op_seq(server_db, dev) == highest_seq_issued(dev.path)
    left_entries = pending_entries(dev)
    assert [e.seq for e in left_entries] == [q for q, *_ in left]

    again = subprocess.run(_sync_cmd(dev.path), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert out["pending"] == 0 and out["rejected"] == []
    # every record and cell of the entries left is answered once more; one the server took before the kill is
    # answered "applied" again by the replay (not duplicate): the answer it had
    assert (out["pushed"]["applied"], out["pushed"]["duplicate"]) == (pushed_items(left_entries), 0)
    assert device_records(dev) == held
    assert_exactly_once(dev, server_db, district.id)
    # applied once on the server: the counter moved by what v2 numbers for one push of everything, however many
    # times it was sent
    assert server_state(server_db, district.id)["counter"] == before["counter"] + numbers_taken(entries)
