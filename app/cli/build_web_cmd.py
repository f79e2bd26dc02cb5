"""CLI face for the web build: the offline web app tablets install from a static folder (app/web/build.py)."""
from __future__ import annotations

from pathlib import Path

import typer

from app.cli_errors import speaks


@speaks
def build_web(
    out: Path = typer.Option(..., "--out", help="Folder to write the site into (replaced), e.g. build/pwa"),
    server_url: str | None = typer.Option(None, "--server-url", help="Server address the app's Settings offers "
                                          "before enrollment, e.g. https://walks.district.org"),
    cache: Path | None = typer.Option(None, "--cache", help="Folder keeping the downloaded wheels between "
                                      "builds (default: the user's cache folder)"),
) -> None:
    """Build the offline web app (Python in the browser) into a static folder to serve over HTTPS."""
    from app.web.build import build_web as build

    figures = build(out, server_url=server_url, cache=cache)
    compiled = "precompiled" if figures["pyc"] else "not precompiled (no Node on the PATH)"
    print(f"Built the learnwalk web app in {figures['out']}: {figures['mb']} MB, {figures['files']} files, "
          f"Python {compiled}, in {figures['seconds']} s. Serve that folder over HTTPS (docs/tablets.md).")
