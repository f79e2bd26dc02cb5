"""Set-based reads and writes used by push: load rows by key in chunks, upsert many rows in one executemany.

Upserts go straight to the driver (one prepared statement, parameters converted here once per column) because
per-row statement compilation would cost more than the database work itself at push volume.
"""
from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from operator import itemgetter
from typing import Callable, Iterable

from sqlalchemy import JSON, Date, DateTime, select
from sqlmodel import Session

from sync.protocol.times import sqlite_text as sqlite_time  # the text SQLite's DateTime reads back

_CHUNK = 5000  # well under SQLite's and PostgreSQL's bound-parameter limits


def load_by(s: Session, model, column, keys: Iterable[str]) -> dict[str, dict]:
    """Rows of `model` whose `column` is in keys, as plain dicts by primary key `id`."""
    keys = list(keys)
    table = model.__table__
    out: dict[str, dict] = {}
    for i in range(0, len(keys), _CHUNK):
        for row in s.execute(select(table).where(column.in_(keys[i:i + _CHUNK]))).mappings():
            out[row["id"]] = dict(row)
    return out


def _sqlite_date(v: date | None) -> str | None:
    return None if v is None else v.isoformat()


def _json_text(v) -> str | None:
    return None if v is None else json.dumps(v)


def _converter(column, dialect: str) -> Callable | None:
    t = column.type
    if dialect == "postgresql":
        if isinstance(t, JSON):
            from psycopg.types.json import Json

            return lambda v: None if v is None else Json(v)
        return None
    if isinstance(t, JSON):
        return _json_text
    if isinstance(t, DateTime) or isinstance(getattr(t, "impl", None), DateTime):
        return sqlite_time
    if isinstance(t, Date):
        return _sqlite_date
    return None  # bool is an int to sqlite3; text and numbers pass as they are


@lru_cache(maxsize=64)
def _plan(table, cols: tuple[str, ...], keys: tuple[str, ...], dialect: str):
    mark = "?" if dialect == "sqlite" else "%s"
    q = '"{}"'.format
    sets = [c for c in cols if c not in keys]
    sql = (f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in cols)}) "
           f"VALUES ({', '.join([mark] * len(cols))}) ON CONFLICT ({', '.join(q(k) for k in keys)}) "
           + (f"DO UPDATE SET {', '.join(f'{q(c)} = excluded.{q(c)}' for c in sets)}" if sets else "DO NOTHING"))
    convert = tuple(_converter(table.c[c], dialect) for c in cols)
    return sql, convert


def _converted(values: list, f: Callable) -> list:
    first = values[0]
    if all(v is first for v in values):
        return [None if first is None else f(first)] * len(values)
    return [None if v is None else f(v) for v in values]


def upsert(s: Session, model, rows: list[dict], keys: tuple[str, ...]) -> None:
    """Insert rows, replacing the non-key columns of rows whose key exists, in the session's transaction."""
    if not rows:
        return
    table = model.__table__
    conn = s.connection()
    cols = tuple(rows[0])
    sql, convert = _plan(table, cols, keys, conn.dialect.name)
    # column by column: itemgetter and zip run in C, and a value shared by every row (the push's time) converts once
    columns = [list(map(itemgetter(c), rows)) for c in cols]
    for i, f in enumerate(convert):
        if f is not None:
            columns[i] = _converted(columns[i], f)
    params = list(zip(*columns))
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()
