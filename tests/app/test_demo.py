"""The README's first command: `learnwalk demo` builds a demo district, syncs a team and serves three tablets
(the lead's, the admin's, an observer's), which keep running while its server is stopped and started again."""
from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from app.store.db import open_engine
from app.store.models import Visit, Walk

pytestmark = pytest.mark.slow
LEARNWALK = str(Path(sys.executable).with_name("learnwalk"))


def _ports(n: int) -> list[int]:
    """n consecutive free ports on 127.0.0.1 (the demo serves the admin's and an observer's tablets on the lead's
    port + 1 and + 2)."""
    rng = random.Random()
    for _ in range(100):
        base = rng.randrange(20000, 60000)
        try:
            with contextlib.ExitStack() as stack:
                for port in range(base, base + n):
                    stack.enter_context(socket.socket()).bind(("127.0.0.1", port))
        except OSError:
            continue
        return list(range(base, base + n))
    raise RuntimeError("no run of free ports found")


def _start(folder: Path, server: int, app: int) -> subprocess.Popen:
    return subprocess.Popen([LEARNWALK, "demo", "--dir", str(folder), "--port", str(server), "--app-port", str(app)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"), start_new_session=True)


def _wait_running(proc: subprocess.Popen, seconds: float = 180) -> str:
    out, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        out.append(line)
        if "is running" in line:
            while "Press Enter" not in out[-1]:  # the tablets, the server, then how to go offline
                out.append(proc.stdout.readline())
            return "".join(out)
    raise AssertionError("demo did not start:\n" + "".join(out))


def _stop(proc: subprocess.Popen) -> int:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


def _until(line_part: str, proc: subprocess.Popen) -> str:
    while True:
        line = proc.stdout.readline()
        assert line, f"the demo ended before saying {line_part!r}"
        if line_part in line:
            return line


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _server_pid(demo: subprocess.Popen) -> int:
    """The demo's `learnwalk serve` child."""
    for child in Path(f"/proc/{demo.pid}/task/{demo.pid}/children").read_text().split():
        if b"serve" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0"):
            return int(child)
    raise AssertionError("the demo runs no server process")


def test_demo_builds_a_synced_team_and_serves_three_tablets_then_restarts_on_its_data(tmp_path):
    server, app, _admin_app, _observer_app = _ports(4)
    folder = tmp_path / "demo"
    proc = _start(folder, server, app)
    try:
        printed = _wait_running(proc)
        assert f"debrief lead's tablet: http://127.0.0.1:{app}/" in printed
        assert f"district admin's tablet: http://127.0.0.1:{app + 1}/" in printed
        assert f"observer A's tablet: http://127.0.0.1:{app + 2}/" in printed
        assert httpx.get(f"http://127.0.0.1:{server}/api/v1/health").status_code == 200
        for port in (app, app + 1, app + 2):
            assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    finally:
        assert _stop(proc) == 0

    # the lead's tablet holds the whole team's visits: its own and two observers', on every walk
    engine = open_engine(folder / "devices" / "lead")
    with Session(engine) as s:
        walks = s.exec(select(Walk)).all()
        observers = {v.observer_id for v in s.exec(select(Visit)).all()}
        visits = len(s.exec(select(Visit)).all())
    engine.dispose()
    assert len(walks) == 3
    assert len(observers) == 3
    assert visits == 3 * (6 + 4 + 4)

    # a second run reuses the district instead of building another one
    proc = _start(folder, server, app)
    try:
        printed = _wait_running(proc)
        assert "Building the demo district" not in printed

        # the offline rehearsal: Enter stops the server, the tablets keep running; Enter starts it again
        proc.stdin.write("\n")
        proc.stdin.flush()
        _until("Central server stopped", proc)
        assert not _healthy(server)
        for port in (app, app + 1, app + 2):
            assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
        proc.stdin.write("\n")
        proc.stdin.flush()
        _until("Central server running again", proc)
        assert _healthy(server)

        # a server that dies on its own leaves the tablets running too
        os.kill(_server_pid(proc), signal.SIGKILL)
        assert "keep working offline" in _until("The central server stopped", proc)
        assert proc.poll() is None
        for port in (app, app + 1, app + 2):
            assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    finally:
        assert _stop(proc) == 0
