"""Inputs the fuzzer once answered with a server error, kept as plain tests."""
from __future__ import annotations

import httpx

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION


def _admin(server, world) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30, headers={
        PROTOCOL_HEADER: str(PROTOCOL_VERSION), "Authorization": f"Bearer {world.north.members['admin'].token}"})


def test_a_rubric_version_too_large_for_the_database_is_refused_as_invalid_not_a_server_error(server, world):
    with _admin(server, world) as c:
        r = c.get("/api/v1/admin/rubrics/coherence/65288525338022150144")
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert "version" in r.json()["detail"]
        assert c.get("/api/v1/admin/rubrics/coherence/0").status_code == 422
        assert c.get(f"/api/v1/admin/rubrics/coherence/{2**31 - 1}").status_code == 404
        assert c.get("/api/v1/admin/rubrics/coherence/2").status_code == 200


def test_openapi_describes_error_answers_as_the_problem_json_they_are(server):
    spec = httpx.get(server.url + "/openapi.json", timeout=30).json()
    push = spec["paths"]["/api/v1/push"]["post"]["responses"]
    for code in ("401", "413", "422", "426"):
        assert list(push[code]["content"]) == ["application/problem+json"], code
    assert spec["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    r = httpx.post(server.url + "/api/v1/push", json={}, headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert "401" not in spec["paths"]["/api/v1/health"]["get"]["responses"]


def test_an_audit_page_cursor_too_large_for_the_database_is_refused_as_invalid_not_a_server_error(server, world):
    with _admin(server, world) as c:
        r = c.get("/api/v1/admin/audit", params={"limit": 611, "before_id": 9503803107318988338744000512})
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert "before_id" in r.json()["detail"]
        newest = c.get("/api/v1/admin/audit", params={"before_id": 2**31 - 1})
        assert newest.status_code == 200 and newest.json()
