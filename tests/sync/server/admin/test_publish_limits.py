"""Hostile rubric uploads against the real server's publish endpoint (SQLite and PostgreSQL): each is refused within
2 s as problem+json with file:line and a fix, nothing is published, and the server answers /api/v1/health right after."""
from __future__ import annotations

import time

import pytest

from rubrics import limits
from tests.support import serverdata
from tests.support.rubric_attacks import ATTACKS, BASE, VERSION_LINE

ARRIVES_AS = {  # what a client that read the file's bytes would put in the JSON text field
    "utf16": lambda data: data.decode("latin-1"),
    "binary": lambda data: data.decode("latin-1"),
}


@pytest.fixture
def admin(world):
    with serverdata.client(world.url, world.north.members["admin"].token) as c:
        yield c


def refused(admin, world, filename: str, text: str, status: int = 422) -> dict:
    """POST the upload; assert it is refused in time as problem+json, nothing published and /health still green."""
    before = admin.get("/api/v1/admin/rubrics").json()
    started = time.monotonic()
    r = admin.post("/api/v1/admin/rubrics", json={"filename": filename, "text": text})
    took = time.monotonic() - started
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert took < 2.0, f"{filename}: refused after {took:.2f} s"
    with serverdata.client(world.url) as anyone:
        started = time.monotonic()
        assert anyone.get("/api/v1/health").status_code == 200
        assert time.monotonic() - started < 1.0
    assert admin.get("/api/v1/admin/rubrics").json() == before
    return r.json()


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attack_is_refused_at_its_line_with_a_fix_and_nothing_is_published(world, admin, attack):
    data, line, word = ATTACKS[attack]()
    text = ARRIVES_AS.get(attack, lambda d: d.decode("utf-8"))(data)
    body = refused(admin, world, f"{attack}.yaml", text)
    [problem] = body["problems"]
    assert problem.startswith(f"{attack}.yaml:{line}: ") and word in problem, problem
    assert problem.split(": ", 1)[1].count("; ") >= 1  # what is wrong; how to fix it
    assert problem in body["detail"]


def test_a_version_past_the_servers_integer_and_a_csv_with_a_nul_are_refused_not_500(world, admin):
    body = refused(admin, world, "big.yaml", BASE.replace("version: 1", f"version: {2**31}", 1))
    assert body["problems"] == [f"big.yaml:{VERSION_LINE}: version 2147483648 is larger than 2,147,483,647, the "
                                "largest a server can store; versions count up from 1, so give the next number "
                                "after the newest published version"]
    header = "domain,domain_title,lookfor_id,text,label,scale,subjects,equity\n"
    body = refused(admin, world, "walk.csv", header + "talk,Talk,t.a,Students\x00 talk,Talk,presence,,no\n")
    assert body["problems"][0].startswith("walk.csv:2: the file holds a NUL byte") and "UTF-8" in body["problems"][0]


def test_an_upload_past_the_size_limit_is_refused_with_the_limit_and_a_huge_one_by_the_request_bound(world, admin):
    body = refused(admin, world, "long.yaml", BASE + "#" * limits.MAX_BYTES)
    assert body["problems"][0].startswith("long.yaml:1: the file is ") and "1,000,000" in body["problems"][0]
    body = refused(admin, world, "huge.yaml", "#" * (2 * limits.MAX_BYTES + 1))  # the upload field's own bound
    assert "text" in body["detail"]
