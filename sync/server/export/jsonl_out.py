"""JSONL: one visit per line with its walk's fields, its ratings and its evidence notes (UTF-8, no BOM)."""
from __future__ import annotations

import json
from typing import Iterator

from sync.server.export.queries import (N_ID, N_LOOKFOR_ID, N_TEXT, N_UPDATED_AT, R_LOOKFOR_ID, R_NOT_OBSERVED,
                                        R_RUBRIC_ID, R_RUBRIC_VERSION, R_UPDATED_AT, R_VALUE, V_CALIBRATION_CODE,
                                        V_NOTE)
from sync.server.export.rows import VISIT_COLUMNS, iso_time, visit_values
from sync.server.export.source import ExportSource

_FLUSH_AT = 64 * 1024


def visit_record(src: ExportSource, v, ratings, notes) -> dict:
    info = src.catalog.info
    record = dict(zip(VISIT_COLUMNS, visit_values(v, src.visit_extra(v))))
    record["note"] = v[V_NOTE] or ""
    record["calibration_code"] = v[V_CALIBRATION_CODE]
    record["ratings"] = [
        {"lookfor_id": r[R_LOOKFOR_ID], "value": r[R_VALUE], "not_observed": bool(r[R_NOT_OBSERVED]),
         "value_label": info(r[R_RUBRIC_ID], r[R_RUBRIC_VERSION], r[R_LOOKFOR_ID]).labels.get(r[R_VALUE], "") if r[R_VALUE] else "",
         "updated_at": iso_time(r[R_UPDATED_AT])} for r in ratings]
    record["notes"] = [{"id": n[N_ID], "lookfor_id": n[N_LOOKFOR_ID], "text": n[N_TEXT], "updated_at": iso_time(n[N_UPDATED_AT])} for n in notes]
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
