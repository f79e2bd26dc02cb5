"""The sync client: enrollment and one push+pull round against the server, over httpx.

The device store sits behind the LocalStore protocol (implemented in app.store.sync_adapter), so this module
never imports the app; the push body and answer are sync.push_wire's. Push goes first, in batches (split in half
on 413), then pull pages until more=false.
The connection, the error answers and the transport failures are sync.http_client's (shared with the admin
client). Every failure surfaces as SyncFailed with one plain sentence; nothing is lost: unacknowledged outbox
entries stay.
"""
from __future__ import annotations

import gc
import sys
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterator, NamedTuple, Protocol

import httpx
from pydantic import ValidationError

from sync.http_client import HttpClient, ServerError
from sync.protocol import MAX_PUSH_ENTRIES, PROTOCOL_VERSION, Change, EnrollResponse, PullResponse
from sync.push_wire import (Answer, PendingEntry, PushAnswer, PushBatch, build_push,  # noqa: F401
                            read_answer)


class InlineExecutor(Executor):
    """Runs each task at submit, in the caller's thread: for the browser, where no thread can start."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered by .result(), as a worker thread's error would be
            future.set_exception(exc)
        return future


def _worker(name: str) -> Executor:
    # Pyodide cannot start threads; there the read-ahead and the acknowledgement run in line (same order,
    # same results, only the overlap is lost).
    if sys.platform == "emscripten":
        return InlineExecutor()
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)


class SyncFailed(ServerError):
    """A round that did not complete; the message says why in words. retryable: worth trying again later;
    status: the server's HTTP status when it answered with an error."""


class LocalStore(Protocol):
    def pending(self, after_seq: int, limit: int) -> list[PendingEntry]:
        """Outbox entries not rejected, with seq > after_seq, oldest first."""

    def record_results(self, from_seq: int, to_seq: int, results: list[Answer]) -> None:
        """In one transaction: mark the entries of each rejected record (from_seq up to the rejected answer's
        op_seq) with its reason, and drop every other entry from_seq..to_seq. results: the non-applied answers."""

    def cursor(self) -> int: ...

    def prepare_changes(self, changes: list[Change]) -> object:
        """A pulled page read and checked for apply_changes, touching nothing in the store (it runs beside the
        previous page's write)."""

    def apply_changes(self, changes: object, cursor: int) -> "Applied":
        """In one transaction: apply pulled changes (as prepare_changes made them, or as pulled; never over a
        pending local change) and store the cursor; a change (or a visit's cell) the device cannot read is left
        out and counted, never fails the page."""

    def reset_cursor(self) -> None: ...


class Applied(NamedTuple):
    """What apply_changes did with a page: rows stored, and pulled records or cells it could not read."""
    stored: int
    skipped: int = 0


@dataclass
class RoundReport:
    """The outcome of one sync round: what `learnwalk sync --json`, the Sync screen and SyncService report.
    skipped: pulled records or cells this device could not read (left out, logged; the round went on)."""
    applied: int = 0
    duplicate: int = 0
    rejected: int = 0
    pulled: int = 0
    rejected_reasons: list[str] = field(default_factory=list)
    skipped: int = 0

    def as_dict(self) -> dict:
        out = {"pushed": {"applied": self.applied, "duplicate": self.duplicate, "rejected": self.rejected},
               "pulled": self.pulled}
        return out | {"skipped": self.skipped} if self.skipped else out  # the key only when there is something


FIRST_BATCH = 3_000  # outbox entries in a round's first push


def batch_sizes(batch_entries: int) -> Iterator[int]:
    """Outbox entries per push, in order, in one round: the first push is small, so the server starts while the
    device reads the next one; then each grows fourfold up to batch_entries (fewer pushes, each with its own
    commit, for the bulk of a big round)."""
    size = min(batch_entries, FIRST_BATCH)
    while True:
        yield size
        size = min(batch_entries, size * 4)


class SyncClient(HttpClient):
    error = SyncFailed
    user_agent = f"learnwalk-sync/{PROTOCOL_VERSION}"
    next_step = "changes stay on this device and sync later."

    def __init__(self, server_url: str, token: str | None = None, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 120.0, batch_entries: int = MAX_PUSH_ENTRIES):
        super().__init__(server_url, token, transport=transport, timeout=timeout)
        # outbox entries per push: few server commits (one fsync each), yet small enough that reading and
        # building the next batch overlaps most of the round; 413 splits them
        self.batch_entries = batch_entries
        self.last_ingest_ms = 0.0  # the server's own time for the pushes of the last round (Server-Timing)

    def health(self) -> bool:
        try:
            return self._http.get("/api/v1/health", timeout=5.0).status_code == 200
        except httpx.HTTPError:
            return False

    def enroll(self, code: str, device_name: str = "") -> EnrollResponse:
        resp = self.request("POST", "/api/v1/enroll", json={"code": code.strip(), "device_name": device_name})
        return EnrollResponse.model_validate_json(resp.content)

    # ---- push -----------------------------------------------------------------------------------

    def _read(self, store: LocalStore, after: int, limit: int) -> tuple[list[PendingEntry], PushBatch | None]:
        """The next batch after outbox seq `after`, read and built (runs in the read-ahead thread)."""
        entries = store.pending(after, limit)
        try:
            return entries, (build_push(entries) if entries else None)
        except ValueError as exc:
            raise SyncFailed(str(exc), retryable=False) from None

    def _send_push(self, entries: list[PendingEntry], batch: PushBatch,
                   settle: Callable[[PushBatch, PushAnswer], None]) -> None:
        """Send one batch and settle its answer; on 413 send each half of its entries instead (the first half
        is settled before the second is sent)."""
        resp = self.request("POST", "/api/v1/push", content=batch.body, headers={"Content-Type": "application/json"},
                            accept=(413,))
        if resp.status_code == 413:
            if len(entries) == 1:
                raise SyncFailed(f"Change {entries[0].seq} ({entries[0].kind}) is larger than the server accepts; "
                                 "shorten it (a long note?) and sync again.", retryable=False, status=413)
            half = len(entries) // 2
            for part in (entries[:half], entries[half:]):
                self._send_push(part, build_push(part), settle)
            return
        timing = resp.headers.get("Server-Timing", "")
        if "dur=" in timing:
            self.last_ingest_ms += float(timing.split("dur=")[1].split(";")[0])
        try:
            answer = read_answer(resp.content)
        except ValidationError:
            raise SyncFailed("The server's answer to a push could not be read; try again later.") from None
        settle(batch, answer)

    def push(self, store: LocalStore, report: RoundReport) -> None:
        self._push_then(store, report, lambda settled: settled())

    def _push_then(self, store: LocalStore, report: RoundReport, after: Callable[[Callable[[], None]], None]) -> None:
        # Two worker threads keep the device busy while a push is on the wire: one reads and builds the next
        # batch, one commits the acknowledgements (one device transaction each, mostly its fsync), each after
        # the one before. `after` runs once every batch is sent, with a function that waits for every
        # acknowledgement to commit (or raises its error): the pull asks the server for its first page while the
        # last acknowledgement commits, and applies nothing before it has.
        with _worker("learnwalk-ack") as acker, _worker("learnwalk-read") as reader:
            acks: list[Future] = []
            try:
                self._push_batches(store, report, reader, acker, acks)
            except BaseException:
                wait(acks)  # the error already on its way up is the one to report
                raise

            def settled() -> None:
                for ack in acks:
                    ack.result()
            try:
                after(settled)
            finally:
                wait(acks)

    def _push_batches(self, store: LocalStore, report: RoundReport, reader: Executor,
                      acker: Executor, acks: list[Future]) -> None:
        def settle(batch: PushBatch, answer: PushAnswer) -> None:
            bad = next((r for r in answer.results if r.status == "out_of_order"), None)
            if bad is not None:  # the server lacks earlier changes: acknowledging anything could lose them
                raise SyncFailed(f"The server has not received this device's changes before number {bad.op_seq} "
                                 f"({bad.reason}); ask your admin to re-enroll this device.", retryable=False)
            results = [r for r in answer.results if r.status != "applied"]
            if acks:
                acks[-1].result()  # a failed acknowledgement stops the round here, not batches later
            acks.append(acker.submit(store.record_results, batch.from_seq, min(batch.to_seq, answer.last_op_seq),
                                     results))
            report.applied += answer.applied
            for r in results:
                if r.status == "rejected":
                    report.rejected += 1
                    report.rejected_reasons.append(r.reason or "rejected")
                else:
                    report.duplicate += 1

        sizes = batch_sizes(self.batch_entries)
        ahead = reader.submit(self._read, store, 0, next(sizes))
        while True:
            entries, batch = ahead.result()
            if not entries:
                return
            # entries after this batch are untouched by its acknowledgement: read the next one while it is sent
            ahead = reader.submit(self._read, store, entries[-1].seq, next(sizes))
            try:
                self._send_push(entries, batch, settle)
            except BaseException:
                ahead.cancel()
                raise
            # httpx leaves each push's response and request (its body: about 1.5 MB) in a reference cycle, and a
            # round runs without cyclic GC (sync()): they piled up, and client memory grew with the outbox (+250 MB
            # over a 100,000-visit push). A young-generation pass per batch frees them; it visits only what was
            # made since the last one (about 8 ms at 20,000 entries).
            gc.collect(0)

    # ---- pull -----------------------------------------------------------------------------------

    def _page(self, store: LocalStore, since: int) -> tuple[PullResponse, object]:
        """The page after `since`, asked for, read and prepared for the store (runs in the pull's second thread)."""
        resp = self.request("GET", "/api/v1/changes", params={"since": since})
        try:
            page = PullResponse.model_validate_json(resp.content)
        except ValidationError:
            raise SyncFailed("The server's list of changes could not be read; try again later.") from None
        if page.reset_required:
            return page, None
        try:
            return page, store.prepare_changes(page.changes)
        except ValueError as exc:  # as apply_changes: the page could not be read for storing; nothing of it was
            raise SyncFailed(str(exc), retryable=False) from None

    def pull(self, store: LocalStore, report: RoundReport, settled: Callable[[], None] = lambda: None) -> None:
        """Pull pages until more=false; `settled` is called before anything is written to the store.

        While one page is written (one device transaction), a second thread already asks for the next one and
        reads it: the server builds page n+1 and the device prepares it while page n commits. Only the write and
        its cursor are in order; a page that fails stops the round before the next one is written."""
        cursor, was_reset = store.cursor(), False
        with _worker("learnwalk-pull") as fetcher:
            ahead = fetcher.submit(self._page, store, cursor)
            while True:
                page, prepared = ahead.result()
                settled()
                if page.reset_required:
                    if was_reset:
                        raise SyncFailed("The server asked to start over twice in one sync; try again later.")
                    store.reset_cursor()  # the outbox is kept: nothing pending is lost
                    cursor, was_reset = 0, True
                    ahead = fetcher.submit(self._page, store, cursor)
                    continue
                if page.more:  # the next page is on its way while this one is written
                    ahead = fetcher.submit(self._page, store, page.cursor)
                try:
                    got = store.apply_changes(prepared, page.cursor)
                except ValueError as exc:  # the page could not be stored; nothing of it was
                    ahead.cancel()
                    raise SyncFailed(str(exc), retryable=False) from None
                except BaseException:
                    ahead.cancel()
                    raise
                report.pulled += got.stored
                report.skipped += got.skipped
                cursor = page.cursor
                if not page.more:
                    return

    def people(self) -> list[dict] | None:
        """The district's active people ({id, email, role}), or None from a server that does not list them."""
        resp = self.request("GET", "/api/v1/people", accept=(404,))
        if resp.status_code == 404:
            return None
        people = resp.json().get("people")
        return [p for p in people if isinstance(p, dict) and isinstance(p.get("id"), str)] if isinstance(
            people, list) else None

    def sync(self, store: LocalStore) -> RoundReport:
        """One round: push everything pending, then pull until nothing is left."""
        report = RoundReport()
        self.last_ingest_ms = 0.0
        # a big round makes and drops many small objects at once; cyclic GC passes over them only cost time
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._push_then(store, report, lambda settled: self.pull(store, report, settled))
        finally:
            if collecting:
                gc.enable()
        return report
