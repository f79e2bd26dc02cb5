"""app/web/build.py pieces that need no network and no browser: the pins, the staged client, the refusals."""
from __future__ import annotations

import re
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from app.web import build
from tests.support.browser import ROOT


def test_every_wheel_is_pinned_exactly_and_agrees_with_pyproject():
    pins = {p.name.lower(): p.version for p in build.read_pins()}
    assert pins["flet"] == "1.0.5" and "orjson" not in pins and "typer" not in pins
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in project:
        m = re.fullmatch(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?==(.+)", dep)
        name = m.group(1).lower()
        if name in pins:
            assert pins[name] == m.group(3), f"{name}: wheels.txt {pins[name]}, pyproject {m.group(3)}"


def test_a_loose_pin_is_refused_in_a_sentence(tmp_path):
    wheels = tmp_path / "wheels.txt"
    wheels.write_text("# comment\nflet==1.0.5\nhttpx>=0.28\n")
    with pytest.raises(build.BuildError, match=r"line 3: 'httpx>=0.28' is not an exact pin"):
        build.read_pins(wheels)


def test_a_cached_wheel_is_found_by_its_normalised_name(tmp_path):
    (tmp_path / "ruamel_yaml-0.19.1-py3-none-any.whl").write_bytes(b"")
    assert build.cached_wheel(build.Pin("ruamel.yaml", "0.19.1"), tmp_path) is not None
    assert build.cached_wheel(build.Pin("ruamel.yaml", "0.19.2"), tmp_path) is None


def test_the_stage_holds_the_client_without_the_cli_the_demo_the_server_or_the_build(tmp_path):
    stage = tmp_path / "stage"
    build.stage(stage, [])
    assert (stage / "main.py").read_text().endswith("start()\n")
    assert (stage / "requirements.txt").read_text() == "\n"  # flet publish writes it empty: no micropip
    for there in ("app/main.py", "app/web/boot.py", "app/web/storage.py", "app/store/migrations", "sync/client.py",
                  "sync/protocol", "rubrics/data"):
        assert (stage / there).exists(), there
    for gone in ("app/cli", "app/demo.py", "app/__main__.py", "app/assets", "app/web/build.py", "sync/server"):
        assert not (stage / gone).exists(), gone
    assert not list(stage.rglob("__pycache__"))


def test_refusals_name_the_option_and_the_fix(tmp_path):
    with pytest.raises(build.BuildError, match="--server-url 'walks.org' must start with http"):
        build.build_web(tmp_path / "out", server_url="walks.org")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(build.BuildError, match="holds other files"):
        build.build_web(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").exists()
    with pytest.raises(build.BuildError, match="would replace the source folder"):
        build.build_web(ROOT)


def test_junk_is_trimmed_and_pure_packages_go_into_one_zip_beside_what_must_stay_a_folder(tmp_path):
    stage = tmp_path / "stage"
    packages = stage / "__pypackages__"
    for rel in ("sqlalchemy/__init__.pyc", "sqlalchemy/dialects/sqlite/base.pyc",
                "sqlalchemy/dialects/postgresql/base.pyc", "sqlalchemy/testing/__init__.pyc",
                "sqlalchemy/util/_collections_cy.pxd", "flutter/flet_charts/pubspec.yaml",
                "pydantic_core/__init__.pyc", "pydantic_core/_pydantic_core.cpython-314-wasm32-emscripten.so",
                "flet/__init__.pyc", "flet/controls/material/icons.json", "six.pyc",
                "sqlalchemy-2.1.9.dist-info/METADATA", "sqlalchemy-2.1.9.dist-info/RECORD"):
        (packages / rel).parent.mkdir(parents=True, exist_ok=True)
        (packages / rel).write_bytes(b"x")
    build.trim_packages(packages)
    for gone in ("sqlalchemy/dialects/postgresql", "sqlalchemy/testing", "sqlalchemy/util/_collections_cy.pxd",
                 "flutter", "sqlalchemy-2.1.9.dist-info/RECORD"):
        assert not (packages / gone).exists(), gone
    assert build.pack_packages(stage) == ["flet", "six.pyc", "sqlalchemy"]
    with zipfile.ZipFile(stage / build.PACKAGES_ZIP) as z:
        assert sorted(z.namelist()) == ["flet/__init__.pyc", "flet/controls/material/icons.json", "six.pyc",
                                        "sqlalchemy/__init__.pyc", "sqlalchemy/dialects/sqlite/base.pyc"]
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}  # app.tar.gz compresses it
    # a compiled extension stays a folder (so would data files but flet's, read as resources); metadata beside
    assert sorted(p.name for p in packages.iterdir()) == ["pydantic_core", "sqlalchemy-2.1.9.dist-info"]


def test_the_launcher_puts_the_zip_on_the_path_before_it_starts_the_app():
    assert f'sys.path.insert(1, os.path.abspath("{build.PACKAGES_ZIP}"))' in build.LAUNCHER
    assert build.LAUNCHER.index("sys.path.insert") < build.LAUNCHER.index("from app.web.boot import start")


def test_the_stage_never_lies_under_a_path_that_out_begins(tmp_path, monkeypatch):
    # flet publish 1.0.5 leaves out of app.tar.gz whatever its own test calls "within" --distpath: a string prefix
    from flet.utils.files import is_within_directory

    for out, stage in [("/tmp/x", "/tmp/x-work/stage"), ("/tmp/x", "/tmp/x/stage"), ("/tmp/x", "/tmp/y/stage"),
                       ("/tmp/learnwalk", "/tmp/learnwalk-web-abc/stage"), ("/srv/pwa", "/tmp/pwa/stage")]:
        assert build.hidden_by_out(Path(out), Path(stage)) == is_within_directory(out, stage + "/main.py"), out
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "sys-tmp"))
    (tmp_path / "sys-tmp").mkdir()
    # out begins the system temporary folder's learnwalk-web-* name, then every name there: beside out instead
    for out in (tmp_path / "sys-tmp" / "learnwalk", tmp_path / "sys"):
        with build.work_dir(out) as tmp:
            assert not build.hidden_by_out(out, Path(tmp) / build.STAGE), (out, tmp)


def test_a_work_folder_that_out_begins_is_refused_before_anything_is_built(tmp_path):
    with pytest.raises(build.BuildError, match="is the beginning of the staging folder's path"):
        build.build_web(tmp_path / "x", work=tmp_path / "x-work")
    assert not (tmp_path / "x").exists() and not (tmp_path / "x-work").exists()


def test_an_app_archive_without_the_staged_app_fails_the_build_in_a_sentence(tmp_path):
    stage = tmp_path / "stage"
    for name in ("main.py", "app/__init__.pyc", "app/web/boot.pyc", "assets/LearnwalkSans-Regular.ttf",
                 "requirements.txt"):
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_text("x")
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz") as tar:  # what flet publish writes when it skipped the whole stage
        (tmp_path / "requirements.txt").write_text("\n")
        tar.add(tmp_path / "requirements.txt", arcname="requirements.txt")
    with pytest.raises(build.BuildError, match=r"packed 0 of the 3 app files .* \(missing app/__init__.pyc"):
        build.check_archive(empty, stage)
    full = tmp_path / "full.tar.gz"
    with tarfile.open(full, "w:gz") as tar:  # as flet publish packs: the stage's folder as "/", less the assets
        tar.add(stage, arcname="/", filter=lambda info: None if info.name.startswith("assets") else info)
    assert build.check_archive(full, stage) == 3
    with pytest.raises(build.BuildError, match="left no readable"):
        build.check_archive(tmp_path / "none.tar.gz", stage)
