"""Browser fixtures: the real app process in headless Debian Chromium (tests/support/browser.py)."""
from __future__ import annotations

from tests.support.browser import app_process, browser, ui_page  # noqa: F401 (fixtures used here)
from tests.support.server_fixtures import sync_server  # noqa: F401
