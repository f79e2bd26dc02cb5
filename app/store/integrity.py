"""Damaged and emptied stores: found on open (and after a corruption or I/O error in use), moved aside untouched,
told in words.

The rule (docs/device-store.md, "Damaged and emptied stores"):
- damaged: `PRAGMA quick_check` on the file, opened read-only, answers anything but "ok", or SQLite says it is
  not a database or is malformed; or a session before this one met such an error while writing (a flag file);
- emptied: `learnwalk.sqlite` is 0 bytes (the store writes its schema on its first open, so a store this app
  made is never empty), or it is missing while the marker `learnwalk.sqlite.created` says a store was made here.
Either way the file and its -wal/-shm are renamed `learnwalk.sqlite.damaged-<UTC time>[-wal|-shm]` (never
deleted, never written), a new empty store is made, its meta keeps the notice until the observer dismisses it on
the Walks screen, and `Device.open` raises StoreDamaged once with the sentence (the CLI prints it and exits 1).
"""
from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.store.db import DB_FILENAME, StoreError, db_path

NOTICE_KEY = "store_notice"
_CORRUPT, _NOTADB, _IOERR = 11, 26, 10
_CORRUPT_WORDS = ("malformed", "not a database", "disk image")


class StoreDamaged(StoreError):
    """The device store is damaged or was emptied; the message says where it was kept and what to do."""


def created_marker(data_dir: Path) -> Path:
    return Path(data_dir) / (DB_FILENAME + ".created")


def damaged_flag(data_dir: Path) -> Path:
    return Path(data_dir) / (DB_FILENAME + ".damaged")


def is_corruption(exc: BaseException) -> bool:
    """SQLite said the file is malformed or not a database (not: full, busy, read-only)."""
    orig = getattr(exc, "orig", None) or exc
    code = (getattr(orig, "sqlite_errorcode", None) or 0) & 0xFF
    return code in (_CORRUPT, _NOTADB) or any(w in str(orig).lower() for w in _CORRUPT_WORDS)


def is_io_error(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None) or exc
    return (getattr(orig, "sqlite_errorcode", None) or 0) & 0xFF == _IOERR or "disk i/o error" in str(orig).lower()


def quick_check(path: Path) -> bool:
    """True if SQLite finds the file sound. Read-only, so a damaged file is never written (no WAL checkpoint)."""
    try:
        con = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        return True  # cannot even open it read-only (permissions): the ordinary open reports that in words
    try:
        rows = con.execute("PRAGMA quick_check").fetchall()
        return rows == [("ok",)]
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            return False
        return True  # e.g. a WAL that needs a writable -shm: not damage; the ordinary open decides
    finally:
        con.close()


def examine(data_dir: Path, *, damaged: bool = False) -> str | None:
    """Before the store is opened: move a damaged or emptied store aside and return the sentence, or None.
    damaged: the ordinary open already met corruption."""
    data_dir = Path(data_dir)
    path = db_path(data_dir)
    if path.exists():
        if path.stat().st_size == 0:
            aside = _move_aside(path)
            return (f"The data file in {data_dir} was emptied (0 bytes), so what this device held is no longer on "
                    f"it (the empty file was kept as {aside.name}); a new empty store was made: enroll this device "
                    "again with a code from your admin to get back what was synced.")
        if damaged or damaged_flag(data_dir).exists() or not quick_check(path):
            aside = _move_aside(path)
            damaged_flag(data_dir).unlink(missing_ok=True)
            return (f"The data file in {data_dir} is damaged and cannot be used, so it was moved aside untouched as "
                    f"{aside.name} and a new empty store was made: keep that file and give it to your admin (it "
                    "holds any changes that were not synced), then enroll this device again with a code from your "
                    "admin.")
        return None
    if created_marker(data_dir).exists():
        return (f"The data file of this device is missing from {data_dir}, so what it held is no longer on this "
                "device; a new empty store was made: enroll this device again with a code from your admin to get "
                "back what was synced.")
    return None


def _move_aside(path: Path) -> Path:
    """Rename the file and its WAL and shared-memory files with one UTC time; nothing is deleted or written."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    os.replace(path, aside)
    return aside


def opened(data_dir: Path, engine: Engine, notice: str | None) -> None:
    """After a good open: mark that a store exists here, and keep a new notice for the Walks screen."""
    marker = created_marker(data_dir)
    if not marker.exists():
        marker.write_text("learnwalk made a store in this folder; if learnwalk.sqlite goes missing, the app says so\n",
                          encoding="utf-8")
    if notice:
        _set(engine, notice)


def pending_notice(engine: Engine) -> str | None:
    """The notice about a damaged or emptied store, until the observer dismisses it."""
    from app.store.models import Meta

    with Session(engine) as s:
        m = s.get(Meta, NOTICE_KEY)
        return m.value if m and m.value else None


def dismiss_notice(engine: Engine) -> None:
    _set(engine, "")


def _set(engine: Engine, value: str) -> None:
    from app.store.db import writer
    from app.store.models import Meta

    with Session(writer(engine)) as s:
        row = s.get(Meta, NOTICE_KEY)
        if row is None:
            s.add(Meta(key=NOTICE_KEY, value=value))
        else:
            row.value = value
        s.commit()


def after_error(engine: Engine, exc: BaseException) -> bool:
    """After an error in use: True if the store is damaged. Then a flag makes the next open move it aside."""
    path = Path(engine.url.database)
    damaged = is_corruption(exc) or (is_io_error(exc) and not quick_check(path))
    if damaged:
        try:
            damaged_flag(path.parent).write_text("a corruption error was met while using the store\n",
                                                 encoding="utf-8")
        except OSError:
            pass  # the quick check on the next open still finds the damage
    return damaged


DAMAGED_IN_USE = ("The device store is damaged, so nothing more is saved into it (nothing was saved for this "
                  "change); close the app and open it again: the damaged file will be kept aside and the app will "
                  "say what to do.")


def sync_words(engine: Engine, exc: BaseException) -> str:
    """What a sync round says when SQLite refused to read or write the store: what, and what to do."""
    orig = getattr(exc, "orig", None) or exc
    code = (getattr(orig, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(orig).lower()
    kept = "everything on this device is kept"
    if after_error(engine, exc):
        return ("The sync round stopped because the device store is damaged; close the app (or run the command "
                "again): the damaged file will be kept aside and the app will say what to do.")
    if code == 13 or "database or disk is full" in text:
        return (f"The sync round stopped because the device storage is full; {kept}; free some space on it and "
                "sync again.")
    if code == 8 or "readonly" in text or "read-only" in text:
        folder = Path(engine.url.database).parent
        return (f"The sync round stopped because the device store in {folder} is read-only; {kept}; let the app "
                "write to that folder and its files (check their permissions), then sync again.")
    if code in (5, 6) or "database is locked" in text:
        return (f"The sync round stopped because the device store is busy with another task; {kept}; sync again "
                "in a moment.")
    return (f"The sync round stopped because the device could not use its store ({orig}); {kept}; sync again, "
            "and restart the app if it keeps happening.")
