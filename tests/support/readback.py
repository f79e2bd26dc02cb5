"""Reading exports back into rating cells: (visit_id, lookfor_id, value, not_observed) for every format."""
from __future__ import annotations

import csv
import io
import json

import openpyxl

from sync.server.export.rows import LONG_COLUMNS, NOT_OBSERVED, VISIT_COLUMNS


def csv_rows(data: bytes) -> list[dict]:
    assert data.startswith("\ufeff".encode()), "CSV exports start with a UTF-8 byte-order mark"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def xlsx_sheets(data: bytes) -> dict[str, list[tuple]]:
    """Every sheet's rows, empty cells as "", each row as long as its header (a row's empty last cells are not
    written, so a reader sees a shorter row)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    sheets = {}
    for ws in book.worksheets:
        rows = [tuple("" if v is None else v for v in row) for row in ws.iter_rows(values_only=True)]
        width = len(rows[0]) if rows else 0
        sheets[ws.title] = [r + ("",) * (width - len(r)) for r in rows]
    return sheets


def cells(fmt: str, data: bytes) -> set[tuple]:
    if fmt == "csv":
        return {(r["visit_id"], r["lookfor_id"], r["value"], r["not_observed"] == "1") for r in csv_rows(data)}
    if fmt == "csv-wide":
        out = set()
        for r in csv_rows(data):
            for lf in list(r)[len(VISIT_COLUMNS):]:
                if r[lf] == NOT_OBSERVED:
                    out.add((r["visit_id"], lf, "", True))
                elif r[lf]:
                    out.add((r["visit_id"], lf, r[lf], False))
        return out
    if fmt == "jsonl":
        out = set()
        for line in data.decode().splitlines():
            v = json.loads(line)
            out |= {(v["visit_id"], x["lookfor_id"], x["value"] or "", x["not_observed"]) for x in v["ratings"]}
        return out
    if fmt == "xlsx":
        rows = xlsx_sheets(data)["Ratings"]
        assert list(rows[0]) == LONG_COLUMNS
        col = {name: i for i, name in enumerate(rows[0])}
        return {(r[col["visit_id"]], r[col["lookfor_id"]], r[col["value"]], r[col["not_observed"]] == 1)
                for r in rows[1:]}
    raise ValueError(fmt)
