"""CLI face for the device store: seed synthetic walks."""
from __future__ import annotations

from pathlib import Path

import typer

from app.cli._common import DataDir, open_device
from app.cli_errors import speaks


@speaks
def seed(data_dir: Path | None = DataDir,
         walks: int = typer.Option(3, "--walks", min=1, help="How many walks to record"),
         visits: int = typer.Option(40, "--visits", min=0, help="Visits per walk"),
         rubric: str = typer.Option("deeper-learning@1", "--rubric", help="Rubric as ID@VERSION, or ID for its "
                                    "newest version"),
         school: str | None = typer.Option(None, "--school", help="School id (default: this device's schools, "
                                           "or sample schools on a new device)"),
         seed: int = typer.Option(0, "--seed", help="Same seed, same content"),
         ) -> None:
    """Record realistic synthetic walks on this device (demos, training, benchmarks)."""
    from app.store.seed import seed as run_seed

    with open_device(data_dir) as device:
        summary = run_seed(device.capture, walks=walks, visits=visits, rubric_key=rubric, school_id=school,
                           seed=seed)
    print(summary.line())
