"""The pages of issue 16 part B in headless Chromium (network cut to 127.0.0.1) at a PC's 1366×768
and a phone's 390×844: the community admin adds a facility through the form; facilities, the check,
teams and honour lists show without horizontal scrolling on the phone, without console errors (CSP),
with tap targets of at least 40 px in the form."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

SIZES = {"pc": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
PAGES = ("/facilities", "/facilities/check", "/volunteers/teams", "/honours/lists")


@pytest.fixture(scope="module")
def base_url(settings, world, serve_app) -> Iterator[str]:
    from api.app import create_app

    with serve_app(create_app(settings)) as url:
        yield url


@pytest.mark.parametrize("size", list(SIZES))
def test_pages_on_pc_and_phone(browser, base_url, world, size) -> None:
    context = browser.new_context(viewport=SIZES[size], locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(
        "**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort()
    )
    try:
        page.goto(base_url + "/", wait_until="load")
        page.fill("input[name=username]", world["users"]["admin"])
        page.fill("input[name=password]", world["passwords"]["admin"])
        page.click("button[type=submit]")
        page.wait_for_url(base_url + "/", timeout=60_000)
        for path in PAGES:
            page.goto(base_url + path, wait_until="load")
            assert page.title(), path
            wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 0, f"{path} scrolls sideways by {wide} px at {size}"
        page.goto(base_url + "/facilities", wait_until="load")
        controls = ".facility-form input:not([type=hidden]), .facility-form select, .facility-form button"
        small = page.evaluate(
            "(q) => Array.from(document.querySelectorAll(q))"
            ".filter(e => e.getBoundingClientRect().height < 40).length",
            controls,
        )
        assert small == 0
        name = f"讲堂-{size}"
        page.select_option("select[name=kind]", "moral_lecture_hall")
        page.fill("input[name=name]", name)
        page.fill("input[name=lon]", str(world["x0"] + 0.007))
        page.fill("input[name=lat]", str(world["y0"] + 0.007))
        page.fill("input[name=owner_community]", world["a"])
        page.click(".facility-form button[type=submit]")
        page.wait_for_url(f"{base_url}/facilities#facility-*", timeout=60_000)
        assert page.locator("table.facilities", has_text=name).count() == 1
        assert errors == []
    finally:
        context.close()
