"""The workbench in headless Chromium with the network cut (only the app on 127.0.0.1 answers), at an
office PC's 1366×768 and a phone's 390×844: each role signs in at /login and lands on its home page
with no console error (a CSP violation is one), every link of the page answers 200, nothing scrolls
sideways on the phone, tap targets are at least 40 px; signing out revokes the token; /docs draws
the operations with its local Swagger UI. Screenshots go to tests/workbench/artefacts/ (gitignored)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import CHROMIUM

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM) and not os.environ.get("CI"),
                                reason="chromium not installed")
ARTEFACTS = Path(__file__).parent / "artefacts"
GUIDE_SCREENS = Path(__file__).parents[2] / "api" / "workbench" / "guide" / "screens"
SIZES = {"pc": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
ROLES = ["worker", "admin", "inspector", "planner", "viewer", "unit", "reporter"]


@pytest.fixture(scope="module")
def base_url(app, street, serve_app) -> Iterator[str]:
    with serve_app(app) as url:
        yield url


class Tab:
    """A page in a fresh context whose requests off 127.0.0.1 are aborted and whose console errors,
    page errors and blocked requests are kept."""

    def __init__(self, browser, size: str) -> None:
        self.context = browser.new_context(viewport=SIZES[size], locale="zh-CN")  # a Chinese PC
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r) -> None:
            if urlparse(r.request.url).hostname == "127.0.0.1":
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)

    def js(self, script: str):
        return self.page.evaluate(script)

    def wait(self, predicate: str, timeout_s: float = 20) -> None:
        """Polls a JS predicate (wait_for_function evaluates with eval(), which the CSP refuses)."""
        deadline = time.monotonic() + timeout_s
        while not self.js(predicate):
            assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
            self.page.wait_for_timeout(100)

    def shot(self, name: str) -> None:
        ARTEFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)

    def guide_shot(self, name: str, scroll_to: str | None = None) -> None:
        """A screenshot for the user guide (使用说明): what the screen shows (not the whole page), kept
        with the artefacts, and written to api/workbench/guide/screens/NAME.png when
        GRIDMAP_GUIDE_SHOTS=1 (so that a test run does not rewrite the guide's pictures), made small
        with pngquant where it is installed. ``scroll_to``: a selector brought into view first."""
        if scroll_to:
            self.page.locator(scroll_to).first.scroll_into_view_if_needed()
        ARTEFACTS.mkdir(exist_ok=True)
        path = ARTEFACTS / f"guide-{name}.png"
        self.page.screenshot(path=str(path))
        if os.environ.get("GRIDMAP_GUIDE_SHOTS") != "1":
            return
        target = GUIDE_SCREENS / f"{name}.png"
        pngquant = shutil.which("pngquant")
        if pngquant:
            subprocess.run([pngquant, "--quality", "50-85", "--speed", "1", "--strip", "--force",
                            "--output", str(target), str(path)], check=True)
        else:
            shutil.copyfile(path, target)

    def clean(self) -> None:
        assert self.errors == [] and self.blocked == []


@pytest.fixture
def tab(browser) -> Iterator:
    tabs: list[Tab] = []

    def make(size: str) -> Tab:
        tabs.append(Tab(browser, size))
        return tabs[-1]

    yield make
    for t in tabs:
        t.context.close()


def sign_in(t: Tab, base_url: str, username: str, password: str) -> None:
    t.page.goto(base_url + "/", wait_until="load")
    assert urlparse(t.page.url).path == "/login"
    t.page.fill("input[name=username]", username)
    t.page.fill("input[name=password]", password)
    t.page.click("button[type=submit]")
    # the post answers 303 to "/": wait for that page itself (a loaded machine may first report the
    # navigation of the form's own post)
    t.page.wait_for_url(base_url + "/", timeout=60_000)


_TARGETS = "header a, header button, nav a, .links a, dd a"
_SMALL_TARGETS = "() => Array.from(document.querySelectorAll('" + _TARGETS + """'))
    .map(e => [e.textContent.trim(), e.getBoundingClientRect()])
    .filter(([, r]) => r.height < 40 || r.width < 40).map(([t, r]) => `${t} ${r.width}x${r.height}`)"""


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("role", ROLES)
def test_home_page_of_each_role(tab, base_url, street, password, role, size):
    t = tab(size)
    sign_in(t, base_url, street.users[role], password)
    assert t.js("() => document.documentElement.lang") == "zh-CN"
    assert t.page.locator("header .user").text_content() == street.users[role]
    assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    assert t.js(_SMALL_TARGETS) == []
    t.shot(f"home-{role}-{size}")
    t.guide_shot(f"home-{role}-{size}")
    links = t.js("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    assert links
    for href in dict.fromkeys(links):
        r = t.context.request.get(href)
        assert r.status == 200, (href, r.status)
    t.clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_sign_out_revokes_the_token(tab, base_url, street, password, size):
    t = tab(size)
    sign_in(t, base_url, street.users["worker"], password)
    cookie = next(c for c in t.context.cookies() if c["name"] == "gridmap_token")
    with t.page.expect_navigation():
        t.page.click("form.signout button[type=submit]")
    assert urlparse(t.page.url).path == "/login"
    t.context.add_cookies([cookie])  # the old cookie, put back
    t.page.goto(base_url + "/", wait_until="load")
    assert urlparse(t.page.url).path == "/login" and t.page.locator("input[name=password]").count() == 1
    t.clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_english_page(tab, base_url, street, password, size):
    t = tab(size)
    sign_in(t, base_url, street.users["worker"], password)
    with t.page.expect_navigation():
        t.page.click("a.lang")
    assert t.js("() => document.documentElement.lang") == "en"
    assert "Sign out" in (t.page.locator("form.signout").text_content() or "")
    assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth")
    t.shot(f"home-worker-en-{size}")
    t.clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_api_docs_offline(tab, base_url, size):
    t = tab(size)
    t.page.goto(base_url + "/docs", wait_until="load")
    t.wait("() => document.querySelectorAll('.opblock').length > 20")
    assert t.js("() => !!document.querySelector('.opblock-summary-path[data-path=\"/stats\"]')")
    t.shot(f"docs-{size}")
    t.clean()
    t.page.goto(base_url + "/redoc", wait_until="load")
    t.wait("() => document.querySelectorAll('[data-section-id^=\"operation/\"]').length > 20")
    t.clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_grid_worker_changes_a_households_phone(tab, base_url, street, password, database_url, size):
    """The grid worker's journey: sign in, search by the head's name, open the household, change
    the head's phone through the form, and see it saved (masked) on the page."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        household, head = conn.execute(
            "SELECT h.id, p.name FROM household h JOIN person p ON p.household_id = h.id "
            "WHERE h.grid_code = %s AND p.relation = 'head' ORDER BY h.id DESC LIMIT 1",
            [street.grid]).fetchone()
    t = tab(size)
    sign_in(t, base_url, street.users["worker"], password)
    with t.page.expect_navigation():
        t.page.click("#grid-worker a[href='/households']")
    t.page.fill("input[type=search][name=q]", head)
    with t.page.expect_navigation():
        t.page.click("form.search button[type=submit]")
    assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    if size == "phone":
        t.guide_shot("households-search-phone")
    with t.page.expect_navigation():
        t.page.click(f".results a[href='/households/{household}']")
    if size == "phone":
        t.guide_shot("household-phone")
    phone = "1860000" + ("1234" if size == "pc" else "5678")
    t.page.fill("input[name=phone]", phone)
    if size == "phone":
        t.guide_shot("household-edit-phone", scroll_to="form.edit button[type=submit]")
    with t.page.expect_navigation():
        t.page.click("form.edit button[type=submit]")
    assert urlparse(t.page.url).path == f"/households/{household}"
    assert t.page.locator(".facts .phone").text_content() == phone[:3] + "****" + phone[-4:]
    assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    assert t.js("""() => Array.from(document.querySelectorAll(
        'form.edit input:not([type=hidden]), form.edit button'))
        .every(e => e.getBoundingClientRect().height >= 40)""")
    t.shot(f"household-worker-{size}")
    t.clean()


def test_login_page_for_the_guide(tab, base_url, street):
    """The sign-in page as the user guide shows it (phone), the username typed in."""
    t = tab("phone")
    t.page.goto(base_url + "/login", wait_until="load")
    t.page.fill("input[name=username]", street.users["worker"])
    t.page.fill("input[name=password]", "************")
    t.guide_shot("login-phone")
    t.clean()
