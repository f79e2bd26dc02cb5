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
OWN_BADGE = "own-badge"  # a View's data when the screen placed the connection badge itself (the shell adds none)
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
    _badge_heard: Any = None  # the sync listener of the badge on show

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

    def badge(self, compact: bool = False) -> ft.Control:
        """The connection badge for a screen's app bar; it changes after each background sync round while its
        screen is on show."""
        from app.viewmodels.status import badge_of
        from app.views._widgets import StatusBadge

        badge = StatusBadge(compact)
        badge.show(badge_of(self.sync, self.service.engine))
        listeners = self.sync_listeners

        def heard():
            on_show = any(badge.control in (v.appbar.actions or []) for v in self.page.views if v.appbar)
            if not on_show:  # its screen was left: stop listening
                listeners.remove(heard)
                return
            badge.show(badge_of(self.sync, self.service.engine))
            badge.control.update()  # a closed browser tab raises here: SyncListeners drops this one

        if listeners is not None:
            # one screen at a time per session: the badge of the screen before stops listening now
            if self._badge_heard is not None:
                listeners.remove(self._badge_heard)
            listeners.add(heard)
            self._badge_heard = heard
        return badge.control

    def after_finish(self) -> None:
        if self.sync is not None:
            self.sync.trigger()
