"""[tool.flet] in pyproject.toml, as flet's own reader sees it (flet build cannot run here: no Flutter SDK)."""
from __future__ import annotations

from flet_cli.utils.pyproject_toml import load_pyproject_toml

from tests.support.browser import ROOT


def test_flet_build_reads_the_app_identity_and_asks_for_no_permission():
    get = load_pyproject_toml(ROOT)
    assert (get("tool.flet.org"), get("tool.flet.product")) == ("org.learnwalk", "learnwalk")
    assert get("tool.flet.permissions") == []  # the network only, which flet grants itself


def test_the_native_entry_exists_and_the_package_leaves_out_the_server_and_the_tooling():
    get = load_pyproject_toml(ROOT)
    assert (ROOT / f"{get('tool.flet.app.module')}.py").exists()
    assert {"sync/server", "app/cli", "app/web", "tests", "bench"} <= set(get("tool.flet.app.exclude"))


def test_the_native_dependencies_are_the_client_install_only():
    deps = " ".join(load_pyproject_toml(ROOT)("project.dependencies")).lower()
    for server_only in ("fastapi", "uvicorn", "alembic", "psycopg", "pydantic-settings"):
        assert server_only not in deps
