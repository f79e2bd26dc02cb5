"""One export's reading side: a connection, the caller's scope, the filters, and streams of rows grouped by visit.

Rows come through server-side cursors (yield_per) so memory stays flat however many rows there are. A visit's
rating cells arrive as its one visit_cells row and are expanded here into rating rows (queries.R_*: the visit's
and walk's columns around each live cell), one visit at a time.
"""
from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from typing import Callable, Iterator

from sqlalchemy.engine import Connection

from sync.protocol.export import ExportFilters
from sync.protocol.observers import observer_numbers
from sync.server.export import queries
from sync.server.ingest.cells import rows as cell_rows
from sync.server.export.queries import (LONG_HEAD, LONG_TAIL, N_LOOKFOR_ID, N_TEXT, N_VISIT_ID, R_LOOKFOR_ID,
                                        R_RUBRIC_ID, R_RUBRIC_VERSION, STORED_CELLS, V_OBSERVER_ID, V_SCHOOL_ID,
                                        V_VISIT_ID, V_WALK_ID, VISIT_LONG_HEAD, VISIT_LONG_TAIL)
from sync.server.export.rows import NOTES_JOIN
from sync.server.export.lookfors import LookforCatalog

BATCH = 2000
_NOTE_VISIT = itemgetter(N_VISIT_ID)


def live_cells(devices: str | None, cells: str | None):
    """The visit's cells that are ratings (tombstones left out); none for a visit without a visit_cells row."""
    if cells is None:
        return ()
    return [c for c in cell_rows(devices, cells) if not c.deleted]


def _rating_rows(head: tuple, tail: tuple, devices: str | None, cells: str | None) -> list[tuple]:
    # the order of queries.R_*
    return [head + (c.lookfor_id, c.value, c.not_observed) + tail + (c.updated_at,)
            for c in live_cells(devices, cells)]


def notes_by_lookfor(notes: list) -> dict[str, str]:
    """A visit's evidence notes (queries.notes rows, in note id order) as one text per look-for."""
    out: dict[str, list[str]] = {}
    for n in notes:
        if n[N_LOOKFOR_ID]:
            out.setdefault(n[N_LOOKFOR_ID], []).append(n[N_TEXT])
    return {k: NOTES_JOIN.join(v) for k, v in out.items()}


class ExportSource:
    def __init__(self, conn: Connection, scope, filters: ExportFilters,
                 progress: Callable[[int], None] | None = None):
        self.conn, self.scope, self.filters = conn, scope, filters
        self.progress = progress or (lambda n: None)
        keys = [tuple(r) for r in self.conn.execute(queries.rubric_keys(scope, filters))]  # (rubric_id, version)
        self.catalog = LookforCatalog(conn, scope.district_id, keys)
        # small per-export lookups (a name per school, a few observers per walk), read once
        self.school_names = {sid: name for sid, name in self.conn.execute(queries.schools(scope))}
        by_walk: dict[str, list[str]] = {}
        for walk_id, observer_id in self.conn.execute(queries.walk_observers(scope, filters)):
            by_walk.setdefault(walk_id, []).append(observer_id)
        self._observers = {w: observer_numbers(ids) for w, ids in by_walk.items()}

    def school_name(self, school_id: str | None) -> str:
        return self.school_names.get(school_id or "", "")

    def observer_no(self, walk_id: str, observer_id: str) -> int | None:
        """The visit's "Observer N" on its walk (sync.protocol.observers)."""
        return self._observers.get(walk_id, {}).get(observer_id)

    def visit_extra(self, v) -> tuple[str, int | None]:
        """(school_name, observer_no) of a visits-query row: the visit columns added after the first ones."""
        return self.school_name(v[V_SCHOOL_ID]), self.observer_no(v[V_WALK_ID], v[V_OBSERVER_ID])

    def rated_visits(self) -> Iterator[tuple]:
        """(visit row, its ratings in rubric order, {lookfor_id: its notes joined}) for every visit with ratings,
        in export order; progress is reported in ratings (the long CSV and the XLSX Ratings sheet)."""
        done = 0
        for v, group, notes in self.visits_with(ratings=True, notes=True, report=False):
            if not group:
                continue
            yield v, group, notes_by_lookfor(notes)
            done += len(group)
            if done >= BATCH:
                self.progress(done)
                done = 0
        self.progress(done)

    def rows(self, build, **options) -> Iterator:
        """Stream the rows of queries.<build>(scope, filters, **options)."""
        stmt = build(self.scope, self.filters, **options)
        return iter(self.conn.execution_options(yield_per=BATCH).execute(stmt))

    def live_cells(self) -> Iterator:
        """Every live cell of every exported visit, in no particular order."""
        for devices, cells in self.rows(queries.cells):
            yield from live_cells(devices, cells)

    def count_ratings(self) -> int:
        return sum(1 for _ in self.live_cells())

    def extra_lookfor_ids(self) -> list[str]:
        """Look-for ids rated in the export that no exported rubric version lists (kept, never dropped)."""
        known = set(self.catalog.column_ids())
        return sorted({c.lookfor_id for c in self.live_cells()} - known)

    def _in_rubric_order(self, group: list[tuple]) -> list[tuple]:
        position = self.catalog.position
        group.sort(key=lambda r: (position.get((r[R_RUBRIC_ID], r[R_RUBRIC_VERSION], r[R_LOOKFOR_ID]), 10**6),
                                  r[R_LOOKFOR_ID]))
        return group

    def rating_groups(self) -> Iterator[list]:
        """Ratings grouped by visit, each group in its rubric's look-for order (visits without ratings skipped)."""
        for v in self.rows(queries.ratings):
            group = _rating_rows(LONG_HEAD(v), LONG_TAIL(v), *STORED_CELLS(v))
            if group:
                yield self._in_rubric_order(group)

    def visits_with(self, ratings: bool = True, notes: bool = False, report: bool = True) -> Iterator[tuple]:
        """(visit row, its ratings, its notes) for every visit, merging the ordered streams in one pass.
        report=False: the caller reports progress itself (in ratings, not visits)."""
        ngroups = groupby(self.rows(queries.notes), key=_NOTE_VISIT) if notes else iter(())
        ncur = next(ngroups, None)
        done = 0
        for v in self.rows(queries.visits, cells=ratings):
            rs = self._in_rubric_order(_rating_rows(VISIT_LONG_HEAD(v), VISIT_LONG_TAIL(v), *STORED_CELLS(v))) \
                if ratings else []
            ns: list = []
            if ncur is not None and ncur[0] == v[V_VISIT_ID]:
                ns, ncur = list(ncur[1]), next(ngroups, None)
            yield v, rs, ns
            done += 1
            if done == BATCH and report:
                self.progress(done)
                done = 0
        if report:
            self.progress(done)
