"""Administration over HTTP against the real server: rubric publishing, people, devices, settings and the audit log."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support import serverdata

LEARNWALK = str(Path(sys.executable).with_name("learnwalk"))
CSV_HEADER = "domain,domain_title,lookfor_id,text,label,scale,subjects,equity\n"
GOOD_ROWS = ("talk,Student talk,wt.pairs,Students talk in pairs about the task.,Pair talk,presence,,no\n"
             "talk,,wt.evidence,Students cite evidence when they speak.,Evidence,four-level,,no\n")
BAD_ROW = "talk,,wt.questions,Students ask questions.,Questions,sometimes,,no\n"


@pytest.fixture
def admin(world):
    return serverdata.client(world.url, world.north.members["admin"].token)


def pull_all(world, member) -> list[dict]:
    changes, since = [], 0
    with serverdata.client(world.url, member.token) as c:
        while True:
            page = c.get("/api/v1/changes", params={"since": since}).json()
            changes += page["changes"]
            since = page["cursor"]
            if not page["more"]:
                return changes


def test_a_csv_rubric_with_an_error_is_refused_with_the_validators_message_and_nothing_is_published(
        world, admin, tmp_path):
    name = f"walk-{uuid.uuid4().hex[:6]}.csv"
    text = CSV_HEADER + GOOD_ROWS + BAD_ROW
    (tmp_path / name).write_text(text)
    validate = subprocess.run([LEARNWALK, "rubric", "validate", name], cwd=tmp_path, capture_output=True, text=True)
    assert validate.returncode == 1
    before = admin.get("/api/v1/admin/rubrics").json()
    r = admin.post("/api/v1/admin/rubrics", json={"filename": name, "text": text})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["problems"] == validate.stderr.strip().splitlines()
    assert f"{name}:4:" in r.json()["detail"]  # the CSV row of the bad scale
    assert admin.get("/api/v1/admin/rubrics").json() == before


def test_a_published_csv_becomes_a_version_devices_pull_and_an_edit_becomes_the_next_version(world, admin):
    name = f"walk-{uuid.uuid4().hex[:6]}"
    first = admin.post("/api/v1/admin/rubrics", json={"filename": f"{name}.csv", "text": CSV_HEADER + GOOD_ROWS})
    assert first.status_code == 201, first.text
    assert (first.json()["rubric_id"], first.json()["version"]) == (name, 1)
    again = admin.post("/api/v1/admin/rubrics", json={"filename": f"{name}.csv", "text": CSV_HEADER + GOOD_ROWS})
    assert again.status_code == 422 and "nothing to publish" in again.json()["detail"]
    edited = CSV_HEADER + GOOD_ROWS.replace("Pair talk", "Partner talk")
    second = admin.post("/api/v1/admin/rubrics", json={"filename": f"{name}.csv", "text": edited})
    assert second.status_code == 201 and second.json()["version"] == 2
    pulled = {c["record_id"] for c in pull_all(world, world.north.members["observer"]) if c["kind"] == "rubric"}
    assert {f"{name}@1", f"{name}@2"} <= pulled
    old = admin.get(f"/api/v1/admin/rubrics/{name}/1").json()["yaml"]
    assert "Pair talk" in old and "Partner talk" not in old
    south = serverdata.client(world.url, world.south.members["admin"].token)
    assert south.get(f"/api/v1/admin/rubrics/{name}/1").status_code == 404


def test_a_yaml_that_reuses_a_published_version_with_other_content_is_refused_with_the_next_number(admin):
    text = serverdata.coherence_yaml(2).replace("An exit ticket", "A written exit ticket")
    r = admin.post("/api/v1/admin/rubrics", json={"filename": "coherence.yaml", "text": text})
    assert r.status_code == 422
    assert "coherence@2 is already published with different content" in r.json()["detail"]
    assert "give it version 3" in r.json()["detail"]


def test_an_enrolled_device_is_listed_and_revoking_it_stops_its_token_at_once(world, admin):
    user = admin.post("/api/v1/admin/users", json={"email": f"t-{uuid.uuid4().hex[:6]}@x.org", "role": "observer"})
    assert user.status_code == 201
    code = admin.post(f"/api/v1/admin/users/{user.json()['id']}/enrollment-code").json()["code"]
    device = serverdata.enroll(world.url, code)
    tablet = serverdata.client(world.url, device["token"])
    walk = {"id": str(uuid.uuid4()), "school_id": world.north.schools[0], "walk_date": "2026-09-01",
            "rubric_id": "sample-district", "rubric_version": 1, "updated_at": "2026-09-01T08:00:00Z"}
    assert tablet.post("/api/v1/push", json={"from_seq": 1, "to_seq": 1, "walks": [[1, walk]]}).status_code == 200
    assert tablet.get("/api/v1/changes").status_code == 200
    listed = {d["id"]: d for d in admin.get("/api/v1/admin/devices").json()}
    assert listed[device["device_id"]]["revoked_at"] is None
    revoke = admin.post(f"/api/v1/admin/devices/{device['device_id']}/revoke")
    assert revoke.status_code == 200 and revoke.json()["revoked_at"]
    assert tablet.get("/api/v1/changes").status_code == 401
    assert "revoked" in tablet.get("/api/v1/changes").json()["detail"]
    entry = admin.get("/api/v1/admin/audit", params={"action": "device."}).json()[0]
    assert entry["record_id"] == device["device_id"] and entry["before"] == {"revoked_at": None}
    assert entry["after"]["revoked_at"]


def test_settings_are_checked_audited_with_before_and_after_and_reach_devices(world, admin):
    assert admin.get("/api/v1/admin/settings").json()["allow_identifying_fields"] is False  # off by default
    bad = admin.patch("/api/v1/admin/settings", json={"small_cell_threshold": 0})
    assert bad.status_code == 400 and "between 1 and 50" in bad.json()["detail"]
    before = admin.get("/api/v1/admin/settings").json()
    new = 5 if before["small_cell_threshold"] != 5 else 4
    ok = admin.patch("/api/v1/admin/settings", json={"small_cell_threshold": new, "record_class_type": False})
    assert ok.status_code == 200 and ok.json()["small_cell_threshold"] == new
    entry = admin.get("/api/v1/admin/audit", params={"action": "settings."}).json()[0]
    assert entry["before"] == before and entry["after"]["small_cell_threshold"] == new
    settings = [c for c in pull_all(world, world.north.members["lead"]) if c["kind"] == "settings"]
    assert settings[-1]["data"]["small_cell_threshold"] == new
    admin.patch("/api/v1/admin/settings", json={"record_class_type": True})


def test_users_get_roles_and_an_admin_cannot_demote_themselves(world, admin):
    email = f"u-{uuid.uuid4().hex[:6]}@x.org"
    made = admin.post("/api/v1/admin/users", json={"email": email, "role": "observer"}).json()
    dup = admin.post("/api/v1/admin/users", json={"email": email, "role": "lead"})
    assert dup.status_code == 409 and "already exists" in dup.json()["detail"]
    assert admin.patch(f"/api/v1/admin/users/{made['id']}", json={"role": "lead"}).json()["role"] == "lead"
    me = world.north.members["admin"].user_id
    own = admin.patch(f"/api/v1/admin/users/{me}", json={"role": "observer"})
    assert own.status_code == 409
    assert {u["id"]: u["role"] for u in admin.get("/api/v1/admin/users").json()}[me] == "admin"


def test_the_audit_log_records_admin_actions_without_emails_or_codes_and_exports(world, admin):
    email = f"private-{uuid.uuid4().hex[:6]}@x.org"
    user = admin.post("/api/v1/admin/users", json={"email": email, "role": "lead"}).json()
    code = admin.post(f"/api/v1/admin/users/{user['id']}/enrollment-code").json()["code"]
    r = admin.get("/api/v1/admin/audit/export", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    actions = {row["action"] for row in rows}
    assert {"rubric.publish", "user.create", "enrollment.issue", "export"} <= actions
    assert email not in r.text and code not in r.text
    assert all(row["actor"] for row in rows)
    latest = admin.get("/api/v1/admin/audit", params={"limit": 1}).json()[0]
    assert (latest["action"], latest["kind"], latest["record_id"]) == ("export", "audit", "csv")
