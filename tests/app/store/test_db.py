"""Opening and migrating the store file: schema equals the models, upgrades keep data, failures change nothing."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import app.store.models  # noqa: F401  (registers the device tables on SQLModel.metadata)
from app.store import db
from app.store.db import StoreError, db_path, load_migrations, open_engine, store_pragmas
from tests.support.storetest import connect, count, make_service, pragma

NEXT = max(n for n, _ in load_migrations()) + 1  # the number a new migration would take after the shipped ones

SHIPPED = Path(app.store.models.__file__).parent / "migrations"


def test_the_migrated_schema_equals_the_models(data_dir):
    engine = open_engine(data_dir)
    try:
        with engine.connect() as con:
            diff = compare_metadata(MigrationContext.configure(con, opts={"compare_type": True}),
                                    SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], "models and migrations differ; add a numbered migration for: " + repr(diff)


def test_the_schema_comparison_catches_a_column_the_models_lack(data_dir, tmp_path):
    folder = _copy_migrations(tmp_path, {f"{NEXT:04d}_drift.sql": "ALTER TABLE visit ADD COLUMN teacher VARCHAR;\n"})
    engine = open_engine(data_dir, migrations_dir=folder)
    try:
        with engine.connect() as con:
            diff = compare_metadata(MigrationContext.configure(con), SQLModel.metadata)
    finally:
        engine.dispose()
    assert [d[0] for d in diff] == ["remove_column"] and diff[0][3].name == "teacher"


def test_a_new_store_is_wal_at_the_latest_version(data_dir):
    open_engine(data_dir).dispose()
    assert [p.name for p in data_dir.glob("*.bak")] == []  # nothing to back up in a new file
    assert pragma(data_dir, "journal_mode") == "wal"
    assert pragma(data_dir, "user_version") == max(n for n, _ in load_migrations())


def test_the_store_runs_with_synchronous_full(svc):
    with svc.engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_in_the_browser_the_store_uses_a_rollback_journal():
    # the browser's file system is flushed whole after commits: one file, no -wal; fsync is a no-op there
    assert store_pragmas("emscripten") == ("DELETE", "NORMAL")
    assert store_pragmas("linux") == store_pragmas("darwin") == store_pragmas("win32") == ("WAL", "FULL")


def test_a_store_in_browser_mode_opens_migrates_and_keeps_taps(data_dir, monkeypatch):
    monkeypatch.setattr(db, "JOURNAL_MODE", "DELETE")
    monkeypatch.setattr(db, "SYNCHRONOUS", "NORMAL")
    svc = make_service(data_dir)
    try:
        school = svc.add_school("Lincoln Elementary", school_id="s-lincoln")
        walk = svc.create_walk(school_id=school.id, rubric_id="test-walk", rubric_version=1, focus=["t.talk"],
                               phase="baseline")
        visit = svc.start_visit(walk.id, grade="4", subject="Math")
        svc.tap(visit.id, "t.talk", "most")
        with svc.engine.connect() as con:
            assert con.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        svc.engine.dispose()
    assert pragma(data_dir, "journal_mode") == "delete"
    assert sorted(p.name for p in data_dir.iterdir()) == ["learnwalk.sqlite"]  # nothing beside it to flush
    assert count(data_dir, "rating") == 1 and pragma(data_dir, "integrity_check") == "ok"


def test_service_transactions_take_the_write_lock_at_begin(svc, visit, data_dir):
    # a second writer must queue on the lock, never fail halfway through its own transaction
    with svc._tx() as s:
        s.get(type(visit), visit.id)  # only a read so far
        other = sqlite3.connect(db_path(data_dir), timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def _copy_migrations(tmp_path: Path, extra: dict[str, str]) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(SHIPPED, folder)
    for name, sql in extra.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


def _v1_store_with_data(data_dir: Path) -> tuple[str, str]:
    svc = make_service(data_dir)
    school = svc.add_school("Hawthorne Middle")
    walk = svc.create_walk(school_id=school.id, rubric_id="test-walk", rubric_version=1, focus=["t.talk"])
    visit = svc.start_visit(walk.id, grade="7", subject="Science")
    svc.rate(visit.id, "t.talk", "most")
    svc.add_note(visit.id, "Lab partners debated the claim")
    svc.engine.dispose()
    return walk.id, visit.id


def _snapshot(data_dir: Path) -> dict[str, list]:
    with connect(data_dir) as con:
        return {t: [tuple(r) for r in con.execute(f"SELECT * FROM {t} ORDER BY 1")]
                for t in ("walk", "visit", "rating", "evidence_note", "outbox", "school")}


def test_reopening_a_v1_store_with_a_new_migration_keeps_every_row(data_dir, tmp_path):
    _v1_store_with_data(data_dir)
    before = _snapshot(data_dir)
    folder = _copy_migrations(tmp_path, {f"{NEXT:04d}_visit_room_kind.sql":
                                         "ALTER TABLE visit ADD COLUMN room_kind VARCHAR(40);\n"
                                         "CREATE INDEX ix_outbox_kind ON outbox (kind);\n"})
    open_engine(data_dir, migrations_dir=folder).dispose()
    assert pragma(data_dir, "user_version") == NEXT
    after = _snapshot(data_dir)
    after["visit"] = [row[:-1] for row in after["visit"]]  # the new column, NULL for old rows
    assert after == before
    backup = data_dir / f"learnwalk.sqlite.v{NEXT - 1}.bak"  # the file as it was before the upgrade
    with sqlite3.connect(backup) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == NEXT - 1
        assert con.execute("SELECT count(*) FROM rating").fetchone()[0] == 1


def test_a_failing_migration_leaves_the_file_at_its_old_version_and_data(data_dir, tmp_path):
    _v1_store_with_data(data_dir)
    before = _snapshot(data_dir)
    folder = _copy_migrations(tmp_path, {
        f"{NEXT:04d}_good.sql": "ALTER TABLE visit ADD COLUMN room_kind VARCHAR(40);\n",
        f"{NEXT + 1:04d}_broken.sql": "CREATE TABLE extra (id INTEGER PRIMARY KEY);\nALTER TABLE no_such_table ADD x INT;\n",
    })
    with pytest.raises(StoreError, match="could not be opened or upgraded.*left unchanged"):
        open_engine(data_dir, migrations_dir=folder)
    assert pragma(data_dir, "user_version") == NEXT - 1
    assert _snapshot(data_dir) == before
    with connect(data_dir) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        visit_cols = {r[1] for r in con.execute("PRAGMA table_info(visit)")}
    assert "extra" not in tables and "room_kind" not in visit_cols
    svc = make_service(data_dir)  # the shipped app still opens it and works
    assert len(svc.walks()) == 1
    svc.engine.dispose()


def test_a_store_from_a_newer_app_is_refused_untouched(data_dir):
    open_engine(data_dir).dispose()
    with sqlite3.connect(db_path(data_dir)) as con:
        con.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer version of learnwalk.*update the app"):
        open_engine(data_dir)
    assert pragma(data_dir, "user_version") == 99


def test_a_file_that_is_not_a_store_gives_a_clear_error(data_dir):
    data_dir.mkdir(parents=True)
    db_path(data_dir).write_bytes(b"this is a spreadsheet, not a database" * 200)
    with pytest.raises(StoreError, match="learnwalk.sqlite: the data file could not be opened"):
        open_engine(data_dir)


def test_an_unwritable_data_folder_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the data folder"):
        open_engine(blocker / "sub")


def test_two_processes_opening_a_new_file_at_once_both_succeed(data_dir):
    import subprocess
    import sys
    code = ("import sys; from app.store.db import open_engine; open_engine(sys.argv[1]).dispose(); print('ok')")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(data_dir)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[3]) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [o[0].strip() for o in outs] == ["ok"] * 4, outs
    assert count(data_dir, "outbox") == 0


def test_a_badly_named_migration_is_reported_by_name(data_dir, tmp_path):
    folder = _copy_migrations(tmp_path, {"add_column.sql": "SELECT 1;\n"})
    with pytest.raises(StoreError, match="add_column.sql: a migration's name starts with its number"):
        open_engine(data_dir, migrations_dir=folder)
