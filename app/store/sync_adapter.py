"""The device side of sync: outbox reading and acknowledgement, pulled changes, cursor and enrollment facts.

Implements sync.client.LocalStore over the device store. Each method is one SQLite transaction, except the
acknowledgement: short range deletes of ACK_CHUNK seqs each, committed without their own fsync, rejections marked in
the first (a tap never waits for a long one; what a crash between them leaves is resent and answered as before); a pulled page and its cursor
land together;
a pulled record never overwrites a local record that still has an outbox entry (pending or rejected). Pulled
ratings arrive as cells of their visit's change; each is stored as the Rating row rating_id(visit, look-for).
A page is read and checked before its transaction, which holds only set-based writes (app.store.pulled_page).
A pulled record or cell this device cannot read is left out and logged, and the rest of the page and its cursor
still land: one bad row on the server never stops a round (the server leaves such rows out too, and reports them).
"""
from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from app.store import pulled_page
from app.store.catalog import RubricCatalog
from app.store.db import JOURNAL_MODE, SYNCHRONOUS, WAL_AUTOCHECKPOINT, writer
from app.store.models import Meta, Outbox, Visit, Walk
from app.store.models import Cycle
from app.store.services import LOCAL_USER
from sync.client import Answer, Applied, PendingEntry
from sync.protocol import Change, EnrollResponse, utcnow

log = logging.getLogger("learnwalk.sync")

ENROLLMENT_KEYS = ("server_url", "device_id", "token", "user_id", "role", "district_id", "district_name")
CURSOR = "pull_cursor"
PULL_SYNCHRONOUS = "NORMAL"  # a pulled page's commit (apply_changes): the server still holds it
# rows (a visit counts 1 + its cells) in one part of a pulled page, the most a waiting tap queues behind (a whole
# page, 5,000 rows, held the write gate 60-200 ms). Measured with taps every 20 ms during a 10,000-visit pull on the
# loaded 2-core machine: tap p95 42 ms at 400, 53 ms at 1,000; with no tap, 400 costs the pull about 3% more
PULL_PART_ROWS = 400
PULL_CACHE, STORE_CACHE = -32_000, -2_000  # SQLite page cache (-kB) while a page is written, and otherwise (default)
PULL_PARTS_COMMIT_ALWAYS = False  # True: commit after every part, waiting tap or not (tests of a failure between)
# outbox seqs deleted per acknowledging transaction: a few ms each, so a tap never queues behind a long one
ACK_CHUNK = 2_000
# an acknowledgement chunk's commit (record_results): what it deletes, the server holds; in WAL only
ACK_SYNCHRONOUS = "NORMAL"


def get_meta(s: Session, key: str) -> str | None:
    row = s.get(Meta, key)
    return row.value if row else None


def set_meta(s: Session, key: str, value: str) -> None:
    s.execute(insert(Meta).values(key=key, value=value).on_conflict_do_update(index_elements=["key"],
                                                                              set_={"value": value}))


class DeviceSyncStore:
    """sync.client.LocalStore over this device's SQLite store."""

    def __init__(self, engine: Engine, catalog: RubricCatalog):
        self.engine, self._writer, self.catalog = engine, writer(engine), catalog

    def meta(self, *keys: str) -> dict[str, str | None]:
        with Session(self.engine) as s:
            return {k: get_meta(s, k) for k in keys}

    def set_meta(self, **values: str) -> None:
        with Session(self._writer) as s:
            for k, v in values.items():
                set_meta(s, k, v)
            s.commit()

    # ---- push side ------------------------------------------------------------------------------

    def pending(self, after_seq: int, limit: int) -> list[PendingEntry]:
        # straight from the driver's cursor (one statement, its own read transaction): no row objects of a whole
        # batch beside the entries made of them
        with self.engine.connect() as c:
            cur = c.connection.driver_connection.execute(
                "SELECT seq, kind, record_id, data FROM outbox WHERE rejected_reason IS NULL AND seq > ? "
                "ORDER BY seq LIMIT ?", (after_seq, limit))
            return list(map(PendingEntry._make, cur))

    def record_results(self, from_seq: int, to_seq: int, results: list[Answer]) -> None:
        """Mark the rejected entries, then delete the acknowledged ones with plain range DELETEs (no RETURNING:
        nothing is read back), at most ACK_CHUNK outbox seqs per write transaction, so a tap waits for at most one
        short commit. The marks commit with the first chunk; a crash between chunks leaves entries the server has
        processed, which the next round resends and the server answers as it did then (the stored answer),
        applying nothing twice.

        Each chunk commits without its own fsync (ACK_SYNCHRONOUS): lost to a power cut, its entries come back and
        are resent, the same case as a crash between chunks. The log is then synced and copied into the file by a
        passive checkpoint after every chunk, outside any transaction and the write gate (it holds up no writer),
        never inside a commit: this connection's automatic checkpoint is off while it acknowledges. Why: the
        fsync of a 4,000-row delete took 3-10 ms (up to 100 ms on a busy disk) with the gate held, and an
        automatic checkpoint ran inside the COMMIT that crossed SQLite's threshold (1,000 log pages, a few
        chunks), 20-40 ms more; a waiting tap waited for both."""
        rejected = [r for r in results if r.status == "rejected"]
        lo = from_seq
        with self._writer.connect() as c:
            raw = c.connection.dbapi_connection
            wal = JOURNAL_MODE == "WAL"
            if wal:  # autocommit: no transaction
                raw.execute("PRAGMA wal_autocheckpoint=0")
                raw.execute(f"PRAGMA synchronous={ACK_SYNCHRONOUS}")
            try:
                while True:
                    hi = min(to_seq, lo + ACK_CHUNK - 1)
                    with c.begin():
                        if rejected:
                            marks = _rejection_marks(c, from_seq, rejected, utcnow())
                            if marks:
                                t = Outbox.__table__
                                c.execute(update(t).where(t.c.seq == bindparam("b_seq"))
                                          .values(rejected_reason=bindparam("b_why"),
                                                  rejected_at=bindparam("b_at")), marks)
                            rejected = []
                        # every other entry the server has processed in this range was applied or a duplicate: gone
                        c.exec_driver_sql(
                            "DELETE FROM outbox WHERE seq BETWEEN ? AND ? AND rejected_reason IS NULL", (lo, hi))
                    if wal:
                        raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    if hi >= to_seq:
                        break
                    lo = hi + 1
            finally:
                if wal:
                    raw.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
                    raw.execute(f"PRAGMA synchronous={SYNCHRONOUS}")

    # ---- pull side ------------------------------------------------------------------------------

    def cursor(self) -> int:
        return int(self.meta(CURSOR)[CURSOR] or 0)

    def reset_cursor(self) -> None:
        self.set_meta(**{CURSOR: "0"})

    def prepare_changes(self, changes: list[Change]) -> pulled_page.Prepared:
        """A page read and checked, outside any transaction (the client runs it beside the previous page's write)."""
        return pulled_page.prepare(changes, self.catalog)

    def apply_changes(self, changes: list[Change] | pulled_page.Prepared, cursor: int) -> Applied:
        """Store a page (as pulled, or prepared) and its cursor: one write transaction, committed early between two
        parts of whole visits (pulled_page.split, PULL_PART_ROWS each) whenever another writer (a tap) waits for
        the write gate, so a tap waits for one part, never for a whole page; the cursor is in the last. A failure
        leaves the parts committed before it stored and the cursor where it was; the next round pulls the page
        again and stores it over them, ending as if it had landed at once (storing a page is idempotent: every row
        is set to what the page says, and a row with a pending local change is left alone either way).
        Set-based statements only (app.store.pulled_page)."""
        page = changes if isinstance(changes, pulled_page.Prepared) else self.prepare_changes(changes)
        parts = pulled_page.split(page, PULL_PART_ROWS)
        stored = 0
        with self._writer.connect() as conn:
            raw = conn.connection.driver_connection
            gate = getattr(raw, "gate", None)
            # a pulled page is committed without its own fsync (synchronous=NORMAL in WAL: atomic, and durable with
            # the next FULL commit or checkpoint): lost to a power cut, the page and its cursor go together and
            # the next round pulls the page again. A tap's commit stays FULL and syncs every page before it. Why:
            # the fsync was 16% of a 10,000-visit pull (52 pages), and held the write lock a tap waits for.
            raw.execute(f"PRAGMA synchronous={PULL_SYNCHRONOUS}")
            # the page's parts each walk the rating table from one end: cached, it is read from the file once a
            # page, not once a part (measured while ratings were keyed by their random id, before store migration
            # 0005: 0.2-0.4 s less system time for a 10,000-visit pull, about 15 MB more peak memory); given back
            # after the page
            raw.execute(f"PRAGMA cache_size={PULL_CACHE}")
            wal = JOURNAL_MODE == "WAL"
            if wal:  # the page checkpoints after its commit, outside the write gate (below)
                raw.execute("PRAGMA wal_autocheckpoint=0")
            try:
                with Session(bind=conn) as s:
                    for i, part in enumerate(parts, 1):
                        stored += pulled_page.write(s, part, self.catalog, set_meta)
                        if i == len(parts):
                            set_meta(s, CURSOR, str(cursor))
                            s.commit()
                        elif PULL_PARTS_COMMIT_ALWAYS or (gate is not None and gate.waiting):
                            # let the tap in (the gate goes to its waiters in order); the next part begins a new
                            # transaction behind it. Not after every part: each commit writes every table page the
                            # part touched to the log (measured 25% more device time for a 10,000-visit pull when
                            # every part committed, while ratings were keyed by their random id)
                            s.commit()
                if wal:
                    # the page's log copied into the file beside the writers (a tap commits meanwhile), once per
                    # page and not inside its commit, where SQLite's automatic checkpoint (at 1,000 pages of log)
                    # ran holding the write gate a tap waits for; once done, the next writer starts the log afresh,
                    # so it stays about a page long
                    raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                try:
                    raw.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
                    raw.execute(f"PRAGMA cache_size={STORE_CACHE}")
                    if wal:
                        raw.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
                except sqlite3.Error:  # the connection is no good: never hand it back to a tap as it is
                    conn.invalidate()
        skipped = [x for part in parts for x in part.skipped]
        if skipped:
            kind, rid, why = skipped[0]
            log.warning("%d pulled record(s) or rating(s) could not be read on this device and were left out "
                        "(the first: %s %s, %s); update the app", len(skipped), kind, rid, why)
        return Applied(stored, len(skipped))

    # ---- enrollment -----------------------------------------------------------------------------

    def save_enrollment(self, server_url: str, e: EnrollResponse) -> None:
        """Store the enrollment and hand records made before it to the enrolled user, in one transaction.

        The outbox is renumbered from 1 (the server starts counting this new device at 0) and earlier
        rejections are cleared: with the new identity each entry gets its chance again.
        """
        with Session(self._writer) as s:
            values = {"server_url": server_url.rstrip("/"), "device_id": e.device_id, "token": e.token,
                      "user_id": e.user_id, "role": e.role, "district_id": e.district_id,
                      "district_name": e.district_name, CURSOR: "0"}
            for k, v in values.items():
                set_meta(s, k, v)
            s.execute(update(Visit).where(Visit.observer_id == LOCAL_USER).values(observer_id=e.user_id))
            s.execute(update(Walk).where(Walk.created_by == LOCAL_USER).values(created_by=e.user_id))
            s.execute(update(Cycle).where(Cycle.created_by == LOCAL_USER).values(created_by=e.user_id))
            for kind, key in (("visit", "observer_id"), ("walk", "created_by"), ("cycle", "created_by")):
                s.execute(text(f"UPDATE outbox SET data = json_set(data, '$.{key}', :u) "
                               f"WHERE kind = :k AND json_extract(data, '$.{key}') = :local"),
                          {"u": e.user_id, "k": kind, "local": LOCAL_USER})
            seqs = list(s.execute(select(Outbox.seq).order_by(Outbox.seq)).scalars())
            s.execute(text("UPDATE outbox SET seq = -seq, rejected_reason = NULL, rejected_at = NULL"))
            if seqs:
                s.execute(text("UPDATE outbox SET seq = :new WHERE seq = :old"),
                          [{"new": i + 1, "old": -old} for i, old in enumerate(seqs)])
            s.execute(text("UPDATE sqlite_sequence SET seq = :n WHERE name = 'outbox'"), {"n": len(seqs)})
            s.commit()

    def retry_rejected(self) -> int:
        """Queue every rejected entry again, in its original order, as new entries (e.g. after an admin
        published the missing rubric). Returns how many; the old entries are replaced in the same transaction."""
        with Session(self._writer) as s:
            rows = list(s.execute(select(Outbox).where(Outbox.rejected_reason.is_not(None))
                                  .order_by(Outbox.seq)).scalars())
            for row in rows:
                s.add(Outbox(kind=row.kind, record_id=row.record_id, walk_id=row.walk_id, data=row.data,
                             created_at=row.created_at))
                s.delete(row)
            s.commit()
        return len(rows)

    def forget_enrollment(self) -> None:
        with Session(self._writer) as s:
            s.execute(delete(Meta).where(Meta.key.in_(ENROLLMENT_KEYS)))
            s.commit()


def _rejection_marks(s: Connection, from_seq: int, rejected: list[Answer], now: datetime) -> list[dict]:
    """The outbox rows a rejection covers: a push carried each record once (its latest entry, seq = the answer's
    op_seq), so the answer holds for every entry of that record from from_seq up to it."""
    rows = s.execute(select(Outbox.seq, Outbox.record_id)
                     .where(Outbox.seq.between(from_seq, max(r.op_seq for r in rejected)))).all()
    record_of = dict(rows)
    seqs_of: dict[str, list[int]] = {}
    for seq, rid in rows:
        seqs_of.setdefault(rid, []).append(seq)
    marks = []
    for r in rejected:
        rid = record_of.get(r.op_seq)
        if rid is not None:  # else not on this device any more: nothing to keep
            why = r.reason or "rejected by the server"
            marks += [{"b_seq": q, "b_why": why, "b_at": now} for q in seqs_of[rid] if q <= r.op_seq]
    return marks


def rejected_entries(engine: Engine) -> list[tuple[str, str, str, datetime | None]]:
    """(kind, record_id, reason, at) of every rejected outbox entry, oldest first."""
    with Session(engine) as s:
        q = select(Outbox.kind, Outbox.record_id, Outbox.rejected_reason, Outbox.rejected_at) \
            .where(Outbox.rejected_reason.is_not(None)).order_by(Outbox.seq)
        return [tuple(r) for r in s.execute(q).all()]
