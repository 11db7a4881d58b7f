"""The maps in a real browser (headless Chromium) with the internet cut off.

Served: the app runs under uvicorn on 127.0.0.1 and every request elsewhere is aborted and recorded.
File: the CLI's single-file map opened via file:// with every network request aborted.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.conftest import CHROMIUM

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium not installed")


@pytest.fixture(scope="module")
def base_url(settings, map_fixture, serve_app) -> Iterator[str]:
    from api.app import create_app

    with serve_app(create_app(settings)) as url:
        yield url


class Watched:
    """A page whose requests outside ``allowed`` are aborted and recorded, and whose JS errors are kept."""

    def __init__(self, browser, allowed) -> None:
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r):
            if allowed(r.request.url):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)

    def count(self, selector: str) -> int:
        return self.page.locator(selector).count()


def _check_map(w: Watched) -> None:
    page = w.page
    page.wait_for_selector("path.leaflet-interactive", timeout=15_000)
    page.wait_for_selector(".hh, .marker-cluster", timeout=15_000)
    assert w.count("path.leaflet-interactive") >= 3  # the grid polygons (and rings)
    assert w.count(".leaflet-marker-icon.hh") + w.count(".marker-cluster") > 0
    assert page.locator(".grid-label").first.inner_text().startswith("西区网格")
    # A layer toggle: untick the floating population (流动人口) overlay, then tick it again.
    rings = w.count("path.tag-floating")
    assert rings > 0
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="流动人口").locator("input")
    toggle.uncheck()
    assert w.count("path.tag-floating") == 0
    toggle.check()
    assert w.count("path.tag-floating") == rings
    # A popup is the register entry, masked.
    page.locator(".leaflet-marker-icon.hh").first.click(force=True)
    popup = page.wait_for_selector(".hh-popup", timeout=5_000).inner_text()
    assert "户主" in popup and "********" in popup and "139****" in popup
    # Printed: the controls go, the title box and the legend stay.
    page.emulate_media(media="print")
    assert page.locator(".leaflet-control-layers").is_hidden()
    assert page.locator(".gridmap-title").is_visible() and page.locator(".gridmap-legend").is_visible()


def signed_in(w: Watched, base_url: str, token: str) -> Watched:
    """The login cookie a browser gets from /login (or POST /auth/token), set on the page's context."""
    w.page.context.add_cookies([{"name": "gridmap_token", "value": token, "url": base_url}])
    return w


def test_served_grid_map_works_without_internet(browser, base_url, map_fixture, admin_token):
    w = signed_in(Watched(browser, lambda url: urlparse(url).hostname == "127.0.0.1"), base_url, admin_token)
    response = w.page.goto(f"{base_url}/maps/grids/{map_fixture.grids[0]}", wait_until="load")
    assert response is not None and response.status == 200
    _check_map(w)
    assert w.blocked == []
    assert w.errors == []
    w.page.close()


def test_cli_file_opens_with_all_network_cut(browser, database_url, map_fixture, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from api.cli import app

    monkeypatch.setenv("GRIDMAP_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "grid.html"
    result = CliRunner().invoke(app, ["map", "grid", map_fixture.grids[0], "-o", str(out)])
    assert result.exit_code == 0, result.output
    w = Watched(browser, lambda url: url.startswith(("file:", "data:")))
    w.page.goto(out.as_uri(), wait_until="load")
    _check_map(w)
    assert w.blocked == []
    assert w.errors == []
    w.page.close()


def test_served_community_map_draws_the_hatched_problems(browser, base_url, map_fixture, admin_token):
    w = signed_in(Watched(browser, lambda url: urlparse(url).hostname == "127.0.0.1"), base_url, admin_token)
    w.page.goto(f"{base_url}/maps/communities/{map_fixture.community}", wait_until="load")
    w.page.wait_for_selector("path.leaflet-interactive", timeout=15_000)
    hatched = w.page.locator('path[fill="url(#gridmap-hatch)"]')
    assert hatched.count() == 1  # the 20 m gap between grids 001 and 003
    assert w.blocked == [] and w.errors == []
    w.page.close()
