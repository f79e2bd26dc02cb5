"""The device core: one device's store and services, opened once from its data folder.

`Device.open(data_dir)` opens (creates, migrates) the SQLite store and wires everything that works on it: the
rubric catalog, capture, debrief and sync. Every face opens the device this way (the app shell, each device CLI
command, the benchmarks), so the object graph is built in this one place:

    with Device.open(folder) as device:
        device.capture.create_walk(...)
        device.debrief.tally(walk_id)
        device.sync.sync_once()
"""
from __future__ import annotations

import logging
import traceback
from pathlib import Path

from sqlalchemy.engine import Engine

from app.debrief.service import Debrief
from app.store.catalog import RubricCatalog
from app.store import integrity
from app.store.db import DB_FILENAME, StoreError, open_engine
from app.store.services import CaptureService

log = logging.getLogger("learnwalk.app")


class Device:
    """The store of one device and its services. `sync` is None only when the sync client cannot start (capture
    and debrief never depend on it)."""

    def __init__(self, engine: Engine, data_dir: Path | str | None = None, *, catalog: RubricCatalog | None = None,
                 transport=None):
        """Wire the services over an open engine; most callers want Device.open. transport: httpx transport for
        the sync client (tests); by default the platform's (XHR in the browser, app/web/transport.py)."""
        self.engine = engine
        self.data_dir = Path(data_dir) if data_dir is not None else Path(engine.url.database).resolve().parent
        self.catalog = catalog or RubricCatalog(engine)
        self.capture = CaptureService(engine, self.catalog)
        self.debrief = Debrief(engine, self.catalog)
        self.sync = _start_sync(self, transport)

    @classmethod
    def open(cls, data_dir: Path | str, *, existing: bool = False, transport=None,
             migrations_dir: Path | None = None) -> "Device":
        """The device whose data is in data_dir, the store created and migrated if needed. existing: refuse a
        folder without learnwalk data (commands that only read it) instead of creating a store there.

        A damaged or emptied store (app.store.integrity) is moved aside untouched and a new one made; this open
        then raises StoreDamaged with the sentence, once, and the Walks screen shows it until dismissed."""
        data_dir = Path(data_dir)
        notice = integrity.examine(data_dir) if data_dir.is_dir() else None
        if notice is None and existing and not (data_dir / DB_FILENAME).exists():
            raise StoreError(f"{data_dir}: no learnwalk data here; pass the --data-dir the app uses.")
        try:
            engine = open_engine(data_dir, migrations_dir=migrations_dir)
        except StoreError as exc:
            if exc.__cause__ is None or not integrity.is_corruption(exc.__cause__):
                raise
            notice = integrity.examine(data_dir, damaged=True)  # damage the quick check could not see
            engine = open_engine(data_dir, migrations_dir=migrations_dir)
        integrity.opened(data_dir, engine, notice)
        if notice:
            engine.dispose()
            raise integrity.StoreDamaged(notice)
        return cls(engine, data_dir, transport=transport)

    def store_notice(self) -> str | None:
        """What happened to a damaged or emptied store this device replaced, until dismissed."""
        return integrity.pending_notice(self.engine)

    def close(self) -> None:
        if self.sync is not None:
            self.sync.close()  # the sync client kept across rounds
        self.engine.dispose()

    def __enter__(self) -> "Device":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _start_sync(device: Device, transport):
    """The sync service, or None if it cannot start (a build without the sync client): capture works without it."""
    try:
        from app.sync_service import SyncService
        from app.web.transport import default_transport

        return SyncService(device.engine, device.catalog, capture=device.capture,
                           transport=transport or default_transport())
    except Exception as exc:
        log.error("sync service could not start (%s at %s); capture works without it", type(exc).__name__,
                  where(exc))
        return None


def where(exc: BaseException) -> str:
    """file:line of each frame, without the exception's message (which may quote a note or a name)."""
    frames = reversed(traceback.extract_tb(exc.__traceback__))
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in frames)
