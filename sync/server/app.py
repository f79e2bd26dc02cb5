"""The server app factory: `create_app(settings)` builds FastAPI over one engine and mounts the routers.

Routers come from ROUTER_MODULES: each module exposes `router` (a fastapi.APIRouter). A module in the list that
is not installed is skipped, so areas (admin, export) can add theirs without touching this file's logic.
"""
from __future__ import annotations

import importlib
from typing import Sequence

from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine

from sync.protocol import PROTOCOL_VERSION
from sync.server import errors
from sync.server.config import Settings
from sync.server.db import make_engine

ROUTER_MODULES = (
    "sync.server.routes_sync",     # health, enroll, push, pull
    "sync.server.routes_admin",    # districts, schools, users, devices, rubrics (admin role)
    "sync.server.routes_export",   # streamed exports
)


def _routers() -> list[APIRouter]:
    found = []
    for name in ROUTER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # the module itself is absent: that area is not in this build
                continue
            raise
        found.append(module.router)
    return found


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               routers: Sequence[APIRouter] | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="learnwalk server", version=f"protocol {PROTOCOL_VERSION}",
                  description="Central store for learning walks: device enrollment, push/pull sync, admin, export.")
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.db_url, settings.db_pool_size)
    errors.install(app)
    for router in (routers if routers is not None else _routers()):
        app.include_router(router)
    return app
