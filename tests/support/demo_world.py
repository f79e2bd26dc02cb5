"""The demo district built as `learnwalk demo` builds it (the server's own CLI, then four tablets syncing through a
real server process), without serving the tablets: for tests of what the demo's lead sees."""
from __future__ import annotations

from pathlib import Path

from app import demo
from tests.support import serverproc as harness


def build_demo(root: Path) -> Path:
    """Build the demo district under root; return the lead's tablet data folder (the server is stopped after)."""
    root.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{root / 'server.sqlite'}"
    facts = demo.build_directory(db_url)
    server = harness.ServerProc(db_url).start()
    try:
        demo.record_walks(root, server.url, facts)
    finally:
        server.stop()
    return root / "devices" / "lead"
