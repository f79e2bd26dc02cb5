"""Test harness for the real server: scratch databases, a `learnwalk serve` process, districts, devices.

Loaded by tests/support/server_fixtures.py and tests/e2e/conftest.py. Admin setup calls sync.server.directory.people on the
same database the server process uses (our real code, not a stand-in); devices are real data folders.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlmodel import Session, select

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

LEARNWALK = str(Path(sys.executable).with_name("learnwalk"))
PG_ADMIN_URL = os.environ.get("LEARNWALK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: not reachable here
        return f"PostgreSQL at 127.0.0.1:5432 is not reachable ({type(exc).__name__})"


def empty_engine(backend: str, tmp_path, icu_locale: str | None = None):
    """A generator fixture body: an empty server database of its own on `backend` ("sqlite" or "postgresql"),
    for migration tests (the session's server database is already at the newest revision). Skips with the
    reason when PostgreSQL is unreachable."""
    import pytest

    from sync.server.db import make_engine

    if backend == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
        yield eng
        eng.dispose()
        return
    why = pg_reachable()
    if why:
        pytest.skip(why)
    url, drop = pg_scratch_db(icu_locale=icu_locale)
    eng = make_engine(url)
    yield eng
    eng.dispose()
    drop()


def pg_scratch_db(icu_locale: str | None = None) -> tuple[str, callable]:
    """Create a uniquely named scratch database; return its URL and a function that drops it. icu_locale (e.g.
    "en-US") makes it sort text by that language, as a production database may, not by code point."""
    import psycopg

    name = f"lw_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql")
    icu = f" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'" if icu_locale else ""
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"{icu}')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


class ServerProc:
    """One `learnwalk serve` process; start() again after kill() restarts it on the same database."""

    def __init__(self, db_url: str, env: dict | None = None):
        self.db_url, self.env = db_url, {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.port = 0
        # the server's log goes to a file, never a pipe: an unread pipe fills (64 KiB) and then blocks the server
        self._log = tempfile.TemporaryFile()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0, port: int | None = None) -> "ServerProc":
        self.port = port or free_port()
        self.proc = subprocess.Popen([LEARNWALK, "serve", "--db", self.db_url, "--port", str(self.port)],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.stderr_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not become healthy")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, like a power cut of the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def stderr_text(self) -> str:
        """What the server has written to its log so far (every start of this process object)."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")


@dataclass
class District:
    """A fresh district on the test server: tests never see each other's data (that is the point of districts)."""
    db: "Db"
    id: str
    school_id: str

    def user(self, role: str) -> str:
        from sync.server import directory

        with self.db.write() as s:
            return directory.create_user(s, self.id, role, f"{role}-{uuid.uuid4().hex[:8]}@example.org").id

    def code(self, user_id: str) -> str:
        from sync.server import directory

        with self.db.write() as s:
            return directory.issue_code(s, user_id)


class Db:
    """Direct access to the server's database for setup and for checking what it holds."""

    def __init__(self, url: str):
        from sync.server.db import make_engine
        from sync.server.serve import prepare

        self.engine = make_engine(url)
        prepare(self.engine)

    def write(self):
        from contextlib import contextmanager

        from sync.server.db import writer

        @contextmanager
        def tx():
            with Session(writer(self.engine), expire_on_commit=False) as s:
                yield s
                s.commit()
        return tx()

    def district(self) -> District:
        from sync.server import directory

        with self.write() as s:
            d = directory.create_district(s, f"District {uuid.uuid4().hex[:6]}")
            school = directory.create_school(s, d.id, "Lincoln Elementary")
        return District(self, d.id, school.id)

    def rows(self, model, *where):
        with Session(self.engine) as s:
            return list(s.exec(select(model).where(*where)).all())

    def cells(self, district_id: str, *where) -> dict:
        """The district's stored rating cells by (visit_id, lookfor_id): see cells_of."""
        return cells_of(self.engine, district_id, *where)


def cells_of(engine, district_id: str, *where) -> dict:
    """The stored rating cells of a district's visits (matching `where`, clauses on Visit), tombstones too, by
    (visit_id, lookfor_id) -> sync.server.ingest.cells.CellRow. Checks each visit_cells row's layout on the way, since a
    dict would hide a cell stored twice: look-fors strictly increasing (code point order), every listed device
    holding a cell and listed once (so the pull's "devices != [own]" text comparison is exact)."""
    from sync.server.ingest.cells import rows as cell_rows
    from sync.server.models import Visit, VisitCells

    out = {}
    with Session(engine) as s:
        stored = s.exec(select(VisitCells.visit_id, VisitCells.devices, VisitCells.cells)
                        .join(Visit, Visit.id == VisitCells.visit_id)
                        .where(Visit.district_id == district_id, *where)).all()
    for vid, devices, cells in stored:
        got = list(cell_rows(devices, cells))
        lookfors = [c.lookfor_id for c in got]
        assert lookfors == sorted(set(lookfors)), f"visit {vid}: look-fors twice or out of order: {lookfors}"
        listed = json.loads(devices)
        assert sorted(listed) == sorted({c.device_id for c in got}), f"visit {vid}: devices {listed}"
        out.update(((vid, c.lookfor_id), c) for c in got)
    return out


@dataclass
class Device:
    """A real device: its own data folder, capture service and sync service."""
    path: Path
    capture: object
    sync: object

    @property
    def engine(self):
        return self.capture.engine


def new_device(path: Path, server_url: str | None = None, code: str | None = None, transport=None) -> Device:
    """The device whose data is in path, opened through the device core (app.device.Device) as the app opens it;
    enrolled when a code is given. transport: httpx transport for its sync client."""
    from app.device import Device as DeviceCore

    core = DeviceCore.open(path, transport=transport)
    assert core.sync is not None, f"{path}: the sync service did not start (see the learnwalk.app log)"
    if code:
        core.sync.enroll(server_url, code)
    return Device(path, core.capture, core.sync)


def api(server_url: str, token: str | None = None, protocol: str | None = str(PROTOCOL_VERSION)) -> httpx.Client:
    headers = {}
    if protocol is not None:
        headers[PROTOCOL_HEADER] = protocol
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=server_url, headers=headers, timeout=60)


RUBRIC = ("deeper-learning", 1)


def new_walk(dev: Device, school_id: str, team: list[str] | None = None):
    rubric = dev.capture.catalog.get(*RUBRIC)
    focus = [lf.id for lf in rubric.lookfors[:2]]
    return dev.capture.create_walk(school_id=school_id, rubric_id=RUBRIC[0], rubric_version=RUBRIC[1],
                                   focus=focus, team=team or [])


def record_visits(dev: Device, walk_id: str, n: int, ratings: int = 3) -> list[str]:
    """n finished visits with `ratings` rated cells each; returns the visit ids."""
    rubric = dev.capture.catalog.get(*RUBRIC)
    ids = []
    for i in range(n):
        v = dev.capture.start_visit(walk_id, grade="3", subject="Math")
        for lf in rubric.lookfors[:ratings]:
            scale = rubric.scale_of(lf.id)
            dev.capture.rate(v.id, lf.id, scale.values()[i % len(scale.values())])
        dev.capture.finish_visit(v.id)
        ids.append(v.id)
    return ids


def user_of(dev: Device) -> str:
    return dev.sync.store.meta("user_id")["user_id"]


def token_of(dev: Device) -> str:
    return dev.sync.store.meta("token")["token"]


def push_body(entries) -> bytes:
    """A push body made of outbox entries exactly as the client sends them."""
    from sync.client import build_push

    return build_push(entries).body


def harness_entry(entry, **changes):
    return entry._replace(**changes)


from sync.client import PendingEntry as PendingEntryT  # noqa: E402


def writer_of(dev: Device):
    from app.store.db import writer

    return writer(dev.engine)
