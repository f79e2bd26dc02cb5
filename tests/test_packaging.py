"""The tablet ships without the server: client code never imports it, and `pip install .` leaves it out.

The client is app/, rubrics/ and sync/ without sync/server/; app/cli/__init__.py mounts the server's commands
behind the one guarded import. The slow test installs the client alone into a fresh venv, captures a visit in
its web app (headless Chromium) and syncs it to a server run from the full install.
"""
from __future__ import annotations

import ast
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.support.browser import browser, by_id, tap, ui_page  # noqa: F401 - fixtures used below

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "sync" / "server"
MOUNT = ROOT / "app" / "cli" / "__init__.py"
SERVER_ONLY = {"fastapi", "starlette", "uvicorn", "alembic", "psycopg", "pydantic_settings"}
LEARNWALK = str(Path(sys.executable).with_name("learnwalk"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- what the client imports --------------------------------------------------------------------------------

def _client_modules() -> list[Path]:
    files = [f for base in ("app", "rubrics", "sync") for f in sorted((ROOT / base).rglob("*.py"))]
    return [f for f in files if SERVER not in f.parents]


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[ast.AST, str]]:
    """Every module name an import in the file can load (top level or inside a function), with its node."""
    tree = ast.parse(path.read_text(), str(path))
    package = _module_of(path) if path.name == "__init__.py" else _module_of(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this file's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found += [(node, base)] + [(node, f"{base}.{a.name}") for a in node.names]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")):
            found.append((node, node.args[0].value))
    return found


def _is_server(name: str) -> bool:
    return name == "sync.server" or name.startswith("sync.server.")


def _guarded(tree: ast.Module, lineno: int) -> bool:
    """The import on that line sits in a try whose handler catches ModuleNotFoundError (a client-only install)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(getattr(n, "lineno", 0) == lineno and isinstance(n, ast.ImportFrom)
                                             for stmt in node.body for n in ast.walk(stmt)):
            return any(isinstance(h.type, ast.Name) and h.type.id == "ModuleNotFoundError" for h in node.handlers)
    return False


def test_the_scan_sees_the_client_and_skips_the_server():
    files = _client_modules()
    assert MOUNT in files and ROOT / "sync" / "client.py" in files and ROOT / "rubrics" / "loader.py" in files
    assert not [f for f in files if SERVER in f.parents]
    # function-local imports count: the scan finds the ones the export face makes inside its command
    assert "sync.protocol.export" in {name for _, name in _imports(ROOT / "app" / "cli" / "export_cmd.py")}


def test_no_client_module_imports_the_server_but_the_one_guarded_mount_point():
    offenders, mounts = [], []
    for path in _client_modules():
        for node, name in _imports(path):
            if _is_server(name):
                (mounts if path == MOUNT else offenders).append((path.relative_to(ROOT), node.lineno, name))
    assert offenders == []
    tree = ast.parse(MOUNT.read_text())
    lines = {line for _, line, _ in mounts}
    assert len(lines) == 1, f"app/cli/__init__.py imports the server in more than one place: {mounts}"
    assert _guarded(tree, lines.pop())


def test_no_client_module_imports_a_server_only_package():
    found = [(path.relative_to(ROOT), node.lineno, name) for path in _client_modules()
             for node, name in _imports(path) if name.split(".")[0] in SERVER_ONLY]
    assert found == []


def test_the_mount_point_knows_the_server_extra_of_pyproject():
    from app.cli import SERVER_EXTRA

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["server"]
    names = {req.split("==")[0].split("[")[0].replace("-", "_").lower() for req in extra}
    assert names == SERVER_EXTRA


def test_the_client_dependencies_name_no_server_package():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {req.split("==")[0].split("[")[0].replace("-", "_").lower() for req in deps}
    assert names & SERVER_ONLY == set()


def test_export_format_names_are_the_servers_writers():
    from sync.protocol.export import EXPORT_FORMATS
    from sync.server.export import FORMATS

    assert tuple(FORMATS) == EXPORT_FORMATS


# ---- the CLI without the server extra (its packages hidden in a subprocess) ----------------------------------

HIDE_EXTRA = ("import sys\n"
              "for m in ('fastapi', 'uvicorn', 'alembic', 'psycopg', 'pydantic_settings'): sys.modules[m] = None\n"
              "from app.cli import main\nmain()\n")


def _without_extra(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HIDE_EXTRA, *args], capture_output=True, text=True, timeout=60)


def _says_install_the_server(out: subprocess.CompletedProcess) -> None:
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "pip install 'learnwalk[server]'" in out.stderr, out.stderr


@pytest.mark.parametrize("args", [("serve",), ("serve", "--db", "x.sqlite", "--port", "9"), ("admin",),
                                  ("admin", "create-district", "Springfield", "--db", "x.sqlite")])
def test_without_the_server_extra_serve_and_admin_say_what_to_install(args):
    _says_install_the_server(_without_extra(*args))


def test_without_the_server_extra_export_db_says_what_to_install_and_writes_nothing(tmp_path):
    out = _without_extra("export", "--db", str(tmp_path / "x.sqlite"), "--format", "csv", "--out",
                         str(tmp_path / "walks.csv"))
    _says_install_the_server(out)
    assert list(tmp_path.iterdir()) == []


def test_without_the_server_extra_export_server_still_checks_and_calls_the_server(tmp_path, free_port):
    bad = _without_extra("export", "--server", "http://127.0.0.1:1", "--token", "t", "--format", "pdf",
                         "--out", str(tmp_path / "w"))
    assert bad.returncode == 2 and "is not one of csv, csv-wide, xlsx, jsonl" in bad.stderr
    out = _without_extra("export", "--server", f"http://127.0.0.1:{free_port}", "--token", "t", "--format", "csv",
                         "--out", str(tmp_path / "walks.csv"))
    # the admin client went for the server (nothing listens there) and said so; no half-written file is left
    assert out.returncode == 1 and f"127.0.0.1:{free_port}" in out.stderr and "could not be reached" in out.stderr
    assert "Error" not in out.stderr  # a sentence, not an exception class name
    assert list(tmp_path.iterdir()) == []


def test_without_the_server_extra_the_other_commands_are_all_there():
    out = _without_extra("--help")
    assert out.returncode == 0
    for command in ("serve", "admin", "app", "demo", "enroll", "sync", "seed", "tally", "report", "export", "rubric"):
        assert f"\n  {command} " in out.stdout


# ---- must show: a client-only install captures a visit and syncs it -------------------------------------------

def _client_env() -> dict:
    """A plain environment for the fresh venv: nothing from this checkout or the full install on its path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "FLET_APP_STORAGE_DATA")}
    return {**env, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory) -> Path:
    """A fresh venv with `pip install <a copy of this checkout>` (a real, non-editable install, no extras)."""
    work = tmp_path_factory.mktemp("client-install")
    src = work / "src"  # a copy, so the build's build/ and *.egg-info stay out of the checkout
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
        "tests", "bench", "docs", "*.sqlite*"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(src)],
                          env=_client_env(), cwd=work, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


INSTALLED = """import importlib.metadata as m, json, re
print(json.dumps({d.metadata["Name"].lower().replace("_", "-"):
                  [re.split(r"[ ;<>=!~\\[(]", r, maxsplit=1)[0].lower().replace("_", "-") for r in (d.requires or [])
                   if "extra ==" not in r] for d in m.distributions()}))"""


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"`learnwalk serve` exited with {proc.returncode}"
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"the server at {url} did not answer within {seconds:.0f} s")


def _wait_listening(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the client-only `learnwalk app` exited with {proc.returncode}"
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError(f"the client-only app at {url} did not answer within {seconds:.0f} s")


def _admin(db_url: str, *args: str) -> str:
    done = subprocess.run([LEARNWALK, "admin", *args, "--db", db_url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.slow
@pytest.mark.browser
def test_a_client_only_install_has_no_server_captures_a_visit_in_its_web_app_and_syncs_it(
        client_venv, ui_page, tmp_path):  # noqa: F811 - ui_page is the fixture imported above
    from playwright.sync_api import expect

    client_bin, env = client_venv / "bin", _client_env()

    def client(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(client_bin / "learnwalk"), *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)

    # what the install pulled: none of the server's own packages; FastAPI and uvicorn only as flet-web's web
    # server (Flet's, for `learnwalk app --web`), never as a requirement of learnwalk itself
    installed = json.loads(subprocess.run([str(client_bin / "python"), "-c", INSTALLED], env=env, cwd=tmp_path,
                                          capture_output=True, text=True, check=True).stdout)
    assert {"alembic", "psycopg", "psycopg-binary", "pydantic-settings"} & installed.keys() == set()
    assert {"learnwalk", "flet", "flet-web", "sqlmodel", "httpx", "typer", "orjson", "fpdf2"} <= installed.keys()
    assert {"fastapi", "uvicorn", "alembic", "psycopg", "pydantic-settings"} & set(installed["learnwalk"]) == set()
    assert {name for name, reqs in installed.items() if {"fastapi", "uvicorn"} & set(reqs)} <= {"flet-web"}
    where = client("--help")
    assert where.returncode == 0 and "serve" in where.stdout
    located = subprocess.run([str(client_bin / "python"), "-c", "import app; print(app.__file__)"], env=env,
                             cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(client_venv) in located  # the installed copy, not this checkout

    # the server's commands say in one sentence what to install, and so does the demo (it needs the server)
    for args in (("serve",), ("admin", "create-district", "X", "--db", str(tmp_path / "s.sqlite")),
                 ("export", "--db", str(tmp_path / "s.sqlite"), "--format", "csv", "--out", str(tmp_path / "x")),
                 ("demo", "--dir", str(tmp_path / "demo"))):
        out = client(*args)
        assert out.returncode == 1 and out.stderr.count("\n") == 1, (args, out.stderr)
        assert "pip install 'learnwalk[server]'" in out.stderr, (args, out.stderr)

    # the district's server, run from the full install (this venv has the server extra)
    db_url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    district = _admin(db_url, "create-district", "Springfield")
    school = _admin(db_url, "create-school", "Lincoln Elementary", "--district", district)
    user = _admin(db_url, "create-user", "observer@example.org", "--district", district, "--role", "observer")
    code = _admin(db_url, "enrollment-code", "--user", user)
    server_port, app_port = _port(), _port()
    server_url = f"http://127.0.0.1:{server_port}"
    server = subprocess.Popen([LEARNWALK, "serve", "--db", db_url, "--port", str(server_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = None
    try:
        _wait_healthy(server_url, server)
        tablet = tmp_path / "tablet"
        enrolled = client("enroll", "--data-dir", str(tablet), "--server", server_url, "--code", code)
        assert enrolled.returncode == 0, enrolled.stderr
        assert client("sync", "--data-dir", str(tablet)).returncode == 0  # the district's school comes down

        app = subprocess.Popen([str(client_bin / "learnwalk"), "app", "--web", "--port", str(app_port),
                                "--data-dir", str(tablet)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        app_url = f"http://127.0.0.1:{app_port}/"
        _wait_listening(app_url, app)
        page = ui_page(app_url, height=4800)

        page.get_by_role("button", name="New walk").click()
        tap(page.get_by_role("checkbox", name="Lincoln Elementary"))
        page.get_by_label("Students learn with each other", exact=True).click()
        page.get_by_label("Affirming environment", exact=True).click()
        page.get_by_role("button", name="Start walk").click()
        page.get_by_role("button", name="New visit").click()
        page.get_by_text("Visit 1", exact=True).wait_for()
        for identifier in ("grade:3", "subject:Math", "rate:dl.interactive:3"):
            tap(by_id(page, identifier))
            by_id(page, identifier).and_(page.locator('[aria-checked="true"]')).wait_for(timeout=10_000)
        page.get_by_role("button", name="Finish visit", exact=True).click()
        page.get_by_role("button", name="Finish anyway", exact=True).click()  # the other look-fors are unrated
        page.get_by_role("button", name="New visit").wait_for()

        page.get_by_label("Back", exact=True).click()
        page.get_by_label("Sync", exact=True).click()
        page.get_by_role("button", name="Sync now").click()
        expect(by_id(page, "message")).to_contain_text("Synced:", timeout=15_000)
        expect(page.get_by_text("Everything is sent.")).to_be_visible()
    finally:
        if app is not None and app.poll() is None:
            os.killpg(app.pid, signal.SIGTERM)
            app.wait(10)
        server.terminate()
        server.wait(10)

    # the visit is on the server: the full install's export reads it from the server database
    out = tmp_path / "walks.csv"
    exported = subprocess.run([LEARNWALK, "export", "--db", db_url, "--format", "csv", "--out", str(out)],
                              capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["school_id"], r["visit_no"], r["grade"], r["subject"], r["lookfor_id"], r["value"]) for r in rows] \
        == [(school, "1", "3", "Math", "dl.interactive", "3")]
