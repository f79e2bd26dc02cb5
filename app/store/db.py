"""Opening the device store: one SQLite file in WAL mode, migrated forward on open, never dropped.

synchronous=FULL: a commit that returned survives power loss (NORMAL may roll back the last commits in WAL).
In the browser (sys.platform "emscripten") the file lives in memory until the browser's file system is flushed
(app/store/durability.py): there the journal is DELETE (one file to flush, no -wal growing between
checkpoints) and synchronous is NORMAL (fsync is a no-op there, so FULL buys nothing; durability is the flush's
job).
Migrations are numbered SQL files applied in order, tracked by PRAGMA user_version. All pending migrations run
in ONE transaction taken with the write lock: the file is either fully upgraded or left exactly at its old
version, and two processes opening the same file at once cannot both apply a migration. Before upgrading a
file that holds data, a copy is kept beside it (learnwalk.sqlite.vN.bak), in case a migration that ran without
error still turns out wrong.
"""
from __future__ import annotations

import os
import sqlite3
import sys
from importlib import resources
from pathlib import Path

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

from app.store import durability
from sync.errors import LearnwalkError
from sync.fair_lock import FairLock
from sync.protocol import legacy_cycle_id, rating_id

DB_FILENAME = "learnwalk.sqlite"


def store_pragmas(platform: str = sys.platform) -> tuple[str, str]:
    """(journal_mode, synchronous) for the platform: see the module docstring and docs/device-store.md."""
    return ("DELETE", "NORMAL") if platform == "emscripten" else ("WAL", "FULL")


JOURNAL_MODE, SYNCHRONOUS = store_pragmas()
# pages of WAL at which a commit copies the log into the file (SQLite's default is 1,000, about 4 MB): above what a
# pulled page writes (about 5,000 pages of log for 190 visits of 25 ratings, checkpointed after each page outside
# the write gate), so a tap committing in the middle of a pulled page does not do that page's checkpoint itself
WAL_AUTOCHECKPOINT = 10_000


class StoreError(LearnwalkError):
    """A problem with the device store that the user can act on."""


def default_data_dir() -> Path:
    """FLET_APP_STORAGE_DATA in packaged builds, else a per-user data folder."""
    env = os.environ.get("FLET_APP_STORAGE_DATA")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("learnwalk", appauthor=False))


def load_migrations(folder: Path | None = None) -> list[tuple[int, str]]:
    """(number, sql) of every NNNN_name.sql in the folder (default: the shipped app/store/migrations)."""
    files = resources.files("app.store") / "migrations" if folder is None else Path(folder)
    out = []
    for f in files.iterdir():
        if f.name.endswith(".sql"):
            number = f.name.split("_", 1)[0]
            if not number.isdigit():
                raise StoreError(f"{f}: a migration's name starts with its number, e.g. 0002_add_column.sql")
            out.append((int(number), f.read_text(encoding="utf-8")))
    numbers = [n for n, _ in out]
    if len(set(numbers)) != len(numbers):
        raise StoreError(f"{files}: two migrations share a number; each NNNN_ prefix must be unique")
    return sorted(out)


def _statements(sql: str) -> list[str]:
    """Split a migration script into complete statements (executescript would commit our transaction)."""
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf)
            buf = ""
    if buf.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()):
        raise StoreError("a migration ends with an incomplete SQL statement (missing ';')")
    return out


def migrate(con: sqlite3.Connection, migrations: list[tuple[int, str]] | None = None,
            backup_to: Path | None = None) -> int:
    """Apply pending migrations on an autocommit connection; return the schema version. All or nothing.

    backup_to: a file name pattern with {version}; an upgraded file with data is first copied there.
    """
    migrations = load_migrations() if migrations is None else migrations
    latest_known = max((n for n, _ in migrations), default=0)
    seen = con.execute("PRAGMA user_version").fetchone()[0]
    if seen == latest_known:
        return latest_known  # the common case: no lock taken
    if backup_to is not None and 0 < seen < latest_known:
        # before taking the lock: SQLite's backup cannot read through a connection that is writing
        _backup(con, Path(str(backup_to).format(version=seen)))
    con.execute("BEGIN IMMEDIATE")
    try:
        # read the version under the write lock: another process may have migrated while we waited
        current = con.execute("PRAGMA user_version").fetchone()[0]
        if current > latest_known:
            raise StoreError(f"the data file was written by a newer version of learnwalk (schema {current}, "
                             f"this app knows up to {latest_known}); update the app, your data is untouched")
        for number, sql in migrations:
            if number > current:
                for stmt in _statements(sql):
                    con.execute(stmt)
                current = number
        con.execute(f"PRAGMA user_version = {int(current)}")
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    return current


def _backup(con: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of the file as it is now, written next to it."""
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    dst = sqlite3.connect(tmp)
    try:
        con.backup(dst)
    finally:
        dst.close()
    os.replace(tmp, target)  # a half-written copy never takes the backup's name


def _on_connect(dbapi_con: sqlite3.Connection, _record) -> None:
    # autocommit at the driver level; SQLAlchemy's BEGIN below makes each session one explicit transaction
    dbapi_con.isolation_level = None
    dbapi_con.execute("PRAGMA busy_timeout=5000")  # first: switching to WAL may wait for another opener
    dbapi_con.execute(f"PRAGMA journal_mode={JOURNAL_MODE}")
    dbapi_con.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    dbapi_con.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
    # this SQLite build overwrites every deleted row on disk (secure_delete=ON), which makes acknowledging a
    # synced batch write every outbox page twice; FAST still zeroes what is deleted on each page it writes
    # anyway, so a freed page keeps no old snapshot around for long, at no extra I/O
    dbapi_con.execute("PRAGMA secure_delete=FAST")
    # migration 0002 names the cycle an old free-text label becomes with the id the server's migration gives it
    dbapi_con.create_function("lw_legacy_cycle_id", 2, _legacy_cycle_id, deterministic=True)
    # migration 0004 gives old visits' blank checklist cells the value they meant (sync.protocol.legacy_checklists)
    dbapi_con.create_function("lw_legacy_not_seen", 5, _legacy_not_seen)
    dbapi_con.create_function("lw_rating_id", 2, rating_id, deterministic=True)


def _legacy_cycle_id(school_id, label):
    return legacy_cycle_id(school_id, label) if school_id is not None and label is not None else None


# (key, YAML) -> Rubric or None, parsed once per process (migration 0004 asks once per visit)
_MIGRATION_RUBRICS: dict[tuple, object] = {}


def _legacy_not_seen(key, yaml_text, subject, grade, cells_json):
    """JSON list of the look-fors of one visit to record as "Not seen" (sync.protocol.legacy_checklists), from its
    rubric version (a built-in, or the YAML the server sent; one this device cannot read gives none)."""
    import json

    from rubrics import RubricInvalid, builtin_rubrics, parse_rubric
    from sync.protocol.legacy_checklists import not_seen_lookfors

    known = (key, yaml_text)
    if known not in _MIGRATION_RUBRICS:
        rubric = builtin_rubrics().get(key)
        if rubric is None and yaml_text is not None:
            try:
                rubric = parse_rubric(yaml_text, source=key)
            except RubricInvalid:
                rubric = None
        _MIGRATION_RUBRICS[known] = rubric
    rubric = _MIGRATION_RUBRICS[known]
    if rubric is None:
        return None
    cells = [tuple(c) for c in json.loads(cells_json or "[]")]
    return json.dumps(not_seen_lookfors(rubric, subject, grade, cells))


BUSY_SECONDS = 5.0  # PRAGMA busy_timeout above: how long a writer waits for another one


class _GatedConnection(sqlite3.Connection):
    """A store connection whose write transactions also hold the engine's gate, from before BEGIN IMMEDIATE until
    the COMMIT or ROLLBACK has returned (each engine makes a subclass with its own `gate`).

    Writers of one process queue on the gate and the next starts the moment the previous one committed. Without
    it a writer that finds the file locked sleeps in SQLite's busy handler, which polls at 1, 2, 5, 10 ... up to
    100 ms: a tap arriving while the sync acknowledged a batch waited up to several times the acknowledgement's
    length. Other processes (a CLI command beside the app) still meet SQLite's lock and its busy handler."""
    gate: FairLock  # in arrival order: the sync's acknowledgement, chunk after chunk, cannot overtake a waiting tap
    _holding = False

    def enter_write(self) -> None:
        if not self.gate.acquire(timeout=BUSY_SECONDS):  # what busy_timeout would have said
            raise sqlite3.OperationalError("database is locked")
        self._holding = True

    def leave_write(self) -> None:
        if self._holding:
            self._holding = False
            self.gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_write()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_write()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_write()


def _gated_factory() -> type[_GatedConnection]:
    return type("GatedConnection", (_GatedConnection,), {"gate": FairLock()})


def _on_begin(conn) -> None:
    # Writers take the lock up front (BEGIN IMMEDIATE) so two writers queue instead of failing mid-transaction,
    # first on the engine's gate (_GatedConnection); readers use a plain BEGIN and never wait for a writer (WAL).
    if not conn.get_execution_options().get("lw_write"):
        conn.exec_driver_sql("BEGIN")
        return
    dbapi = conn.connection.dbapi_connection
    gated = isinstance(dbapi, _GatedConnection)
    if gated:
        dbapi.enter_write()
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if gated:
            dbapi.leave_write()
        raise


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that its transactions take the write lock at BEGIN."""
    return engine.execution_options(lw_write=True)


def db_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / DB_FILENAME


def open_engine(data_dir: Path | str, *, migrations_dir: Path | None = None) -> Engine:
    """The engine of the store in data_dir, created and migrated to the latest schema if needed.

    migrations_dir replaces the shipped migrations (tests of the migration machinery use it).
    """
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{data_dir}: cannot create the data folder ({exc.strerror}); "
                         "choose a writable --data-dir") from exc
    path = db_path(data_dir)
    migrations = load_migrations(migrations_dir)
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "factory": _gated_factory()})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    event.listen(engine, "commit", durability.committed)  # a no-op unless the browser's boot installed it
    try:
        raw = engine.raw_connection()
        try:
            migrate(raw.driver_connection, migrations, backup_to=path.with_name(path.name + ".v{version}.bak"))
        finally:
            raw.close()
        # the migration (and the journal mode set on connect) committed on the raw connection, unseen by the
        # listener; a flush is cheap when nothing changed
        durability.committed()
    except StoreError as exc:
        engine.dispose()
        raise StoreError(f"{path}: {exc}") from exc
    except (sqlite3.Error, sa_exc.DBAPIError) as exc:
        engine.dispose()
        cause = getattr(exc, "orig", exc)
        raise StoreError(f"{path}: the data file could not be opened or upgraded ({cause}); it was left "
                         "unchanged; copy it somewhere safe and contact your admin") from exc
    return engine
