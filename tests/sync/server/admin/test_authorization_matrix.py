"""Every role of two districts against every admin and export endpoint: the expected status for every cell.

Callers: no token, a revoked device, and the observer, lead and admin of North and of South. Targets are North's
records (a user, a device, a rubric version only North has). Admin endpoints need the admin role (403 otherwise);
exports are open to every role but scoped (tests/sync/server/admin/test_export_roundtrip.py checks the rows); an admin of
South gets 404 for North's records, as if they did not exist, and list endpoints show South's own records only.
"""
from __future__ import annotations

import uuid

import pytest

from tests.support import serverdata

OK = "ok"  # 200 or 201
MATRIX_CSV = "domain,domain_title,lookfor_id,text,label,scale\ncore,Core,m.one,Students talk.,Talk,presence\n"
CALLERS = ["none", "revoked", "north:observer", "north:lead", "north:admin", "south:observer", "south:lead",
           "south:admin"]


def _endpoints(t: dict) -> list[tuple[str, str, object]]:
    """(method, path, json body or a function making one) for every admin and export endpoint."""
    return [
        ("GET", "/api/v1/admin/rubrics", None),
        ("GET", f"/api/v1/admin/rubrics/{t['rubric']}/1", None),
        ("POST", "/api/v1/admin/rubrics", lambda: {"filename": f"m-{uuid.uuid4().hex[:8]}.csv",
                                                    "text": MATRIX_CSV}),
        ("GET", "/api/v1/admin/schools", None),
        ("POST", "/api/v1/admin/schools", {"name": "Matrix school"}),
        ("GET", "/api/v1/admin/users", None),
        ("POST", "/api/v1/admin/users", lambda: {"email": f"m-{uuid.uuid4().hex[:8]}@x.org", "role": "observer"}),
        ("PATCH", f"/api/v1/admin/users/{t['user']}", {"role": "observer"}),
        ("POST", f"/api/v1/admin/users/{t['user']}/enrollment-code", None),
        ("GET", "/api/v1/admin/devices", None),
        ("POST", f"/api/v1/admin/devices/{t['device']}/revoke", None),
        ("GET", "/api/v1/admin/settings", None),
        ("PATCH", "/api/v1/admin/settings", {"small_cell_threshold": 3}),
        ("GET", "/api/v1/admin/audit", None),
        ("GET", "/api/v1/admin/audit/export", None),
        ("GET", "/api/v1/export/csv", None),
        ("GET", "/api/v1/export/csv-wide", None),
        ("GET", "/api/v1/export/xlsx", None),
        ("GET", "/api/v1/export/jsonl", None),
    ]


NAMES_A_NORTH_RECORD = ("/rubrics/matrix-", "/users/", "/devices/")


def expected(caller: str, path: str) -> object:
    if caller in ("none", "revoked"):
        return 401
    district, role = caller.split(":")
    if path.startswith("/api/v1/export/"):
        return OK
    if role != "admin":
        return 403
    if district == "south" and any(part in path for part in NAMES_A_NORTH_RECORD):
        return 404
    return OK


@pytest.fixture
def targets(world):
    """North records the matrix aims at; a spare North device so revoking it harms no other test."""
    north = world.north
    admin = serverdata.client(world.url, north.members["admin"].token)
    rubric = f"matrix-{uuid.uuid4().hex[:6]}"
    r = admin.post("/api/v1/admin/rubrics", json={"filename": f"{rubric}.csv", "text":
                   MATRIX_CSV})
    assert r.status_code == 201, r.text
    spare = admin.post("/api/v1/admin/users", json={"email": f"s-{uuid.uuid4().hex[:6]}@x.org", "role": "observer"})
    code = admin.post(f"/api/v1/admin/users/{spare.json()['id']}/enrollment-code").json()["code"]
    device = serverdata.enroll(world.url, code)
    revoked = serverdata.enroll(world.url, admin.post(f"/api/v1/admin/users/{spare.json()['id']}/enrollment-code")
                                .json()["code"])
    assert admin.post(f"/api/v1/admin/devices/{revoked['device_id']}/revoke").status_code == 200
    return {"rubric": rubric, "user": north.members["observer2"].user_id, "device": device["device_id"],
            "revoked_token": revoked["token"]}


def test_every_role_of_two_districts_gets_the_expected_status_from_every_endpoint(world, targets):
    tokens = {"none": None, "revoked": targets["revoked_token"]}
    for name in ("north", "south"):
        for role in ("observer", "lead", "admin"):
            tokens[f"{name}:{role}"] = getattr(world, name).members[role].token
    got, want = {}, {}
    # South's admin goes before North's, so North's revoke of the spare device comes last
    for caller in sorted(CALLERS, key=lambda c: c == "north:admin"):
        with serverdata.client(world.url, tokens[caller]) as c:
            for method, path, body in _endpoints(targets):
                payload = body() if callable(body) else body
                status = c.request(method, path, json=payload).status_code
                got[(caller, method, path)] = OK if status in (200, 201) else status
                want[(caller, method, path)] = expected(caller, path)
    wrong = {cell: (got[cell], want[cell]) for cell in got if got[cell] != want[cell]}
    assert not wrong, f"{len(wrong)} of {len(got)} cells differ (got, expected): {wrong}"
    assert len(got) == len(CALLERS) * 19


def test_an_admin_of_one_district_never_sees_the_other_districts_people_or_devices(world):
    south = serverdata.client(world.url, world.south.members["admin"].token)
    north_ids = {m.user_id for m in world.north.members.values()} | {m.device_id for m in world.north.members.values()}
    users = {u["id"] for u in south.get("/api/v1/admin/users").json()}
    devices = {d["id"] for d in south.get("/api/v1/admin/devices").json()}
    assert users and devices and not (users | devices) & north_ids
    audit = south.get("/api/v1/admin/audit", params={"limit": 1000}).json()
    assert audit and not {e["actor"] for e in audit} & north_ids
