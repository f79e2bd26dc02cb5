"""A record stored on the server that no device can read (injected straight into the database, as a bug or an old
server might have stored it) never stops a round: every lead's and admin's pull, a freshly enrolled admin's too,
completes with every other record; the row is left out, and reported once in the admin's audit log with its id."""
from __future__ import annotations

from sqlalchemy import text

from app.viewmodels.admin import AdminVM
from sync.protocol import rating_id
from sync.protocol.cells import BadCell, rating_row
from sync.server.ingest.cells import decode, encode
from sync.server.models import VisitCells
from tests.support import serverproc as harness

YEAR_999 = "0999-01-01T00:00:00.000000Z"  # the shape of the poisoned push
NOT_A_DAY = "2026-02-30T00:00:00.000000Z"  # a cell time no codec reads


def _set_cell_time(server_db, visit_id: str, index: int, at: str) -> str:
    """Overwrite one stored cell's time in the server database; returns its look-for id."""
    with server_db.write() as s:
        row = s.get(VisitCells, visit_id)
        ids, cells = decode(row.devices, row.cells)
        cells[index][5] = at
        row.cells = encode(cells)
        return cells[index][1]


def _spoil_visit_time(server_db, visit_id: str) -> None:
    """A visit time the database holds but no driver turns into a Python time (as far as each schema allows)."""
    bad = "infinity" if server_db.engine.dialect.name == "postgresql" else "not a time"
    with server_db.write() as s:
        s.execute(text("UPDATE visit SET started_at = :bad WHERE id = :id"), {"bad": bad, "id": visit_id})


def _readable(at: str) -> bool:
    try:
        rating_row("v", ["lf", "x", False, False, at])
        return True
    except BadCell:
        return False


def _skips(server, token: str) -> list[dict]:
    with harness.api(server.url, token) as http:
        r = http.get("/api/v1/admin/audit", params={"action": "pull.skipped", "limit": 500})
    r.raise_for_status()
    return r.json()


def _held(dev, walk_id: str) -> dict[str, set[str]]:
    return {v.id: set(dev.capture.ratings(v.id)) for v in dev.capture.visits(walk_id)}


def test_unreadable_rows_on_the_server_do_not_stop_any_pull_and_are_reported_once(server, server_db, district,
                                                                                 device):
    obs, lead = device("observer"), device("lead")
    obs.sync.sync_once()
    lead.sync.sync_once()
    walk = harness.new_walk(obs, district.school_id, team=[harness.user_of(lead)])
    vids = harness.record_visits(obs, walk.id, 5)
    obs.sync.sync_once()
    expected = _held(obs, walk.id)
    lf_999 = _set_cell_time(server_db, vids[0], 0, YEAR_999)
    lf_bad = _set_cell_time(server_db, vids[1], 1, NOT_A_DAY)
    _spoil_visit_time(server_db, vids[2])
    expected.pop(vids[2])
    expected[vids[1]].discard(lf_bad)
    if not _readable(YEAR_999):  # the codec's say (the push refuses it now; stored ones are left out)
        expected[vids[0]].discard(lf_999)

    report = lead.sync.sync_once()  # completes: no SyncFailed
    assert _held(lead, walk.id) == expected
    assert report.skipped == 0  # the server left out what no device can read: nothing unreadable arrived
    admin = device("admin")  # freshly enrolled: pulls the whole district from the start
    admin.sync.sync_once()
    assert _held(admin, walk.id) == expected
    assert admin.capture.walks() and {w.id for w in admin.capture.walks()} >= {walk.id}

    # paged as small as it goes, a pull still misses nothing and never sends the bad rows
    with harness.api(server.url, harness.token_of(admin)) as http:
        for limit in (1, 2, 3):
            got, since = {}, 0
            while True:
                page = http.get("/api/v1/changes", params={"since": since, "limit": limit}).json()
                got.update({c["record_id"]: c for c in page["changes"] if c["kind"] == "visit"})
                since = page["cursor"]
                if not page["more"]:
                    break
            assert set(got) == set(expected)
            assert {vid: {c[0] for c in got[vid]["data"]["cells"]} for vid in got} == expected

    again = device("admin")
    again.sync.sync_once()
    lead.sync.sync_once()
    skips = _skips(server, harness.token_of(admin))
    by_id = {e["record_id"]: e for e in skips}
    assert len(by_id) == len(skips)  # once per record, however often it is pulled
    assert by_id[vids[2]]["kind"] == "visit"
    bad_cell = by_id[rating_id(vids[1], lf_bad)]
    assert bad_cell["kind"] == "rating"
    assert bad_cell["after"]["visit_id"] == vids[1] and bad_cell["after"]["lookfor_id"] == lf_bad
    assert (rating_id(vids[0], lf_999) in by_id) == (not _readable(YEAR_999))
    assert len(skips) == 2 + (not _readable(YEAR_999))
    line = AdminVM.audit_line(bad_cell)  # as the Admin screen's audit log shows it
    assert "left out of every sync" in line and rating_id(vids[1], lf_bad) in line and "updated_at" in line
