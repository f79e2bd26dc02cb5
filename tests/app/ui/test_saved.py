"""What the capture screen waits for before it shows a tap as saved (AppContext.saved over app.store.durability)."""
from __future__ import annotations

import asyncio

import pytest

from app.store import durability
from app.views.context import AppContext


@pytest.fixture(autouse=True)
def _uninstall():
    yield
    durability.uninstall()


def _context(device) -> tuple[AppContext, list[tuple[str, bool]]]:
    said: list[tuple[str, bool]] = []
    return AppContext(page=None, device=device, message=lambda text, error=False: said.append((text, error))), said


def test_on_a_desktop_saved_is_true_at_once(device, service, walk_id):
    ctx, said = _context(device)
    service.start_visit(walk_id, grade="4", subject="Math")  # a commit, already on disk
    assert asyncio.run(ctx.saved()) is True and said == []


def test_in_the_browser_a_failed_flush_is_said_and_saved_is_false(device, service, walk_id):
    ctx, said = _context(device)

    async def broken_flush():
        await asyncio.sleep(0.001)
        raise RuntimeError("QuotaExceededError")

    async def go():
        durability.install(broken_flush)
        service.start_visit(walk_id, grade="4", subject="Math")  # a commit: the flush after it fails
        return await ctx.saved()

    assert asyncio.run(go()) is False
    assert said == [("This visit could not be saved to the tablet's storage (QuotaExceededError); keep the app "
                     "open, free some space on the tablet, then tap again.", True)]
