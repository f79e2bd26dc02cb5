"""Pull v2 against the real server: a visit carries the cells other devices wrote (never the puller's own), no
cell is missed when a round is paged, and pages weigh a visit as 1 + its cells without splitting a visit or a
change number.

Server rows are written here as a push writes them (one district number per transaction; a visit whose cells
change takes it; the visit's device changes only when its own fields are written; a visit's cells are one
visit_cells row made by the server's own codec, sync.server.ingest.cells), then pulled over HTTP.
"""
from __future__ import annotations

import uuid
from datetime import date

from sync.server import seq
from sync.server.ingest.cells import devices_text, merge, new_visit, rows as cell_rows
from sync.server.models import Visit, VisitCells, Walk
from tests.support import serverproc as harness

T0 = "2026-09-01T08:00:00.000000Z"  # cell times as the server stores and sends them


def enroll(server, district, user: str) -> tuple[str, str]:
    """A device of this user, enrolled over HTTP: (device_id, token)."""
    with harness.api(server.url) as http:
        r = http.post("/api/v1/enroll", json={"code": district.code(user), "device_name": "tablet"})
    r.raise_for_status()
    return r.json()["device_id"], r.json()["token"]


def pull(server, token: str, since: int = 0, limit: int | None = None) -> tuple[list[dict], int]:
    """Every change after `since`, page by page: (changes, cursor)."""
    changes = []
    with harness.api(server.url, token) as http:
        while True:
            page = http.get("/api/v1/changes", params={"since": since, **({"limit": limit} if limit else {})})
            page.raise_for_status()
            changes += page.json()["changes"]
            since = page.json()["cursor"]
            if not page.json()["more"]:
                return changes, since


def pages(server, token: str, limit: int) -> list[list[dict]]:
    out, since = [], 0
    with harness.api(server.url, token) as http:
        while True:
            page = http.get("/api/v1/changes", params={"since": since, "limit": limit}).json()
            out.append(page["changes"])
            assert page["cursor"] >= since
            since = page["cursor"]
            if not page["more"]:
                return out


def write_walk(server_db, district, device: str, observer: str, visits: int, cells: int,
               one_number: bool = False) -> tuple[str, list[str]]:
    """A walk, its visits and their cells pushed by `device`: one number per visit, or one for all of them."""
    walk_id = str(uuid.uuid4())
    vids = []
    with server_db.write() as s:
        n = seq.reserve(s, district.id, 1 if one_number else visits + 1)
        s.add(Walk(id=walk_id, school_id=district.school_id, walk_date=date(2026, 9, 1), rubric_id="deeper-learning",
                   rubric_version=1, district_id=district.id, change_seq=n, device_id=device, created_by=observer))
        for i in range(visits):
            vid, number = str(uuid.uuid4()), n if one_number else n + 1 + i
            vids.append(vid)
            s.add(Visit(id=vid, walk_id=walk_id, visit_no=i + 1, observer_id=observer, district_id=district.id,
                        change_seq=number, device_id=device))
            if cells:
                wire = [[0, f"lf.{c:02d}", "3", False, False, T0] for c in range(cells)]
                s.add(VisitCells(visit_id=vid, devices=devices_text([device]), cells=new_visit(wire)))
    return walk_id, vids


def change_cell(server_db, district, device: str, visit_id: str, lookfor_id: str, **values) -> int:
    """One cell written by `device`: its visit takes a new number; the visit's device stays."""
    with server_db.write() as s:
        n = seq.reserve(s, district.id, 1)
        row = s.get(VisitCells, visit_id)
        old = next(c for c in cell_rows(row.devices, row.cells) if c.lookfor_id == lookfor_id)._asdict()
        new = {**old, **values}
        change = [n, lookfor_id, new["value"], new["not_observed"], new["deleted"], new["updated_at"]]
        merged = merge(row.devices, row.cells, [change], device)
        row.devices, row.cells = merged.devices, merged.cells
        s.get(Visit, visit_id).change_seq = n
    return n


def visits_of(changes: list[dict]) -> dict[str, dict]:
    return {c["record_id"]: c for c in changes if c["kind"] == "visit"}


def test_a_visit_comes_back_with_only_the_cell_another_device_changed(server, server_db, district):
    observer = district.user("observer")
    (dev_a, token_a), (dev_b, token_b) = enroll(server, district, observer), enroll(server, district, observer)
    admin = enroll(server, district, district.user("admin"))[1]
    _, (vid,) = write_walk(server_db, district, dev_a, observer, visits=1, cells=3)
    seen_a, cursor_a = pull(server, token_a)
    seen_b, cursor_b = pull(server, token_b)
    assert vid not in visits_of(seen_a)  # its own visit and cells
    assert [c[0] for c in visits_of(seen_b)[vid]["data"]["cells"]] == ["lf.00", "lf.01", "lf.02"]

    later = "2026-09-01T09:30:00.000000Z"
    n = change_cell(server_db, district, dev_b, vid, "lf.01", value=None, not_observed=True, updated_at=later)

    got_a, _ = pull(server, token_a, cursor_a)
    change = visits_of(got_a)[vid]
    assert change["seq"] == n and change["data"]["id"] == vid and change["data"]["observer_id"] == observer
    assert change["data"]["cells"] == [["lf.01", None, True, False, later]]
    got_b, _ = pull(server, token_b, cursor_b)
    # its own cell is not sent back; the other device's cells come again with the visit (module docstring)
    assert [c[0] for c in visits_of(got_b)[vid]["data"]["cells"]] == ["lf.00", "lf.02"]
    everything = visits_of(pull(server, admin)[0])[vid]["data"]["cells"]
    assert [c[:3] for c in everything] == [["lf.00", "3", False], ["lf.01", None, True], ["lf.02", "3", False]]


def test_a_cleared_cell_is_sent_as_a_tombstone(server, server_db, district):
    observer = district.user("observer")
    (dev_a, token_a), (dev_b, _) = enroll(server, district, observer), enroll(server, district, observer)
    _, (vid,) = write_walk(server_db, district, dev_a, observer, visits=1, cells=2)
    _, cursor = pull(server, token_a)
    change_cell(server_db, district, dev_b, vid, "lf.00", value=None, deleted=True)
    cells = visits_of(pull(server, token_a, cursor)[0])[vid]["data"]["cells"]
    assert [c[:4] for c in cells] == [["lf.00", None, False, True]]


def test_a_paged_round_misses_no_cell_of_a_visit_that_moved_past_a_page_cursor(server, server_db, district):
    """A cell numbered before a cut page's cursor whose visit later moved past it (another cell changed) still
    arrives: its visit carries every cell other devices wrote, not only those after the page's cursor."""
    observer = district.user("observer")
    dev = enroll(server, district, observer)[0]
    admin = enroll(server, district, district.user("admin"))[1]
    _, head = pull(server, admin)
    _, (vid,) = write_walk(server_db, district, dev, observer, visits=1, cells=3)
    write_walk(server_db, district, dev, observer, visits=4, cells=3)  # numbers after the first visit's cells
    change_cell(server_db, district, dev, vid, "lf.02", value="1")
    paged = pages(server, admin, limit=5)
    assert len(paged) > 2
    (change,) = [c for p in paged for c in p if c["record_id"] == vid]
    assert [c[:2] for c in change["data"]["cells"]] == [["lf.00", "3"], ["lf.01", "3"], ["lf.02", "1"]]


def test_pages_weigh_a_visit_by_its_cells_and_never_split_one(server, server_db, district):
    observer = district.user("observer")
    dev = enroll(server, district, observer)[0]
    admin = enroll(server, district, district.user("admin"))[1]
    _, vids = write_walk(server_db, district, dev, observer, visits=8, cells=4)
    _, (heavy,) = write_walk(server_db, district, dev, observer, visits=1, cells=15)  # heavier than a page

    paged = pages(server, admin, limit=12)
    whole, _ = pull(server, admin)
    flat = [c for p in paged for c in p]
    assert [(c["kind"], c["record_id"], c["seq"]) for c in flat] == [(c["kind"], c["record_id"], c["seq"])
                                                                     for c in whole]
    for page in paged:
        weight = sum(1 + len(c["data"].get("cells", [])) if c["kind"] == "visit" else 1 for c in page)
        assert weight <= 12 or len(page) == 1  # only a lone visit may weigh more than a page
    assert all(len(c["data"]["cells"]) == 4 for c in flat if c["record_id"] in vids)
    assert len(visits_of(flat)[heavy]["data"]["cells"]) == 15


def test_a_walk_renumbered_as_one_change_comes_whole_in_one_page(server, server_db, district):
    observer = district.user("observer")
    dev = enroll(server, district, observer)[0]
    admin = enroll(server, district, district.user("admin"))[1]
    _, head = pull(server, admin)
    _, vids = write_walk(server_db, district, dev, observer, visits=6, cells=5, one_number=True)
    with harness.api(server.url, admin) as http:
        page = http.get("/api/v1/changes", params={"since": head, "limit": 4}).json()
    assert {c["record_id"] for c in page["changes"] if c["kind"] == "visit"} == set(vids)
    assert page["more"] is False and len({c["seq"] for c in page["changes"]}) == 1


def test_through_real_pushes_a_second_tablet_s_cell_reaches_the_first_alone(server, district, tmp_path):
    user = district.user("observer")
    first = harness.new_device(tmp_path / "a", server.url, district.code(user))
    second = harness.new_device(tmp_path / "b", server.url, district.code(user))  # same observer, 2nd tablet
    first.sync.sync_once()
    walk = harness.new_walk(first, district.school_id)
    (vid,) = harness.record_visits(first, walk.id, 1, ratings=3)
    first.sync.sync_once()
    second.sync.sync_once()
    rubric = second.capture.catalog.get(*harness.RUBRIC)
    lf = rubric.lookfors[1].id
    new_value = rubric.scale_of(lf).values()[-1]
    assert second.capture.ratings(vid)[lf].value != new_value
    second.capture.rate(vid, lf, new_value)
    second.sync.sync_once()

    with harness.api(server.url, harness.token_of(first)) as http:
        got = http.get("/api/v1/changes", params={"since": first.sync.store.cursor()}).json()["changes"]
    assert [c[:2] for c in visits_of(got)[vid]["data"]["cells"]] == [[lf, new_value]]
    with harness.api(server.url, harness.token_of(second)) as http:
        back = http.get("/api/v1/changes", params={"since": 0}).json()["changes"]
    assert lf not in [c[0] for c in visits_of(back)[vid]["data"]["cells"]]  # its own cell is not sent back
    first.sync.sync_once()
    assert first.capture.ratings(vid)[lf].value == new_value
    for d in (first, second):
        d.engine.dispose()


def test_a_visit_whose_other_device_cells_were_all_taken_back_is_not_sent_to_its_writer(server, server_db, district):
    """The pull finds "a cell by another device" by comparing the row's devices list with [own] as text: once the
    first tablet rewrites the second tablet's only cell, the visit holds nothing the first does not have."""
    observer = district.user("observer")
    (dev_a, token_a), (dev_b, token_b) = enroll(server, district, observer), enroll(server, district, observer)
    _, (vid,) = write_walk(server_db, district, dev_a, observer, visits=1, cells=2)
    change_cell(server_db, district, dev_b, vid, "lf.00", value="1")
    _, cursor_a = pull(server, token_a)
    _, cursor_b = pull(server, token_b)
    n = change_cell(server_db, district, dev_a, vid, "lf.00", value="2")

    got_a, after_a = pull(server, token_a, cursor_a)
    assert vid not in visits_of(got_a) and after_a == n
    change = visits_of(pull(server, token_b, cursor_b)[0])[vid]
    assert change["seq"] == n and [c[:2] for c in change["data"]["cells"]] == [["lf.00", "2"], ["lf.01", "3"]]
