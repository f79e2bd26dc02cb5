"""Starting the server: upgrade the schema, register built-in rubrics, run uvicorn."""
from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from sync.server.config import Settings, parse_origins
from sync.server.db import make_engine, upgrade, writer
from sync.server.rubrics.registry import register_builtins_everywhere


def prepare(engine: Engine) -> None:
    """Schema to the newest revision, then any new built-in rubric version offered to every district."""
    upgrade(engine)
    with Session(writer(engine)) as s:
        register_builtins_everywhere(s)
        s.commit()


def run(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from sync.server.app import create_app

    parse_origins(settings.cors_origins)  # refuse a bad setting before the database is touched
    engine = make_engine(settings.db_url, settings.pool())
    prepare(engine)
    app = create_app(settings, engine=engine)
    # no access log: request lines are noise at sync volume, and logs must stay free of anything identifying
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
