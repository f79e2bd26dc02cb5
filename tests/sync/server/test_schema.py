"""The Alembic revisions build exactly the schema the models describe, on SQLite and on PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sync.server.models import metadata


def test_migrations_produce_the_schema_of_the_models(server_db):
    with server_db.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), metadata)
    assert diff == []


def test_health_and_openapi_are_served(server):
    import httpx

    from sync.protocol import PROTOCOL_VERSION

    assert httpx.get(server.url + "/api/v1/health").json() == {"status": "ok", "protocol": PROTOCOL_VERSION}
    spec = httpx.get(server.url + "/openapi.json").json()
    assert {"/api/v1/push", "/api/v1/changes", "/api/v1/enroll"} <= set(spec["paths"])
