"""One export's reading side: a connection, the caller's scope, the filters, and streams of rows grouped by visit.

Rows come through server-side cursors (yield_per) so memory stays flat however many rows there are. A visit's
rating cells arrive as its one visit_cells row and are expanded here into rating rows shaped like
LONG_ROW (the visit's and walk's columns around each live cell), one visit at a time.
"""
from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from typing import Callable, Iterator

from sqlalchemy.engine import Connection

from sync.protocol.export import ExportFilters
from sync.server.cells import rows as cell_rows
from sync.server.export import queries
from sync.server.export.lookfors import LookforCatalog

BATCH = 2000

# A rating row, as every writer reads it:
# 0 walk_id, 1 visit_id, 2 visit_no, 3 school_id, 4 walk_date, 5 grade, 6 subject, 7 rubric_id, 8 rubric_version,
# 9 lookfor_id, 10 value, 11 not_observed, 12 cycle_label, 13 phase, 14 class_type, 15 updated_at (cell time text)
_LONG_HEAD = itemgetter(0, 1, 2, 3, 4, 5, 6, 7, 8)  # of a queries.ratings row
_LONG_TAIL = itemgetter(9, 10, 11)
_VISIT_HEAD = itemgetter(0, 1, 2, 3, 4, 7, 8, 12, 13)  # the same columns of a queries.visits row
_VISIT_TAIL = itemgetter(5, 6, 9)


def live_cells(devices: str | None, cells: str | None):
    """The visit's cells that are ratings (tombstones left out); none for a visit without a visit_cells row."""
    if cells is None:
        return ()
    return [c for c in cell_rows(devices, cells) if not c.deleted]


def _rating_rows(head: tuple, tail: tuple, devices: str | None, cells: str | None) -> list[tuple]:
    return [head + (c.lookfor_id, c.value, c.not_observed) + tail + (c.updated_at,)
            for c in live_cells(devices, cells)]


class ExportSource:
    def __init__(self, conn: Connection, scope, filters: ExportFilters,
                 progress: Callable[[int], None] | None = None):
        self.conn, self.scope, self.filters = conn, scope, filters
        self.progress = progress or (lambda n: None)
        keys = [(r[0], r[1]) for r in self.conn.execute(queries.rubric_keys(scope, filters))]
        self.catalog = LookforCatalog(conn, scope.district_id, keys)

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
        group.sort(key=lambda r: (position.get((r[7], r[8], r[9]), 10**6), r[9]))
        return group

    def rating_groups(self) -> Iterator[list]:
        """Ratings grouped by visit, each group in its rubric's look-for order (visits without ratings skipped)."""
        for v in self.rows(queries.ratings):
            group = _rating_rows(_LONG_HEAD(v), _LONG_TAIL(v), v[-2], v[-1])
            if group:
                yield self._in_rubric_order(group)

    def visits_with(self, ratings: bool = True, notes: bool = False) -> Iterator[tuple]:
        """(visit row, its ratings, its notes) for every visit, merging the ordered streams in one pass."""
        ngroups = groupby(self.rows(queries.notes), key=itemgetter(0)) if notes else iter(())
        ncur = next(ngroups, None)
        done = 0
        for v in self.rows(queries.visits, cells=ratings):
            rs = self._in_rubric_order(_rating_rows(_VISIT_HEAD(v), _VISIT_TAIL(v), v[-2], v[-1])) if ratings else []
            ns: list = []
            if ncur is not None and ncur[0] == v[1]:
                ns, ncur = list(ncur[1]), next(ngroups, None)
            yield v, rs, ns
            done += 1
            if done == BATCH:
                self.progress(done)
                done = 0
        self.progress(done)
