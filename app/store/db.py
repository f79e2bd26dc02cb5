"""Opening the device store: one SQLite file in WAL mode, migrated forward on open, never dropped.

synchronous=FULL: a commit that returned survives power loss (NORMAL may roll back the last commits in WAL).
Migrations are numbered SQL files applied in order, tracked by PRAGMA user_version, each in one transaction:
an app update adds columns or tables but never drops unsynced data.
"""
from __future__ import annotations

import os
import sqlite3
from importlib import resources
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

DB_FILENAME = "learnwalk.sqlite"


class StoreError(Exception):
    """A problem with the device store that the user can act on."""


def default_data_dir() -> Path:
    """FLET_APP_STORAGE_DATA in packaged builds, else a per-user data folder."""
    env = os.environ.get("FLET_APP_STORAGE_DATA")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("learnwalk", appauthor=False))


def _migrations() -> list[tuple[int, str]]:
    files = resources.files("app.store") / "migrations"
    out = []
    for f in files.iterdir():
        if f.name.endswith(".sql"):
            out.append((int(f.name.split("_", 1)[0]), f.read_text(encoding="utf-8")))
    return sorted(out)


def migrate(con: sqlite3.Connection) -> int:
    """Apply pending migrations; return the schema version. Each migration is all-or-nothing."""
    current = con.execute("PRAGMA user_version").fetchone()[0]
    latest = current
    for number, sql in _migrations():
        if number <= current:
            continue
        try:
            # one script, one transaction: the schema change and the version bump land together or not at all
            con.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
        except Exception:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        latest = number
    return latest


def _on_connect(dbapi_con: sqlite3.Connection, _record) -> None:
    # autocommit at the driver level; SQLAlchemy's BEGIN below makes each session one explicit transaction
    dbapi_con.isolation_level = None
    dbapi_con.execute("PRAGMA journal_mode=WAL")
    dbapi_con.execute("PRAGMA synchronous=FULL")
    dbapi_con.execute("PRAGMA busy_timeout=5000")


def _on_begin(conn) -> None:
    # Writers take the lock up front (BEGIN IMMEDIATE) so two writers queue on busy_timeout instead of failing
    # mid-transaction; readers use a plain BEGIN and never wait for a writer (WAL).
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("lw_write") else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that its transactions take the write lock at BEGIN."""
    return engine.execution_options(lw_write=True)


def open_engine(data_dir: Path | str) -> Engine:
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{data_dir}: cannot create the data folder ({exc.strerror}); choose a writable --data-dir") from exc
    path = data_dir / DB_FILENAME
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    raw = engine.raw_connection()
    try:
        migrate(raw.driver_connection)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: the data file could not be opened or upgraded ({exc}); "
                         "it was left unchanged; copy it somewhere safe and contact your admin") from exc
    finally:
        raw.close()
    return engine
