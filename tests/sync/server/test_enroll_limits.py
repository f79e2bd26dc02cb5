"""Failed enrollments are limited per client address and per district (429 with Retry-After, counted in the
database), a burst is written once to the audit log without anything identifying, and the right code works again
after the window."""
from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import delete

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.server.models import AuditLog, EnrollAttempt
from tests.support import serverproc as harness

LIMIT, WINDOW = 20, 6
LIMITED = {"LEARNWALK_ENROLL_FAILURES_PER_ADDRESS": str(LIMIT), "LEARNWALK_ENROLL_FAILURES_PER_DISTRICT": str(LIMIT),
           "LEARNWALK_ENROLL_WINDOW_SECONDS": str(WINDOW)}


@pytest.fixture
def limited_server(db_url, server_db):
    """A server of its own (the counts are server-wide) with a small limit and a short window."""
    proc = harness.ServerProc(db_url, env=LIMITED).start()
    yield proc
    proc.stop()
    with server_db.write() as s:  # the counts live in the shared database: the next test starts with none
        s.exec(delete(EnrollAttempt))


def _client(url: str, address: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(base_url=url, headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)}, timeout=30,
                        transport=httpx.HTTPTransport(local_address=address))


def _enroll(http: httpx.Client, code: str) -> httpx.Response:
    return http.post("/api/v1/enroll", json={"code": code, "device_name": "tablet"})


def test_500_wrong_codes_from_one_address_get_429_and_the_right_code_works_after_the_window(
        limited_server, server_db, district, device):
    right = district.code(district.user("observer"))
    with _client(limited_server.url) as http:
        started = time.monotonic()
        answers = [(_enroll(http, f"WRNG-{i:04d}-CODE"), time.monotonic() - started) for i in range(500)]
        assert [r.status_code for r, _ in answers[:LIMIT]] == [400] * LIMIT
        limited = answers[LIMIT][0]
        assert limited.status_code == 429 and limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["Retry-After"]) <= WINDOW
        assert "Too many enrollment attempts" in limited.json()["detail"]
        # every answer after the limit is a 429 until the window has passed (a new window may count again)
        assert all(r.status_code == 429 for r, t in answers[LIMIT:] if t < WINDOW - 0.5)
        assert sum(r.status_code == 429 for r, _ in answers) >= 100
        # while the address is held back even the right code waits (else the 429 would tell a hit from a miss)
        assert _enroll(http, right).status_code == 429
        time.sleep(int(_enroll(http, right).headers.get("Retry-After", "0")) + 0.5)
        ok = _enroll(http, right)
    assert ok.status_code == 200, ok.text
    assert ok.json()["district_id"] == district.id and ok.json()["token"]

    entries = server_db.rows(AuditLog, AuditLog.district_id == district.id, AuditLog.action == "enrollment.limited")
    address = [e for e in entries if e.kind == "address"]
    assert address, "the burst is in the district's audit log"
    assert len(address) <= len(answers) // LIMIT  # once per window, not once per refused attempt
    first = address[0]
    assert first.record_id == "127.0.0.0/24" and first.after["failures"] == LIMIT
    written = repr([(e.actor, e.record_id, e.before, e.after) for e in entries])
    assert "127.0.0.1" not in written and "WRNG" not in written and right not in written
    # and the district's admins see it where the Admin screen reads the log
    with harness.api(limited_server.url, harness.token_of(device("admin"))) as http:
        shown = http.get("/api/v1/admin/audit", params={"action": "enrollment.limited"})
    assert shown.status_code == 200, shown.text
    assert "127.0.0.0/24" in shown.text and "127.0.0.1" not in shown.text


def test_another_address_may_enroll_while_one_is_held_back(limited_server, district):
    right = district.code(district.user("lead"))
    with _client(limited_server.url, "127.0.0.1") as guesser, _client(limited_server.url, "127.0.0.2") as other:
        for i in range(LIMIT):
            assert _enroll(guesser, f"WRNG-{i:04d}-ADDR").status_code == 400
        assert _enroll(guesser, "WRNG-LAST-ADDR").status_code == 429
        assert _enroll(other, right).status_code == 200


def test_spent_codes_of_one_district_are_limited_for_that_district(limited_server, server_db, district):
    user = district.user("observer")
    spent = district.code(user)
    with _client(limited_server.url, "127.0.0.3") as first:
        assert _enroll(first, spent).status_code == 200
    fresh = district.code(user)
    addresses = [f"127.0.1.{i}" for i in range(LIMIT)]  # one failure each: no address reaches its own limit
    for address in addresses:
        with _client(limited_server.url, address) as http:
            assert _enroll(http, spent).status_code == 400
    with _client(limited_server.url, "127.0.2.1") as http:
        refused = _enroll(http, fresh)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    entries = server_db.rows(AuditLog, AuditLog.district_id == district.id, AuditLog.action == "enrollment.limited",
                             AuditLog.kind == "district")
    assert [e.record_id for e in entries] == [district.id]


def test_the_count_holds_across_server_processes_on_one_database(limited_server, db_url, district):
    other = harness.ServerProc(db_url, env=LIMITED).start()
    try:
        with _client(limited_server.url, "127.0.0.4") as one, _client(other.url, "127.0.0.4") as two:
            for i in range(LIMIT):
                assert _enroll((one, two)[i % 2], f"WRNG-{i:04d}-PROC").status_code == 400
            assert _enroll(one, "WRNG-LAST-PROC").status_code == 429
            assert _enroll(two, "WRNG-LAST-PROC").status_code == 429
    finally:
        other.stop()
