"""What every screen gets: the page, the services, navigation and a place to say things in words."""
from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import flet as ft

from app.store.services import CaptureService, ServiceError
from app.store.db import StoreError

log = logging.getLogger("learnwalk.app")


def where(exc: BaseException) -> str:
    """file:line of each frame, without the exception's message (which may quote a note or a name)."""
    frames = reversed(traceback.extract_tb(exc.__traceback__))
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in frames)


@dataclass
class AppContext:
    page: ft.Page
    service: CaptureService
    sync: Any = None  # SyncService when the sync client is present
    data_dir: str = ""
    sync_listeners: Any = None  # add(fn)/remove(fn): called after each background sync round
    # set by the shell for each screen: where its one-line messages go
    message: Callable[[str, bool], None] = field(default=lambda text, error=False: None)

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
        except (ServiceError, StoreError) as exc:
            self.error(str(exc))
        except Exception as exc:  # keep the screen alive; say where it broke, never what (no data in logs)
            log.error("unexpected %s in a user action at %s", type(exc).__name__, where(exc))
            self.error("Something went wrong and nothing was changed; try again, or restart the app.")
        return None

    async def in_background(self, action: Callable[[], Any]) -> Any:
        """Run a blocking user action (network) off the UI loop; a refusal is shown in words, result None."""
        import asyncio

        return await asyncio.to_thread(self.guard, action)

    def attempt(self, action: Callable[[], Any]) -> bool:
        """Like guard, for actions that return nothing: True when the action went through."""
        done = []
        self.guard(lambda: (action(), done.append(True)))
        return bool(done)

    def after_finish(self) -> None:
        if self.sync is not None:
            self.sync.trigger()
