"""Server settings in one typed object, read from flags (via the CLI) and LEARNWALK_* environment variables."""
from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync.errors import LearnwalkError
from sync.protocol import MAX_PUSH_ENTRIES

DEFAULT_DB_URL = "sqlite:///learnwalk-server.sqlite"
DEFAULT_PORTS = {"http": 80, "https": 443}


class SettingError(LearnwalkError):
    """A server setting that cannot be used; the server refuses to start with this sentence."""


def parse_origins(value: str) -> list[str]:
    """LEARNWALK_CORS_ORIGINS: the comma-separated origins of the offline web app, each as a browser sends it in
    its Origin header (scheme://host[:port], lower case, no default port, no path). Never "*": the list says
    exactly which sites may call this server from a browser."""
    origins = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        parts = urlsplit(item.removesuffix("/").lower())
        try:
            port = parts.port
        except ValueError:
            port = -1
        if (parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path or parts.query
                or parts.fragment or parts.username or parts.password or port == -1 or "*" in item):
            raise SettingError(f"LEARNWALK_CORS_ORIGINS: '{item}' is not a web app origin; list each site that "
                               "serves the app as scheme://host[:port], comma-separated, e.g. "
                               "https://walks.district.org (never *).")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        origin = f"{parts.scheme}://{host}"
        if port is not None and port != DEFAULT_PORTS[parts.scheme]:
            origin += f":{port}"
        if origin not in origins:
            origins.append(origin)
    return origins


def normalize_db_url(value: str) -> str:
    """Accept a database URL, or a plain file path meaning an SQLite file."""
    value = value.strip()
    if "://" in value:
        return value
    return f"sqlite:///{value}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEARNWALK_", extra="ignore")

    db_url: str = Field(DEFAULT_DB_URL, description="SQLAlchemy URL: sqlite:///FILE or postgresql+psycopg://...")
    max_push_entries: int = Field(MAX_PUSH_ENTRIES, ge=1,
                                  description="Most records and cells one push may carry (else 413)")
    max_push_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="Largest push body in bytes (else 413)")
    pull_page: int = Field(5_000, ge=1, description="Most changes one pull page returns")
    code_ttl_hours: int = Field(72, ge=1, description="How long an enrollment code stays usable")
    # a request holds at most one connection at a time (two while it writes an audit entry beside its read), so
    # the pool is sized from the threads that serve requests: none waits for a connection another thread could
    # not give back
    workers: int = Field(16, ge=1, le=200, description="Requests served at once (threads); sizes the database pool")
    pull_builders: int | None = Field(None, ge=1, le=200, description="Pull pages built at once (the others wait "
                                      "without a thread, sync.server.lanes); default: an eighth of the workers")
    pull_quick_changes: int = Field(500, ge=0, description="A pull whose window holds at most this many change "
                                    "numbers is built at once; a larger one waits for one of pull_builders")
    db_pool_size: int | None = Field(None, ge=1, description="Pooled connections; default: workers")
    db_pool_timeout: float = Field(10.0, gt=0, description="Longest wait for a pooled connection (else the request "
                                                            "fails); default 10 s")
    health_pool_seconds: float = Field(2.0, gt=0, description="Health answers 503 when no connection comes this fast")
    # bodies are bounded before they are read (sync.server.limits): a push by max_push_bytes, any other by this
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024,
                                description="Largest request body in bytes outside push, e.g. a rubric upload (else 413)")
    body_read_seconds: float = Field(60.0, gt=0, description="Longest wait for the next part of a request body (else 408)")
    send_seconds: float = Field(60.0, gt=0, description="Longest wait for a client to take the next part of an "
                                                         "answer (else its connection is dropped)")
    # failed enrollment attempts, counted in the database so every worker sees the same counts (else 429)
    enroll_window_seconds: int = Field(600, ge=1, description="Window over which failed enrollments are counted")
    enroll_failures_per_address: int = Field(
        100, ge=1, description="Failed enrollments one client address may make per window before it must wait")
    enroll_failures_per_district: int = Field(
        100, ge=1, description="Failed enrollments with one district's used or expired codes per window")
    enroll_failures_unknown: int = Field(
        1000, ge=1, description="Failed enrollments with codes no district knows, from all addresses, per window")
    # the offline web app calls the server from its own site: the browser asks this server first (CORS)
    cors_origins: str = Field("", description="Comma-separated origins of the offline web app allowed to call "
                                              "this server from a browser, e.g. https://walks.district.org; "
                                              "empty (the default): none")

    def builders(self) -> int:
        """Pull pages built at once: pull_builders, or a quarter of the workers (at least one), never more than
        the workers."""
        return min(self.workers, self.pull_builders or max(1, self.workers // 8))

    def pool(self) -> "PoolSize":
        """The database pool for these settings: workers connections, as many again in overflow."""
        size = self.db_pool_size or self.workers
        return PoolSize(size=size, overflow=size, timeout=self.db_pool_timeout)


class PoolSize(NamedTuple):
    size: int
    overflow: int
    timeout: float
