"""The Flet client: page setup, the route table, and running it (window, or web server with no CDN).

Navigation is an explicit table: a screen plugs in with one Route line. A path no route matches shows a plain
"page not found" screen with a way back to the walks.
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import flet as ft

from app.device import Device
from app.store.integrity import StoreDamaged
from app.views import admin, capture, new_walk, settings, walk, walks
from app.views import sync as sync_screen
from app.views._widgets import screen
from app.views.context import OWN_BADGE, AppContext, message_of

log = logging.getLogger("learnwalk.app")
ASSETS = Path(__file__).parent / "assets"
FONT_FAMILY = "Learnwalk Sans"  # Noto Sans + other scripts in one file: app/assets/fonts/README
FONTS = {FONT_FAMILY: "fonts/LearnwalkSans-Regular.ttf"}
OPEN_FAILED = "That screen could not be opened; nothing was changed. Try again, or restart the app."


@dataclass(frozen=True)
class Route:
    pattern: str  # "/walks/:walk_id": ":name" parts become keyword arguments of build
    build: Callable[..., ft.View] | str  # or the name of a module whose build() is imported when first shown

    def screen(self) -> Callable[..., ft.View]:
        return importlib.import_module(self.build).build if isinstance(self.build, str) else self.build

    def match(self, path: str) -> dict | None:
        regex = "^" + re.sub(r":(\w+)", r"(?P<\1>[^/]+)", self.pattern) + "/?$"
        m = re.match(regex, path)
        return m.groupdict() if m else None


ROUTES: list[Route] = [
    Route("/", walks.build),
    Route("/walks/new", new_walk.build),
    Route("/walks/:walk_id", walk.build),
    # flet-charts and the debrief's own modules load when a Debrief first opens: a shorter start in the browser
    Route("/walks/:walk_id/debrief", "app.views.debrief"),
    Route("/visits/:visit_id", capture.build),
    Route("/sync", sync_screen.build),
    Route("/settings", settings.build),
    Route("/admin", admin.build),
]


def resolve(path: str) -> tuple[Callable[..., ft.View], dict] | None:
    for r in ROUTES:
        params = r.match(path)
        if params is not None:
            return r.screen(), params
    return None


def not_found(ctx: AppContext, path: str) -> ft.View:
    """What a path no route matches shows: that there is no such page, and the way back to the walks."""
    return screen(ctx.page.route, "Page not found", [ft.Text(f"There is no page at {path}.", size=16)],
                  back=lambda e: ctx.go("/"))


class Shell:
    """One per session (a window, or a browser tab): draws the screen for the current route."""

    def __init__(self, page: ft.Page, ctx: AppContext):
        self.page, self.ctx = page, ctx

    def start(self) -> None:
        p = self.page
        p.title = "learnwalk"
        p.fonts = FONTS
        p.theme = ft.Theme(font_family=FONT_FAMILY, color_scheme_seed=ft.Colors.INDIGO)
        p.theme_mode = ft.ThemeMode.LIGHT
        p.on_route_change = lambda e: self.show(p.route)
        route = p.route or "/"
        if route == "/":
            open_visit = self.ctx.service.unfinished_visit()
            if open_visit is not None:  # the app was closed mid-visit: reopen it where it was
                route = f"/visits/{open_visit.id}"
                p.navigate(route)
                return
        self.show(route)

    def show(self, route: str) -> None:
        path = (route or "/").split("?", 1)[0]
        found = resolve(path)
        if found is None:
            view = not_found(self.ctx, path)
        else:
            build, params = found
            try:
                view = build(self.ctx, **params)
            except Exception as exc:  # e.g. a deleted visit: say why on the walks screen, never a blank app
                said = message_of(exc, f"building screen {path.split('/')[1] or '/'}", unexpected=OPEN_FAILED)
                view = walks.build(self.ctx)
                self.ctx.error(said)
        # every screen says whether the device is online: in its app bar, unless it placed the badge itself
        if view.appbar is not None and view.data != OWN_BADGE:
            try:
                view.appbar.actions = [self.ctx.badge(), *(view.appbar.actions or [])]
            except Exception as exc:  # the badge must never keep a screen from opening
                message_of(exc, "drawing the connection badge")
        self.page.views.clear()
        self.page.views.append(view)
        self.page.update()


def make_main(device: Device, listeners=None, *, server_hint: str = "",
              storage_persistent: bool | None = None) -> Callable[[ft.Page], None]:
    def main(page: ft.Page) -> None:
        Shell(page, AppContext(page=page, device=device, sync_listeners=listeners, server_hint=server_hint,
                               storage_persistent=storage_persistent)).start()
    return main


class SyncListeners:
    """Screens that want to hear when a sync round ends (the Sync screen refreshes its figures)."""

    def __init__(self):
        self._fns: list[Callable[[], None]] = []

    def add(self, fn: Callable[[], None]) -> None:
        self._fns = [f for f in self._fns if f is not fn] + [fn]

    def remove(self, fn: Callable[[], None]) -> None:
        self._fns = [f for f in self._fns if f is not fn]

    def __call__(self) -> None:
        for fn in list(self._fns):
            try:
                fn()
            except Exception:  # a closed browser tab must not stop the others hearing
                self.remove(fn)


def session_handlers(device: Device, *, server_hint: str = "",
                     storage_persistent: bool | None = None) -> tuple[Callable, Callable]:
    """(main, before_main) for ft.run over an open device: what the window, web mode and the browser build
    (app/web/boot.py) all run. server_hint: the server address Settings offers before enrollment;
    storage_persistent: the browser build's answer to whether its storage is kept (False: Walks warns)."""
    sync = device.sync
    listeners = SyncListeners()
    main = make_main(device, listeners, server_hint=server_hint, storage_persistent=storage_persistent)
    started = []

    async def before_main(page: ft.Page) -> None:
        # The background sync task belongs to the process, not to a session, so it starts once. It is started
        # even before enrollment: it idles until enrolled, and Settings wakes it right after enrolling.
        if sync is not None and not started:
            started.append(asyncio.get_running_loop().create_task(sync.run_background(listeners)))

    return main, before_main


def open_device(data_dir: Path) -> Device:
    """The app's open: a damaged store is put aside (Device.open says so once), and the app goes on with a new
    one, whose Walks screen tells the observer what happened."""
    try:
        return Device.open(data_dir)
    except StoreDamaged:
        return Device.open(data_dir)


def run(data_dir: Path, *, web: bool, host: str = "127.0.0.1", port: int = 8550) -> None:
    device = open_device(data_dir)
    main, before_main = session_handlers(device)
    try:
        ft.run(main, before_main=before_main, host=host, port=port,
               view=ft.AppView.WEB_BROWSER if web else ft.AppView.FLET_APP, assets_dir=str(ASSETS), no_cdn=True)
    finally:
        device.close()  # the sync client kept across rounds, then the store's connections
