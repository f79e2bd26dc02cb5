"""`learnwalk demo`: a central server and two tablets' worth of app on embedded SQLite, with a demo district.

The server is driven only through its own CLI (`learnwalk admin ...`, `learnwalk serve`, as subprocesses), as an
admin would; each tablet is this install's device core (app.device.Device) on its own data folder.

First run builds the district (three schools, an admin, a debrief lead and two observers), enrolls four device
data folders, records a 12-week cycle (a cycle record with two priorities and targets) of three walks (the lead's
own visits plus two observers' visits on the same walks, all synced), then serves the lead's tablet and the admin's
tablet as web apps. Later runs reuse the data. Each walk has two inclusion and two English-learner classrooms:
under the small-cell threshold on one walk, shown when the equity pause pools the cycle's walks.
Everything is synthetic: no real school, teacher or student appears anywhere.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from sync.errors import LearnwalkError

DISTRICT = "Demo District (synthetic data)"
SCHOOLS = ("Maple Street Elementary", "Riverside Middle", "Harbor High")
PEOPLE = (("admin", "admin@demo.invalid"), ("lead", "lead@demo.invalid"),
          ("observer", "observer-a@demo.invalid"), ("observer", "observer-b@demo.invalid"))
DEVICES = ("admin", "lead", "observer-a", "observer-b")


class DemoError(LearnwalkError):
    """The demo could not start; the message says why and what to do."""


@dataclass
class DemoPorts:
    server: int = 8765
    app: int = 8550  # the lead's tablet; the admin's tablet is app + 1


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"The server stopped while starting (exit {proc.returncode}); "
                            "is the port already in use? Try --port.")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise DemoError(f"The server at {url} did not answer within {seconds:.0f} s.")


def _wait_port(host: str, port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"The app stopped while starting (exit {proc.returncode}); "
                            f"is port {port} already in use? Try --app-port.")
        try:
            httpx.get(f"http://{host}:{port}/", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise DemoError(f"The app on port {port} did not answer within {seconds:.0f} s.")


def _admin(db_url: str, *args: str) -> str:
    """One `learnwalk admin ...` command on the server database; returns what it printed (the new id or code)."""
    done = subprocess.run(_cli("admin", *args, "--db", db_url), capture_output=True, text=True)
    if done.returncode != 0:  # its one sentence says why (e.g. the server extra is not installed)
        raise DemoError(done.stderr.strip() or f"`learnwalk admin {args[0]}` failed (exit {done.returncode}).")
    return done.stdout.strip()


def build_directory(db_url: str) -> dict:
    """Create the district, schools, people and one enrollment code per device with the server's own CLI."""
    district = _admin(db_url, "create-district", DISTRICT)
    schools = [_admin(db_url, "create-school", name, "--district", district) for name in SCHOOLS]
    users = [_admin(db_url, "create-user", email, "--district", district, "--role", role) for role, email in PEOPLE]
    codes = {dev: _admin(db_url, "enrollment-code", "--user", user) for dev, user in zip(DEVICES, users)}
    return {"district": district, "schools": schools, "codes": codes}


# the class types of each tablet's visits per walk, in turn: 2 inclusion and 2 English-learner classrooms of 14 per
# walk (fewer than the threshold of 3: a walk alone suppresses them), 6 of each over the cycle's three walks
LEAD_TYPES = ("general", None, "general", "inclusion", "general", "special-education")
OBSERVER_TYPES = (("general", "english-learners", None, "general"),
                  ("inclusion", "general", "english-learners", "general"))
CYCLE_NAME = "Fall 2026 cycle"
# (look-for, target %): structured talk and engagement, evident in this share of classrooms by the end of the cycle
PRIORITIES = (("dl.interactive", 60), ("dl.what-and-why", 50))


def demo_cycle(lead):
    """The lead's cycle at the first school, with its two priorities and targets."""
    from app.store.seed import CYCLE_START

    school = next(s.id for s in lead.capture.schools() if s.name == SCHOOLS[0])
    rubric = next(r for r in lead.capture.catalog.latest() if r.id == "deeper-learning")  # what a new walk gets
    return lead.capture.create_cycle(school_id=school, name=CYCLE_NAME, start_date=CYCLE_START,
                                     rubric_id=rubric.id, rubric_version=rubric.version,
                                     priorities=[{"lookfors": [lf], "target": t} for lf, t in PRIORITIES])


def record_walks(root: Path, server_url: str, facts: dict) -> str:
    """Enroll the four devices, record the cycle's walks and sync everyone; returns a summary line."""
    from app.device import Device
    from app.store.seed import seed, seed_visits

    devices: dict[str, Device] = {}
    try:
        for dev in DEVICES:
            devices[dev] = device = Device.open(root / "devices" / dev)
            if device.sync is None:
                raise DemoError(f"Sync could not start on the demo's {dev} tablet (the reason is logged above); "
                                "delete the demo folder and run the demo again.")
            device.sync.enroll(server_url, facts["codes"][dev])

        lead = devices["lead"]
        lead.sync.sync_once()  # receive the district's schools before walking them
        # the newest deeper-learning version: what a new walk on a tablet gets (its title says whose words)
        cycle = demo_cycle(lead)
        summary = seed(lead.capture, walks=3, visits=6, seed=7, cycle_id=cycle.id, class_types=LEAD_TYPES)
        observers = [devices[dev].sync.store.meta("user_id")["user_id"] for dev in ("observer-a", "observer-b")]
        for walk in lead.capture.walks():  # membership is explicit: the lead puts both observers on the team
            lead.capture.update_walk(walk.id, team=[*walk.team, *observers])
        lead.sync.sync_once()
        for n, dev in enumerate(("observer-a", "observer-b"), start=1):
            observer = devices[dev]
            observer.sync.sync_once()  # the lead's walks arrive as walk metadata
            for walk in observer.capture.walks():
                seed_visits(observer.capture, walk.id, visits=4, seed=100 * n + walk.walk_date.toordinal() % 97,
                            class_types=OBSERVER_TYPES[n - 1])
            observer.sync.sync_once()
        lead.sync.sync_once()  # teammates' visits arrive: the debrief shows the whole team
        devices["admin"].sync.sync_once()
        total = sum(len(lead.capture.visits(w.id)) for w in lead.capture.walks())
        return f"{summary.walks} walks, {total} classroom visits by 3 observers"
    finally:
        for device in devices.values():
            device.close()


def run_demo(root: Path, ports: DemoPorts, host: str = "127.0.0.1") -> None:
    root.mkdir(parents=True, exist_ok=True)
    facts_file = root / "demo.json"
    db_url = f"sqlite:///{(root / 'server.sqlite').resolve()}"
    server_url = f"http://{host}:{ports.server}"
    first_run = not facts_file.exists()
    if first_run and (root / "server.sqlite").exists():
        raise DemoError(f"{root} holds an unfinished demo; delete that folder and run the demo again.")
    facts = build_directory(db_url) if first_run else json.loads(facts_file.read_text())

    procs: list[subprocess.Popen] = []
    env = dict(os.environ, PYTHONUNBUFFERED="1")

    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    try:
        server = subprocess.Popen(_cli("serve", "--db", db_url, "--host", host, "--port", str(ports.server)),
                                  env=env)
        procs.append(server)
        _wait_healthy(server_url, server)
        if first_run:
            print("Building the demo district (first run only)...", flush=True)
            line = record_walks(root, server_url, facts)
            facts_file.write_text(json.dumps({k: v for k, v in facts.items() if k != "codes"}, indent=2))
            print(f"Demo district ready: {line}.", flush=True)
        tablets = (("lead", ports.app), ("admin", ports.app + 1))
        for dev, port in tablets:
            app = subprocess.Popen(_cli("app", "--web", "--host", host, "--port", str(port),
                                        "--data-dir", str(root / "devices" / dev)), env=env)
            procs.append(app)
        for (dev, port), proc in zip(tablets, procs[1:]):
            _wait_port(host, port, proc)
        print("\nlearnwalk demo is running (Ctrl-C stops it):", flush=True)
        print(f"  debrief lead's tablet: http://{host}:{ports.app}/", flush=True)
        print(f"  district admin's tablet: http://{host}:{ports.app + 1}/", flush=True)
        print(f"  central server: {server_url}/docs  (data in {root})", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        dead = next(p for p in procs if p.poll() is not None)
        raise DemoError(f"A demo process stopped unexpectedly (exit {dead.returncode}); the data is kept in {root}.")
    except KeyboardInterrupt:
        print("\nStopping the demo; its data stays in", root, flush=True)
    finally:
        stop()
