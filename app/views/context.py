"""What every screen gets: the page, the device core, navigation and a place to say things in words."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import flet as ft

from app.device import Device, where
from app.store import durability
from app.store.services import CaptureService
from sync.errors import LearnwalkError

log = logging.getLogger("learnwalk.app")
UNEXPECTED = "Something went wrong and nothing was changed; try again, or restart the app."


def message_of(exc: Exception, doing: str = "a user action", unexpected: str = UNEXPECTED) -> str:
    """What the screen says about an error: a LearnwalkError's own sentence; anything else is a bug, logged with
    where it broke (never what: no data in logs) and shown as the plain sentence `unexpected`, never a class name."""
    if isinstance(exc, LearnwalkError):
        return str(exc)
    log.error("unexpected %s in %s at %s", type(exc).__name__, doing, where(exc))
    return unexpected


@dataclass
class AppContext:
    page: ft.Page
    device: Device
    sync_listeners: Any = None  # add(fn)/remove(fn): called after each background sync round
    server_hint: str = ""  # the server address Settings offers before enrollment (a web build's config)
    storage_persistent: bool | None = None  # browser build: whether the browser agreed to keep its storage
    # set by the shell for each screen: where its one-line messages go
    message: Callable[[str, bool], None] = field(default=lambda text, error=False: None)

    @property
    def service(self) -> CaptureService:
        return self.device.capture

    @property
    def sync(self):
        """The SyncService, or None when the sync client is not present."""
        return self.device.sync

    @property
    def data_dir(self) -> str:
        return str(self.device.data_dir)

    def go(self, route: str) -> None:
        self.page.navigate(route)

    def say(self, text: str) -> None:
        self.message(text, False)

    def error(self, text: str) -> None:
        self.message(text, True)

    def guard(self, action: Callable[[], Any]) -> Any:
        """Run a user action; a refusal is shown in words and the action's result is None."""
        try:
            return action()
        except Exception as exc:  # keep the screen alive
            self.error(message_of(exc))
        return None

    async def in_background(self, action: Callable[[], Any]) -> Any:
        """Run a blocking user action (network) off the UI loop; a refusal is shown in words, result None."""
        import asyncio

        return await asyncio.to_thread(self.guard, action)

    async def saved(self) -> bool:
        """Wait until what was committed is on the device's storage (in the browser: flushed; elsewhere at
        once); False, with the reason shown, when it could not be written."""
        try:
            await durability.settled()
        except durability.DurabilityError as exc:
            self.error(str(exc))
            return False
        return True

    def attempt(self, action: Callable[[], Any]) -> bool:
        """Like guard, for actions that return nothing: True when the action went through."""
        done = []
        self.guard(lambda: (action(), done.append(True)))
        return bool(done)

    def after_finish(self) -> None:
        if self.sync is not None:
            self.sync.trigger()
