"""SyncService: what the app's Sync and Settings screens (and `learnwalk sync`) use to enroll and sync.

Plain Python, no Flet. One round at a time (a lock), the outcome of each recorded in Meta so the status
survives restarts. run_background() is the app's sync task: a round on start, on trigger() ("Sync now", a
finished visit), after a failure with exponential backoff and full jitter (1 s doubling to 5 min, reset on
success), and when a cheap health probe (every ~10 s while offline) sees the network come back. While a screen
that shows team data is open (watch()), it also pulls about every minute (live_every, with +-20% jitter; the
setting LEARNWALK_LIVE_SYNC_SECONDS shortens it for tests), so a teammate's visit arrives without a tap; the
backoff after failures is capped at that interval meanwhile, so a passing server error cannot leave an open
Debrief minutes behind.
One SyncClient (its connection pool, TLS session and headers) serves every round for the app's life: it is
built again only when the enrollment's server or token changes, and closed by close() (Device.close).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import random
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.store import integrity
from app.store.catalog import RubricCatalog
from app.store.models import Outbox
from app.store.sync_adapter import DeviceSyncStore, rejected_entries
from sync.client import RoundReport, SyncClient, SyncFailed
from sync.errors import LearnwalkError
from sync.protocol import utcnow
from sync.protocol.times import parse as parse_time

log = logging.getLogger("learnwalk.sync")

BACKOFF_FIRST, BACKOFF_CAP, PROBE_EVERY = 1.0, 300.0, 10.0
LIVE_EVERY, LIVE_JITTER = 60.0, 0.2  # seconds between pulls while team data is on screen; +-20%


def live_every_setting() -> float:
    """LEARNWALK_LIVE_SYNC_SECONDS (a positive number) or the default minute."""
    try:
        value = float(os.environ.get("LEARNWALK_LIVE_SYNC_SECONDS", LIVE_EVERY))
    except ValueError:
        return LIVE_EVERY
    return value if value > 0 else LIVE_EVERY


class SyncError(LearnwalkError):
    """Enrollment or a sync round failed; the message is one plain sentence for the user."""


@dataclass(frozen=True)
class RejectedEntry:
    kind: str
    record_id: str
    reason: str
    at: datetime | None


@dataclass(frozen=True)
class SyncStatus:
    enrolled: bool
    server_url: str | None
    role: str | None
    pending: int
    rejected: list[RejectedEntry] = field(default_factory=list)
    last_success: datetime | None = None
    last_error: str | None = None
    running: bool = False
    district_name: str | None = None


def backoff_delay(failures: int, rng: random.Random = random._inst) -> float:  # type: ignore[attr-defined]
    """Full jitter: uniform in [0, min(cap, first * 2^(failures-1))]."""
    return rng.uniform(0, min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** max(0, failures - 1)))


class SyncService:
    def __init__(self, engine: Engine, catalog: RubricCatalog, capture=None, transport=None):
        """capture: the app's CaptureService, told to re-read its user after enrollment. transport: for tests."""
        self.store = DeviceSyncStore(engine, catalog)
        self.engine, self.capture, self._transport = engine, capture, transport
        self._lock = threading.Lock()
        self._running = False
        self.probe_every = PROBE_EVERY  # seconds between health probes while the server is unreachable
        self._offline = False  # the last round failed because the server could not be reached
        self.last_error_unsaved: str | None = None  # a round's sentence the store could not keep (full, read-only)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.live_every = live_every_setting()
        self._watchers: set = set()  # the screens showing team data now (a walk, its Debrief)
        self.last_report: RoundReport | None = None  # the last successful round (what it pulled)
        # the client of the rounds, kept across them (building one costs 20-100 ms); its key is what it was built for
        self._client: SyncClient | None = None
        self._client_for: tuple[str, str] | None = None

    def client(self, server_url: str, token: str) -> SyncClient:
        """The sync client of this enrollment: the one kept from earlier rounds, or a new one when the server or
        the token changed since (re-enrollment), the old one closed. Called under the round lock."""
        if self._client is None or self._client_for != (server_url, token):
            old, self._client = self._client, SyncClient(server_url, token, transport=self._transport)
            self._client_for = (server_url, token)
            if old is not None:
                old.close()
        return self._client

    def close(self, wait: float = 10.0) -> None:
        """Close the kept client (the app is shutting down); a later round builds a new one. A round under way
        gets `wait` seconds to finish first (its acknowledgements commit); past that its request fails and the
        entries it had not acknowledged stay for the next start."""
        got = self._lock.acquire(timeout=wait)
        try:
            if self._client is not None:
                self._client.close()
            self._client, self._client_for = None, None
        finally:
            if got:
                self._lock.release()

    # ---- status ---------------------------------------------------------------------------------

    def status(self) -> SyncStatus:
        m = self.store.meta("server_url", "token", "role", "last_sync_at", "last_sync_error", "district_name")
        with Session(self.engine) as s:
            pending = s.execute(select(func.count()).select_from(Outbox)
                                .where(Outbox.rejected_reason.is_(None))).scalar_one()
        last = parse_time(m["last_sync_at"], "last_sync_at") if m["last_sync_at"] else None
        return SyncStatus(enrolled=bool(m["token"]), server_url=m["server_url"], role=m["role"], pending=pending,
                          rejected=[RejectedEntry(*r) for r in rejected_entries(self.engine)],
                          last_success=last, last_error=self.last_error_unsaved or m["last_sync_error"] or None,
                          running=self._running,
                          district_name=m["district_name"])

    @property
    def offline(self) -> bool:
        """The last round failed because the server could not be reached (the network, or the server is down)."""
        return self._offline

    def connection(self) -> dict[str, str | None]:
        """server_url, token and role of this device's enrollment (each None before it is enrolled)."""
        return self.store.meta("server_url", "token", "role")

    # ---- enrollment -----------------------------------------------------------------------------

    def enroll(self, server_url: str, code: str) -> SyncStatus:
        server_url = server_url.strip().rstrip("/")
        if not server_url.startswith(("http://", "https://")):
            raise SyncError("The server address must start with http:// or https://, e.g. https://walks.district.org.")
        if not code.strip():
            raise SyncError("Type the enrollment code your admin gave you.")
        try:
            with SyncClient(server_url, transport=self._transport) as client:
                response = client.enroll(code, device_name=device_name())
        except SyncFailed as exc:
            raise SyncError(str(exc)) from None
        self.store.save_enrollment(server_url, response)
        if self.capture is not None:
            self.capture.forget_identity()
        log.info("device enrolled with role %s", response.role)
        return self.status()

    # ---- one round ------------------------------------------------------------------------------

    def sync_once(self) -> RoundReport:
        """Push everything pending, then pull; raise SyncError (recorded for the status) if it failed."""
        m = self.store.meta("server_url", "token")
        if not m["token"]:
            raise SyncError("This device is not enrolled yet; enroll it in Settings with a code from your admin.")
        with self._lock:
            self._running = True
            try:
                client = self.client(m["server_url"], m["token"])
                report = client.sync(self.store)
                self._keep_people(client)
            except SyncFailed as exc:
                self._offline = exc.status is None and exc.retryable
                self.store.set_meta(last_sync_error=str(exc))
                log.info("sync failed: %s", type(exc).__name__)
                raise SyncError(str(exc)) from None
            except (sqlite3.Error, sa_exc.DBAPIError) as exc:  # the device's own store: full, read-only, damaged
                self._offline = False
                words = integrity.sync_words(self.engine, exc)
                log.info("sync stopped by the device store: %s", type(getattr(exc, "orig", exc)).__name__)
                self._remember_error(words)
                raise SyncError(words) from None
            finally:
                self._running = False
        self.last_error_unsaved = None
        self._offline = False
        self.store.set_meta(last_sync_at=utcnow().isoformat(), last_sync_error="")
        self.last_report = report
        return report

    def _keep_people(self, client: SyncClient) -> None:
        """Keep the district's people for the New walk team picker; a server without the list, or a failure
        here, leaves the kept list as it was (the round itself went through)."""
        try:
            people = client.people()
        except SyncFailed:
            return
        if people is not None:
            self.store.set_meta(people=json.dumps(
                [{"id": p["id"], "email": str(p.get("email", "")), "role": str(p.get("role", ""))}
                 for p in people]))

    def _remember_error(self, words: str) -> None:
        """Keep the sentence for the Sync screen, if the store can still take it (a full disk may not)."""
        try:
            self.store.set_meta(last_sync_error=words)
        except (sqlite3.Error, sa_exc.DBAPIError):
            self.last_error_unsaved = words

    def retry_rejected(self) -> int:
        """Send the rejected entries again at the next round (after the cause was fixed); returns how many."""
        count = self.store.retry_rejected()
        self.trigger()
        return count

    def reachable(self) -> bool:
        m = self.store.meta("server_url")
        if not m["server_url"]:
            return False
        with SyncClient(m["server_url"], transport=self._transport) as client:
            return client.health()

    # ---- live team data -------------------------------------------------------------------------

    def watch(self, who) -> None:
        """A screen showing team data opened: pull about every live_every seconds while any such screen is."""
        first = not self._watchers
        self._watchers.add(who)
        if first:
            self.trigger()  # fresh data on opening, and the loop picks the short interval up

    def unwatch(self, who) -> None:
        self._watchers.discard(who)

    @property
    def live(self) -> bool:
        return bool(self._watchers)

    def live_delay(self, rng: random.Random = random._inst) -> float:  # type: ignore[attr-defined]
        return self.live_every * rng.uniform(1 - LIVE_JITTER, 1 + LIVE_JITTER)

    def next_delay(self, failures: int, rng: random.Random = random._inst) -> float | None:  # type: ignore[attr-defined]
        """Seconds until the next round (None: wait for a trigger). Backoff after failures; while team data is
        on screen, a round about every live interval, and a failed one retried no later than that."""
        delay = backoff_delay(failures, rng) if failures else None
        if self.live:
            live = self.live_delay(rng)
            delay = live if delay is None else min(delay, live)
        return delay

    # ---- background task ------------------------------------------------------------------------

    def trigger(self) -> None:
        """Ask the background task for a round now (safe from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run_background(self, on_change: Callable[[], None]) -> None:
        """Run until cancelled. on_change is called after every round (success or failure)."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        failures = 0
        while True:
            self._wake.clear()
            if self.store.meta("token")["token"]:
                try:
                    self.last_report = await asyncio.to_thread(self.sync_once)
                    failures = 0
                except SyncError:
                    failures += 1
                except Exception:  # never let the task die; the next round tries again
                    log.exception("sync round crashed")
                    failures += 1
                _notify(on_change)
            await self._sleep(self.next_delay(failures), probing=failures > 0 and self._offline)

    async def _sleep(self, delay: float | None, probing: bool) -> None:
        """Wait for a trigger, for the backoff delay, or (while failing) for the health probe to succeed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay if delay is not None else None
        while True:
            step = self.probe_every if probing else None
            if deadline is not None:
                left = deadline - loop.time()
                if left <= 0:
                    return
                step = min(step, left) if step else left
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=step)
                return
            except asyncio.TimeoutError:
                pass
            if probing and await asyncio.to_thread(self.reachable):
                return  # the network is back: sync now instead of waiting out the backoff


def device_name(system: str | None = None) -> str:
    """The name a device enrolls with: its kind, never its hostname (which often holds a person's name)."""
    system = platform.system() if system is None else system
    if system == "Emscripten":  # Python in the browser (the offline web app)
        return "Browser device"
    return f"{system or 'Unknown'} device"


def _notify(on_change: Callable[[], None]) -> None:
    try:
        on_change()
    except Exception:
        log.exception("sync status listener failed")
