"""Exports of synced walk data, streamed in constant memory: long CSV, wide CSV, XLSX and JSONL.

Public names: FORMATS, ExportFilters, ExportError, iter_export, write_export, export_total, media_type, file_name.
Every query goes through the caller's Scope (sync.server.scope); columns are documented in docs/export-formats.md.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import BinaryIO, Callable, Iterator

from sqlalchemy.engine import Engine

from sync.protocol.export import ExportError, ExportFilters, export_download_name
from sync.server.export import csv_out, jsonl_out, queries, xlsx_out
from sync.server.export.source import ExportSource

FORMATS = {
    "csv": (csv_out.long_csv, "text/csv; charset=utf-8", "csv"),
    "csv-wide": (csv_out.wide_csv, "text/csv; charset=utf-8", "csv"),
    "xlsx": (xlsx_out.xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "jsonl": (jsonl_out.jsonl, "application/x-ndjson; charset=utf-8", "jsonl"),
}

__all__ = ["FORMATS", "ExportError", "ExportFilters", "export_total", "file_name", "iter_export", "media_type",
           "write_export"]


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ExportError(f"Format '{fmt}' is not one of {', '.join(FORMATS)}; pick one of them.")


def media_type(fmt: str) -> str:
    check_format(fmt)
    return FORMATS[fmt][1]


def file_name(fmt: str, filters: ExportFilters, school_name: str | None = None) -> str:
    """The download's name, as the app names it (sync.protocol.export.export_download_name)."""
    check_format(fmt)
    return export_download_name(fmt, filters, school_name, datetime.now(timezone.utc).date())


def iter_export(engine: Engine, fmt: str, scope, filters: ExportFilters | None = None,
                progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The export as byte chunks. The connection lives as long as the iterator (close it to stop early)."""
    check_format(fmt)
    filters = filters or ExportFilters()
    with engine.connect() as conn:
        src = ExportSource(conn, scope, filters, progress)
        yield from FORMATS[fmt][0](src)


def write_export(stream: BinaryIO, engine: Engine, fmt: str, scope, filters: ExportFilters | None = None,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write the export to a binary stream; returns the number of bytes written."""
    written = 0
    for chunk in iter_export(engine, fmt, scope, filters, progress):
        stream.write(chunk)
        written += len(chunk)
    return written


def export_total(engine: Engine, fmt: str, scope, filters: ExportFilters | None = None) -> int:
    """How many progress units an export reports: ratings (csv), visits (csv-wide, jsonl), both (xlsx)."""
    check_format(fmt)
    filters = filters or ExportFilters()
    with engine.connect() as conn:
        # cells are counted in Python: a visit's cells are one JSON row (sync.server.ingest.cells)
        ratings = ExportSource(conn, scope, filters).count_ratings() if fmt in ("csv", "xlsx") else 0
        visits = conn.execute(queries.count_visits(scope, filters)).scalar_one() if fmt != "csv" else 0
    return ratings + visits
