"""The built offline web app (learnwalk build-web) in headless Chromium: it starts, it starts again with its
static server gone, and a second tab refuses to open the store. Every request off loopback goes to a proxy
that refuses it; the app must not have asked for any."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.web.boot import ALREADY_OPEN
from tests.support.browser import by_id, focus_field
from tests.support.pwa import (StaticServer, pwa_browser, pwa_dist, site_with_server,  # noqa: F401 (fixtures)
                                static_site)

# each start boots Python in the browser: 8-15 s on a quiet 2-core machine, near a minute under a full suite's load
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


def test_the_built_app_shows_the_walks_screen_and_asks_nothing_of_the_internet(pwa_dist, static_site,
                                                                                pwa_browser, tmp_path):
    site = static_site(pwa_dist)
    browser = pwa_browser(tmp_path / "profile")
    page = browser.open(site.url)

    expect(by_id(page, "new-walk")).to_be_visible()
    expect(page.get_by_label("Settings", exact=True)).to_be_visible()
    # the page asked the browser to keep its storage (the answer is the browser's: headless says no)
    granted = page.evaluate("window.learnwalkStoragePersisted")
    assert isinstance(granted, bool)
    if granted:  # kept storage: no warning
        expect(by_id(page, "storage-warning")).to_have_count(0)
    else:  # refused: the Walks screen says the visits could be deleted, how many are unsent, and the fix
        warning = by_id(page, "storage-warning")
        expect(warning).to_contain_text("may delete the visits on this tablet")
        expect(warning).to_contain_text("No visit on this tablet is waiting to be sent.")
        expect(warning).to_contain_text("Add to Home Screen")
    page.get_by_label("Settings", exact=True).click()
    expect(page.get_by_label("Server address", exact=True)).to_be_visible()
    expect(page.get_by_text("Walks are kept in /data on this device.")).to_be_visible()
    assert browser.outside == []
    # what the worker cached is the whole site
    browser.wait_offline_ready(page)
    cached = set(page.evaluate("""async () => {
        const cache = await caches.open((await caches.keys()).find((k) => k.startsWith('learnwalk-')));
        return (await cache.keys()).map((r) => new URL(r.url).pathname.slice(1));
    }"""))
    on_disk = {p.relative_to(pwa_dist).as_posix() for p in pwa_dist.rglob("*") if p.is_file()}
    assert on_disk - {"flutter_service_worker.js"} <= cached


def test_a_site_built_for_a_server_offers_its_address_on_settings(pwa_dist, static_site, pwa_browser, tmp_path):
    site = static_site(site_with_server(pwa_dist, tmp_path / "site", "https://walks.district.org"))
    page = pwa_browser(tmp_path / "profile").open(site.url)
    page.get_by_label("Settings", exact=True).click()
    field = page.get_by_label("Server address", exact=True)
    focus_field(field)  # Flutter puts a field's text in the DOM only while it has focus
    expect(field).to_have_value("https://walks.district.org")


def test_with_its_server_stopped_the_app_reloads_from_the_service_worker(pwa_dist, pwa_browser, tmp_path):
    site = StaticServer(pwa_dist).start()
    browser = pwa_browser(tmp_path / "profile")
    try:
        page = browser.open(site.url)
        browser.wait_offline_ready(page)
    finally:
        site.stop()

    answered = []
    page.on("response", lambda r: answered.append(r.from_service_worker))
    page.reload(wait_until="commit")
    browser.open(site.url, page=page)
    expect(by_id(page, "new-walk")).to_be_visible()
    assert answered and all(answered)  # every file came from the worker's cache, none from the (gone) server

    browser.ctx.close()  # and after the browser itself was closed
    browser.launch()
    page = browser.open(site.url)
    expect(by_id(page, "new-walk")).to_be_visible()
    assert browser.outside == []


def test_a_second_tab_says_the_app_is_open_elsewhere_and_the_first_keeps_working(pwa_dist, static_site,
                                                                                pwa_browser, tmp_path):
    site = static_site(pwa_dist)
    browser = pwa_browser(tmp_path / "profile")
    first = browser.open(site.url)

    second = browser.open(site.url, until="already-open")
    expect(by_id(second, "already-open")).to_contain_text(ALREADY_OPEN)
    expect(by_id(second, "new-walk")).to_have_count(0)

    first.bring_to_front()
    by_id(first, "new-walk").click()
    expect(by_id(first, "start-walk")).to_be_visible(timeout=30_000)
    assert browser.outside == []
