"""CLI face for exports of synced data."""
from __future__ import annotations

from app.cli._common import not_built


def export() -> None:
    """Export synced walk data (CSV, wide CSV, XLSX, JSONL)."""
    raise not_built("learnwalk export")
