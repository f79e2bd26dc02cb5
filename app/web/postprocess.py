"""What turns `flet publish --no-cdn` output into learnwalk's offline web app (app/web/build.py runs it).

Each step is a function of the site folder so tests can check it alone: the pyodideUrl fix, trimming, the Rive
script kept on our own origin, the Python worker started while Flutter loads (app/web/python.js), the web app
manifest, the optional config file, index.html's storage request and worker registration, and the service
worker that precaches every file.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG_FILE = "learnwalk-config.json"  # read by app/web/boot.py
SERVICE_WORKER = "flutter_service_worker.js"  # the name flutter_bootstrap.js registers; ours goes over it
NAME = "learnwalk"
DESCRIPTION = "Learning walks: tap ratings on a tablet, offline; sync when there is a network."
THEME_COLOR = "#3F51B5"  # the app's indigo seed colour (app/main.py)

# Never loaded by a canvaskit (dart2js) build in Safari or Chrome: the skwasm/wimp renderers, the dart2wasm
# entry, debug symbols and source maps, and Pyodide's Node.js launcher and type files.
TRIM = [
    "main.dart.wasm", "main.dart.mjs", "flutter.js.map",
    "canvaskit/skwasm.js", "canvaskit/skwasm.wasm", "canvaskit/skwasm_heavy.js", "canvaskit/skwasm_heavy.wasm",
    "canvaskit/wimp.js", "canvaskit/wimp.wasm", "canvaskit/experimental_webparagraph",
    "pyodide/python", "pyodide/python.bat", "pyodide/python.exe", "pyodide/python_cli_entry.mjs",
    "pyodide/ffi.d.ts", "pyodide/pyodide.d.ts", "pyodide/pyodide.js", "pyodide/pyodide.js.map",
    "pyodide/pyodide.mjs.map",
]
# flet 1.0.5 with --no-cdn writes a bare module specifier, which python-worker.js's import() refuses ("Failed to
# resolve module specifier"): the app never starts. "./" makes it relative to the worker, at the site's root.
PYODIDE_URL_BROKEN = 'flet.pyodideUrl="pyodide/pyodide.mjs";'
PYODIDE_URL_FIXED = 'flet.pyodideUrl="./pyodide/pyodide.mjs";'
# flet's Rive plugin fetches its runtime from jsdelivr at start; learnwalk shows no Rive animation, so the
# address is pointed at a path of our own origin that does not exist: the plugin fails as it does offline.
RIVE_CDN = "https://cdn.jsdelivr.net/npm/@rive-app/flutter-native-wasm@44.0.0/"
RIVE_LOCAL = "rive-not-bundled/"
MARKER = "<!-- learnwalk offline -->"
# app/web/python.js replaces flet's python.js (it starts the Python worker while Flutter loads); it was written
# from this exact file of flet-web 1.0.5, so any other python.js stops the build until ours is re-checked.
FLET_PYTHON_JS_SHA256 = "067edcca8116732076fb2962067d3b5e739658ccf103cef7932f62904d32fbd5"
EARLY_MARK = "learnwalk's python.js"


class PostprocessError(RuntimeError):
    """flet publish's output is not what this step expects (a flet upgrade): re-check the step."""


def fix_pyodide_url(index_html: str) -> str:
    if PYODIDE_URL_FIXED in index_html:
        return index_html
    if PYODIDE_URL_BROKEN not in index_html:
        raise PostprocessError("index.html has no flet.pyodideUrl of the form flet 1.0.5 writes; re-check "
                               "app/web/postprocess.py after a flet upgrade.")
    return index_html.replace(PYODIDE_URL_BROKEN, PYODIDE_URL_FIXED)


def trim(site: Path) -> None:
    for rel in TRIM:
        path = site / rel
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for path in site.rglob("*.symbols"):
        path.unlink()


def keep_rive_local(site: Path) -> None:
    main_js = site / "main.dart.js"
    text = main_js.read_text(encoding="utf-8")
    if RIVE_CDN not in text:
        if "cdn.jsdelivr.net" in text:
            raise PostprocessError("main.dart.js names a jsdelivr address this build does not know; re-check "
                                   "app/web/postprocess.py after a flet upgrade.")
        return
    main_js.write_text(text.replace(RIVE_CDN, RIVE_LOCAL), encoding="utf-8")


def start_python_early(site: Path) -> None:
    path = site / "python.js"
    text = path.read_bytes()
    if EARLY_MARK.encode() in text:
        return
    if hashlib.sha256(text).hexdigest() != FLET_PYTHON_JS_SHA256:
        raise PostprocessError("python.js is not the one flet-web 1.0.5 ships; re-check app/web/python.js against "
                               "it after a flet upgrade, then update FLET_PYTHON_JS_SHA256.")
    shutil.copyfile(HERE / "python.js", path)


def manifest() -> dict:
    """The web app manifest: what the tablet's "Add to Home Screen" installs."""
    icons = [{"src": f"icons/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png"} for n in (192, 512)]
    icons += [{"src": f"icons/icon-maskable-{n}.png", "sizes": f"{n}x{n}", "type": "image/png",
               "purpose": "maskable"} for n in (192, 512)]
    return {"name": NAME, "short_name": NAME, "description": DESCRIPTION, "start_url": ".", "scope": ".",
            "display": "standalone", "orientation": "any", "background_color": "#FFFFFF",
            "theme_color": THEME_COLOR, "prefer_related_applications": False, "icons": icons}


def write_icons(site: Path) -> None:
    """learnwalk's own icons (app/web/icons) over flet's."""
    for icon in (HERE / "icons").glob("*.png"):
        shutil.copyfile(icon, site / "icons" / icon.name)
    shutil.copyfile(HERE / "icons" / "icon-192.png", site / "favicon.png")


def write_config(site: Path, server_url: str | None) -> None:
    """learnwalk-config.json, always there (an absent file would be a 404 at every start)."""
    config = {"server_url": server_url} if server_url else {}
    (site / CONFIG_FILE).write_text(json.dumps(config) + "\n", encoding="utf-8")


def patch_index(index_html: str, sw_version: str) -> str:
    """Register the offline worker under the URL flutter_bootstrap.js expects; ask to keep storage."""
    index_html = fix_pyodide_url(index_html)
    if MARKER in index_html:
        return index_html
    snippet = f"""{MARKER}
  <meta name="theme-color" content="{THEME_COLOR}">
  <script>
    if ('serviceWorker' in navigator) {{
      navigator.serviceWorker.register('{SERVICE_WORKER}?v={sw_version}')
        .catch((e) => console.warn('learnwalk: the offline worker could not be registered', e));
    }}
    // the walks live in IndexedDB: ask the browser not to evict them under storage pressure
    window.learnwalkStoragePersisted = (navigator.storage && navigator.storage.persist)
      ? navigator.storage.persist() : Promise.resolve(false);
  </script>
"""
    anchor = '<script src="python.js"></script>'
    if anchor not in index_html:
        raise PostprocessError("index.html has no python.js script tag; re-check app/web/postprocess.py after a "
                               "flet upgrade.")
    return index_html.replace(anchor, snippet + "  " + anchor)


def site_files(site: Path) -> list[str]:
    """Every file of the site but the worker itself, as URLs relative to the site."""
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                  if p.is_file() and p.name != SERVICE_WORKER)


def build_id(site: Path, files: list[str]) -> str:
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode() + b"\0")
        digest.update(hashlib.sha256((site / rel).read_bytes()).digest())
    return digest.hexdigest()[:16]


def service_worker(build: str, files: list[str]) -> str:
    text = (HERE / "sw.js").read_text(encoding="utf-8")
    return text.replace("__BUILD__", build).replace("__FILES__", json.dumps(["./", *files], indent=0))


def postprocess(site: Path, *, server_url: str | None = None) -> dict:
    """Make the flet publish output at site the offline app; returns its build id and precached file count."""
    site = Path(site)
    trim(site)
    keep_rive_local(site)
    start_python_early(site)
    bootstrap = (site / "flutter_bootstrap.js").read_text(encoding="utf-8")
    m = re.search(r'serviceWorkerVersion:\s*"(\d+)"', bootstrap)
    index = site / "index.html"
    index.write_text(patch_index(index.read_text(encoding="utf-8"), m.group(1) if m else "0"), encoding="utf-8")
    (site / "manifest.json").write_text(json.dumps(manifest(), indent=2) + "\n", encoding="utf-8")
    if (HERE / "icons").is_dir():
        write_icons(site)
    write_config(site, server_url)
    files = site_files(site)
    build = build_id(site, files)
    (site / SERVICE_WORKER).write_text(service_worker(build, files), encoding="utf-8")
    return {"build": build, "files": len(files) + 1}
