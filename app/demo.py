"""`learnwalk demo`: a central server and two tablets' worth of app on embedded SQLite, with a demo district.

The server is driven only through its own CLI (`learnwalk admin ...`, `learnwalk serve`, as subprocesses), as an
admin would; each tablet is this install's device core (app.device.Device) on its own data folder.

First run builds the district (three schools, an admin, a debrief lead and two observers), enrolls four device
data folders, records a 12-week cycle (a cycle record with two priorities and targets) of three walks (the lead's
own visits plus two observers' visits on the same walks, all synced), then serves the lead's, the admin's and an
observer's tablet as web apps. Later runs reuse the data. Each walk has two inclusion and two English-learner
classrooms: under the small-cell threshold on one walk, shown when the equity pause pools the cycle's walks.
Everything is synthetic: no real school, teacher or student appears anywhere.

The tablets do not depend on the server process: when it stops (Enter in the demo's terminal, or it is killed)
they keep running and recording, as tablets in a school without Wi-Fi do, and send what they kept once it is
started again (Enter again). That is the offline rehearsal (README, "Rehearse a walk with no Wi-Fi").
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
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
    app: int = 8550  # the lead's tablet; the admin's tablet is app + 1, observer A's app + 2

    def tablets(self) -> tuple[tuple[str, str, int], ...]:
        """(device folder, who holds it, port) of each tablet the demo serves."""
        return (("lead", "debrief lead's tablet", self.app), ("admin", "district admin's tablet", self.app + 1),
                ("observer-a", "observer A's tablet", self.app + 2))


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


def _lines(stream) -> "queue.Queue[str | None]":
    """The demo terminal's lines, read off the main loop (None once the input ends: then nothing is asked)."""
    got: "queue.Queue[str | None]" = queue.Queue()

    def read() -> None:
        try:
            for line in stream:
                got.put(line.strip())
        except (OSError, ValueError):
            pass
        got.put(None)
    threading.Thread(target=read, name="demo-input", daemon=True).start()
    return got


class _Server:
    """The central server process, stopped and started on request; the tablets never wait for it."""

    def __init__(self, db_url: str, host: str, port: int, env: dict):
        self.args = _cli("serve", "--db", db_url, "--host", host, "--port", str(port))
        self.url, self.env = f"http://{host}:{port}", env
        self.proc: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, env=self.env)
        _wait_healthy(self.url, self.proc)

    def stop(self) -> None:
        if self.running:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


OFFLINE_HINT = ("Press Enter here to stop the central server (as when the school has no Wi-Fi): the tablets keep "
                "working and keep what they record. Press Enter again to start it; they send it on their next sync.")


def run_demo(root: Path, ports: DemoPorts, host: str = "127.0.0.1", stdin=None) -> None:
    root.mkdir(parents=True, exist_ok=True)
    facts_file = root / "demo.json"
    db_url = f"sqlite:///{(root / 'server.sqlite').resolve()}"
    first_run = not facts_file.exists()
    if first_run and (root / "server.sqlite").exists():
        raise DemoError(f"{root} holds an unfinished demo; delete that folder and run the demo again.")
    facts = build_directory(db_url) if first_run else json.loads(facts_file.read_text())

    tablets: list[subprocess.Popen] = []
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    server = _Server(db_url, host, ports.server, env)

    def stop(*_):
        server.stop()
        for p in tablets:
            if p.poll() is None:
                p.terminate()
        for p in tablets:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    try:
        server.start()
        if first_run:
            print("Building the demo district (first run only)...", flush=True)
            line = record_walks(root, server.url, facts)
            facts_file.write_text(json.dumps({k: v for k, v in facts.items() if k != "codes"}, indent=2))
            print(f"Demo district ready: {line}.", flush=True)
        for dev, _, port in ports.tablets():
            # each tablet in its own session: a Ctrl-C or a stop of the server never reaches it by accident
            tablets.append(subprocess.Popen(_cli("app", "--web", "--host", host, "--port", str(port),
                                                 "--data-dir", str(root / "devices" / dev)), env=env,
                                            start_new_session=True))
        for (_, _, port), proc in zip(ports.tablets(), tablets):
            _wait_port(host, port, proc)
        print("\nlearnwalk demo is running (Ctrl-C stops it):", flush=True)
        for _, who, port in ports.tablets():
            print(f"  {who}: http://{host}:{port}/", flush=True)
        print(f"  central server: {server.url}/docs  (data in {root})", flush=True)
        print(OFFLINE_HINT, flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
        lines = _lines(stdin if stdin is not None else sys.stdin)
        was_running = True
        while all(p.poll() is None for p in tablets):
            if was_running and not server.running:  # stopped from outside (killed, crashed): the tablets go on
                print(f"The central server stopped (exit {server.proc.returncode}); the tablets keep working "
                      "offline. Press Enter to start it again.", flush=True)
                was_running = False
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:  # no terminal to read (e.g. started in the background): keep serving
                lines = queue.Queue()
                continue
            if server.running:
                server.stop()
                print("Central server stopped: the tablets are offline now and keep what they record. "
                      "Press Enter to start it again.", flush=True)
            else:
                try:
                    server.start()
                except DemoError as exc:  # e.g. its port was taken meanwhile: say so, the tablets go on
                    print(f"{exc} The tablets keep working offline; press Enter to try again.", flush=True)
                else:
                    print(f"Central server running again at {server.url}; the tablets send what they kept on "
                          "their next sync (about a minute, or tap Sync).", flush=True)
            was_running = server.running
        dead = next(p for p in tablets if p.poll() is not None)
        raise DemoError(f"A demo tablet stopped unexpectedly (exit {dead.returncode}); the data is kept in {root}.")
    except KeyboardInterrupt:
        print("\nStopping the demo; its data stays in", root, flush=True)
    finally:
        stop()
