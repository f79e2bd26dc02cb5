"""A pulled page made ready to store, and stored: records read, cells turned into rating rows, outside the lock.

`prepare` does all the reading and checking a page needs (record shapes, cells, rubric YAML) before the write
transaction, so the transaction itself holds only set-based statements: a tap on another thread waits for the
store's write lock as short a time as the page's rows take to write. `write` runs inside the caller's transaction.

Cells have two paths that store the same rows (tests/app/store/test_pulled_page.py holds them equal):
- fast: every cell of the page is checked column by column (set and map operations in C; one regex over the joined
  times: the canonical text the server sends, 2026-11-25T09:30:00.000000Z, and datetime.fromisoformat over the
  page's distinct times: a real instant, no 30 February), each time sliced to the stored text, and the page's cells
  are written by one executemany of plain tuples - no datetime object per cell, nothing computed per row in SQL.
  Why: at 1,000 visits the pull spent 38% of the device's time making a dict and a datetime per cell and having
  SQLAlchemy bind each one (py-spy); the tuples go to the driver as they are. Checking and converting the time in
  SQL (datetime(julianday(t)) per row) made the 250,000-rating write of a 10,000-visit pull 0.78 s instead of 0.53
  s, inside the write lock; in Python, outside it, 0.04-0.1 s.
- reference: each cell through the codec (sync.protocol.cells.rating_row, a datetime each), a cell it refuses left
  out and counted, the rows upserted through SQLAlchemy. A page goes this way when any of its cells is not in the
  common form.

Walks, visits, notes and cycles have two paths as well (`upsert`), held equal by the same tests:
- fast: one executemany of plain tuples through the driver, each value turned into what SQLAlchemy would bind
  (the column type's own bind processor; an aware UTC time by datetime.isoformat, in C). Why: a 10,000-visit pull
  spent 0.64 s of its 3.1 s upserting visit rows through SQLAlchemy's statement machinery, about 60 us a row.
- reference: the same rows upserted through a SQLAlchemy statement, row by row after a refusal (a clash with
  another unique key), so every row that fits is kept.
"""
from __future__ import annotations

import logging
import re
from collections import deque
from datetime import datetime, timedelta
from functools import cache
from operator import itemgetter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from pydantic import ValidationError
from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.store.catalog import RubricCatalog
from app.store.models import EvidenceNote, Outbox, Rating, School, Visit, Walk
from app.store.models import Cycle
from rubrics import Rubric
from sync.protocol import RECORD_SHAPES, Change, rating_id
from sync.protocol import times
from sync.protocol.cells import PULL_CELL_FIELDS, BadCell, rating_row

log = logging.getLogger("learnwalk.sync")

TABLES = {"cycle": Cycle, "walk": Walk, "visit": Visit, "rating": Rating, "note": EvidenceNote}
SETTINGS_KEYS = ("small_cell_threshold", "record_class_type", "allow_identifying_fields")

# a rating row as the fast path binds it: the time is the stored text SQLAlchemy's DateTime reads back
# ("2026-11-25 09:30:00.000000"), sliced from the cell's canonical text
RATING_COLUMNS = ("id", "visit_id", "lookfor_id", "value", "not_observed", "updated_at", "deleted")
FAST_RATINGS_SQL = (
    "INSERT INTO rating (id, visit_id, lookfor_id, value, not_observed, updated_at, deleted) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (visit_id, lookfor_id) DO UPDATE SET id = excluded.id, "
    "value = excluded.value, not_observed = excluded.not_observed, updated_at = excluded.updated_at, "
    "deleted = excluded.deleted")
_CANONICAL_TIMES = re.compile(f"{times.CANONICAL}(?:\\|{times.CANONICAL})*")
_VALUE_TYPES = {str, type(None)}


@dataclass
class Prepared:
    """A page read and checked, ready for `write`. skipped: (kind, record id, why) of what was left out."""
    records: list[tuple[Change, dict]] = field(default_factory=list)  # walks, visits, notes: (change, table row)
    fast_cells: list[tuple] | None = None  # RATING_COLUMNS tuples, when every cell passed the column-wise check
    cells: list[dict] = field(default_factory=list)  # reference rows (rating_row), when not fast
    raw_cells: list[tuple[str, list]] = field(default_factory=list)  # (visit id, its pulled cells) for a fallback
    schools: list[Change] = field(default_factory=list)
    rubrics: list[tuple[Change, Rubric | None]] = field(default_factory=list)  # None: unreadable here (skipped)
    settings: list[Change] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    fast: bool = True  # records stored by the fast upsert (False: the reference statement, for the tests)

    def ids(self) -> list[str]:
        """Every record and rating id the page writes (to find those held by a pending local change)."""
        out = [c.record_id for c, _ in self.records]
        out += [r[0] for r in self.fast_cells] if self.fast_cells is not None else [r["id"] for r in self.cells]
        return out


def prepare(changes: list[Change], catalog: RubricCatalog, *, fast: bool = True) -> Prepared:
    """Read a page (no database access): fast=False sends every cell through the reference path."""
    p = Prepared(fast=fast)
    for c in changes:
        if c.kind in TABLES:
            row = record_row(c, p.skipped)
            if row is not None:
                p.records.append((c, row))
                if c.kind == "visit":
                    p.raw_cells.append((c.record_id, c.data.get("cells") or []))
        elif c.kind == "school":
            p.schools.append(c)
        elif c.kind == "rubric":
            p.rubrics.append((c, _rubric(c, catalog)))
        elif c.kind == "settings":
            p.settings.append(c)
    p.fast_cells = fast_rating_rows(p.raw_cells) if fast else None
    if p.fast_cells is None:
        p.cells = reference_rating_rows(p.raw_cells, p.skipped)
    return p


def split(p: Prepared, rows_per_part: int) -> list[Prepared]:
    """The page as parts of whole visits, each with its cells, weighing about rows_per_part (a visit counts 1 + its
    cells): each part is one short write transaction, so a tap waits for one part, never for the whole page.
    Schools, rubrics, settings, cycles and walks go with the first part (before the visits that name them), notes
    with the last (after their visits); each part's skipped list is empty but the last's, which holds the page's.
    Written in order, the parts store exactly what the whole page stores in one transaction."""
    visits = [(c, row) for c, row in p.records if c.kind == "visit"]
    weights = dict.fromkeys((c.record_id for c, _ in visits), 1)
    for vid, cells in p.raw_cells:
        weights[vid] = 1 + len(cells)
    groups: list[list[tuple[Change, dict]]] = [[]]
    weight = 0
    for c, row in visits:
        if weight >= rows_per_part and groups[-1]:
            groups.append([])
            weight = 0
        groups[-1].append((c, row))
        weight += weights[c.record_id]
    if len(groups) == 1:
        return [p]
    part_of = {c.record_id: i for i, group in enumerate(groups) for c, _ in group}
    parts = [Prepared(records=group, fast=p.fast) for group in groups]
    first, last = parts[0], parts[-1]
    first.records[:0] = [(c, row) for c, row in p.records if c.kind in ("cycle", "walk")]
    last.records += [(c, row) for c, row in p.records if c.kind == "note"]
    first.schools, first.rubrics, first.settings = p.schools, p.rubrics, p.settings
    for vid, cells in p.raw_cells:
        parts[part_of[vid]].raw_cells.append((vid, cells))
    if p.fast_cells is not None:
        for part in parts:
            part.fast_cells = []
        for r in p.fast_cells:  # kept in the page's key order within each part
            parts[part_of[r[1]]].fast_cells.append(r)
    else:
        for r in p.cells:
            parts[part_of[r["visit_id"]]].cells.append(r)
    last.skipped = p.skipped
    return parts


def _rubric(c: Change, catalog: RubricCatalog) -> Rubric | None:
    """The rubric of a pulled version, parsed here (outside the write lock); one known with the same content (a
    built-in every district registers) is not parsed again. None, with a warning, if this app cannot read it."""
    known = catalog.cached(c.record_id)
    if known is not None and c.data.get("content_hash") == catalog.content_hash(known):
        return known
    try:
        return catalog.parse(c.data["yaml_text"], source=c.record_id)
    except Exception as exc:  # noqa: BLE001 - one unreadable rubric must not stop every sync
        log.warning("rubric %s could not be read on this device (%s); update the app", c.record_id,
                    type(exc).__name__)
        return None


def record_row(c: Change, skipped: list) -> dict | None:
    """The table row of a pulled walk, visit or note; None (noted in skipped) if this device cannot read it."""
    try:
        return RECORD_SHAPES[c.kind].model_validate({k: v for k, v in c.data.items() if k != "cells"}).model_dump()
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e.get("loc", ()))) or "record" for e in exc.errors()})  # names, no values
        skipped.append((c.kind, c.record_id, "cannot read " + ", ".join(fields)))
        return None


_KEY = itemgetter(1, 2)  # (visit_id, lookfor_id) of a fast rating row


def fast_rating_rows(visits: list[tuple[str, list]]) -> list[tuple] | None:
    """The rating rows (RATING_COLUMNS) of these visits' pulled cells if every cell is in the common form: a list of
    five, text look-for, text or null value, two booleans, a canonical time of a real instant from year 1 (checked
    column by column); None sends them to the reference path."""
    rows: list[tuple] = []
    every_time: set[str] = set()
    for vid, cells in visits:
        if not cells:
            continue
        if set(map(type, cells)) != {list} or set(map(len, cells)) != {len(PULL_CELL_FIELDS)}:
            return None
        lfs, values, nos, dels, stamps = zip(*cells)
        if set(map(type, lfs)) != {str} or not set(map(type, values)) <= _VALUE_TYPES \
                or set(map(type, nos)) != {bool} or set(map(type, dels)) != {bool} or set(map(type, stamps)) != {str}:
            return None
        if _CANONICAL_TIMES.fullmatch("|".join(stamps)) is None or min(stamps) < "0001":
            return None
        every_time.update(stamps)
        vids = (vid,) * len(cells)
        stored = [t[:10] + " " + t[11:26] for t in stamps]  # 2026-11-25T09:30:00.000000Z -> 2026-11-25 09:30:00.000000
        rows.extend(zip(map(rating_id, vids, lfs), vids, lfs, values, nos, stored, dels))
    try:
        deque(map(datetime.fromisoformat, every_time), maxlen=0)  # e.g. 2026-02-30: the codec says which cell
    except ValueError:
        return None
    # in key order (visit, look-for: the table's key, app.store.models.Rating): the inserts walk the table from one
    # end instead of at random (measured about 10% less CPU for a 5,000-rating page); sorted here, outside the lock
    rows.sort(key=_KEY)
    return rows


def reference_rating_rows(visits: list[tuple[str, list]], skipped: list) -> list[dict]:
    """Rating rows for pulled cells through the codec, one by one (sync.protocol.cells.rating_row); a cell this
    device cannot read is noted in skipped."""
    out = []
    for vid, cells in visits:
        for cell in cells:
            try:
                out.append(rating_row(vid, cell))
            except BadCell as why:
                skipped.append(("rating", vid, str(why)))
    return out


def held(s: Session, ids: list[str]) -> set[str]:
    """The ids among these that have an outbox row on this device (pending or rejected): read inside the write
    transaction, so a tap that commits before it is seen and one after it waits."""
    if not ids or s.connection().exec_driver_sql("SELECT NOT EXISTS (SELECT 1 FROM outbox)").scalar():
        return set()
    found: set[str] = set()
    for i in range(0, len(ids), 5000):  # SQLite's limit on bound parameters
        found.update(s.execute(Outbox.__table__.select().with_only_columns(Outbox.record_id)
                               .where(Outbox.record_id.in_(ids[i:i + 5000]))).scalars())
    return found


def write(s: Session, p: Prepared, catalog: RubricCatalog, set_meta) -> int:
    """Store a prepared page inside the caller's write transaction (never over a record or rating with a pending
    local change); returns the rows stored. Cells the fast statement cannot store go the reference way."""
    keep = held(s, p.ids())
    stored = 0
    for c in p.schools:
        s.merge(School(id=c.record_id, name=c.data["name"], district_id=c.data.get("district_id", "")))
        stored += 1
    for c, rubric in p.rubrics:
        if rubric is None:
            continue
        try:
            catalog.store(s, rubric, c.data["yaml_text"])
        except sa_exc.DBAPIError:
            raise  # the store could not write (full, read-only, damaged): the round says so in words
        stored += 1
    for c in p.settings:
        for k in SETTINGS_KEYS:
            if k in c.data:
                set_meta(s, k, str(c.data[k]))
        stored += 1
    rows: dict[str, list[dict]] = {k: [] for k in ("cycle", "walk", "visit", "note")}
    for c, row in p.records:
        if c.record_id not in keep:  # a pending local change wins; the visit's cells are taken on their own
            rows[c.kind].append(row)
    for kind in ("cycle", "walk", "visit"):  # a walk's cycle before the walk
        if rows[kind]:
            stored += upsert(s, TABLES[kind], rows[kind], fast=p.fast)
    stored += _write_cells(s, p, keep)
    if rows["note"]:
        stored += upsert(s, EvidenceNote, rows["note"], fast=p.fast)
    return stored


def _write_cells(s: Session, p: Prepared, keep: set[str]) -> int:
    if p.fast_cells is not None:
        rows = [r for r in p.fast_cells if r[0] not in keep] if keep else p.fast_cells
        if rows:
            s.connection().exec_driver_sql(FAST_RATINGS_SQL, rows)
        return len(rows)
    cells = [r for r in p.cells if r["id"] not in keep]
    return upsert(s, Rating, cells, fast=False) if cells else 0


def upsert(s: Session, model, rows: list[dict], *, fast: bool = True) -> int:
    """Insert these table rows, or set an existing row (same key) to them; returns the rows stored."""
    stmt = _reference_upsert(model.__table__, tuple(rows[0]))
    try:
        with _refusal_undone(s):
            if fast:
                sql, values = fast_upsert(model.__table__, s.get_bind().dialect, rows)
                s.connection().exec_driver_sql(sql, values)
            else:
                s.execute(stmt, rows)
        return len(rows)
    except IntegrityError:
        pass
    # a row clashed with another unique key (e.g. the same visit number from two devices of one observer):
    # keep every row that fits, and say how many did not (the server still holds them)
    done = 0
    for row in rows:
        try:
            with _refusal_undone(s):
                s.execute(stmt, [row])
            done += 1
        except IntegrityError:
            pass
    log.warning("%d pulled %s record(s) clash with records on this device and were not stored", len(rows) - done,
                model.__tablename__)
    return done


@cache
def _reference_upsert(table, names: tuple[str, ...]):
    """The upsert of rows holding these columns: a row already there gets each of them (and keeps any other)."""
    stmt = insert(table)
    key = [c.name for c in table.primary_key.columns]  # a rating's is (visit_id, lookfor_id)
    return stmt.on_conflict_do_update(index_elements=key, set_={c: stmt.excluded[c] for c in names if c not in key})


_UTC_OFFSET = timedelta(0)


def _stored_time(reference):
    """An aware UTC datetime as SQLAlchemy stores it (2026-11-25 09:30:00.000000), in C; anything else through the
    column's own processor (reference), which says what is wrong with it."""
    def bind(v):
        if v is not None and v.utcoffset() == _UTC_OFFSET:
            return v.isoformat(" ", "microseconds")[:26]
        return reference(v)
    return bind


@cache
def _fast_statement(table, dialect, names: tuple[str, ...]) -> tuple[str, tuple[str, ...], tuple]:
    """The plain upsert of rows holding these columns (as _reference_upsert), the columns in the table's order, and
    each one's bind (None: the value as it is)."""
    key = [c.name for c in table.primary_key.columns]
    columns = [c for c in table.columns if c.name in names]
    cols = tuple(c.name for c in columns)
    binds = []
    for c in columns:
        bind = c.type.dialect_impl(dialect).bind_processor(dialect)
        base = c.type.impl_instance if isinstance(c.type, TypeDecorator) else c.type
        binds.append(_stored_time(bind) if bind is not None and isinstance(base, DateTime) else bind)
    sql = (f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
           f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
           + ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key))
    return sql, cols, tuple(binds)


def fast_upsert(table, dialect, rows: list[dict]) -> tuple[str, list[tuple]]:
    """The statement and driver values of `rows` (each a dict of every column of the table, as record_row makes
    them) for one executemany: what the reference statement binds, without its per-row machinery."""
    sql, cols, binds = _fast_statement(table, dialect, tuple(rows[0]))
    pairs = tuple(zip(cols, binds))
    return sql, [tuple(v if b is None else b(v) for c, b in pairs for v in (r[c],)) for r in rows]


@contextmanager
def _refusal_undone(s: Session) -> Iterator[None]:
    """A savepoint undone when a row is refused (IntegrityError, re-raised for the caller to go another way). Any
    other error is left as it is: SQLite may already have rolled the whole transaction back (a full disk), and a
    ROLLBACK TO would then fail with "no such savepoint" in place of the error that says what happened."""
    conn = s.connection()
    conn.exec_driver_sql("SAVEPOINT lw_rows")
    try:
        yield
    except IntegrityError:
        conn.exec_driver_sql("ROLLBACK TO lw_rows")
        conn.exec_driver_sql("RELEASE lw_rows")
        raise
    conn.exec_driver_sql("RELEASE lw_rows")
