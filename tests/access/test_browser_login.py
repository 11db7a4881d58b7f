"""A real browser (headless Chromium) signs in through the login form and opens a grid's map with
the cookie it was given; a map outside the user's scope is refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium not installed")


@pytest.fixture(scope="module")
def base_url(settings, api_world, make_app, serve_app) -> Iterator[str]:
    with serve_app(make_app(settings)) as url:
        yield url


def test_sign_in_form_then_map(base_url, api_world, password) -> None:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            target = f"/maps/grids/{api_world.g1}"
            page.goto(base_url + target)  # not signed in: sent to the form, and back afterwards
            assert page.url.startswith(f"{base_url}/login?next=")
            page.fill("input[name=username]", api_world.users["worker"].username)
            page.fill("input[name=password]", password)
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert page.url == base_url + target
            assert page.title() and "gridmap 登录" not in page.content()
            cookies = {c["name"]: c for c in page.context.cookies()}
            assert cookies["gridmap_token"]["httpOnly"] and cookies["gridmap_token"]["sameSite"] == "Strict"
            refused = page.goto(f"{base_url}/maps/grids/{api_world.g3}")
            assert refused is not None and refused.status == 403
        finally:
            browser.close()
