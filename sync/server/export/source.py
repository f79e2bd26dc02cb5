"""One export's reading side: a connection, the caller's scope, the filters, and streams of rows grouped by visit.

Rows come through server-side cursors (yield_per) so memory stays flat however many rows there are.
"""
from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from typing import Callable, Iterator

from sqlalchemy.engine import Connection

from sync.server.export import queries
from sync.server.export.filters import ExportFilters
from sync.server.export.lookfors import LookforCatalog

BATCH = 2000


class ExportSource:
    def __init__(self, conn: Connection, scope, filters: ExportFilters,
                 progress: Callable[[int], None] | None = None):
        self.conn, self.scope, self.filters = conn, scope, filters
        self.progress = progress or (lambda n: None)
        keys = [(r[0], r[1]) for r in self.conn.execute(queries.rubric_keys(scope, filters))]
        self.catalog = LookforCatalog(conn, scope.district_id, keys)

    def rows(self, build) -> Iterator:
        """Stream the rows of queries.<build>(scope, filters)."""
        stmt = build(self.scope, self.filters)
        return iter(self.conn.execution_options(yield_per=BATCH).execute(stmt))

    def extra_lookfor_ids(self) -> list[str]:
        """Look-for ids rated in the export that no exported rubric version lists (kept, never dropped)."""
        known = set(self.catalog.column_ids())
        return sorted(i for (i,) in self.conn.execute(queries.lookfor_ids(self.scope, self.filters)) if i not in known)

    def rating_groups(self) -> Iterator[list]:
        """Ratings grouped by visit, each group in its rubric's look-for order."""
        position = self.catalog.position
        for _, group in groupby(self.rows(queries.ratings), key=itemgetter(1)):
            group = list(group)
            group.sort(key=lambda r: (position.get((r[7], r[8], r[9]), 10**6), r[9]))
            yield group

    def visits_with(self, ratings: bool = True, notes: bool = False) -> Iterator[tuple]:
        """(visit row, its ratings, its notes) for every visit, merging the ordered streams in one pass."""
        rgroups = self.rating_groups() if ratings else iter(())
        ngroups = groupby(self.rows(queries.notes), key=itemgetter(0)) if notes else iter(())
        rcur, ncur = next(rgroups, None), next(ngroups, None)
        done = 0
        for v in self.rows(queries.visits):
            rs: list = []
            ns: list = []
            if rcur is not None and rcur[0][1] == v[1]:
                rs, rcur = rcur, next(rgroups, None)
            if ncur is not None and ncur[0] == v[1]:
                ns, ncur = list(ncur[1]), next(ngroups, None)
            yield v, rs, ns
            done += 1
            if done == BATCH:
                self.progress(done)
                done = 0
        self.progress(done)
