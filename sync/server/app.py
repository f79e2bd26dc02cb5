"""The server app factory: `create_app(settings)` builds FastAPI over one engine and mounts the three routers."""
from __future__ import annotations

from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from sqlalchemy.engine import Engine

from sync.protocol import PROTOCOL_VERSION
from sync.server import cors, errors
from sync.server.config import Settings, parse_origins
from sync.server.db import make_engine
from sync.server.deps import state_storable_params, storable_params
from sync.server.directory import routes as routes_admin
from sync.server.export import routes as routes_export
from sync.server.ingest import routes as routes_sync
from sync.server.lanes import open_lanes
from sync.server.limits import BodyLimit
from sync.server.sending import SendDeadline

ROUTERS = (
    routes_sync.router,     # health, enroll, push, pull
    routes_admin.router,    # districts, schools, users, devices, rubrics (admin role)
    routes_export.router,   # streamed exports
)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or Settings()
    origins = parse_origins(settings.cors_origins)  # a bad value stops the start, before anything is opened

    @asynccontextmanager
    async def lifespan(_app):
        # the threads that serve requests are the workers the database pool is sized for (Settings.pool)
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.workers
        open_lanes(_app, settings)
        yield

    app = FastAPI(lifespan=lifespan, title="learnwalk server", version=f"protocol {PROTOCOL_VERSION}",
                  description="Central store for learning walks: device enrollment, push/pull sync, admin, export.",
                  dependencies=[Depends(storable_params)])  # no parameter text a database cannot hold
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.db_url, settings.pool())
    app.state.synced = {}  # device id -> when this process last recorded its sync (sync.server.ingest.routes)
    errors.install(app)
    state_storable_params(app)
    app.add_middleware(BodyLimit, settings=settings)  # every body bounded before a route reads it
    app.add_middleware(SendDeadline, settings=settings)  # answers written in parts; a stalled reader dropped
    for router in ROUTERS:
        app.include_router(router)
    cors.install(app, origins)  # last: outermost
    return app
