"""The workbench over HTTP: each role's home page, its links, its figures against the database, the
sign-out with its CSRF token, the language switch, and the API viewers with local assets."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import psycopg
import pytest

from api.workbench.i18n import from_accept_language

ROLES = ["worker", "admin", "street_admin", "inspector", "planner", "viewer"]


class Page(HTMLParser):
    """The links, forms and text of a page, read by the standard library's parser."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict[str, str]] = []
        self.inputs: dict[str, str] = {}
        self.dd: list[str] = []
        self._in_dd = False
        self.lang = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a":
            self.links.append(a["href"])
        elif tag == "form":
            self.forms.append(a)
        elif tag == "input" and "name" in a:
            self.inputs[a["name"]] = a.get("value", "")
        elif tag == "html":
            self.lang = a.get("lang", "")
        self._in_dd = tag == "dd" or (self._in_dd and tag == "a")

    def handle_endtag(self, tag: str) -> None:
        if tag == "dd":
            self._in_dd = False

    def handle_data(self, data: str) -> None:
        if self._in_dd and data.strip():
            self.dd.append(data.strip())


@pytest.mark.parametrize("role", ROLES)
def test_every_link_on_the_home_page_answers_200(signed_in, role):
    c = signed_in(role)
    home = c.get("/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    page = Page(home.text)
    assert page.lang == "zh-CN"
    assert page.links, "a home page without links"
    for href in dict.fromkeys(page.links):
        if href.startswith("/?lang=") or href == "/?lang=en":
            continue
        r = c.get(href)
        assert r.status_code == 200, (role, href, r.status_code, r.text[:200])


def test_each_role_sees_only_its_menus(signed_in):
    menus = {role: Page(signed_in(role).get("/").text).links for role in ROLES}
    assert "/audit" in menus["admin"] and "/audit" not in menus["worker"]
    assert "/maps/perimeter" in menus["inspector"] and "/maps/roads" not in menus["inspector"]
    assert "/maps/roads" in menus["planner"] and "/maps/perimeter" not in menus["planner"]
    assert not any(h.startswith("/maps/grids/") for h in menus["viewer"])  # no register for a viewer
    assert not any(h.startswith(("/persons", "/households")) for h in menus["viewer"] + menus["inspector"])


def _sql_figures(database_url: str, grid: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """SELECT count(DISTINCT h.id), count(p.id),
                      count(p.id) FILTER (WHERE p.residence = 'registered'),
                      count(p.id) FILTER (WHERE p.residence = 'floating'),
                      count(k.person_id)
               FROM household h LEFT JOIN person p ON p.household_id = h.id
               LEFT JOIN key_person k ON k.person_id = p.id
               WHERE h.grid_code = %s""", [grid]).fetchone()
    assert row is not None
    return [str(n) for n in row]


def test_the_grid_workers_figures_are_those_of_the_database(signed_in, street, database_url):
    page = Page(signed_in("worker").get("/").text)
    # 户数, 人口, 户籍人口, 流动人口, 重点人员: the first five figures of her one grid
    assert page.dd[:5] == _sql_figures(database_url, street.grid)
    assert f"/maps/grids/{street.grid}" in page.links


def test_a_figure_the_user_cannot_count_whole_is_a_dash():
    from api.workbench.nav import counts_whole
    from gis.access.accounts import Grant, Principal

    worker = Principal(1, "w", (Grant("grid_worker", "431003001001001"),))
    assert counts_whole(worker, "431003001001001")
    assert not counts_whole(worker, "431003001001")  # her community: only her grid's share


def test_anonymous_goes_to_the_login_form_and_back_to_the_home_page(app, street, password):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as c:
        r = c.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F"
        assert 'name="next" value="/"' in c.get("/login").text  # the form's default target
        r = c.post("/login", data={"username": street.users["worker"], "password": password},
                   follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"


def test_sign_out_needs_the_csrf_token_and_revokes_the_token(app, signed_in):
    c = signed_in("planner")
    page = Page(c.get("/").text)
    assert page.forms[-1]["method"] == "post" and page.forms[-1]["action"] == "/logout"
    csrf = page.inputs["csrf_token"]
    assert re.fullmatch(r"[0-9a-f]{64}", csrf)
    token = c.cookies["gridmap_token"]
    # The cookie alone (a cross-site form) signs nobody out; a wrong token is refused.
    alone = c.post("/logout", follow_redirects=False)
    assert alone.status_code == 303 and "gridmap_token" not in alone.headers.get("set-cookie", "")
    assert c.post("/logout", data={"csrf_token": "0" * 64}, follow_redirects=False).status_code == 403
    assert c.post("/logout", data={"csrf_token": csrf[:-1]}, follow_redirects=False).status_code == 403
    assert c.get("/").status_code == 200  # still signed in
    r = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    c.cookies.set("gridmap_token", token)  # the old cookie, kept by an attacker
    r = c.get("/", headers={"Accept": "text/html"}, follow_redirects=True)
    assert r.url.path == "/login" and "<form" in r.text
    assert c.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_english_by_switch_cookie_or_accept_language(signed_in):
    c = signed_in("admin")
    zh = c.get("/")
    assert "退出登录" in zh.text and "Sign out" not in zh.text
    en = c.get("/?lang=en")
    assert en.status_code == 200 and Page(en.text).lang == "en"
    assert "Sign out" in en.text and "Households" in en.text
    assert "退出登录" not in en.text and "户数" not in en.text  # never both languages side by side
    assert "gridmap_lang=en" in en.headers["set-cookie"]
    assert "Sign out" in c.get("/").text  # the choice is kept
    c.cookies.delete("gridmap_lang")
    assert "Sign out" in c.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    assert "退出登录" in c.get("/", headers={"Accept-Language": "en;q=0.5,zh-CN;q=0.9"}).text
    assert c.get("/?lang=fr").status_code == 422


@pytest.mark.parametrize(("header", "lang"), [
    ("", "zh"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-US,en;q=0.9", "en"), ("fr, en;q=0.4", "en"),
    ("en;q=0.3, zh;q=0.3", "en"), ("zh;q=0.3, en;q=0.3", "zh"), ("de", "zh"), ("en;q=bad", "zh")])
def test_accept_language(header, lang):
    assert from_accept_language(header) == lang


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_viewers_use_local_assets_only(app, path):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        r = c.get(path)
        assert r.status_code == 200
        assert not re.search(r"https?://", " ".join(re.findall(r'(?:src|href)="([^"]*)"', r.text)))
        policy = r.headers["content-security-policy"]
        assert "http" not in policy and "cdn" not in policy
        nonce = re.search(r"'nonce-([^']+)'", policy)
        assert nonce and r.text.count("<script") == r.text.count(f'<script nonce="{nonce.group(1)}"') > 0
        for asset in re.findall(r'(?:src|href)="(/static/docs/[^"]+)"', r.text):
            got = c.get(asset)
            assert got.status_code == 200 and len(got.content) > 1000, asset
