"""Sync push and pull against the PouchDB peer: the app's own round, interleaved with the peer, in one run.

For each size: a district publishing a 25-look-for rubric, an observer's device holding N visits x 25 ratings
(seeded through the capture service, all in its outbox), and the lead's device (the lead is on the walk's team),
enrolled and empty. Then, `--repeats` times, interleaved:

- push: a fresh `learnwalk serve` (SQLite file) on loopback from a copy of the empty server, a copy of the seeded
  device, and the app's own round timed in a process of its own: `device.sync.sync_once()` (the sync client is
  built inside the clock, as the app builds it);
- pull: the same from a copy of the server after that push and a copy of the lead's empty device: its first round
  brings the school, the rubric, the walk and every visit with its cells;
- the peer: /work/shared/peers/pouchdb/run.sh N 25 (PouchDB -> PouchDB Server replication of the same visits, and
  a fresh PouchDB pulling them back), which prints its own push and pull times.

Prints, per size, the median and min of each, the peer's median, the ratio peer/learnwalk (above 1: learnwalk is
faster), and the peak RSS growth of the process that ran the round (its peak during the round minus its RSS
before it): the memory a round costs the device.

    .venv/bin/python bench/sync_push.py [--sizes 1000,10000] [--repeats 5] [--no-peer] [--peer DIR]

--peer: where run.sh keeps the peer's npm packages (its PEER_DIR; installed on first use, which compiles a native
module for a few minutes).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PEER = Path(os.environ.get("LEARNWALK_PEER", "/work/shared/peers/pouchdb"))
LOOKFORS = 25


def bench_rubric() -> str:
    lines = ["id: bench-25", "version: 1", "title: Benchmark rubric with 25 look-fors",
             "scales:", "  - id: four", "    levels:"]
    lines += [f"      - {{value: '{v}', label: 'Level {v}'}}" for v in "1234"]
    lines += ["domains:", "  - {id: all, title: All}", "lookfors:"]
    lines += [f"  - {{id: b.l{i:02d}, domain: all, text: 'Look-for {i}', label: 'L{i}', scale: four}}"
              for i in range(LOOKFORS)]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    exe = str(Path(sys.executable).with_name("learnwalk"))
    proc = subprocess.Popen([exe, "serve", "--db", db_url, "--port", str(port)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/api/v1/health", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait()


def copy_db(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    a.backup(b)
    a.close()
    b.close()


@dataclass
class World:
    """Saved stores of one size: the server before and after the observer's push, and the two devices."""
    tmp: Path
    visits: int

    def path(self, name: str) -> Path:
        return self.tmp / name

    @property
    def server_empty(self) -> Path:
        return self.path("server-empty.sqlite")

    @property
    def server_pushed(self) -> Path:
        return self.path("server-pushed.sqlite")

    @property
    def observer(self) -> Path:
        return self.path("observer-seeded.sqlite")

    @property
    def lead(self) -> Path:
        return self.path("lead-empty.sqlite")


def seed_visits(capture, walk_id: str, rubric, visits: int) -> None:
    for first in range(0, visits, 200):
        with capture.batch():
            for i in range(first, min(visits, first + 200)):
                v = capture.start_visit(walk_id, grade="5", subject="Math")
                for j, lf in enumerate(rubric.lookfors):
                    capture.rate(v.id, lf.id, "1234"[(i + j) % 4])
                capture.finish_visit(v.id)


def build_world(tmp: Path, visits: int) -> World:
    """Server, observer and lead stores for this size (the stores are saved as copies; no server left running)."""
    from sqlmodel import Session

    from app.device import Device
    from sync.client import SyncClient
    from sync.server import directory
    from sync.server.db import make_engine, writer
    from sync.server.deps import Caller
    from sync.server.directory.admin import publish_rubric
    from sync.server.serve import prepare

    world = World(tmp, visits)
    db = tmp / "server.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    prepare(engine)
    with Session(writer(engine), expire_on_commit=False) as s:
        district = directory.create_district(s, "Bench")
        school = directory.create_school(s, district.id, "Bench School")
        admin = directory.create_user(s, district.id, "admin", "admin@bench.example")
        observer = directory.create_user(s, district.id, "observer", "observer@bench.example")
        lead = directory.create_user(s, district.id, "lead", "lead@bench.example")
        publish_rubric(s, Caller("bench", admin.id, "admin", district.id), bench_rubric(), "bench-25.yaml")
        codes = directory.issue_code(s, observer.id), directory.issue_code(s, lead.id)
        s.commit()
    engine.dispose()
    proc, url = start_server(f"sqlite:///{db}")
    try:
        devices = []
        for name, code in zip(("observer", "lead"), codes):
            device = Device.open(tmp / name)
            with SyncClient(url) as c:
                device.sync.store.save_enrollment(url, c.enroll(code))
            devices.append(device)
        obs, lead_device = devices
        obs.sync.sync_once()  # the school and the rubric
        rubric = obs.catalog.get("bench-25", 1)
        started = time.perf_counter()
        with obs.capture.batch():
            walk = obs.capture.create_walk(school_id=school.id, rubric_id="bench-25", rubric_version=1,
                                           focus=[rubric.lookfors[0].id], team=[lead.id])
        seed_visits(obs.capture, walk.id, rubric, visits)
        print(f"  seeded {visits:,} visits x {LOOKFORS} ratings in {time.perf_counter() - started:.1f} s", flush=True)
        copy_db(tmp / "observer" / "learnwalk.sqlite", world.observer)
        copy_db(tmp / "lead" / "learnwalk.sqlite", world.lead)
        copy_db(db, world.server_empty)
        obs.sync.sync_once()  # the push every pull round starts from
        copy_db(db, world.server_pushed)
        for d in devices:
            d.close()
    finally:
        stop(proc)
    return world


def rss_kb(field: str = "VmRSS") -> int:
    """This process's resident set (VmRSS) or its peak (VmHWM), in kB. Not getrusage's ru_maxrss: Linux carries
    that across fork and exec, so a child would report the parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(data_dir: str) -> None:
    """One app round on the device in data_dir, in this fresh process: prints seconds, RSS growth and report."""
    from app.device import Device

    device = Device.open(data_dir)
    before = rss_kb()
    started = time.perf_counter()
    report = device.sync.sync_once()
    seconds = time.perf_counter() - started
    peak = rss_kb("VmHWM")
    pending = device.sync.status().pending
    device.close()
    print(json.dumps({"seconds": seconds, "rss_growth_mb": max(0, peak - before) / 1024, "peak_mb": peak / 1024,
                      "pending": pending,
                      "report": report.as_dict()}))


def app_round(world: World, rep: int, kind: str) -> dict:
    """The app's own round (push from the observer, or pull by the lead) in a process of its own."""
    server_db = world.path(f"round-{kind}-{rep}-server.sqlite")
    copy_db(world.server_empty if kind == "push" else world.server_pushed, server_db)
    device_dir = world.path(f"round-{kind}-{rep}-device")
    copy_db(world.observer if kind == "push" else world.lead, device_dir / "learnwalk.sqlite")
    proc, url = start_server(f"sqlite:///{server_db}")
    try:
        with sqlite3.connect(device_dir / "learnwalk.sqlite") as con:  # the copy points at this run's server
            con.execute("UPDATE meta SET value = ? WHERE key = 'server_url'", (url,))
        out = subprocess.run([sys.executable, __file__, "--child", str(device_dir)], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        if out.returncode:
            raise SystemExit(f"the {kind} round failed:\n{out.stderr[-3000:]}")
        got = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        stop(proc)
        server_db.unlink()
        for f in device_dir.iterdir():
            f.unlink()
        device_dir.rmdir()
    pushed = got["report"]["pushed"]
    if kind == "push":
        assert got["pending"] == 0 and pushed["rejected"] == 0, got
    else:  # the visits, the walk, the school, the rubric, the settings, and every cell
        assert got["report"]["pulled"] >= world.visits * (1 + LOOKFORS), got
    return got


def peer_round(visits: int, peer_dir: Path | None) -> dict | None:
    env = {**os.environ, "PORT": str(free_port()), **({"PEER_DIR": str(peer_dir)} if peer_dir else {})}
    out = subprocess.run(["bash", str(PEER / "run.sh"), str(visits), str(LOOKFORS)], capture_output=True, text=True,
                         env=env, cwd=tempfile.gettempdir())
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode or not lines:
        print(f"  the peer did not run ({out.stderr.strip()[-300:] or 'no output'})", flush=True)
        return None
    return json.loads(lines[-1])


def _fig(xs: list[float]) -> str:
    return f"median {statistics.median(xs):.3f} s, min {min(xs):.3f} s"


def run(visits: int, repeats: int, with_peer: bool, peer_dir: Path | None) -> list[str]:
    print(f"{visits:,} visits:", flush=True)
    with tempfile.TemporaryDirectory() as d:
        world = build_world(Path(d), visits)
        ours: dict[str, list[dict]] = {"push": [], "pull": []}
        peer: list[dict] = []
        for rep in range(repeats):
            # interleaved (the machine's load drifts over minutes); the order turns each repeat
            steps = ["push", "pull", "peer"]
            for step in steps[rep % 3:] + steps[:rep % 3]:
                if step == "peer":
                    if with_peer and (got := peer_round(visits, peer_dir)) is not None:
                        peer.append(got)
                else:
                    ours[step].append(app_round(world, rep, step))
            print(f"  round {rep + 1}/{repeats}: push {ours['push'][-1]['seconds']:.2f} s, pull "
                  f"{ours['pull'][-1]['seconds']:.2f} s"
                  + (f", peer push {peer[-1]['push_seconds']:.2f} s, pull {peer[-1]['pull_seconds']:.2f} s"
                     if peer else ""), flush=True)
    table = []
    for kind in ("push", "pull"):
        secs = [r["seconds"] for r in ours[kind]]
        rss = [r["rss_growth_mb"] for r in ours[kind]]
        peak = [r["peak_mb"] for r in ours[kind]]
        line = (f"  {kind} {visits:,} visits: learnwalk {_fig(secs)} ({visits / statistics.median(secs):,.0f} "
                f"visits/s); client peak RSS {statistics.median(peak):.0f} MB, its growth in the round median "
                f"{statistics.median(rss):.0f} MB, max {max(rss):.0f} MB")
        if peer:
            theirs = [p[f"{kind}_seconds"] for p in peer]
            ratio = statistics.median(theirs) / statistics.median(secs)
            line += f"; PouchDB median {statistics.median(theirs):.3f} s; ratio PouchDB/learnwalk {ratio:.2f}x"
            table.append(f"| {kind} {visits:,} | {statistics.median(secs):.2f} s | {statistics.median(theirs):.2f} s "
                         f"| {ratio:.2f}x | {statistics.median(rss):.0f} MB |")
        print(line, flush=True)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated visit counts")
    parser.add_argument("--repeats", type=int, default=5, help="rounds per size (median and min are printed)")
    parser.add_argument("--no-peer", action="store_true", help="skip the PouchDB peer")
    parser.add_argument("--peer", type=Path, default=None,
                        help="where the peer's npm packages are installed, once (default: run.sh's own choice)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    load = os.getloadavg()
    print(f"bench/sync_push.py on {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    table = []
    for n in (int(x) for x in args.sizes.split(",")):
        table += run(n, args.repeats, not args.no_peer, args.peer)
    if table:
        print("\n| round | learnwalk (median) | PouchDB (median) | ratio | learnwalk client RSS growth |")
        print("|---|---|---|---|---|")
        print("\n".join(table))
    load = os.getloadavg()
    print(f"load at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
