"""Pull over HTTP when stored rows cannot be read: a walk, a note or a visit whose stored time no driver reads, a
visit_cells row that is not a list of cells. Each is left out of the page, every other record arrives exactly once
however small the pages, and each is reported once in the audit log even when many pulls meet it at once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from sync.server.models import AuditLog
from tests.support import serverproc as harness

TABLE_OF = {"walk": "walk", "note": "evidence_note", "visit": "visit"}


def _spoil_time(server_db, kind: str, record_id: str) -> None:
    bad = "infinity" if server_db.engine.dialect.name == "postgresql" else "not a time"
    with server_db.write() as s:
        s.execute(text(f"UPDATE {TABLE_OF[kind]} SET updated_at = :bad WHERE id = :id"), {"bad": bad, "id": record_id})


def _token(server, district, role: str) -> str:
    with harness.api(server.url) as http:
        r = http.post("/api/v1/enroll", json={"code": district.code(district.user(role)), "device_name": "t"})
    r.raise_for_status()
    return r.json()["token"]


def _pull(server, token: str, limit: int) -> list[dict]:
    changes, since = [], 0
    with harness.api(server.url, token) as http:
        while True:
            r = http.get("/api/v1/changes", params={"since": since, "limit": limit})
            r.raise_for_status()
            page = r.json()
            assert page["cursor"] >= since
            changes += page["changes"]
            since = page["cursor"]
            if not page["more"]:
                return changes


def test_unreadable_rows_are_left_out_of_every_page_size_and_reported_once(server, server_db, district, device):
    obs = device("observer")
    obs.sync.sync_once()
    walks = [harness.new_walk(obs, district.school_id) for _ in range(3)]
    visits = [v for w in walks for v in harness.record_visits(obs, w.id, 2, ratings=2)]
    notes = [obs.capture.add_note(v, "seen at the board").id for v in visits[:3]]
    obs.sync.sync_once()
    before = {(c["kind"], c["record_id"]) for c in _pull(server, _token(server, district, "admin"), 5000)}

    _spoil_time(server_db, "walk", walks[0].id)
    _spoil_time(server_db, "note", notes[0])
    _spoil_time(server_db, "visit", visits[2])
    with server_db.write() as s:
        s.execute(text("UPDATE visit_cells SET cells = '{not json' WHERE visit_id = :v"), {"v": visits[3]})
    bad = {("walk", walks[0].id), ("note", notes[0]), ("visit", visits[2])}

    token = _token(server, district, "admin")
    for limit in (1, 2, 3, 5000):
        got = _pull(server, token, limit)
        ids = [(c["kind"], c["record_id"]) for c in got]
        assert len(ids) == len(set(ids)) and set(ids) == before - bad, limit
        cells = {c["record_id"]: c["data"]["cells"] for c in got if c["kind"] == "visit"}
        assert cells[visits[3]] == [] and all(len(cells[v]) == 2 for v in cells if v != visits[3])

    tokens = [_token(server, district, "admin") for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:  # many first pulls meet the same rows at once
        list(pool.map(lambda t: _pull(server, t, 2), tokens))
    entries = server_db.rows(AuditLog, AuditLog.district_id == district.id, AuditLog.action == "pull.skipped")
    assert sorted((e.kind, e.record_id) for e in entries) == sorted(bad | {("visit", visits[3])})
    assert all(e.after["reason"] and "board" not in str(e.after) for e in entries)  # words, nothing of the note


def test_a_page_of_only_unreadable_rows_still_moves_the_cursor(server, server_db, district, device):
    obs = device("observer")
    obs.sync.sync_once()
    walks = [harness.new_walk(obs, district.school_id) for _ in range(3)]
    obs.sync.sync_once()
    _spoil_time(server_db, "walk", walks[1].id)
    token = _token(server, district, "lead")
    with harness.api(server.url, token) as http:
        pages, since = [], 0
        while True:
            page = http.get("/api/v1/changes", params={"since": since, "limit": 1}).json()
            pages.append((page["more"], [c["record_id"] for c in page["changes"]]))
            since = page["cursor"]
            if not page["more"]:
                break
    sent = {rid for _, p in pages for rid in p}
    assert walks[0].id in sent and walks[2].id in sent and walks[1].id not in sent
    assert (True, []) in pages  # the spoiled walk's page: nothing in it, yet the cursor moved past it


AT = "2026-09-01T08:00:00.000000Z"
CELLS = [["lf.a", "3", False, False, AT], ["lf.b", None, True, False, AT], ["lf.c", None, False, True, AT],
         ["lf.d", "3", False, False, "0999-01-01T00:00:00.000000Z"],
         ["lf.e", "3", False, False, "2026-02-30T00:00:00Z"],
         ["lf.f", "3", False, False, "not a time"], ["lf.g", "3", False, False, 5], ["lf.h", 3, False, False, AT],
         ["lf.i", "3", 0, False, AT], ["lf.j", "3", False, None, AT], [7, "3", False, False, AT],
         ["lf.k", "3", False, False], ["lf.l", "3", False, False, AT, 1], "cell", None, [],
         ["lf.m", "3", False, False, "2026-09-01T08:00:00+02:00"], ["lf.n", "3", False, False, "2026-09-01"]]


def test_the_fast_cell_check_says_what_the_codec_says():
    from itertools import combinations

    from sync.server.ingest.pull import _Window, all_readable, all_readable_reference

    for n in (1, 2, 3):
        for cells in combinations(CELLS, n):
            cells = list(cells)
            assert all_readable(cells) == all_readable_reference(cells), cells
    w = _Window.__new__(_Window)
    w.cell_skips = {}
    kept = w.readable_cells("v1", CELLS)
    assert kept == [c for c in CELLS if all_readable_reference([c])]
    assert len(w.cell_skips["v1"]) == len(CELLS) - len(kept)
    assert all_readable([list(c) for c in CELLS[:3]]) and all_readable([])
