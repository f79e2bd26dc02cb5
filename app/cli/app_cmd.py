"""CLI face for the Flet client and the demo."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from app.cli._common import DataDir, open_device, resolve_data_dir
from app.cli_errors import speaks
from app.store.integrity import StoreDamaged


def _has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


@speaks
def run_app(
    data_dir: Path = DataDir,
    web: bool = typer.Option(False, "--web", help="Serve the web client (always, when there is no display)"),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to serve on; 0.0.0.0 opens it to the network"),
    port: int = typer.Option(8550, "--port", min=1, max=65535, help="Port for the web client"),
) -> None:
    """Run the learnwalk app (web mode when there is no display)."""
    folder = resolve_data_dir(data_dir)
    try:
        open_device(folder).close()  # check the data folder before any server starts
    except StoreDamaged as exc:  # moved aside, a new store made: say so here, and the Walks screen says it too
        print(exc, file=sys.stderr, flush=True)
    from app.main import run

    web = web or not _has_display()
    if web:
        # flet reads these too; set them so nothing falls back to its defaults (0.0.0.0, CDN assets)
        os.environ["FLET_FORCE_WEB_SERVER"] = "true"
        os.environ["FLET_SERVER_IP"] = host
        os.environ["FLET_SERVER_PORT"] = str(port)
        os.environ["FLET_WEB_NO_CDN"] = "true"
        print(f"learnwalk app: open http://{host}:{port}/ (data in {folder})", file=sys.stderr, flush=True)
    run(folder, web=web, host=host, port=port)


@speaks
def demo(
    folder: Path = typer.Option(Path("var/demo"), "--dir", help="Folder for the demo's server and device data"),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port for the central server"),
    app_port: int = typer.Option(8550, "--app-port", min=1, max=65533,
                                 help="Port for the lead's tablet (the admin's tablet uses the next one, "
                                      "an observer's the one after)"),
) -> None:
    """Run the server and three tablets with a demo district, on embedded SQLite; Enter stops and starts the
    server (the tablets keep running: an offline rehearsal)."""
    from app.demo import DemoPorts, run_demo

    run_demo(folder, DemoPorts(server=port, app=app_port))
