"""The device's acknowledgement of a push against the real server: a device that dies after the server committed
but before it acknowledged (wholly or partly) resends, and the server applies nothing twice."""
from __future__ import annotations

from sqlmodel import Session, select

from sync.server.models import AuditLog, Visit as SVisit
from tests.support import serverproc as harness


def _server_visits(server_db, district_id: str) -> dict[str, int]:
    with Session(server_db.engine) as s:
        return dict(s.exec(select(SVisit.id, SVisit.change_seq).where(SVisit.district_id == district_id)).all())


def _edits(server_db, district_id: str) -> int:
    return len(server_db.rows(AuditLog, AuditLog.district_id == district_id))


def test_a_push_committed_but_never_acknowledged_is_resent_and_applied_once(server, server_db, district, device):
    obs = device("observer")
    obs.sync.sync_once()
    walk = harness.new_walk(obs, district.school_id)
    ids = harness.record_visits(obs, walk.id, 3, ratings=3)
    entries = obs.sync.store.pending(0, 10_000)
    # the push reaches the server and commits; the device dies before it acknowledges anything
    with harness.api(server.url, harness.token_of(obs)) as http:
        first = http.post("/api/v1/push", content=harness.push_body(entries),
                          headers={"Content-Type": "application/json"}).json()
    assert first["results"] == [] and obs.sync.status().pending == len(entries)
    stored, audited = _server_visits(server_db, district.id), _edits(server_db, district.id)
    assert sorted(stored) == sorted(ids)

    report = obs.sync.sync_once()  # the next round resends the same entries
    # the server gives the answers it gave then (applied, none stored again), numbers nothing anew
    assert (report.applied, report.duplicate, report.rejected) == (first["applied"], 0, 0)
    assert _server_visits(server_db, district.id) == stored and _edits(server_db, district.id) == audited
    assert obs.sync.status().pending == 0
    assert len(server_db.cells(district.id)) == 3 * 3


def test_a_device_that_died_between_two_chunks_of_an_acknowledgement_resends_the_rest_once(server, server_db,
                                                                                           district, device):
    obs = device("observer")
    obs.sync.sync_once()
    walk = harness.new_walk(obs, district.school_id)
    harness.record_visits(obs, walk.id, 2, ratings=2)
    store = obs.sync.store
    entries = store.pending(0, 10_000)
    with harness.api(server.url, harness.token_of(obs)) as http:
        assert http.post("/api/v1/push", content=harness.push_body(entries),
                         headers={"Content-Type": "application/json"}).status_code == 200
    half = entries[len(entries) // 2].seq
    store.record_results(entries[0].seq, half, [])  # the first chunk committed, then the device died
    stored = _server_visits(server_db, district.id)
    left = store.pending(0, 10_000)
    assert left and left[0].seq == half + 1

    obs.capture.rate(harness.record_visits(obs, walk.id, 1, ratings=0)[0],
                     obs.capture.catalog.get(*harness.RUBRIC).lookfors[0].id, "1")  # and a new change meanwhile
    report = obs.sync.sync_once()
    assert report.rejected == 0 and report.duplicate == 0 and obs.sync.status().pending == 0
    after = _server_visits(server_db, district.id)
    assert {v: n for v, n in after.items() if v in stored} == stored  # the resent part is not renumbered
    assert len(after) == 3
