"""Build the offline web app: a static folder with the Flet web client, Python (Pyodide) and learnwalk in it.

    learnwalk build-web --out build/pwa [--server-url https://walks.district.org]      (or: make pwa)

Steps, all on this machine, downloading only the pinned wheels from PyPI (kept in a cache for the next build):
1. wheels (app/web/wheels.txt) for Pyodide's platform, unpacked into the app's __pypackages__, which flet's
   Python worker puts on sys.path, less what no client import reaches (TRIM_PACKAGES); the requirements list is
   empty, so nothing is installed at run time;
2. the client staged: app (without the CLI and the demo), sync (without the server), rubrics, and a launcher
   that calls app.web.boot.start; with Node, precompiled to .pyc by Pyodide's own CPython, and Pyodide's
   standard library zip too; then the pure-Python wheels packed into one zip (pack_packages: fewer files to
   unpack at every start);
3. two flet publish 1.0.5 downloads from GitHub replaced by what the flet-web wheel already bundles: a local
   python-build manifest (FLET_PYTHON_BUILD_MANIFEST) naming its Pyodide, and flet's Pyodide cache pre-filled
   from it (re-check both on a flet upgrade: a release that fixes them makes them no-ops);
4. `flet publish --no-cdn`, then app/web/postprocess.py (the pyodideUrl fix, trimming, the offline service
   worker, manifest, icons, the optional learnwalk-config.json).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from app.web import postprocess
from sync.errors import LearnwalkError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent  # the folder holding app/, sync/, rubrics/
WHEELS = HERE / "wheels.txt"
PLATFORM = "pyemscripten_2026_0_wasm32"
PYTHON = "3.14"
APP_NAME = "learnwalk"
STAGE = "stage"  # the folder, in the build's work folder, that flet publish packs into app.tar.gz
PACKAGES_ZIP = "__pypackages__.zip"  # the pure-Python wheels, zipped by pack_packages
# packages whose data files go into the zip too: they read them with importlib.resources, which reads zips
# (flet: its icon tables); every other package with data files stays a folder (they may open them by path)
RESOURCES_IN_ZIP = {"flet"}
LAUNCHER = f'''"""Started by the web build's Python worker: the learnwalk app in this tab."""
import os
import sys

sys.path.insert(1, os.path.abspath("{PACKAGES_ZIP}"))  # after the worker's __pypackages__ folder

from app.web.boot import start

start()
'''
# what the browser does not need of the client: the CLI and demo (typer, subprocesses), this build itself
SKIP_APP = {"cli", "demo.py", "__main__.py", "cli_errors.py", "assets"}
SKIP_WEB = {"build.py", "postprocess.py", "wheels.txt", "sw.js", "python.js", "icons"}
SKIP_ALWAYS = {"__pycache__"}
# What no import of the client reaches in the wheels (checked by importing every client module and opening a
# store in Pyodide; the browser tests run the rest): flet extensions' Dart sources (for `flet build`), man pages,
# the database dialects other than SQLite, test suites and helpers, the mypy plugin, pydantic's v1 copy, Cython
# declarations, and wheel bookkeeping (RECORD, licence files) that nothing reads at run time.
TRIM_PACKAGES = ["flutter", "*.data", "sqlalchemy/testing", "sqlalchemy/ext/mypy",
                 *(f"sqlalchemy/dialects/{d}" for d in ("mysql", "postgresql", "oracle", "mssql")),
                 "pydantic/v1", "flet/testing", "certifi/tests", "sqlmodel/.agents", "**/*.pxd", "**/*.pyx",
                 "**/*.jinja2", "sqlalchemy/dialects/type_migration_guidelines.txt",
                 "fontTools/ttLib/tables/table_API_readme.txt", "*.dist-info/RECORD", "*.dist-info/licenses",
                 "*.dist-info/LICENSE*", "*.dist-info/sboms", "**/*.pyi", "**/py.typed"]
UI_FONTS = ["LearnwalkSans-Regular.ttf", "OFL.txt"]  # the Flutter side draws with these (app/main.py FONTS)
PYC_COMPILE = """
const [, , pyodideMjs, dir, outDir] = process.argv;
const { loadPyodide } = await import(pyodideMjs);
const py = await loadPyodide();
py.FS.mkdir("/stage");
py.FS.mount(py.FS.filesystems.NODEFS, { root: dir }, "/stage");
py.FS.mkdir("/out");
py.FS.mount(py.FS.filesystems.NODEFS, { root: outDir }, "/out");
py.runPython(`
import compileall, importlib.util, py_compile, sys, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc
compileall.compile_dir("/stage", quiet=1, workers=1, legacy=True,
                            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
# the standard library ships as sources in one zip, compiled again at every start (most of Pyodide's boot)
stdlib = next(p for p in sys.path if p.endswith(".zip"))
with zipfile.ZipFile(stdlib) as src, zipfile.ZipFile("/out/python_stdlib.zip", "w", zipfile.ZIP_DEFLATED) as out:
    for info in src.infolist():
        data = src.read(info)
        if info.filename.endswith(".py"):
            code = compile(data, stdlib + "/" + info.filename, "exec", dont_inherit=True)
            out.writestr(info.filename + "c", _code_to_hash_pyc(code, importlib.util.source_hash(data), False))
        else:
            out.writestr(info, data)
`);
"""

class BuildError(LearnwalkError):
    """The web build could not be made."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str

    @property
    def wheel_prefix(self) -> str:
        """How this pin's wheel file names start (PEP 427: name normalised with underscores)."""
        return f"{re.sub(r'[-_.]+', '_', self.name).lower()}-{self.version}-"


def read_pins(path: Path = WHEELS) -> list[Pin]:
    """name==version lines of wheels.txt (comments and blank lines skipped); anything else is refused."""
    pins = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)", line)
        if not m:
            raise BuildError(f"{path.name} line {n}: '{line}' is not an exact pin like name==1.2.3; pin it exactly.")
        pins.append(Pin(m.group(1), m.group(2)))
    return pins


def cached_wheel(pin: Pin, cache: Path) -> Path | None:
    for whl in sorted(cache.glob("*.whl")):
        if whl.name.lower().startswith(pin.wheel_prefix):
            return whl
    return None


def fetch_wheels(cache: Path, pins: list[Pin] | None = None) -> list[Path]:
    """The wheel of every pin for Pyodide's platform, downloaded from PyPI into cache unless already there."""
    pins = read_pins() if pins is None else pins
    cache.mkdir(parents=True, exist_ok=True)
    missing = [p for p in pins if cached_wheel(p, cache) is None]
    if missing:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
               "--platform", PLATFORM, "--platform", "any", "--python-version", PYTHON, "--implementation", "cp",
               "--abi", "cp314", "--abi", "none", "-d", str(cache), *(f"{p.name}=={p.version}" for p in missing)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
            raise BuildError(f"pip could not download the web build's wheels from PyPI ({tail[0]}); check the "
                             "network and the pins in app/web/wheels.txt.")
    wheels = []
    for p in pins:
        whl = cached_wheel(p, cache)
        if whl is None:
            raise BuildError(f"No wheel of {p.name}=={p.version} for {PLATFORM} was downloaded; pick a version "
                             "with a pure or pyemscripten wheel on PyPI in app/web/wheels.txt.")
        wheels.append(whl)
    return wheels


def _copy_package(src: Path, dest: Path, skip: set[str]) -> None:
    shutil.copytree(src, dest, ignore=lambda d, names: [n for n in names if n in SKIP_ALWAYS
                                                        or (Path(d) == src and n in skip)])


def stage(dest: Path, wheels: list[Path], *, root: Path = ROOT) -> None:
    """The folder flet publish packs into app.tar.gz: the launcher, the client packages, __pypackages__."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / "main.py").write_text(LAUNCHER, encoding="utf-8")
    # one blank line: flet publish then writes an empty requirements.txt and the worker skips micropip (an empty
    # or comment-only file would make it fall back to flet==<version>, a PyPI download at run time)
    (dest / "requirements.txt").write_text("\n", encoding="utf-8")
    _copy_package(root / "app", dest / "app", SKIP_APP)
    shutil.rmtree(dest / "app" / "web")
    _copy_package(root / "app" / "web", dest / "app" / "web", SKIP_WEB)
    _copy_package(root / "sync", dest / "sync", {"server"})
    _copy_package(root / "rubrics", dest / "rubrics", set())
    packages = dest / "__pypackages__"
    for whl in wheels:
        with zipfile.ZipFile(whl) as z:
            z.extractall(packages)
    trim_packages(packages)


def trim_packages(packages: Path) -> None:
    for pattern in TRIM_PACKAGES:
        for junk in list(packages.glob(pattern)):
            shutil.rmtree(junk) if junk.is_dir() else junk.unlink()


def ui_assets(dest: Path, *, root: Path = ROOT) -> None:
    """The assets folder flet publish copies to the site: the UI font (no Python needs it)."""
    fonts = dest / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    for name in UI_FONTS:
        shutil.copyfile(root / "app" / "assets" / "fonts" / name, fonts / name)


def bundled_pyodide() -> tuple[Path, str, str]:
    """(folder, Pyodide version, full Python version) of the Pyodide runtime inside the flet-web wheel."""
    import flet_web

    folder = Path(flet_web.get_package_web_dir()) / "pyodide"
    version = json.loads((folder / "package.json").read_text())["version"]
    python = json.loads((folder / "pyodide-lock.json").read_text())["info"]["python"]
    return folder, version, python


def offline_flet_env(work: Path) -> dict[str, str]:
    """Environment under which flet publish finds the bundled Pyodide instead of downloading one."""
    folder, version, python = bundled_pyodide()
    short = ".".join(python.split(".")[:2])
    manifest = work / "python-build-manifest.json"
    manifest.write_text(json.dumps({"default_python_version": short, "pythons": {short: {
        "full_version": python, "pyodide_version": version, "android_abis": []}}}), encoding="utf-8")
    cache = work / "flet-cache"
    runtime = cache / "pyodide" / version
    if runtime.exists():
        shutil.rmtree(runtime)
    shutil.copytree(folder, runtime)
    lock_path = runtime / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    lock["info"]["version"] = version  # what flet's ensure_pyodide checks; the bundled lock lacks it
    lock_path.write_text(json.dumps(lock), encoding="utf-8")
    return {**os.environ, "FLET_CACHE_DIR": str(cache), "FLET_PYTHON_BUILD_MANIFEST": str(manifest)}


def precompile(stage_dir: Path, pyodide_mjs: Path, runtime: Path) -> bool:
    """Replace every .py of the stage by its .pyc from Pyodide's CPython (under Node), and Pyodide's standard
    library zip in runtime (the copy flet publish ships) by a compiled one; False without Node."""
    node = shutil.which("node")
    if node is None:
        return False
    script = stage_dir.parent / "pyc_compile.mjs"
    script.write_text(PYC_COMPILE, encoding="utf-8")
    out = stage_dir.parent / "stdlib"
    out.mkdir(exist_ok=True)
    done = subprocess.run([node, str(script), str(pyodide_mjs), str(stage_dir), str(out)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise BuildError(f"Node could not precompile the app with Pyodide ({(done.stderr or done.stdout)[-200:]!r}); "
                         "build without Node on the PATH to skip that step.")
    for py in stage_dir.rglob("*.py"):
        if py != stage_dir / "main.py" and py.with_suffix(".pyc").exists():
            py.unlink()  # legacy=True wrote the .pyc beside it, where the import system finds it sourceless
    shutil.copyfile(out / "python_stdlib.zip", runtime / "python_stdlib.zip")
    return True


def _code_only(folder: Path) -> bool:
    return all(p.suffix in (".py", ".pyc") for p in folder.rglob("*") if p.is_file())


def pack_packages(stage_dir: Path) -> list[str]:
    """Move every pure-Python package of __pypackages__ into one uncompressed zip beside it (PACKAGES_ZIP).

    The worker unpacks app.tar.gz into the browser's memory at every start; one zip is one file to write, and
    Python reads from it only the modules it imports. What holds anything but code stays a folder (but
    RESOURCES_IN_ZIP): compiled extensions (they cannot load from a zip), and data files a package may open by
    path.
    Returns the names moved."""
    packages = stage_dir / "__pypackages__"
    moved = []
    with zipfile.ZipFile(stage_dir / PACKAGES_ZIP, "w", zipfile.ZIP_STORED) as z:
        for entry in sorted(packages.iterdir()):
            if entry.name.endswith(".dist-info"):
                continue  # metadata stays beside: importlib.metadata finds it without opening the zip
            if entry.is_dir() and not _code_only(entry) and entry.name not in RESOURCES_IN_ZIP:
                continue
            files = sorted(p for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else [entry]
            for f in files:
                z.write(f, f.relative_to(packages).as_posix())
            moved.append(entry.name)
    for name in moved:
        entry = packages / name
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return moved


def hidden_by_out(out: Path, stage_dir: Path) -> bool:
    """Whether flet publish 1.0.5 would leave the staged app out of app.tar.gz: it skips every file whose path
    begins with --distpath as a string (flet.utils.files.is_within_directory uses os.path.commonprefix), so
    out=/tmp/x hides /tmp/x-work/stage/* and the build silently packs an empty app."""
    return os.path.abspath(stage_dir).startswith(os.path.abspath(out))


def work_dir(out: Path) -> tempfile.TemporaryDirectory:
    """A temporary folder for the stage whose path does not begin with out's (hidden_by_out): in the system's
    temporary folder, else beside out; of two names that begin with different letters, so out's name cannot be
    the beginning of both."""
    for parent in (None, out.parent):
        for prefix in ("learnwalk-web-", "web-stage-"):
            try:
                tmp = tempfile.TemporaryDirectory(prefix=prefix, dir=parent)
            except OSError:  # beside out: a folder that does not exist yet or is not writable
                continue
            if not hidden_by_out(out, Path(tmp.name) / STAGE):
                return tmp
            tmp.cleanup()
    raise BuildError(f"--out {out}: no temporary folder for the build has a path that does not begin with it; "
                     "pass a longer --out path, like build/pwa.")


def check_archive(archive: Path, stage_dir: Path) -> int:
    """Fail unless app.tar.gz holds every file staged for it (flet publish leaves out the assets, which it copies
    to the site, and writes its own requirements.txt). Returns the number of files checked."""
    staged = {p.relative_to(stage_dir).as_posix() for p in stage_dir.rglob("*") if p.is_file()}
    staged = {n for n in staged if not n.startswith("assets/") and n != "requirements.txt"}
    try:
        with tarfile.open(archive) as tar:
            packed = {m.name.lstrip("/") for m in tar.getmembers() if m.isfile()}
    except (OSError, tarfile.TarError) as exc:
        raise BuildError(f"flet publish left no readable {archive} ({exc}); run the build again, and check that "
                         "flet 1.0.5 and flet-web are installed.") from None
    missing = sorted(staged - packed, key=lambda n: (n.startswith("__pypackages__"), n))  # the app's own first
    if missing or not staged:
        raise BuildError(f"flet publish packed {len(staged) - len(missing)} of the {len(staged)} app files staged "
                         f"in {stage_dir} into {archive} (missing {', '.join(missing[:3]) or 'everything'}); "
                         "the site would start without the app. Check that --out is not the beginning of the "
                         "staging folder's path, and that flet 1.0.5 is installed.")
    return len(staged)


def flet_executable() -> list[str]:
    exe = Path(sys.executable).with_name("flet")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "flet_cli.cli"]


def build_web(out: Path, *, server_url: str | None = None, cache: Path | None = None,
              work: Path | None = None, pyc: bool = True) -> dict:
    """Build the offline web app into out (replaced). Returns figures: size, files, seconds, whether .pyc."""
    if server_url and not re.match(r"^https?://[^/\s]+", server_url):
        raise BuildError(f"--server-url {server_url!r} must start with http:// or https:// and name a host, like "
                         "https://walks.district.org.")
    out = Path(out).resolve()
    if out == ROOT or ROOT.is_relative_to(out):
        raise BuildError(f"--out {out} would replace the source folder; pass an empty or new folder like build/pwa.")
    if out.is_dir() and any(out.iterdir()) and not (out / postprocess.CONFIG_FILE).exists():
        raise BuildError(f"--out {out} holds other files and is not an earlier web build; pass an empty or new "
                         "folder like build/pwa.")
    if work is not None and hidden_by_out(out, Path(work) / STAGE):
        raise BuildError(f"--out {out} is the beginning of the staging folder's path {Path(work) / STAGE}, so "
                         "flet publish would pack an empty app; pick a work folder whose path does not begin "
                         "with --out's.")
    started = time.monotonic()
    cache = Path(cache) if cache else default_cache()
    wheels = fetch_wheels(cache)
    with work_dir(out) as tmp:
        work = Path(work) if work else Path(tmp)
        env = offline_flet_env(work)
        app_dir = work / STAGE
        stage(app_dir, wheels)
        runtime = Path(env["FLET_CACHE_DIR"]) / "pyodide" / bundled_pyodide()[1]
        compiled = pyc and precompile(app_dir, bundled_pyodide()[0] / "pyodide.mjs", runtime)
        pack_packages(app_dir)
        # flet publish takes the assets from <script folder>/assets (an absolute --assets is ignored in 1.0.5),
        # copies them to the site and leaves them out of app.tar.gz
        ui_assets(app_dir / "assets")
        if out.exists():
            shutil.rmtree(out)
        cmd = [*flet_executable(), "publish", str(app_dir / "main.py"), "--no-cdn", "--distpath", str(out),
               "--app-name", APP_NAME, "--app-short-name", APP_NAME,
               "--app-description", postprocess.DESCRIPTION, "--pwa-theme-color", postprocess.THEME_COLOR,
               "--pwa-background-color", "#FFFFFF"]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work)
        if done.returncode != 0 or "Preparing Pyodide" not in done.stdout:
            tail = " ".join((done.stdout + done.stderr).strip().splitlines()[-3:])
            raise BuildError(f"flet publish failed ({tail[-300:]}); check that flet 1.0.5 and flet-web are "
                             "installed.")
        check_archive(out / "app.tar.gz", app_dir)
    figures = postprocess.postprocess(out, server_url=server_url)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {**figures, "out": str(out), "mb": round(size / 2**20, 1), "pyc": compiled,
            "app_archive_mb": round((out / "app.tar.gz").stat().st_size / 2**20, 1),
            "seconds": round(time.monotonic() - started, 1)}


def default_cache() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("learnwalk", appauthor=False)) / "web-wheels"
