"""Who may call: tokens (missing, wrong, revoked -> 401), protocol version (426), one-time codes, districts."""
from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.support import serverproc as harness
from sync.protocol import rating_id, utcnow
from sync.server.models import EnrollmentCode


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_a_missing_or_wrong_token_gets_401(server, token):
    with harness.api(server.url, token) as http:
        resp = http.get("/api/v1/changes")
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "enroll" in resp.json()["detail"]


def test_a_revoked_device_gets_401_and_its_sync_says_why(server, db_url, device):
    dev = device("observer")
    device_id = dev.sync.store.meta("device_id")["device_id"]
    out = subprocess.run([harness.LEARNWALK, "admin", "revoke-device", "--device", device_id, "--db", db_url],
                         capture_output=True, text=True)
    assert (out.returncode, out.stdout.strip()) == (0, device_id)
    with harness.api(server.url, harness.token_of(dev)) as http:
        assert http.get("/api/v1/changes").status_code == 401
    with pytest.raises(Exception, match="revoked"):
        dev.sync.sync_once()
    assert "revoked" in dev.sync.status().last_error


@pytest.mark.parametrize("version, fix", [(None, "update the app"), ("1", "update the app"), ("2", "update the app"),
                                          ("4", "update the server")])
def test_an_unsupported_protocol_version_gets_426_with_a_clear_message(server, device, version, fix):
    dev = device("observer")
    with harness.api(server.url, harness.token_of(dev), protocol=version) as http:
        resp = http.get("/api/v1/changes")
    assert resp.status_code == 426
    assert "protocol 3" in resp.json()["detail"] and fix in resp.json()["detail"]


def test_an_enrollment_code_works_once(server, district, tmp_path):
    code = district.code(district.user("observer"))
    harness.new_device(tmp_path / "a", server.url, code)
    with pytest.raises(Exception, match="already used"):
        harness.new_device(tmp_path / "b", server.url, code)
    assert not harness.new_device(tmp_path / "b").sync.status().enrolled


def test_an_expired_enrollment_code_is_refused(server, server_db, district, tmp_path):
    code = district.code(district.user("observer"))
    with server_db.write() as s:
        s.execute(update(EnrollmentCode).where(EnrollmentCode.user_id != "")
                  .where(EnrollmentCode.used_at.is_(None), EnrollmentCode.district_id == district.id)
                  .values(expires_at=utcnow() - timedelta(minutes=1)))
    with pytest.raises(Exception, match="expired"):
        harness.new_device(tmp_path / "a", server.url, code)


def test_the_database_stores_only_hashes_of_tokens_and_codes(server, server_db, district, tmp_path):
    from sync.server.models import Device

    code = district.code(district.user("observer"))
    dev = harness.new_device(tmp_path / "a", server.url, code)
    token = harness.token_of(dev)
    with server_db.engine.connect() as c:
        dump = "\n".join(str(row) for t in ("device", "enrollment_code") for row in c.exec_driver_sql(f"SELECT * FROM {t}"))
    assert token not in dump and code not in dump
    assert server_db.rows(Device, Device.token_hash != "")


def test_another_districts_records_can_be_neither_changed_nor_seen(server, server_db, district, device):
    owner = device("lead")
    owner.sync.sync_once()
    walk = harness.new_walk(owner, district.school_id)
    (vid,) = harness.record_visits(owner, walk.id, 1, ratings=1)
    owner.sync.sync_once()
    other = server_db.district()
    outsider = device("admin", other)
    lf = owner.capture.catalog.get(*harness.RUBRIC).lookfors[0].id
    cell = {"id": rating_id(vid, lf), "visit_id": vid, "lookfor_id": lf, "value": None, "not_observed": True,
            "updated_at": utcnow().isoformat(), "deleted": False}
    entry = harness.PendingEntryT(seq=1, kind="rating", record_id=cell["id"], data_json=json.dumps(cell))
    with harness.api(server.url, harness.token_of(outsider)) as http:
        answer = http.post("/api/v1/push", content=harness.push_body([entry])).json()
        pulled = http.get("/api/v1/changes", params={"since": 0}).json()
    assert answer["results"][0]["status"] == "rejected"
    # another district's visit is not even said to exist
    assert answer["results"][0]["reason"] == f"a rating names visit {vid}, which the server does not have."
    kinds = {c["kind"] for c in pulled["changes"]}
    assert kinds == {"school", "rubric", "settings"}
    assert all(c["data"].get("district_id", other.id) == other.id for c in pulled["changes"])


def test_the_server_log_holds_no_token_code_or_email(db_url, server_db, tmp_path):
    proc = harness.ServerProc(db_url).start()
    d = server_db.district()
    email_user = d.user("lead")
    code = d.code(email_user)
    dev = harness.new_device(tmp_path / "dev", proc.url, code)
    dev.sync.sync_once()
    walk = harness.new_walk(dev, d.school_id)
    harness.record_visits(dev, walk.id, 1)
    dev.sync.sync_once()
    with harness.api(proc.url, "wrong-token") as http:
        http.get("/api/v1/changes")
    proc.stop()
    log = proc.stderr_text()
    from sync.server.models import User

    (user,) = server_db.rows(User, User.id == email_user)
    for secret in (harness.token_of(dev), code, user.email, "wrong-token"):
        assert secret not in log
    dev.engine.dispose()


def test_the_people_list_holds_only_the_callers_districts_active_people(server, server_db, district, device):
    from sqlmodel import Session

    from sync.server.models import User

    mine = device("observer")
    other = server_db.district()
    stranger = other.user("lead")
    gone = district.user("observer")
    with Session(server_db.engine) as s:  # an admin deactivated this one
        s.get(User, gone).active = False
        s.commit()
    with harness.api(server.url, harness.token_of(mine)) as http:
        people = http.get("/api/v1/people").json()["people"]
    ids = {p["id"] for p in people}
    assert mine.capture.user_id() in ids and stranger not in ids and gone not in ids
    assert all(set(p) == {"id", "email", "role"} for p in people)
