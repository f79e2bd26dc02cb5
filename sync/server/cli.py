"""The server's CLI face: `serve`, the `admin` commands (each prints only the new id or code) and the --db export.

app/cli/__init__.py calls mount(cli) to add them to `learnwalk`; that is the one place the client imports the
server. Importing this module needs the server extra (its settings need pydantic-settings), which is how that
mount point tells a client-only install. Database work is imported inside each command: `--help` stays quick.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator

import typer

from app.cli_errors import speaks
from sync.errors import LearnwalkError
from sync.server.config import Settings, normalize_db_url

if TYPE_CHECKING:
    from sync.protocol.export import ExportFilters

admin_app = typer.Typer(help="Manage districts, schools, users and enrollment codes on the server database.",
                        no_args_is_help=True)

DbOption = typer.Option(None, "--db", help="Database URL (sqlite:///FILE or postgresql+psycopg://...) or an "
                                            "SQLite file path; default LEARNWALK_DB_URL or learnwalk-server.sqlite")
DB_TROUBLE = "check --db and that the database is running."


def _settings(db: str | None) -> Settings:
    return Settings(db_url=normalize_db_url(db)) if db else Settings()


def _unopened(exc: Exception, db_url: str, what: str = "opened") -> LearnwalkError:
    """The database failure in the driver's own words (its first line), without the URL's user name or password."""
    from sqlalchemy import make_url

    text = str(getattr(exc, "orig", None) or exc).strip()
    why = text.splitlines()[0].strip() if text else "the database gave no reason"
    try:
        url = make_url(db_url)
        secrets = [url.password, url.username]
    except Exception:  # an unparsable URL: nothing of it to hide beyond what the driver quoted
        secrets = []
    for secret in filter(None, secrets):
        why = why.replace(str(secret), "...")
    return LearnwalkError(f"The server database could not be {what} ({why}); {DB_TROUBLE}")


@contextmanager
def _directory(db: str | None) -> Iterator:
    """A write session on the upgraded server database (a DirectoryError out of it is the command's sentence)."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from sync.server.db import make_engine, upgrade, writer

    settings = _settings(db)
    try:
        engine = make_engine(settings.db_url)
        upgrade(engine)  # built-in rubrics are registered by create-district and at `serve`
    except SQLAlchemyError as exc:
        raise _unopened(exc, settings.db_url) from None
    try:
        with Session(writer(engine), expire_on_commit=False) as s:
            yield s
            s.commit()
    finally:
        engine.dispose()


@speaks
def serve(db: str | None = DbOption,
          host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on"),
          port: int = typer.Option(8765, "--port", help="TCP port")) -> None:
    """Run the central server (upgrades its schema first)."""
    from sqlalchemy.exc import SQLAlchemyError

    from sync.server.serve import run

    settings = _settings(db)
    try:
        run(settings, host, port)
    except SQLAlchemyError as exc:
        raise _unopened(exc, settings.db_url, "opened or upgraded") from None


@admin_app.command("create-district")
@speaks
def create_district(name: str, db: str | None = DbOption) -> None:
    """Create a district (built-in rubrics registered); prints its id."""
    from sync.server import directory

    with _directory(db) as s:
        district = directory.create_district(s, name)
    print(district.id)


@admin_app.command("create-school")
@speaks
def create_school(name: str, district: str = typer.Option(..., "--district", help="District id"),
                  db: str | None = DbOption) -> None:
    """Create a school in a district; prints its id."""
    from sync.server import directory

    with _directory(db) as s:
        school = directory.create_school(s, district, name)
    print(school.id)


@admin_app.command("create-user")
@speaks
def create_user(email: str, district: str = typer.Option(..., "--district", help="District id"),
                role: str = typer.Option(..., "--role", help="observer, lead or admin"),
                db: str | None = DbOption) -> None:
    """Create a user with a role in a district; prints its id."""
    from sync.server import directory

    with _directory(db) as s:
        user = directory.create_user(s, district, role, email)
    print(user.id)


@admin_app.command("enrollment-code")
@speaks
def enrollment_code(user: str = typer.Option(..., "--user", help="User id"),
                    db: str | None = DbOption) -> None:
    """Issue a one-time enrollment code for a user; prints the code (it expires, see LEARNWALK_CODE_TTL_HOURS)."""
    from sync.server import directory

    with _directory(db) as s:
        code = directory.issue_code(s, user, _settings(db).code_ttl_hours)
    print(code)


@admin_app.command("revoke-device")
@speaks
def revoke_device(device: str = typer.Option(..., "--device", help="Device id"), db: str | None = DbOption) -> None:
    """Revoke a device's token (its next request gets 401); prints the device id."""
    from sync.server import directory

    with _directory(db) as s:
        d = directory.revoke_device(s, device)
    print(d.id)


def mount(parent: typer.Typer) -> None:
    """Add `serve` and `admin ...` to the `learnwalk` command tree."""
    parent.command("serve")(serve)
    parent.add_typer(admin_app, name="admin")


def export_db(db: str, district: str | None, fmt: str, filters: ExportFilters, out: BinaryIO,
              progress: Callable[[int | None, str], object]) -> None:
    """`learnwalk export --db`: the export straight from a server database, audited as the CLI.

    progress(total, unit) is a context manager yielding a callback that advances by n (the export face's bar).
    What the user must fix is raised as a LearnwalkError (the export face prints it, exit 1).
    """
    from sqlalchemy import inspect, make_url, select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from sync.server.directory import admin as admin_service
    from sync.server.db import make_engine, writer
    from sync.server.deps import Caller
    from sync.server.export import export_total, iter_export
    from sync.server.models import District
    from sync.server.scope import Scope

    url = normalize_db_url(db)
    database = make_url(url).database
    if url.startswith("sqlite") and database and database != ":memory:" and not Path(database).is_file():
        raise LearnwalkError(f"There is no database file at {database}; check --db (it is the server's database).")
    engine = make_engine(url)
    try:
        try:
            tables = inspect(engine)
            if not tables.has_table("visit_cells"):
                if tables.has_table("district"):
                    raise LearnwalkError(f"{db} is a learnwalk server database of an older version; run "
                                         "`learnwalk serve --db` on it once (it upgrades the database on start), "
                                         "then export again.")
                raise LearnwalkError(f"{db} holds no learnwalk server data; check --db (it is the server's database).")
            with Session(engine) as s:
                ids = ([district] if district is not None
                       else list(s.exec(select(District.id).order_by(District.id)).scalars()))
                if district is not None and s.get(District, district) is None:
                    raise LearnwalkError(f"District {district} is not in this database; check --district.")
        except SQLAlchemyError as exc:
            raise _unopened(exc, url) from None
        if len(ids) != 1:
            raise LearnwalkError(f"The database holds {len(ids)} districts; choose one with --district ID "
                                 f"({', '.join(ids) or 'none yet'}).")
        caller = Caller(device_id="", user_id="cli", role="admin", district_id=ids[0])
        scope = Scope(caller)
        with Session(writer(engine)) as s:
            admin_service.audit_export(s, caller, "ratings", fmt, filters.as_dict())
            s.commit()
        total = export_total(engine, fmt, scope, filters)
        with progress(total, "ratings" if fmt == "csv" else "records") as advance:
            for chunk in iter_export(engine, fmt, scope, filters, advance):
                out.write(chunk)
    finally:
        engine.dispose()
