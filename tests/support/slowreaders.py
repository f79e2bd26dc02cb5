"""Stalled pull readers beside working devices, against a real server (tests/sync/server/test_slow_readers.py and
bench/slow_readers.py): a district with a large pull page, raw sockets with a tiny receive buffer that ask for it
and never read, and devices that push and pull meanwhile, each request timed."""
from __future__ import annotations

import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.support import serverdata

LOOKFORS = ["sd.target-posted", "sd.work-displayed", "sd.checks-understanding"]  # sample-district@1, built in
AT = "2026-06-01T10:00:00Z"


@dataclass
class Worker:
    """An observer device that pushes a visit and pulls, round after round."""
    token: str
    user_id: str
    school_id: str
    seq: int = 0
    cursor: int = 0
    answers: list[dict] = field(default_factory=list)  # each push's answer body, in order
    visit_ids: list[str] = field(default_factory=list)  # every visit this device has put in a push body
    pulled: list[tuple[str, str]] = field(default_factory=list)  # (kind, record id) of every change it received

    def take(self, page: dict) -> bool:
        """Apply a pull page as a device does (its changes noted, its cursor kept); whether there is more."""
        self.pulled.extend((ch["kind"], ch["record_id"]) for ch in page["changes"])
        self.cursor = page["cursor"]
        return page["more"]
    walk_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def walk(self) -> dict:
        return {"id": self.walk_id, "school_id": self.school_id, "walk_date": "2026-06-01",
                "rubric_id": "sample-district", "rubric_version": 1, "focus": LOOKFORS[:2], "team": [],
                "phase": "baseline", "created_by": self.user_id, "updated_at": AT}

    def push_body(self, visits: int = 1, notes_per_visit: int = 0, note_chars: int = 10) -> dict:
        first = self.seq + 1
        body: dict = {"walks": [], "visits": [], "cells": [], "notes": []}
        if self.seq == 0:
            self.seq += 1
            body["walks"].append([self.seq, self.walk()])
        for n in range(visits):
            vid = str(uuid.uuid4())
            self.visit_ids.append(vid)
            self.seq += 1
            body["visits"].append([self.seq, {"id": vid, "walk_id": self.walk_id, "visit_no": self.seq,
                                              "observer_id": self.user_id, "grade": "3", "subject": "ELA",
                                              "started_at": AT, "updated_at": AT}])
            cells = []
            for lf in LOOKFORS:
                self.seq += 1
                cells.append([self.seq, lf, "seen", False, False, AT])
            body["cells"].append([vid, cells])
            for _ in range(notes_per_visit):
                self.seq += 1
                body["notes"].append([self.seq, {"id": str(uuid.uuid4()), "visit_id": vid,
                                                 "lookfor_id": LOOKFORS[0], "text": "n" * note_chars,
                                                 "updated_at": AT}])
        return {"from_seq": first, "to_seq": self.seq, **body}


def district_with_a_large_page(url: str, server_db, workers: int, visits: int = 300, notes_per_visit: int = 4,
                               note_chars: int = 3_000):
    """A district whose admin's first pull page is several MB (notes of a few thousand characters), and `workers`
    enrolled observer devices that have pulled once. Returns (the district, the admin's token, the workers)."""
    d = server_db.district()
    admin = serverdata.enroll(url, d.code(d.user("admin")))["token"]
    made = []
    for _ in range(workers + 1):
        e = serverdata.enroll(url, d.code(d.user("observer")))
        made.append(Worker(e["token"], e["user_id"], d.school_id))
    writer = made.pop()
    with serverdata.client(url, writer.token) as c:
        for _ in range(visits // 100):
            r = c.post("/api/v1/push", json=writer.push_body(100, notes_per_visit, note_chars))
            assert r.status_code == 200 and r.json()["results"] == [], r.text[:500]
    for w in made:  # devices in step with the server: each has pulled what it may see (the walks) before
        with client(url, w.token) as c:
            while w.take(c.get("/api/v1/changes", params={"since": w.cursor}).raise_for_status().json()):
                pass
    return d, admin, made


def stall(url: str, token: str, n: int) -> list[socket.socket]:
    """n connections that ask for a pull and never read the answer (a 1 KB receive buffer)."""
    host, port = url.removeprefix("http://").split(":")
    request = (f"GET /api/v1/changes?since=0 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
               f"{PROTOCOL_HEADER}: {PROTOCOL_VERSION}\r\n\r\n").encode()
    out = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # before connect: the window stays tiny
        s.connect((host, int(port)))
        s.sendall(request)
        out.append(s)
    return out


def traffic(url: str, workers: list[Worker], rounds: int) -> tuple[list[float], list[str]]:
    """Each worker, in its own thread, pushes a visit and pulls to the end, `rounds` times. Returns every
    request's seconds and every error (a status that is not 200, or an exception)."""
    timed, errors = traffic_by_kind(url, workers, rounds)
    return timed["push"] + timed["pull"], errors


def traffic_by_kind(url: str, workers: list[Worker], rounds: int) -> tuple[dict[str, list[float]], list[str]]:
    """traffic(), with the seconds of pushes and of pulls apart: {"push": [...], "pull": [...]}."""
    latencies: dict[str, list[float]] = {"push": [], "pull": []}
    errors: list[str] = []
    lock = threading.Lock()

    def timed(c: httpx.Client, method: str, path: str, **kw):
        started = time.perf_counter()
        try:
            r = c.request(method, path, **kw)
        except httpx.HTTPError as exc:
            with lock:
                errors.append(f"{method} {path}: {type(exc).__name__}")
            return None
        with lock:
            latencies["push" if method == "POST" else "pull"].append(time.perf_counter() - started)
            if r.status_code != 200:
                errors.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
        return r if r.status_code == 200 else None

    def run(w: Worker) -> None:
        with client(url, w.token) as c:
            for _ in range(rounds):
                r = timed(c, "POST", "/api/v1/push", json=w.push_body())
                if r is not None:
                    w.answers.append(r.json())
                while True:
                    r = timed(c, "GET", "/api/v1/changes", params={"since": w.cursor})
                    if r is None or not w.take(r.json()):
                        break

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def client(url: str, token: str) -> httpx.Client:
    """A device's client with a timeout long enough that only the server's own limits end a request."""
    c = serverdata.client(url, token)
    c.timeout = 60
    return c


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)] if ordered else 0.0
