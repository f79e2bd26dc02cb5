"""Slow readers do not starve the server: 20 connections that ask for a large pull page and never read it, while 10
other devices push and pull; no request of those fails, every push is applied once and every change pulled once
(the p95 is printed, not asserted: bench/slow_readers.py measures it against a baseline of the same run). A
stalled reader is dropped once it has taken nothing for LEARNWALK_SEND_SECONDS. The health check answers 503 when
the pool cannot hand out a connection, and 200 again once it can. SQLite and PostgreSQL, the real server process."""
from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import text

from sync.server.models import Visit
from tests.support import serverproc as harness
from tests.support import slowreaders

STALLED, WORKERS, ROUNDS = 20, 10, 4


def test_twenty_stalled_pull_readers_do_not_delay_ten_devices_pushing_and_pulling(server, server_db):
    district, admin, workers = slowreaders.district_with_a_large_page(server.url, server_db, WORKERS)
    stalled = slowreaders.stall(server.url, admin, STALLED)
    try:
        time.sleep(1.0)  # the stalled requests reach the server first
        timed, errors = slowreaders.traffic_by_kind(server.url, workers, ROUNDS)
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/api/v1/health").status_code == 200
    finally:
        for s in stalled:
            s.close()
    every = timed["push"] + timed["pull"]
    print(f"\n{len(every)} requests beside {STALLED} stalled readers: p95 {slowreaders.p95(every) * 1000:.0f} ms "
          f"(pushes {slowreaders.p95(timed['push']) * 1000:.0f}, pulls {slowreaders.p95(timed['pull']) * 1000:.0f}), "
          f"max {max(every) * 1000:.0f} ms, errors {len(errors)}")
    assert errors == []
    assert len(timed["push"]) == WORKERS * ROUNDS and len(timed["pull"]) >= WORKERS * ROUNDS
    walks = {w.walk_id for w in workers}
    for w in workers:  # a last pull each, once every device has pushed (some ended their rounds before others began)
        with slowreaders.client(server.url, w.token) as c:
            while w.take(c.get("/api/v1/changes", params={"since": w.cursor}).raise_for_status().json()):
                pass
    for w in workers:
        # every push applied whole, each visit stored once with its cells
        assert [a["results"] for a in w.answers] == [[]] * ROUNDS
        assert sorted(v.id for v in server_db.rows(Visit, Visit.walk_id == w.walk_id)) == sorted(w.visit_ids)
        assert set(server_db.cells(district.id, Visit.walk_id == w.walk_id)) == \
            {(v, lf) for v in w.visit_ids for lf in slowreaders.LOOKFORS}
        # every other device's walk received exactly once (an observer sees the district's walks, not its visits)
        got = Counter(rid for kind, rid in w.pulled if kind == "walk" and rid in walks)
        assert got == Counter(walks - {w.walk_id}), w.user_id


@pytest.fixture
def impatient_server(db_url):
    proc = harness.ServerProc(db_url, env={"LEARNWALK_SEND_SECONDS": "1"}).start()
    yield proc
    proc.stop()


def _read_all(sock: socket.socket, seconds: float) -> bytes:
    sock.settimeout(seconds)
    got = bytearray()
    while True:
        part = sock.recv(1 << 16)
        if not part:
            return bytes(got)
        got.extend(part)


def test_a_stalled_reader_is_dropped_once_it_takes_nothing_for_the_send_deadline(impatient_server, server_db):
    url = impatient_server.url
    _, admin, workers = slowreaders.district_with_a_large_page(url, server_db, 1)
    reading, = slowreaders.stall(url, admin, 1)
    try:
        time.sleep(4)  # the page is built, its first parts fill the buffers, then nothing is taken for over 1 s
        got = _read_all(reading, 30)  # now it reads: what was in the buffers, then the end of the connection
    finally:
        reading.close()
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    assert length > 2_000_000 and len(body) < length  # the connection ended before the whole page
    assert "its connection was dropped" in impatient_server.stderr_text()
    # a client that reads as it goes gets the whole page from the same server
    with slowreaders.client(url, admin) as c:
        page = c.get("/api/v1/changes", params={"since": 0})
    assert page.status_code == 200 and int(page.headers["content-length"]) == length == len(page.content)
    # and the server serves the others meanwhile
    timed, errors = slowreaders.traffic_by_kind(url, workers, 1)
    assert errors == [] and len(timed["push"]) == 1


@pytest.fixture
def tiny_pool_server(db_url, server_db):
    # one pooled connection and one in overflow: two blocked requests exhaust it
    proc = harness.ServerProc(db_url, env={"LEARNWALK_DB_POOL_SIZE": "1", "LEARNWALK_DB_POOL_TIMEOUT": "30",
                                           "LEARNWALK_HEALTH_POOL_SECONDS": "1"}).start()
    yield proc
    proc.stop()


def _hold_the_write_lock(server_db, district_id: str):
    """A transaction outside the server holding what every push needs: SQLite's write lock, or PostgreSQL's lock
    on the district's counter row. Returns release()."""
    url = server_db.engine.url
    if url.get_backend_name() == "sqlite":
        con = sqlite3.connect(url.database, isolation_level=None, check_same_thread=False)
        con.execute("BEGIN IMMEDIATE")
        return lambda: (con.rollback(), con.close())
    conn = server_db.engine.connect()
    conn.execute(text("SELECT id FROM district WHERE id = :d FOR UPDATE"), {"d": district_id})
    return lambda: (conn.rollback(), conn.close())


def test_health_answers_503_while_the_pool_is_exhausted_and_200_once_it_is_not(tiny_pool_server, server_db):
    url = tiny_pool_server.url
    district, _, workers = slowreaders.district_with_a_large_page(url, server_db, 2, visits=0)
    sqlite_server = server_db.engine.url.get_backend_name() == "sqlite"
    # the requests that block holding a connection: on PostgreSQL pushes (they wait on the district's counter row);
    # on SQLite a push waits on the in-process write gate before it takes a connection, so enrollments, which
    # write without the gate, wait in SQLite's busy handler holding theirs
    codes = [district.code(district.user("observer")) for _ in workers] if sqlite_server else []
    release = _hold_the_write_lock(server_db, district.id)
    answers: list[int] = []

    def push(w):
        with httpx.Client(base_url=url, timeout=60, headers={
                "Authorization": f"Bearer {w.token}", harness.PROTOCOL_HEADER: str(harness.PROTOCOL_VERSION)}) as c:
            answers.append(c.post("/api/v1/push", json=w.push_body()).status_code)

    def enroll(code):
        with httpx.Client(base_url=url, timeout=60,
                          headers={harness.PROTOCOL_HEADER: str(harness.PROTOCOL_VERSION)}) as c:
            answers.append(c.post("/api/v1/enroll", json={"code": code, "device_name": "tablet"}).status_code)

    blocked = ([threading.Thread(target=enroll, args=(c,)) for c in codes] if sqlite_server
               else [threading.Thread(target=push, args=(w,)) for w in workers])
    try:
        for t in blocked:
            t.start()
        time.sleep(1.5)  # both requests hold a connection, waiting for the lock
        with httpx.Client(base_url=url, timeout=30) as c:
            sick = c.get("/api/v1/health")
        assert sick.status_code == 503, sick.text
        assert sick.headers["content-type"].startswith("application/problem+json")
        assert "could not get a database connection within 1 seconds" in sick.json()["detail"]
    finally:
        release()
        for t in blocked:
            t.join()
    assert answers == [200, 200]
    with httpx.Client(base_url=url, timeout=30) as c:
        assert c.get("/api/v1/health").status_code == 200
