"""The user guide (使用说明) at /help: every role's guide renders in Chinese inside the workbench's
layout, every screenshot it names exists in api/workbench/guide/screens/ and is served as a PNG, every
link into the app is a route of the app (and opens for the role the guide is written for), and every
page's header links to the guide of the user's first role.

The Markdown is read here with regular expressions, independently of api/workbench/help.py's
markdown-it rendering, and the pages are parsed with html.parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.routing import Match, Mount

import api.workbench
from gis.access.roles import ROLES

GUIDE = Path(api.workbench.__file__).parent / "guide"
GUIDE_FILES = {"admin": "admin.md", "grid_worker": "grid_worker.md", "inspector": "inspector.md",
               "planner": "planner.md", "viewer": "viewer.md", "unit": "unit.md", "reporter": "reporter.md"}
# the test users (conftest.role_grants) of each guide's role
READERS = {"admin": "admin", "grid_worker": "worker", "inspector": "inspector", "planner": "planner",
           "viewer": "viewer", "unit": "unit", "reporter": "reporter"}
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
SCREENS_BUDGET = 3 * 1024 * 1024


class Page(HTMLParser):
    """What the tests look at in a page: <html lang>, the header's help link, the guide's article
    (its lang, images, links, headings), the <h1>."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang = ""
        self.help_href: str | None = None
        self.article_lang: str | None = None
        self.images: list[str] = []
        self.links: list[str] = []  # inside the article
        self.nav_links: list[str] = []  # the list of guides beside it
        self.h1 = ""
        self.h2: list[str] = []
        self.strong = 0
        self.tables = 0
        self.text: list[str] = []
        self._in: list[str] = []
        self._where: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "html":
            self.lang = a.get("lang") or ""
        elif tag == "a" and "help-link" in classes:
            self.help_href = a.get("href")
        elif tag == "article" and "guide" in classes:
            self.article_lang = a.get("lang")
            self._where = "article"
        elif tag == "nav" and "guides" in classes:
            self._where = "guides"
        elif tag == "strong" and self._where == "article":
            self.strong += 1
        elif tag == "table" and self._where == "article":
            self.tables += 1
        elif tag == "img" and self._where == "article":
            self.images.append(a.get("src") or "")
        elif tag == "a" and self._where == "article":
            self.links.append(a.get("href") or "")
        elif tag == "a" and self._where == "guides":
            self.nav_links.append(a.get("href") or "")
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if (tag, self._where) in (("article", "article"), ("nav", "guides")):
            self._where = None
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "h1":
            self.h1 += data
        elif self._in and self._in[-1] == "h2" and self._where == "article":
            self.h2.append(data)
        if self._where == "article":
            self.text.append(data)


def markdown(role: str) -> str:
    return (GUIDE / GUIDE_FILES[role]).read_text(encoding="utf-8")


def app_route_exists(app, path: str) -> bool:
    """Whether a GET of ``path`` reaches a route of the app (not a mount of static files)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "",
             "headers": [(b"accept", b"text/html")], "query_string": b""}
    return any(not isinstance(r, Mount) and r.matches(scope)[0] == Match.FULL for r in app.routes)


def test_a_guide_for_every_role():
    assert set(GUIDE_FILES) == set(ROLES)
    assert (GUIDE / "index.md").is_file()
    for name in GUIDE_FILES.values():
        assert (GUIDE / name).is_file(), name


@pytest.mark.parametrize("role", list(GUIDE_FILES))
def test_every_guide_renders_in_chinese(signed_in, role):
    c = signed_in(READERS[role])
    r = c.get(f"/help/{role}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    p = Page(r.text)
    assert p.lang == "zh-CN" and p.article_lang == "zh-CN"
    title = markdown(role).splitlines()[0].removeprefix("# ")
    assert p.h1 == title and "使用说明" in title
    # every second-level heading of the Markdown is a heading of the page, and nothing of the
    # Markdown's syntax is left in the text
    assert p.h2 == [h.removeprefix("## ") for h in markdown(role).splitlines() if h.startswith("## ")]
    text = "".join(p.text)
    assert "](" not in text and "| ---" not in text and not re.search(r"^\s*#", text, re.MULTILINE)
    # every **bold** of the Markdown is a <strong> of the page (a masked 186****1234 is no bold)
    assert p.strong == len(re.findall(r"\*\*[^*\s][^*]*?\*\*", markdown(role)))
    assert p.tables == markdown(role).count("\n| --- |")
    assert p.help_href == f"/help/{role}"  # the reader's first role is this guide's


@pytest.mark.parametrize("role", list(GUIDE_FILES))
def test_every_image_exists_and_is_served_as_png(app, signed_in, role):
    from fastapi.testclient import TestClient

    wanted = IMAGE.findall(markdown(role))
    assert wanted, f"the {role} guide shows no screenshot"
    for src in wanted:
        assert src.startswith("screens/") and src.endswith(".png"), src
        assert (GUIDE / src).is_file(), f"{src} named in {GUIDE_FILES[role]} does not exist"
    page = Page(signed_in(READERS[role]).get(f"/help/{role}").text)
    assert len(page.images) == len(wanted)
    with TestClient(app, base_url="http://127.0.0.1") as anonymous:  # the pictures hold no data
        for src, file in zip(page.images, wanted, strict=True):
            assert src.startswith("/static/") and src.endswith(file), (src, file)
            r = anonymous.get(src)
            assert r.status_code == 200 and r.headers["content-type"] == "image/png", src
            assert r.content == (GUIDE / file).read_bytes()
            assert r.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_screenshots_are_small():
    shots = list((GUIDE / "screens").glob("*.png"))
    assert shots
    assert sum(s.stat().st_size for s in shots) < SCREENS_BUDGET
    named = {m for name in [*GUIDE_FILES.values(), "index.md"]
             for m in IMAGE.findall((GUIDE / name).read_text(encoding="utf-8"))}
    unused = {f"screens/{s.name}" for s in shots} - named
    assert not unused, f"pictures no guide shows (they only weigh): {unused}"


@pytest.mark.parametrize("role", [*GUIDE_FILES, "index"])
def test_every_link_into_the_app_is_a_route(app, signed_in, role):
    text = (GUIDE / ("index.md" if role == "index" else GUIDE_FILES[role])).read_text(encoding="utf-8")
    links = LINK.findall(text)
    assert links
    into_app = [u for u in links if u.startswith("/")]
    others = [u for u in links if not u.startswith("/")]
    # the only other links are to the guides beside it (shown at /help/...)
    assert all(re.fullmatch(r"\w+\.md(#[\w-]+)?", u) and (GUIDE / u.split("#")[0]).is_file()
               for u in others), others
    for url in into_app:
        assert app_route_exists(app, urlsplit(url).path), f"{url} in {role} is no route of the app"
    # ... and each opens for a reader of that guide (a link in the guide never leads to a 403)
    reader = signed_in(READERS.get(role, "worker"))
    page = Page(reader.get("/help" if role == "index" else f"/help/{role}").text)
    assert {u for u in page.links if not u.startswith("/help")} >= set(into_app)
    for url in (u for u in page.links if u.startswith("/")):
        assert app_route_exists(app, urlsplit(url).path), url
        r = reader.get(url, headers={"accept": "text/html"})
        assert r.status_code == 200, (url, r.status_code)


@pytest.mark.parametrize("name", ["worker", "admin", "street_admin", "inspector", "planner", "viewer"])
def test_the_help_link_is_on_every_home_page(signed_in, street, name):
    from tests.workbench.conftest import role_grants

    c = signed_in(name)
    page = Page(c.get("/").text)
    roles = {role for role, _ in role_grants(street.grid)[name]}
    first = next(r for r in ROLES if r in roles)
    assert page.help_href == f"/help/{first}"
    r = c.get(page.help_href)
    assert r.status_code == 200 and Page(r.text).article_lang == "zh-CN"


def test_the_index_puts_the_users_own_roles_first(signed_in):
    page = Page(signed_in("planner").get("/help").text)
    assert page.lang == "zh-CN" and page.h1 == "使用说明"
    assert page.nav_links[0] == "/help" and page.nav_links[1] == "/help/planner"
    assert sorted(page.nav_links[1:]) == sorted(f"/help/{r}" for r in ROLES)
    assert page.links[0] == "/help/planner"  # the reader's own guide first in the text too
    # the index's table links every guide, as the Markdown does
    assert {f"/help/{r}" for r in ROLES} <= set(page.links)


def test_english_says_the_guide_is_chinese(signed_in):
    r = signed_in("viewer").get("/help/viewer?lang=en")
    assert r.status_code == 200
    page = Page(r.text)
    assert page.lang == "en" and page.article_lang == "zh-CN"
    assert "The user guide is written in Chinese only" in r.text
    assert page.h1 == "Guide for viewers"
    assert "本使用说明只有中文版" not in signed_in("viewer").get("/help/viewer?lang=zh").text


def test_anonymous_and_unknown(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as anonymous:
        r = anonymous.get("/help", headers={"accept": "text/html"}, follow_redirects=False)
        assert r.status_code in (303, 307) and r.headers["location"].startswith("/login")
        assert anonymous.get("/help/admin").status_code == 401
        # a role without a guide: not found (or refused, as any address the policy does not know)
        assert anonymous.get("/help/nobody").status_code in (401, 403, 404)


def test_raw_html_in_the_markdown_is_not_rendered():
    from api.workbench.help import _markdown, _target

    html = _markdown().render("<script>alert(1)</script>\n\n[x](javascript:alert(1))")
    assert "<script>" not in html and 'href="javascript:' not in html
    assert _target("screens/a.png") == "/static/guide/screens/a.png"
    assert _target("admin.md#s2") == "/help/admin#s2" and _target("index.md") == "/help"
    assert _target("/households") == "/households"


@pytest.fixture(scope="module")
def served(app, street, serve_app):
    with serve_app(app) as url:
        yield url


@pytest.mark.parametrize("size", ["pc", "phone"])
def test_the_guide_in_a_browser(browser, served, street, password, size):
    """From the home page's 帮助 to the worker's guide in headless Chromium (network cut): every
    picture loads, nothing scrolls sideways on the phone, the list of guides has tap-sized links, no
    console error (a CSP violation is one)."""
    import shutil

    from tests.conftest import CHROMIUM
    from tests.workbench.test_browser import Tab, sign_in

    if not shutil.which(CHROMIUM):
        pytest.skip("chromium not installed")
    t = Tab(browser, size)
    try:
        sign_in(t, served, street.users["worker"], password)
        with t.page.expect_navigation():
            t.page.click("header a.help-link")
        assert urlsplit(t.page.url).path == "/help/grid_worker"
        # the pictures below the fold are lazy: load them all
        t.js("() => Array.from(document.images).forEach(i => { i.loading = 'eager'; })")
        t.wait("() => Array.from(document.images).every(i => i.complete)")
        assert t.js("() => document.images.length") == len(IMAGE.findall(markdown("grid_worker")))
        assert t.js("() => Array.from(document.images).every(i => i.naturalWidth > 0)"), "a missing picture"
        assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        assert t.js("""() => Array.from(document.querySelectorAll('nav.guides a, nav.toc a, header a'))
            .every(a => a.getBoundingClientRect().height >= 40)""")
        t.shot(f"help-worker-{size}")
        with t.page.expect_navigation():
            t.page.click("nav.guides a[href='/help']")
        assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        t.clean()
    finally:
        t.context.close()
