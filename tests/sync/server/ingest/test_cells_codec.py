"""sync.server.ingest.cells, the visit_cells row (cells in sync.protocol.cells' stored encoding): a new visit stored as
its cells arrived (the push cells left alone), a merge that is last writer wins per look-for and reports only the
cells it takes from another device, a devices list that names exactly the devices still holding a cell, and
rows() reading back what was written."""
from __future__ import annotations

import orjson

from sync.server.ingest.cells import CellRow, decode, devices_text, encode, merge, new_visit, rows

T1, T2 = "2026-11-25T09:30:00.000000Z", "2026-11-25T10:00:00.250000Z"


def wire(q: int, lf: str, value: str | None = "3", no: bool = False, deleted: bool = False, at: str = T1) -> list:
    return [q, lf, value, no, deleted, at]


def stored(devices: list[str], cells: list[tuple]) -> tuple[str, str]:
    """A visit_cells row's (devices, cells) from (device, look-for, value, not_observed, deleted, time) tuples."""
    ix = {d: i for i, d in enumerate(devices)}
    out = sorted(([ix[d], lf, v, no, dl, at] for d, lf, v, no, dl, at in cells), key=lambda c: c[1])
    return devices_text(devices), encode(out)


def by_lookfor(devices: str, cells: str) -> dict[str, CellRow]:
    return {r.lookfor_id: r for r in rows(devices, cells)}


def test_devices_text_is_compact_json_so_sql_can_compare_it_as_text():
    assert devices_text(["d1"]) == '["d1"]'
    assert devices_text(["d1", "d2"]) == '["d1","d2"]'


def test_a_new_visit_is_stored_as_device_0_in_look_for_order():
    cells = [wire(7, "lf.c"), wire(5, "lf.a", None, True), wire(6, "lf.B", deleted=True, value=None, at=T2)]
    text = new_visit(cells)
    assert orjson.loads(text) == [[0, "lf.B", None, False, True, T2], [0, "lf.a", None, True, False, T1],
                                  [0, "lf.c", "3", False, False, T1]]  # code point order: "B" before "a"
    assert list(rows(devices_text(["dev-a"]), text)) == [
        CellRow("lf.B", None, False, True, T2, "dev-a"), CellRow("lf.a", None, True, False, T1, "dev-a"),
        CellRow("lf.c", "3", False, False, T1, "dev-a")]
    # the push cells are left as they came (the push still answers and audits by them)
    assert cells == [wire(7, "lf.c"), wire(5, "lf.a", None, True), wire(6, "lf.B", deleted=True, value=None, at=T2)]


def test_rows_read_back_every_cell_with_its_writer_tombstones_included():
    devices, cells = stored(["dev-a", "dev-b"], [("dev-b", "lf.2", None, False, True, T2),
                                                  ("dev-a", "lf.1", "4", False, False, T1)])
    assert list(rows(devices, cells)) == [CellRow("lf.1", "4", False, False, T1, "dev-a"),
                                          CellRow("lf.2", None, False, True, T2, "dev-b")]
    assert decode(devices, cells) == (["dev-a", "dev-b"], orjson.loads(cells))


def test_merge_into_no_row_stores_the_changes_of_one_device():
    m = merge(None, None, [wire(9, "lf.b"), wire(8, "lf.a", "1")], "dev-a")
    assert m.devices == devices_text(["dev-a"]) and m.replaced == []
    assert list(rows(m.devices, m.cells)) == [CellRow("lf.a", "1", False, False, T1, "dev-a"),
                                              CellRow("lf.b", "3", False, False, T1, "dev-a")]


def test_merge_is_last_writer_wins_and_reports_only_cells_taken_from_another_device():
    devices, cells = stored(["dev-a"], [("dev-a", "lf.a", "1", False, False, T1),
                                        ("dev-a", "lf.b", "2", False, False, T1),
                                        ("dev-a", "lf.c", "3", False, False, T1)])
    by_b = merge(devices, cells, [wire(4, "lf.b", "4", at=T2)], "dev-b")
    assert by_b.devices == devices_text(["dev-a", "dev-b"])
    assert by_lookfor(by_b.devices, by_b.cells) == {
        "lf.a": CellRow("lf.a", "1", False, False, T1, "dev-a"), "lf.b": CellRow("lf.b", "4", False, False, T2, "dev-b"),
        "lf.c": CellRow("lf.c", "3", False, False, T1, "dev-a")}
    assert by_b.replaced == [(CellRow("lf.b", "2", False, False, T1, "dev-a"), wire(4, "lf.b", "4", at=T2))]

    # the same device again: its own cell is replaced without a report, another device's cell with one
    again = merge(by_b.devices, by_b.cells, [wire(5, "lf.b", None, True), wire(6, "lf.c", None, deleted=True)],
                  "dev-b")
    assert again.replaced == [(CellRow("lf.c", "3", False, False, T1, "dev-a"), wire(6, "lf.c", None, deleted=True))]
    assert by_lookfor(again.devices, again.cells)["lf.b"] == CellRow("lf.b", None, True, False, T1, "dev-b")
    assert by_lookfor(again.devices, again.cells)["lf.c"] == CellRow("lf.c", None, False, True, T1, "dev-b")


def test_a_device_holding_no_cell_any_more_leaves_the_devices_list():
    devices, cells = stored(["dev-a", "dev-b", "dev-c"], [("dev-a", "lf.a", "1", False, False, T1),
                                                           ("dev-b", "lf.b", "2", False, False, T1),
                                                           ("dev-c", "lf.c", "3", False, False, T1)])
    m = merge(devices, cells, [wire(1, "lf.a", "4"), wire(2, "lf.c", "4")], "dev-b")
    # exactly [dev-b]: a pull by dev-b compares the column with devices_text(["dev-b"]) and must find no cell
    assert m.devices == devices_text(["dev-b"])
    assert {r.device_id for r in rows(m.devices, m.cells)} == {"dev-b"}
    assert sorted(old.device_id for old, _ in m.replaced) == ["dev-a", "dev-c"]


def test_merge_keeps_cells_in_look_for_order_and_device_indexes_right():
    devices, cells = stored(["dev-a", "dev-c"], [("dev-c", "lf.b", "2", False, False, T1),
                                                  ("dev-a", "lf.d", "4", False, False, T1)])
    m = merge(devices, cells, [wire(1, "lf.e", "1"), wire(2, "lf.a", "1"), wire(3, "lf.c", "1")], "dev-b")
    ids, out = decode(m.devices, m.cells)
    assert ids == ["dev-a", "dev-b", "dev-c"]
    assert [c[1] for c in out] == ["lf.a", "lf.b", "lf.c", "lf.d", "lf.e"]
    assert [(r.lookfor_id, r.device_id) for r in rows(m.devices, m.cells)] == [
        ("lf.a", "dev-b"), ("lf.b", "dev-c"), ("lf.c", "dev-b"), ("lf.d", "dev-a"), ("lf.e", "dev-b")]
    assert m.replaced == []  # only new look-fors: nothing taken from anyone


def test_merge_leaves_its_inputs_as_they_were():
    devices, cells = stored(["dev-a"], [("dev-a", "lf.a", "1", False, False, T1)])
    change = wire(1, "lf.a", "2")
    merge(devices, cells, [change], "dev-b")
    assert change == wire(1, "lf.a", "2")  # the push keeps the wire cell for its audit entry
