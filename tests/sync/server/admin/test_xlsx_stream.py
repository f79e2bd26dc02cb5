"""The streaming XLSX writer: cells read back exactly, and a full sheet continues on the next one."""
from __future__ import annotations

import io

import openpyxl

from sync.server.export.sink import ChunkSink
from sync.server.export.xlsx_stream import XlsxStream


def write(sheets, max_rows=1_048_576) -> bytes:
    sink, out = ChunkSink(), io.BytesIO()
    book = XlsxStream(sink, max_rows=max_rows)
    for name, header, rows in sheets:
        for _ in book.sheet(name, header, rows):
            out.write(sink.drain())
    book.close()
    out.write(sink.drain())
    return out.getvalue()


def read(data: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_text_numbers_blanks_and_markup_read_back_exactly():
    rows = [["a & b <c>", 3, 2.5, None, "", " padded ", "=SUM(A1)", "tab\there", "bell\x07gone", "é ü"]]
    got = read(write([("S", [f"c{i}" for i in range(10)], rows)]))["S"]
    assert got[1] == ("a & b <c>", 3, 2.5, None, None, " padded ", "=SUM(A1)", "tab\there", "bellgone", "é ü")


def test_a_sheet_that_reaches_the_row_limit_continues_on_a_new_sheet_with_its_header():
    got = read(write([("Ratings", ["n"], ([i] for i in range(10))), ("After", ["x"], [["y"]])], max_rows=4))
    assert list(got) == ["Ratings", "Ratings 2", "Ratings 3", "Ratings 4", "After"]
    values = [row[0] for name in list(got)[:4] for row in got[name][1:]]
    assert values == list(range(10)) and all(got[name][0] == ("n",) for name in list(got)[:4])


def test_a_sheet_that_exactly_fills_the_limit_gets_no_empty_continuation():
    got = read(write([("Ratings", ["n"], ([i] for i in range(3)))], max_rows=4))
    assert list(got) == ["Ratings"]
