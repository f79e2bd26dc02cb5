"""Two tablets that recorded walks under the same free-text cycle label before cycles were records: after the app's
update each tablet's store migration makes the cycle with the id the server derives, so the district ends with ONE
cycle, both tablets' walks name it, and the lead's trend reads them as one cycle."""
from __future__ import annotations

from datetime import date

from app.debrief.trends import cycle_trend
from app.store.sync_adapter import rejected_entries
from sync.protocol import legacy_cycle_id
from sync.server.models import Cycle as SCycle, Walk as SWalk
from tests.support import serverproc as harness
from tests.support.legacy_store import v1_store


def _walk(wid, label, phase, day):
    return {"id": wid, "label": label, "phase": phase, "walk_date": day, "focus": ["dl.interactive"]}


def test_the_same_label_on_two_updated_tablets_becomes_one_cycle_on_the_server(server, server_db, district,
                                                                                 tmp_path):
    school = district.school_id
    a, b = tmp_path / "a", tmp_path / "b"
    for p in (tmp_path / "va", tmp_path / "vb"):
        p.mkdir()
    v1_store(a, tmp_path / "va", school, [_walk("wa-base", "Fall 2026", "baseline", date(2026, 9, 7))])
    v1_store(b, tmp_path / "vb", school, [_walk("wb-six", " FALL 2026", "six-week", date(2026, 10, 19)),
                                          _walk("wb-end", "fall 2026", "end-of-cycle", date(2026, 11, 23))])
    first = harness.new_device(a, server.url, district.code(district.user("observer")))
    second = harness.new_device(b, server.url, district.code(district.user("observer")))
    first.sync.sync_once()
    second.sync.sync_once()  # its copy of the cycle is answered "duplicate": the server's stands
    for dev in (first, second):  # everything taken: nothing pending, nothing rejected
        assert dev.sync.status().pending == 0 and rejected_entries(dev.engine) == []

    cycle_id = legacy_cycle_id(school, "Fall 2026")
    held = server_db.rows(SCycle, SCycle.district_id == district.id)
    assert [c.id for c in held] == [cycle_id] and held[0].name == "Fall 2026" and held[0].migrated
    walks = server_db.rows(SWalk, SWalk.district_id == district.id)
    assert {w.id: w.cycle_id for w in walks} == {"wa-base": cycle_id, "wb-six": cycle_id, "wb-end": cycle_id}

    lead = harness.new_device(tmp_path / "lead", server.url, district.code(district.user("lead")))
    lead.sync.sync_once()
    assert [c.id for c in lead.capture.cycles()] == [cycle_id]
    trend = cycle_trend(lead.engine, lead.capture.catalog, "wb-end")
    assert [w.id for w in trend.walks] == ["wa-base", "wb-six", "wb-end"] and trend.cycle.id == cycle_id
