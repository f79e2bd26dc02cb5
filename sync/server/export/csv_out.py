"""Long CSV (one row per rating) and wide CSV (one row per visit, one column per look-for id), streamed.

UTF-8 with a byte-order mark so spreadsheet programs read accents right. A text cell that starts with = + - @
or a tab gets a leading apostrophe, so a spreadsheet shows it as text instead of running it as a formula.
"""
from __future__ import annotations

import csv
import io
from typing import Iterator

from sync.server.export import queries
from sync.server.export.rows import LONG_COLUMNS, NOT_OBSERVED, VISIT_COLUMNS, long_values, visit_values
from sync.server.export.source import BATCH, ExportSource

BOM = "\ufeff".encode()
_RISKY = ("=", "+", "-", "@", "\t", "\r")
_FLUSH_AT = 64 * 1024


def cell(value):
    if type(value) is str and value.startswith(_RISKY):
        return "'" + value
    return value


class _Writer:
    def __init__(self) -> None:
        self.buf = io.StringIO()
        self.csv = csv.writer(self.buf)

    def row(self, values) -> bytes | None:
        self.csv.writerow([cell(v) for v in values])
        return self.take() if self.buf.tell() >= _FLUSH_AT else None

    def take(self) -> bytes:
        out = self.buf.getvalue().encode()
        self.buf.seek(0)
        self.buf.truncate()
        return out


def long_csv(src: ExportSource) -> Iterator[bytes]:
    out = _Writer()
    yield BOM
    out.row(LONG_COLUMNS)
    info, done = src.catalog.info, 0
    for group in src.rating_groups():
        for r in group:
            chunk = out.row(long_values(r, info(r[7], r[8], r[9])))
            if chunk:
                yield chunk
        done += len(group)
        if done >= BATCH:
            src.progress(done)
            done = 0
    src.progress(done)
    yield out.take()


def wide_header(src: ExportSource) -> tuple[list[str], list[str]]:
    """The wide columns: visit columns, then look-for ids (prefixed 'lookfor:' only if an id equals a visit column)."""
    ids = src.catalog.column_ids(src.extra_lookfor_ids())
    taken = set(VISIT_COLUMNS)
    return VISIT_COLUMNS + [f"lookfor:{i}" if i in taken else i for i in ids], ids


def wide_csv(src: ExportSource) -> Iterator[bytes]:
    header, ids = wide_header(src)
    out = _Writer()
    yield BOM
    out.row(header)
    for v, ratings, _ in src.visits_with(ratings=True):
        cells = {r[9]: (NOT_OBSERVED if r[11] else (r[10] or "")) for r in ratings}
        chunk = out.row(visit_values(v) + [cells.get(i, "") for i in ids])
        if chunk:
            yield chunk
    yield out.take()


def total_ratings(src: ExportSource) -> int:
    return src.scalar(queries.count_ratings)
