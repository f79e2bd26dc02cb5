"""CLI face for the sync client: enroll a device, run one sync round."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from app.cli._common import DataDir, open_device
from app.cli_errors import fail, speaks


def _sync_of(device):
    if device.sync is None:
        raise fail("Sync could not start on this device; everything stays on it and capture keeps working. "
                   "Run the command again; if it still fails, reinstall learnwalk.")
    return device.sync


@speaks
def enroll(data_dir: Path | None = DataDir,
           server: str = typer.Option(..., "--server", help="Server address, e.g. https://walks.district.org"),
           code: str = typer.Option(..., "--code", help="One-time enrollment code from your admin")) -> None:
    """Enroll this device with a one-time code from an admin; prints the device id."""
    with open_device(data_dir) as device:
        service = _sync_of(device)
        service.enroll(server, code)
        print(service.store.meta("device_id")["device_id"])


@speaks
def sync(data_dir: Path | None = DataDir,
         as_json: bool = typer.Option(False, "--json", help="Print the round's counts as JSON")) -> None:
    """Run one push+pull round with the server (exit 1 if it failed)."""
    with open_device(data_dir) as device:
        service = _sync_of(device)
        report = service.sync_once()
        status = service.status()
    if as_json:
        out = report.as_dict() | {"pending": status.pending,
                                  "rejected": [{"kind": r.kind, "record_id": r.record_id, "reason": r.reason}
                                               for r in status.rejected]}
        print(json.dumps(out))
    else:
        print(f"Pushed {report.applied} change(s) ({report.duplicate} already there, {report.rejected} rejected); "
              f"pulled {report.pulled}; {status.pending} pending, {len(status.rejected)} rejected on this device.")
