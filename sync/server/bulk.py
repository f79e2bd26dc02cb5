"""Set-based reads and writes used by push: load rows by key in chunks, upsert many rows in one statement."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

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


def upsert(s: Session, model, rows: list[dict], keys: tuple[str, ...]) -> None:
    """Insert rows, replacing the non-key columns of rows whose key exists (one executemany)."""
    table = model.__table__
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    cols = [c for c in rows[0] if c not in keys]
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in cols}) \
        if cols else stmt.on_conflict_do_nothing(index_elements=list(keys))
    s.execute(stmt, rows)
