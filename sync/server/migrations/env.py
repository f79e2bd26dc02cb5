"""Alembic environment: runs migrations on the engine handed over by sync.server.db.upgrade (or -x url=...)."""
from __future__ import annotations

from alembic import context
from sqlmodel import create_engine

from sync.server.models import metadata

config = context.config


def _engine():
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("Pass the database with -x url=sqlite:///FILE (or postgresql+psycopg://...).")
    return create_engine(url)


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                          transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
