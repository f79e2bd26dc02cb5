"""The server's database engine (SQLite file in WAL mode, or PostgreSQL) and its schema upgrade (Alembic)."""
from __future__ import annotations

import threading
from contextlib import nullcontext
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

from sync.fair_lock import FairLock

_HERE = Path(__file__).parent


def _sqlite_on_connect(dbapi_con, _record) -> None:
    dbapi_con.isolation_level = None  # SQLAlchemy's begin hook below issues the BEGIN
    dbapi_con.execute("PRAGMA journal_mode=WAL")
    dbapi_con.execute("PRAGMA synchronous=FULL")  # an answered push survives power loss, not just a crash
    dbapi_con.execute("PRAGMA busy_timeout=30000")
    dbapi_con.execute("PRAGMA foreign_keys=ON")


def _sqlite_on_begin(conn) -> None:
    # writers take the write lock at BEGIN so concurrent pushes queue instead of failing mid-transaction
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("lw_write") else "BEGIN")


def make_engine(db_url: str, pool=None) -> Engine:
    """The engine of a database URL; `pool` (sync.server.config.Settings.pool()) sizes its connection pool."""
    from sync.server.config import PoolSize

    pool = pool or PoolSize(5, 5, 30.0)
    sizing = {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout}
    if db_url.startswith("sqlite"):
        if db_url in ("sqlite://", "sqlite:///:memory:"):
            sizing = {}  # one in-memory database per connection: SQLAlchemy's single-connection pool
        engine = create_engine(db_url, connect_args={"check_same_thread": False, "timeout": 30}, **sizing)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(db_url, pool_pre_ping=True, **sizing)


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that SQLite transactions take the write lock at BEGIN."""
    return engine.execution_options(lw_write=True)


_GATES: dict[str, FairLock] = {}
_GATES_LOCK = threading.Lock()


def write_gate(engine: Engine):
    """What a push holds around its write transaction: on SQLite, one lock per database file in this process;
    on PostgreSQL nothing (row locks order the writers there).

    SQLite has one writer at a time; a writer that finds the file locked sleeps in its busy handler and polls (1,
    2, 5 ... up to 100 ms between tries), so under 100 concurrent pushes most of the time went to sleeping past the
    moment the lock came free: concurrent pushes were slower than the same pushes one after another. Queued on
    this lock (in arrival order), the next push starts the moment the previous one commits. Other writers (enrollment, admin) still
    queue in SQLite's busy handler, which stays as the guard between processes."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    key = str(engine.url)
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            gate = _GATES[key] = FairLock()
    return gate


def alembic_config(engine: Engine | None = None):
    from alembic.config import Config

    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def _head_revision() -> str:
    # revision files are named NNNN_slug.py with revision id NNNN, numbered in order (see alembic.ini)
    return max(p.name.split("_", 1)[0] for p in (_HERE / "migrations" / "versions").glob("[0-9]*_*.py"))


def _current_revision(engine: Engine) -> str | None:
    from sqlalchemy import inspect, text

    with engine.connect() as c:
        if not inspect(c).has_table("alembic_version"):
            return None
        return c.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; each revision in its own transaction)."""
    if _current_revision(engine) == _head_revision():
        return  # already current: skip loading Alembic (it costs more than the command it serves)
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
