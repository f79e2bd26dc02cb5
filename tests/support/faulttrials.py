"""Randomized sync fault trials: one device edits, syncs through a fault, recovers, and the server is compared
with the device record by record (lost, duplicated, wrong). bench/faults.py runs many; tests/faults/
test_fault_trials.py runs a short slice with a fixed seed.

Each trial, on an enrolled observer's device (a district of its own, so the district's records are exactly the
device's): a few edits (a new visit with ratings and a note, a changed rating, a deleted note or visit), then one
round through the FaultProxy with one fault of the trial's kind, then rounds without faults until one completes
(what the background task does), then the comparison. Kinds:

    cut_request     the push request cut inside its body (the server never has it whole)
    cut_response    the push answer cut after the server committed
    duplicate       the push sent twice at once, on two connections
    replay          the last push body sent again, verbatim, after its round completed
    delayed_edits   the push answer lost; more edits are made before the retry
    held_answer     the answer held past the client's timeout, the retry races it
    cut_pull        the pull answer cut (the device's cursor must not move past what it stored)
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from sync.client import SyncClient, SyncFailed

from tests.support import serverproc as harness
from tests.support.faultcheck import device_records, outbox, server_records
from tests.support.proxy import FaultProxy

KINDS = ("cut_request", "cut_response", "duplicate", "replay", "delayed_edits", "held_answer", "cut_pull")
DEVICE_TRIALS = 40  # a fresh device (and district) after this many trials keeps each comparison small


@dataclass
class Tally:
    trials: Counter = field(default_factory=Counter)
    lost: Counter = field(default_factory=Counter)
    duplicated: Counter = field(default_factory=Counter)
    wrong: Counter = field(default_factory=Counter)
    unfinished: Counter = field(default_factory=Counter)  # no round completed after the fault (never expected)

    def add(self, kind: str, lost: int, duplicated: int, wrong: int) -> None:
        self.trials[kind] += 1
        self.lost[kind] += lost
        self.duplicated[kind] += duplicated
        self.wrong[kind] += wrong

    @property
    def bad(self) -> int:
        return sum(self.lost.values()) + sum(self.duplicated.values()) + sum(self.wrong.values()) + \
            sum(self.unfinished.values())

    def lines(self, label: str) -> list[str]:
        out = [f"{label}: {'kind':<14} {'trials':>6} {'lost':>5} {'dup':>5} {'wrong':>5}"]
        for k in KINDS:
            if self.trials[k]:
                out.append(f"{label}: {k:<14} {self.trials[k]:>6} {self.lost[k]:>5} {self.duplicated[k]:>5} "
                           f"{self.wrong[k]:>5}" + (f" unfinished {self.unfinished[k]}" if self.unfinished[k] else ""))
        out.append(f"{label}: {'total':<14} {sum(self.trials.values()):>6} {sum(self.lost.values()):>5} "
                   f"{sum(self.duplicated.values()):>5} {sum(self.wrong.values()):>5}")
        return out


def compare(dev, server_db, district_id: str) -> tuple[int, int, int]:
    """(lost, duplicated, wrong): device records missing on the server, records the server holds twice, and
    records whose server content differs from the device's."""
    mine = device_records(dev)
    theirs = server_records(server_db, district_id)
    lost = dup = wrong = 0
    for kind, held in mine.items():
        ids = Counter(r[0] for r in theirs[kind])
        dup += sum(n - 1 for n in ids.values() if n > 1)
        by_id = {r[0]: r for r in theirs[kind]}
        for rid, row in held.items():
            if rid not in by_id:
                lost += 1
            elif by_id[rid] != row:
                wrong += 1
    return lost, dup, wrong


class Trials:
    """Runs trials against one server (its URL and harness.Db)."""

    def __init__(self, server_port: int, server_db, workdir, seed: int = 0):
        self.proxy = FaultProxy(server_port)
        self.db, self.workdir, self.rng = server_db, workdir, random.Random(seed)
        self.tally = Tally()
        self._dev = None
        self._left = 0
        self._made = 0

    def close(self) -> None:
        if self._dev is not None:
            self._dev.engine.dispose()
        self.proxy.close()

    def _device(self):
        if self._left <= 0:
            if self._dev is not None:
                self._dev.engine.dispose()
            self.district = self.db.district()
            self._made += 1
            self._dev = harness.new_device(self.workdir / f"dev{self._made}", self.proxy.url,
                                           self.district.code(self.district.user("observer")))
            self._dev.sync.sync_once()  # school and rubrics
            self.walk = harness.new_walk(self._dev, self.district.school_id).id
            self._left = DEVICE_TRIALS
        self._left -= 1
        return self._dev

    def _edit(self, dev) -> None:
        rng = self.rng
        (vid,) = harness.record_visits(dev, self.walk, 1, ratings=rng.randint(1, 3))
        if rng.random() < 0.5:
            dev.capture.add_note(vid, f"students explained their reasoning ({rng.randint(0, 999)})")
        visits = dev.capture.visits(self.walk)
        if len(visits) > 1 and rng.random() < 0.5:  # change a rating of an earlier visit
            old = rng.choice(visits[:-1])
            rubric = dev.capture.catalog.get(*harness.RUBRIC)
            lf = rubric.lookfors[0]
            values = rubric.scale_of(lf.id).values()
            dev.capture.rate(old.id, lf.id, rng.choice(values))
        if len(visits) > 3 and rng.random() < 0.15:
            dev.capture.delete_visit(rng.choice(visits[:-1]).id)

    def _round(self, dev, timeout: float | None = None) -> bool:
        kw = {"timeout": timeout} if timeout else {}
        try:
            with SyncClient(self.proxy.url, harness.token_of(dev), **kw) as client:
                client.sync(dev.sync.store)
            return True
        except SyncFailed:
            return False

    def _recover(self, dev, kind: str) -> None:
        self.proxy.clear()
        for _ in range(8):
            if self._round(dev):
                return
        self.tally.unfinished[kind] += 1

    def run(self, kind: str) -> None:
        dev = self._device()
        self._edit(dev)
        p, rng = self.proxy, self.rng
        if kind == "cut_request":
            p.plan("cut_request", arg=rng.randint(10, 400))
            self._round(dev)
        elif kind == "cut_response":
            p.plan("cut_response", arg=rng.randint(0, 200))
            self._round(dev)
        elif kind == "duplicate":
            p.plan("duplicate")
            self._round(dev)
        elif kind == "replay":
            self._round(dev)
            pushes = p.exchanges()
            if pushes:
                with harness.api(p.url, harness.token_of(dev)) as api:
                    api.post("/api/v1/push", content=pushes[-1].request.split(b"\r\n\r\n", 1)[1],
                             headers={"Content-Type": "application/json"})
        elif kind == "delayed_edits":
            p.plan("cut_response", arg=0)
            self._round(dev)
            self._edit(dev)
        elif kind == "held_answer":
            p.plan("delay_response", arg=1.5)
            self._round(dev, timeout=0.5)
        elif kind == "cut_pull":
            p.plan("cut_response", path="/api/v1/pull", arg=rng.randint(0, 300))
            self._round(dev)
        self._recover(dev, kind)
        if kind == "held_answer":
            time.sleep(1.2)  # the held answer's request has reached the server by now; compare after it
        if outbox(dev):
            self.tally.unfinished[kind] += 1
        self.tally.add(kind, *compare(dev, self.db, self.district.id))

    def run_many(self, trials: int, start: int = 0) -> Tally:
        """More trials: every kind once first, then kinds drawn at random. start: trials run before."""
        for i in range(start, start + trials):
            self.run(KINDS[i] if i < len(KINDS) else self.rng.choice(KINDS))
        return self.tally
