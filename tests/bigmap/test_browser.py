"""The street map in headless Chromium with the internet cut off: it becomes interactive (grids drawn,
first data loaded, a click opens a popup), loads households and places for the view when zoomed in,
and its page stays small."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium not installed")
MAX_HTML_BYTES = 300_000  # 40 grids; the 2,000-grid street is measured in tests/bench_bigmap.py

# The pixel of the layer (in a list) nearest the map's centre: corners sit under the title box.
_NEAREST = """([list]) => {
    const s = window.gridmapStreet, m = s.map, box = m.getContainer().getBoundingClientRect();
    const centre = m.getSize().divideBy(2);
    let best = null;
    for (const layer of s[list].getLayers ? s[list].getLayers() : s[list]) {
        if (!layer.getLatLng) continue;
        const p = m.latLngToContainerPoint(layer.getLatLng());
        const d = p.distanceTo(centre);
        if (!best || d < best.d) best = {d: d, x: p.x + box.left, y: p.y + box.top};
    }
    return best && [best.x, best.y];
}"""


def _wait_until(page, expression: str, timeout_ms: int) -> None:
    """Polls a JS expression until true. Playwright's wait_for_function evaluates its predicate with
    eval(), which the page's Content-Security-Policy rightly refuses; evaluate() is not subject to it."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)


@pytest.fixture(scope="module")
def base_url(bigmap_settings, street, serve_app) -> Iterator[str]:
    from api.app import create_app

    with serve_app(create_app(bigmap_settings)) as url:
        yield url


def test_street_map_is_interactive_offline(base_url, street):
    blocked: list[str] = []
    errors: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        # The admin's login cookie: the page's own data requests carry it.
        context.add_cookies([{"name": "gridmap_token", "value": street.token, "url": base_url}])
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))

        def route(r) -> None:
            if urlparse(r.request.url).hostname == "127.0.0.1":
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        start = time.perf_counter()
        response = page.goto(f"{base_url}/maps/street/{street.code}", wait_until="commit")
        assert response is not None and response.status == 200
        _wait_until(page, "window.gridmapReady === true", 15_000)
        x, y = page.evaluate(_NEAREST, ["counts"])
        page.mouse.click(x, y)
        popup = page.wait_for_selector(".street-popup", timeout=5_000).inner_text()
        interactive = time.perf_counter() - start
        assert "住户 40 户" in popup
        assert interactive < 10, f"interactive after {interactive:.1f} s"
        assert len(response.body()) < MAX_HTML_BYTES

        # Zoomed in: the households and places of the view come from the app and are clickable.
        page.evaluate("void window.gridmapStreet.map.setView([28.302, 113.202], 17)")
        _wait_until(page, "window.gridmapStreet.households.getLayers().length > 0 && "
                          "window.gridmapStreet.places.getLayers().length > 0", 10_000)
        assert "住户" in page.locator("#street-status").inner_text()
        page.keyboard.press("Escape")
        x, y = page.evaluate(_NEAREST, ["households"])
        page.mouse.click(x, y)
        _wait_until(page, "!!document.querySelector('.street-popup') && "
                          "document.querySelector('.street-popup').innerText.includes('人口 ')", 5_000)
        # Zoomed out again: back to counts per grid, no household points left on the map.
        page.evaluate("void window.gridmapStreet.map.setZoom(13)")
        _wait_until(page, "window.gridmapStreet.places.getLayers().length === 0", 5_000)
        browser.close()
    assert blocked == []
    assert errors == []
