"""app/web/postprocess.py on a small stand-in for flet publish's output: every step, checked alone."""
from __future__ import annotations

import json
import re
from pathlib import Path

import flet_web
import pytest

from app.web import postprocess as pp

INDEX = """<html><head>
  <script>var flet = {};</script>
  <script>flet.noCdn=true;flet.pyodideUrl="pyodide/pyodide.mjs";</script>
  <script src="python.js"></script>
</head><body></body></html>
"""


@pytest.fixture
def site(tmp_path):
    s = tmp_path / "site"
    for rel, text in {
        "index.html": INDEX,
        "flutter_bootstrap.js": 'load({serviceWorkerSettings: {serviceWorkerVersion: "1804020039"}})',
        "flutter_service_worker.js": "// flet's stub that unregisters itself",
        "main.dart.js": f'dvv(){{return"{pp.RIVE_CDN}"}}',
        "python-worker.js": "", "app.tar.gz": "archive", "manifest.json": "{}",
        "icons/icon-192.png": "flet", "pyodide/pyodide.mjs": "", "pyodide/python.exe": "x" * 100,
        "canvaskit/canvaskit.wasm": "", "canvaskit/skwasm.wasm": "", "canvaskit/chromium/canvaskit.js": "",
        "main.dart.wasm": "", "canvaskit/canvaskit.js.symbols": "",
        "python.js": (Path(flet_web.get_package_web_dir()) / "python.js").read_text(),  # the real one
    }.items():
        (s / rel).parent.mkdir(parents=True, exist_ok=True)
        (s / rel).write_text(text)
    return s


def precached(site) -> list[str]:
    text = (site / pp.SERVICE_WORKER).read_text()
    return json.loads(re.search(r"const FILES = (\[.*?\]);", text, re.S).group(1))


def test_the_worker_precaches_every_file_of_the_site_and_the_root(site):
    pp.postprocess(site)
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert sorted(precached(site)) == sorted(["./", *[f for f in files if f != pp.SERVICE_WORKER]])
    assert "learnwalk-config.json" in precached(site)


def test_runtime_files_the_canvaskit_build_never_loads_are_trimmed(site):
    pp.postprocess(site)
    for gone in ("pyodide/python.exe", "canvaskit/skwasm.wasm", "main.dart.wasm", "canvaskit/canvaskit.js.symbols"):
        assert not (site / gone).exists()
    assert (site / "canvaskit/canvaskit.wasm").exists() and (site / "canvaskit/chromium/canvaskit.js").exists()


def test_the_pyodide_url_is_relative_and_the_worker_registered_under_flutters_name(site):
    pp.postprocess(site)
    index = (site / "index.html").read_text()
    assert 'flet.pyodideUrl="./pyodide/pyodide.mjs";' in index and 'pyodideUrl="pyodide/' not in index
    assert "register('flutter_service_worker.js?v=1804020039')" in index
    assert "navigator.storage.persist()" in index
    assert index.index(pp.MARKER) < index.index('<script src="python.js">')


def test_postprocess_twice_changes_nothing_but_what_changed(site):
    first = pp.postprocess(site)
    index = (site / "index.html").read_text()
    assert pp.postprocess(site) == first and (site / "index.html").read_text() == index
    (site / "app.tar.gz").write_text("a new build of the app")
    assert pp.postprocess(site)["build"] != first["build"]  # a new worker, so tablets update


def test_the_rive_runtime_is_asked_of_our_own_origin_not_jsdelivr(site):
    pp.postprocess(site)
    text = (site / "main.dart.js").read_text()
    assert "jsdelivr" not in text and pp.RIVE_LOCAL in text


def test_an_unknown_cdn_address_or_index_stops_the_build_in_words(site):
    (site / "main.dart.js").write_text('x="https://cdn.jsdelivr.net/npm/other@1/"')
    with pytest.raises(pp.PostprocessError, match="re-check app/web/postprocess.py"):
        pp.keep_rive_local(site)
    with pytest.raises(pp.PostprocessError, match="pyodideUrl"):
        pp.fix_pyodide_url("<html></html>")


def test_the_manifest_installs_a_standalone_app_with_our_icons(site):
    pp.postprocess(site)
    m = json.loads((site / "manifest.json").read_text())
    assert (m["name"], m["short_name"], m["display"], m["start_url"]) == ("learnwalk", "learnwalk", "standalone", ".")
    assert m["theme_color"] == pp.THEME_COLOR
    assert {i["sizes"] for i in m["icons"]} == {"192x192", "512x512"}
    for icon in m["icons"]:
        assert (site / icon["src"]).read_bytes()[:4] == b"\x89PNG"


def test_the_config_offers_the_server_only_when_one_was_given(site):
    pp.postprocess(site)
    assert json.loads((site / pp.CONFIG_FILE).read_text()) == {}
    pp.postprocess(site, server_url="https://walks.district.org")
    assert json.loads((site / pp.CONFIG_FILE).read_text()) == {"server_url": "https://walks.district.org"}


def test_pythons_worker_starts_while_flutter_loads_and_an_unknown_python_js_stops_the_build(site):
    pp.postprocess(site)
    ours = (site / "python.js").read_text()
    assert pp.EARLY_MARK in ours and "startWorker(EARLY_ARGS)" in ours
    pp.postprocess(site)  # a second pass keeps ours
    assert (site / "python.js").read_text() == ours
    (site / "python.js").write_text("// some other flet's python.js")
    with pytest.raises(pp.PostprocessError, match="python.js is not the one flet-web 1.0.5 ships"):
        pp.postprocess(site)
