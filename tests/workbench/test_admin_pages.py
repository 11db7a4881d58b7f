"""The admin's pages and the pages around every other: the division check (划分检查) against the
JSON and the database, the audit log (审计日志) with its filters and scope, the error pages a browser
gets (HTML with the same status, JSON for API clients unchanged) and the sign-in form in Chinese
first. Pages are read with the standard library's HTML parser; figures are checked with SQL run
separately as the database owner."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser

import psycopg
import pytest
from fastapi.testclient import TestClient

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"accept": "application/json"}
# A community of a street of its own (far from the demo street): two grids that overlap in a strip
# and leave a gap in one corner; lon/lat boxes.
FAULTY = "431099901001"
COMMUNITY_BOX = (113.200, 25.900, 113.204, 25.904)
GRID_BOXES = {f"{FAULTY}001": (113.200, 25.900, 113.2022, 25.904),
              f"{FAULTY}002": (113.2018, 25.900, 113.204, 25.903)}


# --- reading pages ----------------------------------------------------------------------------------

@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag: str, **attrs: str) -> list[Node]:
        found = []
        for c in self.children:
            if isinstance(c, Node):
                if c.tag == tag and all(v in c.attrs.get(k, "").split() or c.attrs.get(k) == v
                                        for k, v in attrs.items()):
                    found.append(c)
                found += c.all(tag, **attrs)
        return found

    def one(self, tag: str, **attrs: str) -> Node:
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]


class Tree(HTMLParser):
    VOID = {"meta", "link", "input", "br", "img", "hr"}

    def __init__(self, text: str) -> None:
        super().__init__()
        self.root = Node("#root", {})
        self.stack = [self.root]
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(text: str) -> Node:
    return Tree(text).root


def _number(text: str) -> float:
    return float(text.replace(",", "").strip())


# --- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def faulty(database_url: str) -> Iterator[str]:
    """The faulty community, inserted as the owner and removed afterwards (other tests count communities)."""
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO community (code, name, street_name, geom) VALUES "
                     "(%s, '试验社区', '试验街道', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
                     [FAULTY, *COMMUNITY_BOX])
        for code, box in GRID_BOXES.items():
            conn.execute("INSERT INTO grid (code, community_code, name, geom) VALUES "
                         "(%s, %s, %s, ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
                         [code, FAULTY, f"试验网格{code[-1]}", *box])
    yield FAULTY
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM grid WHERE community_code = %s", [FAULTY])
        conn.execute("DELETE FROM community WHERE code = %s", [FAULTY])


# --- the division check page ------------------------------------------------------------------------

def _findings(page: Node) -> list[tuple[str, list[str], float]]:
    rows = page.one("table", **{"class": "findings"}).one("tbody", ).all("tr")
    return [(r.attrs["data-kind"], [s.text() for s in r.all("span", **{"class": "code"})],
             _number(r.one("td", **{"class": "area"}).text())) for r in rows if "data-kind" in r.attrs]


def test_division_page_shows_the_findings_of_the_json_and_the_database(signed_in, faulty, database_url):
    c = signed_in("admin")
    r = c.get(f"/communities/{faulty}/division", headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text[:500]
    page = parse(r.text)
    assert page.one("html").attrs["lang"] == "zh-CN"
    api = c.get(f"/communities/{faulty}/division", headers=JSON)
    assert api.headers["content-type"].startswith("application/json")
    expected = [(f["properties"]["kind"], f["properties"]["grids"], round(f["properties"]["area_m2"], 2))
                for f in api.json()["features"]]
    assert _findings(page) == expected
    # the same faults, measured by the owner with PostGIS directly
    with psycopg.connect(database_url) as conn:
        overlap, gap = conn.execute(
            """SELECT ST_Area(ST_Intersection(a.geom, b.geom)::geography),
                      ST_Area(ST_Difference(c.geom, ST_Union(a.geom, b.geom))::geography)
               FROM grid a, grid b, community c WHERE a.code = %s AND b.code = %s AND c.code = %s""",
            [*GRID_BOXES, faulty]).fetchone()
    kinds = {kind: area for kind, _, area in _findings(page)}
    assert set(kinds) == {"gap", "overlap"}
    assert kinds["overlap"] == pytest.approx(overlap, rel=1e-3)
    assert kinds["gap"] == pytest.approx(gap, rel=1e-3)
    assert overlap > 1000 and gap > 1000  # a strip of ~40 m × 330 m, a corner of ~200 m × 110 m
    rows = page.one("table", **{"class": "division-summary"}).all("tr")
    summary = {r.attrs["data-kind"]: int(r.one("td", **{"class": "count"}).text())
               for r in rows if "data-kind" in r.attrs}
    assert summary == {"gap": 1, "overlap": 1, "outside": 0}
    rows = page.one("table", **{"class": "findings"}).text()
    assert "缝隙" in rows and "交叉" in rows and "试验网格1" in rows


def test_division_page_draws_the_problems_on_a_local_map(signed_in, faulty):
    r = signed_in("admin").get(f"/communities/{faulty}/division", headers=HTML)
    nonce = re.search(r"script-src 'nonce-([^']+)'", r.headers["content-security-policy"]).group(1)
    page = parse(r.text)
    div = page.one("div", **{"class": "folium-map"})
    scripts = page.all("script")
    assert scripts and all(s.attrs.get("nonce") == nonce for s in scripts)
    # nothing from a CDN
    assert all(s.attrs["src"].startswith("/static/") for s in scripts if "src" in s.attrs)
    drawing = next(s.text() for s in scripts if "L.map(" in s.text() and f'"{div.attrs["id"]}"' in s.text())
    assert '"kind": "gap"' in drawing and '"kind": "overlap"' in drawing  # the hatched problems
    assert all(code in drawing for code in GRID_BOXES)  # the grids, with their codes on hover
    assert "division-problem" in drawing
    assert "<html" not in r.text[r.text.index("<main"):]  # one document: the map is in the page


def test_division_page_for_each_reader(signed_in, street, database_url):
    """The demo community: the admin of its street gets the unplaced households (as many as the owner
    counts) with links to them; a viewer the same faults but no households; another street: 403."""
    url = f"/communities/{street.community}/division"
    admin = parse(signed_in("street_admin").get(url, headers=HTML).text)
    with psycopg.connect(database_url) as conn:
        unplaced = conn.execute(
            """SELECT count(*) FROM household h JOIN community c ON c.code = %s
               WHERE h.placement <> 'inside'
                 AND (left(h.grid_code, 12) = c.code
                      OR (h.grid_code IS NULL AND ST_Intersects(h.geom, c.geom)))""",
            [street.community]).fetchone()[0]
    table = admin.all("table", **{"class": "unplaced"})
    assert len(table[0].one("tbody").all("tr") if table else []) == min(unplaced, 200)
    assert f"共 {unplaced} 户" in admin.text()
    viewer = signed_in("viewer").get(f"/communities/{street.community}/division", headers=HTML)
    assert viewer.status_code == 200
    assert "未落格住户" not in viewer.text and "/households/" not in viewer.text
    assert _findings(parse(viewer.text)) == _findings(admin)
    refused = signed_in("street_admin").get(f"/communities/{FAULTY}/division", headers=HTML)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert c_json(signed_in("street_admin"), f"/communities/{FAULTY}/division").status_code == 403


def c_json(c: TestClient, url: str, **params: str):
    return c.get(url, headers=JSON, params=params)


def test_division_page_downloads_and_bad_input(signed_in, faulty):
    c = signed_in("admin")
    geojson = c.get(f"/communities/{faulty}/division", params={"format": "geojson"}, headers=HTML)
    assert geojson.headers["content-type"].startswith("application/geo+json")
    assert len(geojson.json()["features"]) == 2
    for bad in ({"tolerance_m2": "-1"}, {"tolerance_m2": "x"}):
        r = c.get(f"/communities/{faulty}/division", params=bad, headers=HTML)
        assert r.status_code == 422 and "tolerance_m2" in r.text and "<nav" in r.text
    assert c.get("/communities/not-a-code/division", headers=HTML).status_code == 422
    assert c.get("/communities/431099901999/division", headers=HTML).status_code == 404


# --- the audit log page -----------------------------------------------------------------------------

def _ids(page: Node) -> list[int]:
    return [int(r.attrs["data-id"]) for r in page.one("table", **{"class": "audit-log"}).all("tr")
            if "data-id" in r.attrs]


def _total(page: Node) -> int:
    return int(re.search(r"共 (\d+) 条", page.one("p", **{"class": "total"}).text()).group(1))


@pytest.fixture(scope="module")
def entries(database_url: str, street) -> dict[str, str]:
    """Entries written as the owner: 60 about the demo street's grid, one about another street."""
    tag = uuid.uuid4().hex[:8]
    objects = {"own": f"test:own-{tag}", "other": f"test:other-{tag}"}
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO audit_log (action, object, area) SELECT 'export', %s, ARRAY[%s] "
                     "FROM generate_series(1, 60)", [objects["own"], street.grid])
        conn.execute("INSERT INTO audit_log (action, object, area) VALUES ('read', %s, ARRAY[%s])",
                     [objects["other"], f"{FAULTY}001"])
    return objects


def test_audit_page_pages_newest_first(signed_in, entries, database_url):
    c = signed_in("admin")
    first = parse(c.get("/audit", params={"object": entries["own"]}, headers=HTML).text)
    with psycopg.connect(database_url) as conn:
        owned = [r[0] for r in conn.execute("SELECT id FROM audit_log WHERE object = %s ORDER BY id DESC",
                                            [entries["own"]])]
    assert _total(first) == len(owned) == 60
    assert _ids(first) == owned[:50]
    after = first.one("a", rel="next").attrs["href"]
    assert "object=" in after and "page=2" in after  # the filter is kept
    second = parse(c.get(after, headers=HTML).text)
    assert _ids(second) == owned[50:] and not second.all("a", rel="next") and second.all("a", rel="prev")
    rows = first.one("table", **{"class": "audit-log"}).all("tr")
    assert all(r.one("td", **{"class": "action"}).text() == "导出" for r in rows if "data-id" in r.attrs)


def test_street_admin_sees_only_their_streets_entries(signed_in, street, entries, database_url):
    c = signed_in("street_admin")
    r = c.get("/audit", headers=HTML)
    assert r.status_code == 200
    page = parse(r.text)
    # the database policy, evaluated by the owner: every code of the area (or of the actor's scopes)
    # under the admin's street
    with psycopg.connect(database_url) as conn:
        visible = [row[0] for row in conn.execute(
            """SELECT id FROM audit_log WHERE
                 (cardinality(area) > 0
                  AND NOT EXISTS (SELECT 1 FROM unnest(area) a WHERE NOT starts_with(a, %(s)s)))
                 OR (cardinality(actor_scopes) > 0
                     AND NOT EXISTS (SELECT 1 FROM unnest(actor_scopes) a WHERE NOT starts_with(a, %(s)s)))
               ORDER BY id DESC""", {"s": street.street})]
        everything = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert _total(page) == len(visible) < everything
    assert _ids(page) == visible[:50]
    assert _total(parse(c.get("/audit", params={"object": entries["other"]}, headers=HTML).text)) == 0
    assert _total(parse(signed_in("admin").get("/audit", params={"object": entries["other"]},
                                               headers=HTML).text)) == 1
    for role in ("worker", "viewer"):
        refused = signed_in(role).get("/audit", headers=HTML)
        assert refused.status_code == 403 and "无权访问" in refused.text


def test_audit_filters_narrow(signed_in, street, entries, database_url):
    worker = signed_in("worker")
    found = worker.get("/households", params={"q": "a"}, headers=JSON).json()
    if found["items"]:
        worker.get(f"/households/{found['items'][0]['id']}", headers=JSON)  # an audited read
    c = signed_in("admin")
    name = street.users["worker"]
    by_user = parse(c.get("/audit", params={"username": name}, headers=HTML).text)
    who = {r.one("td", **{"class": "who"}).text() for r in by_user.all("tr") if "data-id" in r.attrs}
    with psycopg.connect(database_url) as conn:
        count = conn.execute("SELECT count(*) FROM audit_log WHERE username = %s", [name]).fetchone()[0]
        today = conn.execute("SELECT count(*) FROM audit_log WHERE at >= current_date "
                             "AND at < current_date + 1 AND action = 'export'").fetchone()[0]
    assert _total(by_user) == count and who <= {name}
    blank = {"username": "", "object": "", "since": "", "until": ""}  # as the form sends them
    d = date.today().isoformat()  # the test's and the database's clocks agree on the day (one machine)
    params = {**blank, "action": "export", "since": d, "until": d}
    day = parse(c.get("/audit", params=params, headers=HTML).text)
    assert _total(day) == today >= 60
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert _total(parse(c.get("/audit", params={"since": tomorrow}, headers=HTML).text)) == 0
    both = parse(c.get("/audit", params={"action": "read", "object": entries["own"]}, headers=HTML).text)
    assert _total(both) == 0  # the own entries are exports
    select = both.one("select", name="action")
    assert [o.text().strip() for o in select.all("option")] == [
        "全部", "查阅", "导出", "新增", "修改", "删除", "拒绝访问", "登录失败"]


def test_audit_bad_input_beside_the_field(signed_in):
    c = signed_in("admin")
    r = c.get("/audit", params={"since": "2024-13-40", "action": "steal"}, headers=HTML)
    assert r.status_code == 422
    page = parse(r.text)
    assert page.one("span", id="since-error").text() and page.one("span", id="action-error").text()
    r = c.get("/audit", params={"since": "2024-05-02", "until": "2024-05-01"}, headers=HTML)
    assert r.status_code == 422 and parse(r.text).one("span", id="until-error")
    assert c.get("/audit", params={"page": "0"}, headers=HTML).status_code == 422
    assert c.get("/audit", params={"page": "99999999999"}, headers=HTML).status_code == 422
    assert c.get("/audit", params={"username": "x" * 5000}, headers=HTML).status_code == 422
    assert c.get("/audit", headers=JSON).json()["entries"] is not None  # the API is still there


# --- error pages ------------------------------------------------------------------------------------

def _no_internals(text: str) -> None:
    for leak in ("Traceback", "SELECT ", "psycopg", 'File "', "site-packages"):
        assert leak not in text, leak


@pytest.mark.parametrize("case", ["404", "403", "422", "400", "unknown path"])
def test_error_pages_for_browsers_and_json_for_api_clients(signed_in, street, case):
    role, url = {"404": ("worker", "/households/999999999"),
                 "403": ("viewer", "/households/1"),
                 "422": ("worker", "/households/not-a-number"),
                 "400": ("worker", "/households?bogus=1"),
                 "unknown path": ("worker", "/no-such-page")}[case]
    status = 404 if case == "unknown path" else int(case)
    c = signed_in(role)
    browser = c.get(url, headers=HTML)
    assert browser.status_code == status and browser.headers["content-type"].startswith("text/html")
    page = parse(browser.text)
    assert page.one("html").attrs["lang"] == "zh-CN"
    assert page.one("section", **{"class": "error-page"}).attrs["data-status"] == str(status)
    assert page.one("header").one("span", **{"class": "user"}).text() == street.users[role]
    assert page.all("nav", **{"class": "menu"}) and any(a.attrs["href"] == "/" for a in page.all("a"))
    assert browser.headers["content-security-policy"] and browser.headers["cache-control"] == "no-store"
    _no_internals(browser.text)
    api = c.get(url, headers=JSON)
    plain = c.get(url)  # no Accept at all
    assert api.status_code == plain.status_code == status
    assert api.headers["content-type"] == "application/json"
    assert api.json() == plain.json() and set(api.json()) == {"detail", "errors"}
    assert api.json()["detail"] in browser.text.replace("&#39;", "'").replace("&#34;", '"')
    if case == "422":
        assert [e["field"] for e in api.json()["errors"]] == ["household_id"]
        assert page.one("td", **{"class": "field-name"}).text() == "household_id"


def test_error_pages_in_english_and_for_anonymous_browsers(app, signed_in):
    en = signed_in("worker").get("/households/999999999", params={"lang": "en"}, headers=HTML)
    assert en.status_code == 404 and "Not found" in en.text and "未找到" not in en.text
    signed_in("worker").get("/", params={"lang": "zh"})  # the choice is kept in a cookie: back to Chinese
    with TestClient(app, base_url="http://127.0.0.1") as anonymous:
        r = anonymous.get("/households", headers=HTML, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")  # unchanged
        missing = anonymous.get("/no-such-page", headers=HTML)
        assert missing.status_code == 404 and not parse(missing.text).all("nav", **{"class": "menu"})
        assert "未找到" in missing.text and 'href="/"' in missing.text
        english = anonymous.get("/no-such-page", headers={**HTML, "accept-language": "en"})
        assert "Not found" in english.text and "未找到" not in english.text
        # a write without a session (no body: a body is refused earlier, by api/upload_guard.py, as JSON)
        post = anonymous.post("/households/1", headers=HTML)
        assert post.status_code == 401 and post.headers["content-type"].startswith("text/html")
        assert post.headers["www-authenticate"] == "Bearer" and "请先登录" in post.text
        assert anonymous.post("/households/1", headers=JSON).json()["detail"].startswith("not authenticated")


def test_a_server_error_says_nothing_of_its_cause(app, street, password, monkeypatch):
    """A 500 for a browser is a page as bare as its JSON: no exception text, no SQL, no trace."""
    from api.workbench import audit as audit_pages

    def broken(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM app_user -- internal detail")

    monkeypatch.setattr(audit_pages, "_entries", broken)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        c.post("/login", data={"username": street.users["admin"], "password": password})
        page = c.get("/audit", headers=HTML)
        api = c.get("/audit", headers=JSON)
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "服务器内部错误" in page.text and page.headers["cache-control"] == "no-store"
    assert "internal detail" not in page.text and "RuntimeError" not in page.text
    _no_internals(page.text)
    assert api.status_code == 200  # the API's route was not broken


# --- the sign-in form -------------------------------------------------------------------------------

def test_login_page_chinese_first_english_on_request(app, street, password):
    with TestClient(app, base_url="http://127.0.0.1") as c:
        zh = c.get("/login", params={"next": "/audit"})
        page = parse(zh.text)
        assert page.one("html").attrs["lang"] == "zh-CN"
        form = page.one("form")
        assert form.attrs["method"] == "post" and form.attrs["action"] == "/login"
        assert {i.attrs["name"] for i in form.all("input")} == {"next", "username", "password"}
        assert form.one("input", name="next").attrs["value"] == "/audit"
        assert form.one("button").attrs["type"] == "submit" and form.one("button").text() == "登录"
        assert "Sign in" not in zh.text and "password" not in page.one("main").text().lower()
        switch = page.one("a", hreflang="en").attrs["href"]
        assert switch == "/login?next=%2Faudit&lang=en"
        en = c.get(switch)
        page = parse(en.text)
        assert page.one("html").attrs["lang"] == "en" and "Sign in" in en.text
        assert not re.search(r"[\u4e00-\u9fff]", page.one("main").text())  # no Chinese beside the English
        assert page.one("form").one("input", name="next").attrs["value"] == "/audit"
        worker = street.users["worker"]
        wrong = c.post("/login", data={"username": worker, "password": "nope", "next": "/audit"})
        assert wrong.status_code == 401 and "wrong" in wrong.text.lower()  # the cookie chose English
        assert parse(wrong.text).one("input", name="username").attrs["value"] == street.users["worker"]
        c.get("/login", params={"lang": "zh"})
        wrong = c.post("/login", data={"username": "nobody", "password": "nope"})
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
        ok = c.post("/login", data={"username": worker, "password": password, "next": "/audit"},
                    follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/audit"


# --- in a browser -----------------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["pc", "phone"])
def test_admin_pages_in_a_browser(browser, app, faulty, street, password, serve_app, size):
    """Headless Chromium, network cut: the division map draws its grids and problems with no console
    error (a CSP violation is one), the audit filter submits as a GET form, an error page shows; none
    scrolls sideways on a phone. Screenshots go to tests/workbench/artefacts/."""
    pytest.importorskip("playwright.sync_api")
    from tests.workbench.test_browser import Tab, sign_in

    wide = "() => document.documentElement.scrollWidth <= window.innerWidth"
    with serve_app(app) as base_url:
        t = Tab(browser, size)
        try:
            sign_in(t, base_url, street.users["admin"], password)
            t.page.goto(f"{base_url}/communities/{faulty}/division", wait_until="load")
            t.wait("() => document.querySelectorAll('.division-map path.division-problem').length == 2")
            paths = "() => document.querySelectorAll('.division-map path.leaflet-interactive').length"
            assert t.js(paths) >= 5  # the boundary, two grids, two problems
            assert t.js(wide), "the division page scrolls sideways"
            t.shot(f"division-{size}")
            t.page.goto(f"{base_url}/audit", wait_until="load")
            t.page.select_option("select[name=action]", "export")
            with t.page.expect_navigation():
                t.page.click(".audit-filter button[type=submit]")
            assert "action=export" in t.page.url
            assert t.js("() => [...document.querySelectorAll('td.action')]"
                        ".every(td => td.textContent == '导出')")
            assert t.js(wide), "the audit page scrolls sideways"
            t.shot(f"audit-{size}")
            assert t.errors == [] and t.blocked == [], (t.errors, t.blocked)
            missing = t.page.goto(f"{base_url}/households/999999999", wait_until="load")
            assert missing is not None and missing.status == 404
            assert t.page.locator(".error-page").count() == 1 and t.js(wide)
            t.shot(f"error-404-{size}")
            # the page's own status is the one console line: nothing it loads fails
            assert t.errors == ["Failed to load resource: the server responded with a status of 404 "
                                "(Not Found)"]
        finally:
            t.context.close()
