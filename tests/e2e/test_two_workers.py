"""Two server processes on one PostgreSQL database (docs/admin.md, "Several server workers"): one device's push,
retried against both at the same moment, is applied exactly once."""
from __future__ import annotations

import threading

import httpx
import pytest
from sqlmodel import Session, select

from sync.server.models import AuditLog, Device as SDevice, District as SDistrict, OpResult, Visit as SVisit
from tests.support import serverproc as harness

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_servers():
    why = harness.pg_reachable()
    if why:
        pytest.skip(why)
    url, drop = harness.pg_scratch_db()
    db = harness.Db(url)
    servers = [harness.ServerProc(url).start(), harness.ServerProc(url).start()]
    yield db, servers
    for s in servers:
        s.stop()
    db.engine.dispose()
    drop()


def _at_once(sends: list[tuple[str, str, bytes]]) -> list[httpx.Response]:
    """POST each (server url, token, body) from its own thread, released together."""
    gate, out = threading.Barrier(len(sends)), [None] * len(sends)

    def send(i: int, url: str, token: str, body: bytes) -> None:
        with harness.api(url, token) as http:
            gate.wait()
            out[i] = http.post("/api/v1/push", content=body, headers={"Content-Type": "application/json"})
    threads = [threading.Thread(target=send, args=(i, *s)) for i, s in enumerate(sends)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_one_devices_push_retried_against_two_workers_at_once_is_stored_exactly_once(two_servers, tmp_path):
    db, (one, two) = two_servers
    district = db.district()
    dev = harness.new_device(tmp_path / "dev", one.url, district.code(district.user("observer")))
    dev.sync.sync_once()
    token = harness.token_of(dev)
    walk = harness.new_walk(dev, district.school_id)
    first = harness.record_visits(dev, walk.id, 8, ratings=3)
    entries = dev.sync.store.pending(0, 10_000)
    body = harness.push_body(entries)

    # the same push (a retry after a lost answer) reaches both workers at once, three times over
    for _ in range(3):
        answers = _at_once([(one.url, token, body), (two.url, token, body)] * 2)
        assert [a.status_code for a in answers] == [200] * 4
        assert {a.json()["applied"] for a in answers} == {len(first) * 4 + 1}  # walk, visits and their cells
        assert all(a.json()["results"] == [] for a in answers)  # never "duplicate": nothing was applied twice

    # more changes; one worker gets the whole outbox again, the other only the new part, at the same moment
    more = harness.record_visits(dev, walk.id, 5, ratings=3)
    everything = dev.sync.store.pending(0, 10_000)
    new = [e for e in everything if e.seq > entries[-1].seq]
    answers = _at_once([(one.url, token, harness.push_body(everything)), (two.url, token, harness.push_body(new))])
    assert [a.status_code for a in answers] == [200, 200]
    assert all(a.json()["results"] == [] for a in answers)

    with Session(db.engine) as s:
        visits = s.exec(select(SVisit.id, SVisit.change_seq).where(SVisit.district_id == district.id)).all()
        counter = s.exec(select(SDistrict.change_counter).where(SDistrict.id == district.id)).one()
        last = s.exec(select(SDevice.last_op_seq).where(SDevice.district_id == district.id)).one()
        stored_answers = s.exec(select(OpResult)).all()
        audit = s.exec(select(AuditLog).where(AuditLog.district_id == district.id,
                                              AuditLog.action.like("rating.%"))).all()
    assert sorted(v for v, _ in visits) == sorted(first + more)
    # each change numbered once: the walk and each visit took one number (plus the district's built-in rubrics
    # and school, numbered before the device pushed); a second apply would number them again
    assert len({n for _, n in visits}) == len(visits)
    assert counter == max(n for _, n in visits)
    assert last == everything[-1].seq
    assert stored_answers == [] and audit == []  # no duplicate answered, no cell replaced by itself
    assert len(db.cells(district.id)) == (len(first) + len(more)) * 3

    report = dev.sync.sync_once()  # the device resends what it never saw acknowledged: answered as before
    assert (report.duplicate, report.rejected) == (0, 0) and dev.sync.status().pending == 0
    dev.engine.dispose()
