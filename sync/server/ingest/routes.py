"""HTTP face of sync: health, enrollment, push and pull. Routes parse and present; the work is in push/pull."""
from __future__ import annotations

import asyncio
import gc
import time
from itertools import chain
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session, select

from rubrics.limits import MAX_LOOKFORS
from sync.protocol import (MAX_OP_SEQ, PROTOCOL_VERSION, EnrollRequest, EnrollResponse, PullResponse, PushRequest,
                           PushResponse)
from sync.protocol.cells import envelope_ok, op_seqs
from sync.server import errors, seq
from sync.server.db import write_gate, writer
from sync.server.deps import CallerDep, ProtocolDep, WriteSessionDep
from sync.server.directory.attempts import EnrollLimited, Limits
from sync.server.directory.people import DirectoryError, enroll_limited, mark_synced
from sync.server.errors import ApiError
from sync.server.ingest.pull import changes_since
from sync.server.ingest.push import Batch, answers_json, ingest
from sync.server.lanes import build_pull

router = APIRouter(prefix="/api/v1", tags=["sync"])


def _ping(engine) -> None:
    with engine.connect() as c:
        c.exec_driver_sql("SELECT 1")


@router.get("/health", responses={503: errors.documented(503)})
async def health(request: Request) -> dict:
    """The protocol version, once a database connection came within health_pool_seconds (no token needed); 503
    when none did: the pool is exhausted, every worker is busy, or the database is down."""
    settings, engine = request.app.state.settings, request.app.state.engine
    try:
        await asyncio.wait_for(run_in_threadpool(_ping, engine), settings.health_pool_seconds)
    except Exception as exc:  # a timeout, or the database refusing: either way this server cannot serve now
        raise ApiError(503, f"The server could not get a database connection within {settings.health_pool_seconds:g} "
                            f"seconds ({type(exc).__name__}); every connection is in use or the database is down. "
                            "Try again shortly; if it persists, check the database and the pool size "
                            "(LEARNWALK_WORKERS).") from None
    return {"status": "ok", "protocol": PROTOCOL_VERSION}


@router.post("/enroll", response_model=EnrollResponse, responses={429: errors.documented(429, retry_after=True)})
def enroll_device(body: EnrollRequest, s: WriteSessionDep, _p: ProtocolDep, request: Request) -> EnrollResponse:
    """Exchange a one-time enrollment code for a device token (shown once). A code that is unknown, already used or
    expired is answered 400 of type urn:learnwalk:problem:enrollment-code (the schema states a code's form, not
    which codes exist); after too many failed attempts from an address or for a district, 429 with Retry-After
    until the window ends."""
    address = request.client.host if request.client else ""
    try:
        device, user, district, token = enroll_limited(s, body.code, body.device_name, address,
                                                       Limits.of(request.app.state.settings))
    except EnrollLimited as exc:
        raise errors.too_many(str(exc), exc.retry_after) from None
    except DirectoryError as exc:
        raise ApiError(400, str(exc), type=errors.ENROLLMENT_CODE) from None
    s.commit()
    return EnrollResponse(device_id=device.id, token=token, user_id=user.id, role=user.role,
                          district_id=district.id, district_name=district.name)


def _records(raw, lo: int, hi: int) -> list | None:
    if type(raw) is not list:
        return None
    for r in raw:
        if not (type(r) is list and len(r) == 2 and type(r[0]) is int and lo <= r[0] <= hi and type(r[1]) is dict):
            return None
    return raw


def _cells(raw, lo: int, hi: int) -> tuple[list, int] | None:
    if type(raw) is not list:
        return None
    count = 0
    for g in raw:
        if not (type(g) is list and len(g) == 2 and type(g[0]) is str and 0 < len(g[0]) <= 36
                and type(g[1]) is list):
            return None
        # each cell a list of six whose op_seq is in range; the other five are checked cell by cell later and
        # answered (rejected), not refused with the body
        if not envelope_ok(g[1], lo, hi):
            return None
        count += len(g[1])
    return raw, count


def _batch(raw: bytes) -> Batch | None:
    """The batch of a well-formed push body, or None when anything is unusual (PushRequest then decides).

    orjson parses strict JSON (UTF-8 only, no lone surrogates, no NaN) many times faster than pydantic builds
    the same lists; the checks here are PushRequest's envelope in strict form: a body they do not accept as is
    (a string op_seq pydantic would coerce...) goes to PushRequest, which accepts or refuses it with its message.
    """
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(body) is not dict:
        return None
    lo, hi = body.get("from_seq"), body.get("to_seq")
    if not (type(lo) is int and type(hi) is int and 1 <= lo <= hi <= MAX_OP_SEQ):
        return None
    walks, visits, notes, cycles = (_records(body.get(k, []), lo, hi) for k in ("walks", "visits", "notes", "cycles"))
    cells = _cells(body.get("cells", []), lo, hi)
    if walks is None or visits is None or notes is None or cycles is None or cells is None:
        return None
    return Batch(lo, hi, walks, visits, cells[0], notes, len(walks) + len(visits) + len(notes) + len(cycles) + cells[1],
                 cycles)


def _from_model(req: PushRequest) -> Batch:
    dump = req.model_dump(mode="json")
    if dump["to_seq"] < dump["from_seq"]:
        raise ApiError(422, "The push covers from_seq to to_seq, so to_seq cannot be below from_seq; "
                            "send the entries as the outbox holds them.", type=errors.PUSH_ENVELOPE)
    items = len(dump["walks"]) + len(dump["visits"]) + len(dump["notes"]) + len(dump["cycles"]) \
        + sum(len(c) for _, c in dump["cells"])
    return Batch(dump["from_seq"], dump["to_seq"], dump["walks"], dump["visits"], dump["cells"], dump["notes"],
                 items, dump["cycles"])


# a visit has at most one cell per look-for of its rubric, and a rubric at most MAX_LOOKFORS look-fors
MAX_CELLS_PER_VISIT = MAX_LOOKFORS


def _check_cells_per_visit(groups: list) -> None:
    per_visit: dict[str, int] = {}
    for visit_id, cells in groups:
        per_visit[visit_id] = per_visit.get(visit_id, 0) + len(cells)
    most = max(per_visit.items(), key=lambda kv: kv[1], default=(None, 0))
    if most[1] > MAX_CELLS_PER_VISIT:
        raise ApiError(422, f"This push carries {most[1]} rating cells for one visit; a visit has at most "
                            f"{MAX_CELLS_PER_VISIT} (one per look-for of its rubric). Send each look-for's rating "
                            "once.", type=errors.PUSH_ENVELOPE)


def _parse_push(raw: bytes, settings) -> Batch:
    if len(raw) > settings.max_push_bytes:
        raise ApiError(413, f"This push is {len(raw)} bytes; the limit is {settings.max_push_bytes}. "
                            "Send the entries in smaller batches.")
    batch = _batch(raw)
    if batch is None:
        try:
            batch = _from_model(PushRequest.model_validate_json(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ())) or "body"
            raise ApiError(422, f"The push body is not valid at {where}: {err.get('msg')}; "
                                "fix it and send again.") from None
    if batch.items > settings.max_push_entries:
        raise ApiError(413, f"This push has {batch.items} records and cells; the limit is "
                            f"{settings.max_push_entries}. Send the entries in smaller batches.")
    _check_cells_per_visit(batch.cells)
    seqs = [q for q, _ in batch.walks] + [q for q, _ in batch.visits] + [q for q, _ in batch.notes] \
        + [q for q, _ in batch.cycles]
    seqs.extend(op_seqs(chain.from_iterable(cells for _, cells in batch.cells)))
    if seqs and (len(set(seqs)) != len(seqs) or min(seqs) < batch.from_seq or max(seqs) > batch.to_seq):
        raise ApiError(422, "Each op_seq of a push must be unique and within from_seq..to_seq (one answer per "
                            "change); send each record once, in its latest state.", type=errors.PUSH_ENVELOPE)
    return batch


@router.post("/push", response_model=PushResponse,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")}}}})
async def push(request: Request, caller: CallerDep) -> Response:
    """Apply a batch of outbox entries in one transaction; answer each record and cell (replays get the same
    answers; the body lists the answers that are not "applied").

    The schema states the envelope; a record or cell inside it is checked by the rule book (sync/protocol/rules.py)
    and a refused one is answered per record in `results` (status "rejected", with its reason), in a 200 with the
    rest applied. What the schema cannot state of the envelope is answered 422 of type
    urn:learnwalk:problem:push-envelope: to_seq below from_seq, an op_seq outside from_seq..to_seq or used twice,
    more cells for one visit than a rubric has look-fors; more records and cells than the server's limit is 413."""
    settings = request.app.state.settings
    raw = await request.body()  # bounded by max_push_bytes as it arrives (sync.server.limits)
    started = time.perf_counter()

    def work() -> bytes:
        # a push allocates tens of thousands of short-lived objects and frees them together: the cyclic
        # garbage collector would only rescan them again and again (about a quarter of the time)
        collecting = gc.isenabled()
        gc.disable()
        try:
            batch = _parse_push(raw, settings)  # outside the write transaction: other pushes write meanwhile
            engine = request.app.state.engine
            with write_gate(engine), Session(writer(engine), expire_on_commit=False) as s:
                return answers_json(*ingest(s, caller, batch))
        finally:
            if collecting:
                gc.enable()

    body = await run_in_threadpool(work)
    ms = (time.perf_counter() - started) * 1000
    return Response(body, media_type="application/json", headers={"Server-Timing": f"ingest;dur={ms:.1f}"})


MARK_EVERY_S = 60.0  # the admins' device list shows the last sync to the minute


def _mark_due(marks: dict[str, float], device_id: str) -> bool:
    """Whether this server process has not recorded the device's sync within MARK_EVERY_S: on SQLite every write
    takes the one write lock pushes wait for, and a device that pulls again and again need not take it each time."""
    return time.monotonic() - marks.get(device_id, -MARK_EVERY_S) >= MARK_EVERY_S


@router.get("/changes", response_model=PullResponse)
async def pull(caller: CallerDep, request: Request,
               since: Annotated[int, Query(description="The cursor of the last page applied (0 at first)")] = 0,
               limit: Annotated[int | None, Query(ge=1, le=50_000)] = None) -> Response:
    """The changes this device may see after `since`, oldest first; repeat with the returned cursor while more."""
    page = min(limit or request.app.state.settings.pull_page, request.app.state.settings.pull_page)
    engine = request.app.state.engine

    def build() -> bytes:
        with Session(engine) as s:
            result = changes_since(s, caller, since, page)
        body = result.model_dump_json().encode()
        # a round ends with its last page: a device that only pulls still shows when it synced
        if not result.more and _mark_due(request.app.state.synced, caller.device_id):
            with Session(writer(engine)) as w:
                mark_synced(w, caller.device_id)
                w.commit()
            request.app.state.synced[caller.device_id] = time.monotonic()
        return body

    def window() -> int:  # the change numbers after since: at most one row each
        with Session(engine) as s:
            return seq.high_water(s, caller.district_id) - since

    # a large window is built in the pull lane (a few at once, sync.server.lanes); a page is built whole, so its
    # connection (and slot) is given back before a byte is written: a client that reads slowly (or stops reading)
    # holds only its page's bytes
    return Response(await build_pull(request, window, build), media_type="application/json")


@router.get("/people")
def people(caller: CallerDep, request: Request) -> dict:
    """The district's active people (id, email, role), so a device offers them when a walk's team is chosen.
    Scoped to the caller's district; a device keeps the list from its last sync."""
    from sync.server.models import User

    with Session(request.app.state.engine) as s:
        q = (select(User).where(User.district_id == caller.district_id, User.active == True)  # noqa: E712
             .order_by(User.email))
        return {"people": [{"id": u.id, "email": u.email, "role": u.role} for u in s.exec(q)]}
