"""Server settings in one typed object, read from flags (via the CLI) and LEARNWALK_* environment variables."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_URL = "sqlite:///learnwalk-server.sqlite"


def normalize_db_url(value: str) -> str:
    """Accept a database URL, or a plain file path meaning an SQLite file."""
    value = value.strip()
    if "://" in value:
        return value
    return f"sqlite:///{value}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEARNWALK_", extra="ignore")

    db_url: str = Field(DEFAULT_DB_URL, description="SQLAlchemy URL: sqlite:///FILE or postgresql+psycopg://...")
    max_push_entries: int = Field(20_000, ge=1, description="Most records and cells one push may carry (else 413)")
    max_push_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="Largest push body in bytes (else 413)")
    pull_page: int = Field(5_000, ge=1, description="Most changes one pull page returns")
    code_ttl_hours: int = Field(72, ge=1, description="How long an enrollment code stays usable")
    db_pool_size: int = Field(5, ge=1)
