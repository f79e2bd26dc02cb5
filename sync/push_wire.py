"""The device's half of the v2 push wire: a push body built from outbox entries, and the server's answer read.

Kept apart from the HTTP loop (sync.client) so both are small and the body can be built in a worker thread.
Speed matters here (a round may carry tens of thousands of entries): snapshots pass through as the JSON text the
outbox holds, rating snapshots are parsed with one JSON call per batch (sync.jsonwire: orjson where installed), answers are read with it and
plain type checks, and only an unusual answer goes through pydantic (PushResponse decides it).
"""
from __future__ import annotations

from typing import NamedTuple, get_args

from sync import jsonwire
from sync.protocol import EntryStatus, PushResponse
from sync.protocol.cells import push_cell


class PendingEntry(NamedTuple):
    """An outbox entry as the device holds it; data_json is the record snapshot already encoded as JSON."""
    seq: int
    kind: str
    record_id: str
    data_json: str


class PushBatch(NamedTuple):
    """One push: outbox entries from_seq..to_seq as a v2 body; items = records + cells it carries."""
    from_seq: int
    to_seq: int
    body: bytes
    items: int


class Answer(NamedTuple):
    """The server's answer to one record or cell: an EntryResult as a plain tuple with the same fields."""
    op_seq: int
    status: str
    reason: str | None = None


class PushAnswer(NamedTuple):
    """A PushResponse as plain tuples: results hold only the answers that are not "applied"."""
    last_op_seq: int
    applied: int
    results: list[Answer]


_SNAPSHOT_KINDS = ("walk", "visit", "note")
PARSE_CHUNK = 1_000  # rating snapshots parsed per JSON call
DUMP_VISITS = 40  # visits' cells written per JSON call (about PARSE_CHUNK cells at 25 look-fors)


def build_push(entries: list[PendingEntry]) -> PushBatch:
    """The v2 push of these outbox entries (in seq order): each record once, in its latest state, with the seq
    of its latest entry; ratings as cells grouped by visit (visits in order of their first cell, cells in seq
    order). Raises ValueError with a sentence if an entry cannot be sent."""
    if not entries:
        raise ValueError("A push needs at least one outbox entry.")
    latest: dict[str, dict[str, PendingEntry]] = {"cycle": {}, "walk": {}, "visit": {}, "note": {}, "rating": {}}
    for e in entries:
        by_id = latest.get(e.kind)
        if by_id is None:
            raise ValueError(f"Change {e.seq} is of a kind this app cannot send ({e.kind}); update the app.")
        # drop and re-add: the dict keeps records in the order of their latest entry, i.e. in op_seq order
        by_id.pop(e.record_id, None)
        by_id[e.record_id] = e
    ratings = list(latest["rating"].values())
    cells = _cells(ratings)
    walks, visits, notes = (",".join(f"[{e.seq},{e.data_json}]" for e in latest[k].values()) for k in _SNAPSHOT_KINDS)
    head = f'{{"from_seq":{entries[0].seq},"to_seq":{entries[-1].seq},"walks":[{walks}],"visits":[{visits}],"cells":'
    tail = f',"notes":[{notes}]' + _cycles(latest["cycle"]) + "}"
    body = b"".join((head.encode(), cells, tail.encode()))
    items = len(ratings) + sum(len(latest[k]) for k in (*_SNAPSHOT_KINDS, "cycle"))
    return PushBatch(entries[0].seq, entries[-1].seq, body, items)


def _cycles(cycles: dict[str, PendingEntry]) -> str:
    """',"cycles":[...]' when the batch holds cycles (the server applies them before walks), else nothing."""
    if not cycles:
        return ""
    return ',"cycles":[' + ",".join(f"[{e.seq},{e.data_json}]" for e in cycles.values()) + "]"


def _cells(ratings: list[PendingEntry]) -> bytes:
    """[[visit_id, [push cell, ...]], ...] as JSON (sync.protocol.cells)."""
    if not ratings:
        return b"[]"
    # one parse per PARSE_CHUNK snapshots: far cheaper than one orjson call each, and short enough that the thread
    # tapping on the same device gets the interpreter between two (one call over a 20,000-entry batch held it
    # for 30-120 ms). Each part's snapshots become cells before the next part is parsed: a batch never holds
    # all its snapshots as dicts at once (about 14 MB at 20,000 ratings).
    by_visit: dict[str, list] = {}
    for i in range(0, len(ratings), PARSE_CHUNK):
        part = ratings[i:i + PARSE_CHUNK]
        try:
            snapshots = jsonwire.loads("[" + ",".join(e.data_json for e in part) + "]")
        except jsonwire.JSONDecodeError:
            raise ValueError(f"A rating among changes {part[0].seq} to {part[-1].seq} is not readable JSON; "
                             "export this device's data and tell your admin.") from None
        for e, d in zip(part, snapshots):
            try:
                visit_id, cell = push_cell(e.seq, d)
            except (KeyError, TypeError):
                raise ValueError(f"Change {e.seq} is not a whole rating; export this device's data and tell your "
                                 "admin.") from None
            group = by_visit.get(visit_id)
            if group is None:
                by_visit[visit_id] = group = []
            group.append(cell)
    groups = list(by_visit.items())
    # written in parts for the same reason as the parse; each part is a JSON list, joined without its brackets
    parts = [jsonwire.dumps(groups[i:i + DUMP_VISITS])[1:-1] for i in range(0, len(groups), DUMP_VISITS)]
    return b"[" + b",".join(parts) + b"]"


_STATUSES = frozenset(get_args(EntryStatus))


def read_answer(content: bytes) -> PushAnswer:
    """A push's 200 answer. orjson and strict checks for the usual answer; anything unusual goes to
    PushResponse, which accepts it or raises ValidationError."""
    try:
        body = jsonwire.loads(content)
    except jsonwire.JSONDecodeError:
        body = None
    if type(body) is dict and type(body.get("last_op_seq")) is int and type(body.get("applied")) is int \
            and type(results := body.get("results")) is list:
        out = []
        for r in results:
            q, status, why = (r.get("op_seq"), r.get("status"), r.get("reason")) if type(r) is dict else (0, 0, 0)
            if type(q) is not int or status not in _STATUSES or not (why is None or type(why) is str):
                break
            out.append(Answer(q, status, why))
        else:
            return PushAnswer(body["last_op_seq"], body["applied"], out)
    r = PushResponse.model_validate_json(content)
    return PushAnswer(r.last_op_seq, r.applied, [Answer(a.op_seq, a.status, a.reason) for a in r.results])
