"""`learnwalk sync` against the real server when the device's own store cannot be written: a full disk, a
read-only store, a corrupt file. Each says what happened and what to do in one sentence, exits 1 without a
traceback, and keeps everything the device had (the next round, once fixed, sends it all exactly once)."""
from __future__ import annotations

import os
import sqlite3
import subprocess
from contextlib import contextmanager

import pytest

from app.store.db import db_path
from sync.server.models import Visit
from tests.support import serverproc as harness
from tests.support.browser import learnwalk_exe
from tests.support.server_fixtures import sync_server  # noqa: F401 (fixture)


def _cli_sync(folder) -> subprocess.CompletedProcess:
    return subprocess.run([*learnwalk_exe(), "sync", "--data-dir", str(folder)], capture_output=True, text=True,
                          timeout=120)


def _one_sentence(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


def _local(folder) -> dict:
    con = sqlite3.connect(f"{db_path(folder).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {"visits": {r[0] for r in con.execute("SELECT id FROM visit")},
                "outbox": con.execute("SELECT count(*) FROM outbox").fetchone()[0],
                "check": con.execute("PRAGMA integrity_check").fetchone()[0]}
    finally:
        con.close()


@pytest.fixture
def team(sync_server, tmp_path):  # noqa: F811
    """A district whose observer already synced 30 visits with notes, so an admin's pull has much to write."""
    d = sync_server.db.district()
    obs = harness.new_device(tmp_path / "observer", sync_server.url, d.code(d.user("observer")))
    obs.sync.sync_once()  # the district's schools
    walk = harness.new_walk(obs, d.school_id)
    for vid in harness.record_visits(obs, walk.id, 30, ratings=3):
        obs.capture.add_note(vid, "Students compared two strategies and explained which was faster. " * 6)
    obs.sync.sync_once()
    obs.engine.dispose()
    return d


def _admin_device(sync_server, d, folder):  # noqa: F811
    """An enrolled admin device in `folder` holding 3 visits of its own not yet sent; returns their ids."""
    dev = harness.new_device(folder, sync_server.url, d.code(d.user("admin")))
    dev.capture.add_school("Lincoln Elementary", school_id=d.school_id, district_id=d.id)  # no round yet: the
    # first round, through the CLI, then has the whole district to pull
    walk = harness.new_walk(dev, d.school_id)
    ids = set(harness.record_visits(dev, walk.id, 3))
    dev.engine.dispose()
    return ids


def _on_server(sync_server, ids) -> int:  # noqa: F811
    return len([v for v in sync_server.db.rows(Visit, Visit.id.in_(ids))])


@contextmanager
def _small_disk(path, size: str = "3m"):
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(folder, leave: int) -> os.PathLike:
    """Fill the file system of folder until only about `leave` bytes are free."""
    filler = folder / "filler"
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def test_a_sync_that_fills_the_disk_says_so_keeps_everything_and_the_next_round_sends_it(
        sync_server, team, tmp_path):  # noqa: F811
    with _small_disk(tmp_path / "disk") as disk:
        folder = disk / "admin"
        mine = _admin_device(sync_server, team, folder)
        filler = _fill(disk, leave=96 * 1024)
        said = _one_sentence(_cli_sync(folder))
        assert said.startswith("The sync round stopped because the device storage is full;")
        assert "free some space" in said and "everything on this device is kept" in said
        after = _local(folder)
        assert mine <= after["visits"] and after["check"] == "ok"
        filler.unlink()
        r = _cli_sync(folder)
        assert r.returncode == 0, r.stderr
    assert _on_server(sync_server, mine) == 3


def test_a_sync_on_a_read_only_store_says_so_and_changes_nothing(sync_server, team, tmp_path):  # noqa: F811
    folder = tmp_path / "admin"
    mine = _admin_device(sync_server, team, folder)
    before = _local(folder)
    store = db_path(folder)
    if os.geteuid() == 0:  # root writes through file modes; the immutable flag stops root too (ext4)
        if subprocess.run(["chattr", "+i", str(store)], capture_output=True).returncode:
            pytest.skip("cannot make the store immutable on this file system")
        undo = ["chattr", "-i", str(store)]
    else:
        store.chmod(0o444)
        undo = ["chmod", "644", str(store)]
    try:
        said = _one_sentence(_cli_sync(folder))
    finally:
        subprocess.run(undo, check=True)
    assert said.startswith(f"The sync round stopped because the device store in {folder} is read-only;")
    assert "check their permissions" in said
    assert _local(folder) == before
    assert _cli_sync(folder).returncode == 0
    assert _on_server(sync_server, mine) == 3


def test_a_sync_on_a_corrupt_store_says_so_and_keeps_the_file_aside(sync_server, team, tmp_path):  # noqa: F811
    folder = tmp_path / "admin"
    _admin_device(sync_server, team, folder)
    store = db_path(folder)
    data = bytearray(store.read_bytes())
    data[4096 * 2:4096 * 4] = os.urandom(4096 * 2)  # two pages of the tables' b-trees
    store.write_bytes(bytes(data))
    said = _one_sentence(_cli_sync(folder))
    assert "is damaged" in said and "give it to your admin" in said
    [aside] = [p for p in folder.iterdir() if p.name.startswith("learnwalk.sqlite.damaged-")
               and not p.name.endswith(("-wal", "-shm"))]
    assert aside.read_bytes() == bytes(data)
