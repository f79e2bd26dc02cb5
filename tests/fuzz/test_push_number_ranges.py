"""Numbers in pushed snapshots beyond what the server's database holds (PostgreSQL INTEGER is 32 bits) are
rejected with a reason, never a server error; found by probing the push body past the fuzzer's reach."""
from __future__ import annotations

import json

import pytest

from tests.support import serverproc as harness


@pytest.mark.parametrize("kind,field,value,reason", [
    ("visit", "student_count", 2**40, "student count 1099511627776 is not a whole number from 0 to 200"),
    ("visit", "student_count", -1, "student count -1 is not a whole number from 0 to 200"),
    ("visit", "visit_no", 2**40, "visit number 1099511627776 is not a whole number from 1 up"),
    ("visit", "visit_no", 0, "visit number 0 is not a whole number from 1 up"),
    ("walk", "rubric_version", 2**40, "rubric deeper-learning@1099511627776 is not known to this district"),
])
def test_a_number_out_of_range_in_a_pushed_snapshot_is_rejected_with_a_reason(server, district, tmp_path, kind,
                                                                              field, value, reason):
    dev = harness.new_device(tmp_path / "dev", server.url, district.code(district.user("observer")))
    dev.sync.sync_once()
    walk = harness.new_walk(dev, district.school_id)
    visit = dev.capture.start_visit(walk.id, grade="3")
    bad = (visit if kind == "visit" else walk).model_dump(mode="json")
    bad[field] = value
    if kind == "walk":
        bad["id"] = "7f1c2a52-8d7e-4a36-9b8f-2f4c1b0e7a11"  # a new walk
    body = {"from_seq": 1, "to_seq": 2, "walks": [[1, walk.model_dump(mode="json")]]}
    body[f"{kind}s"] = body.get(f"{kind}s", []) + [[2, bad]]
    with harness.api(server.url, harness.token_of(dev)) as c:
        r = c.post("/api/v1/push", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["applied"] == 1  # the good walk
    (refused,) = answer["results"]
    assert refused["op_seq"] == 2 and refused["status"] == "rejected" and refused["reason"].startswith(reason)
    dev.engine.dispose()
