"""CLI face for the central server: serve, and the admin commands (each prints only the new id or code)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import typer

from app.cli._common import fail

admin_app = typer.Typer(help="Manage districts, schools, users and enrollment codes on the server database.",
                        no_args_is_help=True)

DbOption = typer.Option(None, "--db", help="Database URL (sqlite:///FILE or postgresql+psycopg://...) or an "
                                            "SQLite file path; default LEARNWALK_DB_URL or learnwalk-server.sqlite")


def _settings(db: str | None):
    from sync.server.config import Settings, normalize_db_url

    return Settings(db_url=normalize_db_url(db)) if db else Settings()


@contextmanager
def _directory(db: str | None) -> Iterator:
    """A write session on the upgraded server database; DirectoryError becomes one sentence and exit 1."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from sync.server.db import make_engine, upgrade, writer
    from sync.server.directory import DirectoryError

    settings = _settings(db)
    try:
        engine = make_engine(settings.db_url)
        upgrade(engine)  # built-in rubrics are registered by create-district and at `serve`
    except SQLAlchemyError as exc:
        raise fail(f"The server database could not be opened ({type(exc.orig or exc).__name__}); "
                   "check --db and that the database is running.") from None
    try:
        with Session(writer(engine), expire_on_commit=False) as s:
            yield s
            s.commit()
    except DirectoryError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()


def serve(db: str | None = DbOption,
          host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on"),
          port: int = typer.Option(8765, "--port", help="TCP port")) -> None:
    """Run the central server (upgrades its schema first)."""
    from sqlalchemy.exc import SQLAlchemyError

    from sync.server.serve import run

    try:
        run(_settings(db), host, port)
    except SQLAlchemyError as exc:
        raise fail(f"The server database could not be opened or upgraded ({type(exc.orig or exc).__name__}); "
                   "check --db and that the database is running.") from None


@admin_app.command("create-district")
def create_district(name: str, db: str | None = DbOption) -> None:
    """Create a district (built-in rubrics registered); prints its id."""
    from sync.server import directory

    with _directory(db) as s:
        district = directory.create_district(s, name)
    print(district.id)


@admin_app.command("create-school")
def create_school(name: str, district: str = typer.Option(..., "--district", help="District id"),
                  db: str | None = DbOption) -> None:
    """Create a school in a district; prints its id."""
    from sync.server import directory

    with _directory(db) as s:
        school = directory.create_school(s, district, name)
    print(school.id)


@admin_app.command("create-user")
def create_user(email: str, district: str = typer.Option(..., "--district", help="District id"),
                role: str = typer.Option(..., "--role", help="observer, lead or admin"),
                db: str | None = DbOption) -> None:
    """Create a user with a role in a district; prints its id."""
    from sync.server import directory

    with _directory(db) as s:
        user = directory.create_user(s, district, role, email)
    print(user.id)


@admin_app.command("enrollment-code")
def enrollment_code(user: str = typer.Option(..., "--user", help="User id"),
                    db: str | None = DbOption) -> None:
    """Issue a one-time enrollment code for a user; prints the code (it expires, see LEARNWALK_CODE_TTL_HOURS)."""
    from sync.server import directory

    with _directory(db) as s:
        code = directory.issue_code(s, user, _settings(db).code_ttl_hours)
    print(code)


@admin_app.command("revoke-device")
def revoke_device(device: str = typer.Option(..., "--device", help="Device id"), db: str | None = DbOption) -> None:
    """Revoke a device's token (its next request gets 401); prints the device id."""
    from sync.server import directory

    with _directory(db) as s:
        d = directory.revoke_device(s, device)
    print(d.id)
