"""JSONL: one visit per line with its walk's fields, its ratings and its evidence notes (UTF-8, no BOM)."""
from __future__ import annotations

import json
from typing import Iterator

from sync.server.export.rows import VISIT_COLUMNS, iso_time, visit_values
from sync.server.export.source import ExportSource

_FLUSH_AT = 64 * 1024


def visit_record(src: ExportSource, v, ratings, notes) -> dict:
    info = src.catalog.info
    record = dict(zip(VISIT_COLUMNS, visit_values(v)))
    record["note"] = v[17] or ""
    record["calibration_code"] = v[18]
    record["ratings"] = [
        {"lookfor_id": r[9], "value": r[10], "not_observed": bool(r[11]),
         "value_label": info(r[7], r[8], r[9]).labels.get(r[10], "") if r[10] else "",
         "updated_at": iso_time(r[15])} for r in ratings]
    record["notes"] = [{"id": n[1], "lookfor_id": n[2], "text": n[3], "updated_at": iso_time(n[4])} for n in notes]
    return record


def jsonl(src: ExportSource) -> Iterator[bytes]:
    parts: list[str] = []
    size = 0
    for v, ratings, notes in src.visits_with(ratings=True, notes=True):
        line = json.dumps(visit_record(src, v, ratings, notes), ensure_ascii=False, separators=(",", ":"))
        parts.append(line)
        size += len(line)
        if size >= _FLUSH_AT:
            yield ("\n".join(parts) + "\n").encode()
            parts, size = [], 0
    if parts:
        yield ("\n".join(parts) + "\n").encode()
