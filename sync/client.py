"""The sync client: enrollment and one push+pull round against the server, over httpx.

The device store sits behind the LocalStore protocol (implemented in app.store.sync_adapter), so this module
never imports the app. Push goes first, in batches (split in half on 413), then pull pages until more=false.
Every failure surfaces as SyncFailed with one plain sentence; nothing is lost: unacknowledged outbox entries stay.
"""
from __future__ import annotations

import gc
import json
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, get_args

import httpx
import orjson
from pydantic import ValidationError

from sync.protocol import (PROTOCOL_HEADER, PROTOCOL_VERSION, EnrollResponse, EntryStatus, PullResponse,
                           PushResponse, Change)


class SyncFailed(Exception):
    """A round that did not complete; the message says why in words. retryable: worth trying again later."""

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None):
        super().__init__(message)
        self.retryable, self.status = retryable, status


class PendingEntry(NamedTuple):
    """An outbox entry as the device holds it; data_json is the record snapshot already encoded as JSON."""
    seq: int
    kind: str
    record_id: str
    data_json: str


class Answer(NamedTuple):
    """The server's answer to one entry: an EntryResult as a plain tuple with the same fields (a push of
    tens of thousands of entries gets as many answers; pydantic objects for them cost more than the ack)."""
    op_seq: int
    status: str
    reason: str | None = None


_STATUSES = frozenset(get_args(EntryStatus))


def _answers(content: bytes) -> list[Answer]:
    """The results of a push answer. orjson and strict checks for the usual answer; anything unusual goes to
    PushResponse, which accepts it as before or raises ValidationError."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        body = None
    results = body.get("results") if type(body) is dict and type(body.get("last_op_seq")) is int else None
    if type(results) is list:
        out = []
        for r in results:
            q, status, why = (r.get("op_seq"), r.get("status"), r.get("reason")) if type(r) is dict else (0, 0, 0)
            if type(q) is not int or status not in _STATUSES or not (why is None or type(why) is str):
                break
            out.append(Answer(q, status, why))
        else:
            return out
    return [Answer(r.op_seq, r.status, r.reason) for r in PushResponse.model_validate_json(content).results]


def _quoted(text: str) -> str:
    """A JSON string literal; ids and kinds are plain ASCII, so the common case skips json.dumps."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text)


class LocalStore(Protocol):
    def pending(self, after_seq: int, limit: int) -> list[PendingEntry]:
        """Outbox entries not rejected, with seq > after_seq, oldest first."""

    def record_results(self, first_seq: int, results: list[Answer]) -> None:
        """In one transaction: drop applied/duplicate entries, keep rejected ones with their reason."""

    def cursor(self) -> int: ...

    def apply_changes(self, changes: list[Change], cursor: int) -> int:
        """In one transaction: apply pulled changes (never over a pending local change) and store the cursor."""

    def reset_cursor(self) -> None: ...


@dataclass
class RoundReport:
    applied: int = 0
    duplicate: int = 0
    rejected: int = 0
    pulled: int = 0
    rejected_reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"pushed": {"applied": self.applied, "duplicate": self.duplicate, "rejected": self.rejected},
                "pulled": self.pulled}


def _problem(resp: httpx.Response) -> str:
    try:
        detail = resp.json().get("detail")
        if isinstance(detail, str) and detail:
            return detail
    except (ValueError, AttributeError):
        pass
    return f"The server answered {resp.status_code} {resp.reason_phrase}."


class SyncClient:
    def __init__(self, server_url: str, token: str | None = None, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 120.0, batch_entries: int = 20_000):
        self.server_url = server_url.rstrip("/")
        self.batch_entries = batch_entries  # big batches: one server commit (one fsync) each; 413 splits them
        headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), "User-Agent": f"learnwalk-sync/{PROTOCOL_VERSION}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.server_url, headers=headers, timeout=timeout, transport=transport)
        self.last_ingest_ms = 0.0  # the server's own time for the pushes of the last round (Server-Timing)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "SyncClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- transport ------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kw) -> httpx.Response:
        try:
            resp = self._http.request(method, path, **kw)
        except httpx.TimeoutException:
            raise SyncFailed(f"The server at {self.server_url} did not answer in time; "
                             "changes stay on this device and sync later.") from None
        except httpx.TransportError as exc:
            raise SyncFailed(f"The server at {self.server_url} could not be reached ({type(exc).__name__}); "
                             "changes stay on this device and sync later.") from None
        if resp.status_code in (401, 403, 426):
            raise SyncFailed(_problem(resp), retryable=False, status=resp.status_code)
        if resp.status_code >= 400 and resp.status_code != 413:
            raise SyncFailed(_problem(resp), retryable=resp.status_code >= 500, status=resp.status_code)
        return resp

    def health(self) -> bool:
        try:
            return self._http.get("/api/v1/health", timeout=5.0).status_code == 200
        except httpx.HTTPError:
            return False

    def enroll(self, code: str, device_name: str = "") -> EnrollResponse:
        resp = self._send("POST", "/api/v1/enroll", json={"code": code.strip(), "device_name": device_name})
        return EnrollResponse.model_validate_json(resp.content)

    # ---- push -----------------------------------------------------------------------------------

    def _push_batch(self, entries: list[PendingEntry]) -> list[Answer]:
        body = ('{"entries":[' + ",".join(
            f'{{"op_seq":{e.seq},"kind":{_quoted(e.kind)},"record_id":{_quoted(e.record_id)},"data":{e.data_json}}}'
            for e in entries) + "]}")
        resp = self._send("POST", "/api/v1/push", content=body.encode(), headers={"Content-Type": "application/json"})
        if resp.status_code == 413:
            if len(entries) == 1:
                raise SyncFailed(f"Change {entries[0].seq} ({entries[0].kind}) is larger than the server accepts; "
                                 "shorten it (a long note?) and sync again.", retryable=False, status=413)
            half = len(entries) // 2
            first = self._push_batch(entries[:half])
            if any(r.status == "out_of_order" for r in first):
                return first
            return first + self._push_batch(entries[half:])
        timing = resp.headers.get("Server-Timing", "")
        if "dur=" in timing:
            self.last_ingest_ms += float(timing.split("dur=")[1].split(";")[0])
        try:
            return _answers(resp.content)
        except ValidationError:
            raise SyncFailed("The server's answer to a push could not be read; try again later.") from None

    def push(self, store: LocalStore, report: RoundReport) -> None:
        # a batch's acknowledgement (one device transaction, mostly its fsync) commits in a worker thread while
        # the next batch is read, sent and applied by the server; each acknowledgement waits for the one before,
        # and the push returns (or fails) only when every one of them has finished, so a pull never runs first
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="learnwalk-ack") as worker:
            acks: list[Future] = []
            try:
                self._push_batches(store, report, worker, acks)
            except BaseException:
                wait(acks)  # the error already on its way up is the one to report
                raise
            for ack in acks:
                ack.result()

    def _push_batches(self, store: LocalStore, report: RoundReport, worker: ThreadPoolExecutor,
                      acks: list[Future]) -> None:
        after = 0
        while True:
            entries = store.pending(after, self.batch_entries)
            if not entries:
                return
            results = self._push_batch(entries)
            done = [r for r in results if r.status != "out_of_order"]
            if acks:
                acks[-1].result()
            acks.append(worker.submit(store.record_results, entries[0].seq, done))
            for r in done:
                if r.status == "rejected":
                    report.rejected += 1
                    report.rejected_reasons.append(r.reason or "rejected")
                elif r.status == "duplicate":
                    report.duplicate += 1
                else:
                    report.applied += 1
            if len(done) < len(entries):
                bad = next(r for r in results if r.status == "out_of_order")
                raise SyncFailed(f"The server has not received this device's changes before number {bad.op_seq} "
                                 f"({bad.reason}); ask your admin to re-enroll this device.", retryable=False)
            after = entries[-1].seq

    # ---- pull -----------------------------------------------------------------------------------

    def pull(self, store: LocalStore, report: RoundReport) -> None:
        cursor, was_reset = store.cursor(), False
        while True:
            resp = self._send("GET", "/api/v1/changes", params={"since": cursor})
            try:
                page = PullResponse.model_validate_json(resp.content)
            except ValidationError:
                raise SyncFailed("The server's list of changes could not be read; try again later.") from None
            if page.reset_required:
                if was_reset:
                    raise SyncFailed("The server asked to start over twice in one sync; try again later.")
                store.reset_cursor()  # the outbox is kept: nothing pending is lost
                cursor, was_reset = 0, True
                continue
            report.pulled += store.apply_changes(page.changes, page.cursor)
            cursor = page.cursor
            if not page.more:
                return

    def sync(self, store: LocalStore) -> RoundReport:
        """One round: push everything pending, then pull until nothing is left."""
        report = RoundReport()
        self.last_ingest_ms = 0.0
        # a big round makes and drops many small objects at once; cyclic GC passes over them only cost time
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.push(store, report)
            self.pull(store, report)
        finally:
            if collecting:
                gc.enable()
        return report
