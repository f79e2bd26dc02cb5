"""What the fault tests check after the dust settles: each record on the server exactly once and equal to the
device's, the device's outbox empty, and snapshots of the server to prove a replay changed nothing."""
from __future__ import annotations

import inspect
import json
import sqlite3
from pathlib import Path

from sqlmodel import Session, select

from app.store.db import db_path
from app.store.models import EvidenceNote as DNote, Outbox, Rating as DRating, Visit as DVisit, Walk as DWalk
from sync.client import SyncClient, SyncFailed, batch_sizes
from sync.push_wire import PendingEntry, build_push
from sync.protocol import rating_id
from sync.server.models import Device, District, EvidenceNote, Visit, Walk

from tests.support import serverproc as harness

_PAIRS = (("walk", DWalk, Walk), ("visit", DVisit, Visit), ("rating", DRating, None),
          ("note", DNote, EvidenceNote))  # the server keeps a visit's cells in one row: read by harness.cells
_COMPARED = {"walk": ("id", "school_id", "deleted", "created_by"),
             "visit": ("id", "walk_id", "visit_no", "observer_id", "grade", "subject", "deleted", "ended_at"),
             "rating": ("id", "visit_id", "lookfor_id", "value", "not_observed", "deleted"),
             "note": ("id", "visit_id", "lookfor_id", "text", "deleted")}


def _norm(v):
    return v.replace(tzinfo=None).isoformat(timespec="milliseconds") if hasattr(v, "isoformat") else v


def _server_rows(server_db, model, district_id: str) -> list:
    if model is None:  # rating cells: (visit, look-for) -> CellRow, stored in their visit's visit_cells row
        return [_Cell(vid, cell) for (vid, _), cell in server_db.cells(district_id).items()]
    return server_db.rows(model, model.district_id == district_id)


class _Cell:
    """A stored cell with the device's names for its fields: id = rating_id(visit, look-for), visit_id."""

    def __init__(self, visit_id: str, cell):
        self.visit_id, self.cell = visit_id, cell
        self.id = rating_id(visit_id, cell.lookfor_id)

    def __getattr__(self, field: str):
        return getattr(self.cell, field)


def device_records(dev) -> dict[str, dict[str, tuple]]:
    out = {}
    with Session(dev.engine) as s:
        for kind, model, _ in _PAIRS:
            out[kind] = {r.id: tuple(_norm(getattr(r, f)) for f in _COMPARED[kind])
                         for r in s.exec(select(model)).all()}
    return out


def server_records(server_db, district_id: str) -> dict[str, list[tuple]]:
    """Every record of the district, as a list (so a duplicate would show as two items)."""
    out = {}
    for kind, _, model in _PAIRS:
        out[kind] = [tuple(_norm(getattr(r, f)) for f in _COMPARED[kind])
                     for r in _server_rows(server_db, model, district_id)]
    return out


def server_state(server_db, district_id: str) -> dict:
    """The district's change counter and every record's (change_seq, server_updated_at) (a cell's whole stored
    content, its writer and time included): any write moves them."""
    (district,) = server_db.rows(District, District.id == district_id)
    rows = {}
    for kind, _, model in _PAIRS:
        for r in _server_rows(server_db, model, district_id):
            rows[(kind, r.id)] = tuple(r.cell) if model is None else (r.change_seq, r.server_updated_at)
    return {"counter": district.change_counter, "rows": rows}


def outbox(dev) -> list[tuple[int, str, str, str | None]]:
    with Session(dev.engine) as s:
        return [(o.seq, o.kind, o.record_id, o.rejected_reason)
                for o in s.exec(select(Outbox).order_by(Outbox.seq)).all()]


def pending_entries(dev) -> list[PendingEntry]:
    """The device's unacknowledged outbox entries as the client reads them (with their snapshots)."""
    return dev.sync.store.pending(0, 10_000_000)


# the client's batch size when none is given (what `learnwalk sync` and SyncService use)
DEFAULT_BATCH = inspect.signature(SyncClient).parameters["batch_entries"].default


def batches(entries: list[PendingEntry], batch_entries: int = DEFAULT_BATCH) -> list[list[PendingEntry]]:
    """The entries cut into pushes the way SyncClient cuts them (sync.client.batch_sizes)."""
    out, start = [], 0
    for size in batch_sizes(batch_entries):
        if start >= len(entries):
            return out
        out.append(entries[start:start + size])
        start += size


def pushed_items(entries: list[PendingEntry], batch_entries: int = DEFAULT_BATCH) -> int:
    """How many records + cells the pushes of these entries carry (each record once per push, in its latest
    state): what the server answers as `applied` + duplicate + rejected, and RoundReport counts."""
    return sum(build_push(b).items for b in batches(entries, batch_entries))


def numbers_taken(entries: list[PendingEntry], batch_entries: int = DEFAULT_BATCH, *, processed: int = 0) -> int:
    """How far the district's change counter moves when the pushes of these entries are all applied (protocol
    v2): one number per walk, visit and note a push writes, plus one per visit whose cells a push changes without
    the visit (cells share their visit's number). Read from the bodies themselves, as the server receives them.
    processed: the server's last_op_seq before the pushes; a record or cell at or below it is a replay, not
    written again. Leaves out the one number per walk renumbered for a lead joining it: the fault tests' walks
    are an observer's own, with no lead in their team."""
    taken = 0
    for b in batches(entries, batch_entries):
        body = json.loads(build_push(b).body)
        walks, visits, notes = ([snap["id"] for q, snap in body[k] if q > processed] for k in ("walks", "visits", "notes"))
        celled = {vid for vid, cells in body["cells"] if any(c[0] > processed for c in cells)}
        taken += len(walks) + len(visits) + len(notes) + len(celled - set(visits))
    return taken


def assert_numbered_once(before: dict, after: dict, entries: list[PendingEntry]) -> None:
    """Between two server_state snapshots around ONE push of these entries, all applied: the counter moved by what
    v2 numbers for them, and the walks, visits and notes written took exactly those numbers, each its own."""
    assert after["counter"] == before["counter"] + numbers_taken(entries, len(entries))
    written = sorted(state[0] for key, state in after["rows"].items()
                     if key[0] != "rating" and before["rows"].get(key) != state)
    assert written == list(range(before["counter"] + 1, after["counter"] + 1))


def answer_all_applied(entries: list[PendingEntry]) -> dict:
    """The server's answer to one push of these entries when every record and cell in it is applied (and to
    any replay of that push): nothing listed, every item counted."""
    return {"last_op_seq": entries[-1].seq, "applied": build_push(entries).items, "results": []}


def last_op_seq(server_db, dev) -> int:
    (row,) = server_db.rows(Device, Device.id == dev.sync.store.meta("device_id")["device_id"])
    return row.last_op_seq


def highest_seq_issued(data_dir: Path) -> int:
    with sqlite3.connect(db_path(data_dir)) as c:
        row = c.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
    return row[0] if row else 0


def assert_exactly_once(dev, server_db, district_id: str) -> None:
    """Every record the device holds is on the server once, with the device's content; the outbox is empty; the
    server has processed every op_seq the device ever issued."""
    assert outbox(dev) == []
    mine = device_records(dev)
    theirs = server_records(server_db, district_id)
    for kind in mine:
        assert len(theirs[kind]) == len(set(r[0] for r in theirs[kind])), f"a {kind} is on the server twice"
        assert sorted(theirs[kind]) == sorted(mine[kind].values()), kind
    assert last_op_seq(server_db, dev) == highest_seq_issued(dev.path)


def sync_until_done(dev, url: str, attempts: int = 6, **client_kw) -> list[SyncFailed]:
    """Run rounds with the real client until one completes (what the background task does, without the
    waits); returns the failures met on the way."""
    failures = []
    token = dev.sync.store.meta("token")["token"]
    for _ in range(attempts):
        try:
            with SyncClient(url, token, **client_kw) as client:
                client.sync(dev.sync.store)
            return failures
        except SyncFailed as exc:
            assert exc.retryable, str(exc)
            failures.append(exc)
    raise AssertionError(f"no round completed in {attempts} attempts: {failures}")


def capture_some(dev, school_id: str, visits: int = 8) -> str:
    """A walk with `visits` finished visits of 3 ratings each and a note on every other visit; returns walk id."""
    walk = harness.new_walk(dev, school_id)
    ids = harness.record_visits(dev, walk.id, visits)
    for i, vid in enumerate(ids[::2]):
        dev.capture.add_note(vid, f"students explained their reasoning ({i})")
    return walk.id
