"""The 四清 dashboard (四清看板), the lists behind its figures and the grid worker's home lists, each
checked against the database counted separately as its owner (no row-level security), the exported
workbook read back with openpyxl, and the pages parsed with the standard library's HTML parser.

Also attacked: another grid's worker, a viewer (counts, never rows), bad input (a 4xx, never a 500)."""

from __future__ import annotations

import io
import re
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from openpyxl import load_workbook

from tests.workbench.conftest import PASSWORD

HTML = {"Accept": "text/html"}
CJK = re.compile(r"[\u4e00-\u9fff]")


class Doc(HTMLParser):
    """What the tests read from a page: figure rows (data-figure: text and link), SVG bars, list rows
    (data-person, data-household), totals (data-total), the attention lists and every link."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.figures: dict[str, dict] = {}  # first table of figures by key
        self.grid_cells: dict[tuple[str, str], dict] = {}  # (grid, key) of a community's grids table
        self.bars: list[list[str]] = []  # per <svg class="chart">: the data-figure of each bar
        self.tables: list[list[str]] = []  # per figures table: its keys in order
        self.rows: list[str] = []  # data-person / data-household of list rows
        self.totals: list[int] = []
        self.lists: dict[str, dict] = {}  # attention lists: key -> {total, persons, names}
        self.iframes: list[str] = []
        self.scripts = 0
        self._figure: dict | None = None
        self._grid: str | None = None
        self._list: str | None = None
        self._strong = False
        self._td = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "td":
            self._td = True
        if tag == "a":
            self.links.append(a["href"])
            if self._figure is not None:
                self._figure["href"] = a["href"]
        if tag == "script":
            self.scripts += 1
        if tag == "iframe":
            self.iframes.append(a["src"])
        if tag == "table" and "figures-table" in a.get("class", ""):
            self.tables.append([])
        if tag == "tr" and "data-grid" in a:
            self._grid = a["data-grid"]
        if tag == "tr" and "data-figure" in a:
            self._figure = {"text": "", "href": None}
            self.figures.setdefault(a["data-figure"], self._figure)
            self.tables[-1].append(a["data-figure"])
        if tag == "td" and "data-figure" in a and self._grid:
            self._figure = {"text": "", "href": None}
            self.grid_cells[(self._grid, a["data-figure"])] = self._figure
        if tag == "svg" and "chart" in a.get("class", ""):
            self.bars.append([])
        if tag == "rect" and "bar" in a.get("class", "").split():
            self.bars[-1].append(a["data-figure"])
        if tag in ("tr", "li") and "data-person" in a:
            self.rows.append(a["data-person"])
            if self._list is not None:
                self.lists[self._list]["persons"].append(int(a["data-person"]))
        if tag == "tr" and "data-household" in a:
            self.rows.append(a["data-household"])
        if "data-total" in a:
            self.totals.append(int(a["data-total"]))
            if self._list is not None and "total" not in self.lists[self._list]:
                self.lists[self._list]["total"] = int(a["data-total"])
        if tag == "details" and "data-list" in a:
            self._list = a["data-list"]
            self.lists[self._list] = {"persons": [], "names": []}
        if tag == "strong" and self._list is not None:
            self._strong = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._td = False
        if tag == "tr" or tag == "td" and self._grid:
            self._figure = None
        if tag == "tr":
            self._grid = None
        if tag == "details":
            self._list = None
        if tag == "strong":
            self._strong = False

    def handle_data(self, data: str) -> None:
        if self._figure is not None and self._td and data.strip():
            self._figure["text"] += data.strip()
        if self._strong and self._list is not None:
            self.lists[self._list]["names"].append(data.strip())


# ---------------------------------------------------------------- the figures, counted as the owner

FIGURES_SQL = """
WITH h AS (SELECT * FROM household WHERE grid_code = ANY(%(grids)s)),
     p AS (SELECT p.*, k.category FROM person p JOIN h ON h.id = p.household_id
           LEFT JOIN key_person k ON k.person_id = p.id)
SELECT
  (SELECT count(*) FROM h) AS households,
  (SELECT count(*) FROM h WHERE placement = 'border') AS border_households,
  (SELECT count(*) FROM p) AS persons,
  (SELECT count(*) FROM p WHERE residence = 'registered') AS registered,
  (SELECT count(*) FROM p WHERE residence = 'floating') AS floating,
  (SELECT count(*) FROM p WHERE category IS NOT NULL) AS key_persons,
  (SELECT count(*) FROM p WHERE poverty IS NOT NULL) AS poverty_persons,
  (SELECT count(DISTINCT household_id) FROM p WHERE poverty IS NOT NULL) AS poverty_households,
  (SELECT count(*) FROM p WHERE elderly_alone) AS elderly_alone,
  (SELECT count(*) FROM p WHERE disabled) AS disabled,
  (SELECT count(*) FROM p WHERE activist) AS activists,
  (SELECT count(*) FROM p WHERE volunteer) AS volunteers,
  (SELECT jsonb_object_agg(e, (SELECT count(*) FROM p WHERE coalesce(p.employment, 'unknown') = e))
   FROM unnest(ARRAY['employed', 'unemployed', 'retired', 'student', 'preschool', 'other', 'unknown']) e)
   AS employment,
  (SELECT jsonb_object_agg(c.code, (SELECT count(*) FROM p WHERE p.category = c.code))
   FROM key_person_category c) AS categories,
  (SELECT jsonb_object_agg(s.code, jsonb_build_object(
       'persons', (SELECT count(*) FROM p WHERE p.poverty = s.code),
       'households', (SELECT count(DISTINCT household_id) FROM p WHERE p.poverty = s.code)))
   FROM poverty_status s) AS statuses
"""


def owner_figures(database_url: str, grids: list[str]) -> dict[str, int]:
    """Every figure of the dashboard for these grids, by its key, counted as the database's owner."""
    with psycopg.connect(database_url) as conn:
        cur = conn.execute(FIGURES_SQL, {"grids": grids})
        row = cur.fetchone()
        assert row is not None and cur.description is not None
        named = dict(zip([c.name for c in cur.description], row, strict=True))
    out = {k: v for k, v in named.items() if isinstance(v, int)}
    out.update({f"employment.{k}": v for k, v in named["employment"].items()})
    out.update({f"key_persons_by_category.{k}": v for k, v in named["categories"].items()})
    for status, v in named["statuses"].items():
        out[f"poverty_by_status.{status}.persons"] = v["persons"]
        out[f"poverty_by_status.{status}.households"] = v["households"]
    return out


def grids_of(database_url: str, community: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute("SELECT code FROM grid WHERE community_code = %s ORDER BY code",
                                           [community])]


@pytest.fixture(scope="module", autouse=True)
def tagged(street, database_url) -> None:
    """People needing attention in the worker's grid and in a neighbour's (the demo street has few):
    key persons of two categories, poor, elderly alone, disabled, and enough floating persons that
    her home page list is cut at 20."""
    with psycopg.connect(database_url) as conn:
        for grid, n in ((street.grid, 24), (next(g for g in grids_of(database_url, street.community)
                                                 if g != street.grid), 6)):
            households = [r[0] for r in conn.execute(
                "SELECT id FROM household WHERE grid_code = %s ORDER BY id LIMIT 4", [grid])]
            for i in range(n):
                (pid,) = conn.execute(
                    """INSERT INTO person (household_id, name, relation, residence, poverty, elderly_alone,
                                           disabled)
                       VALUES (%s, %s, 'other', %s, %s, %s, %s) RETURNING id""",
                    [households[i % len(households)], f"关注{grid[-2:]}号{i}", "floating",
                     ("dibao", "tekun", None)[i % 3], i % 4 == 0, i % 5 == 0]).fetchone()
                if i % 3 == 1:
                    conn.execute("INSERT INTO key_person (person_id, category) VALUES (%s, %s)",
                                 [pid, ("petitioner", "released_prisoner")[i % 2]])
        conn.commit()


@pytest.fixture(scope="module")
def neighbour(street, database_url) -> tuple[str, str]:
    """Another grid of the worker's community and a grid worker of that grid: (grid, username)."""
    grid = next(g for g in grids_of(database_url, street.community) if g != street.grid)
    username = f"wb-neighbour-{uuid.uuid4().hex[:6]}"
    from gis.access import accounts

    with psycopg.connect(database_url) as conn:
        accounts.create_user(conn, username, PASSWORD)
        accounts.grant(conn, username, "grid_worker", grid)
        conn.commit()
    return grid, username


@pytest.fixture(scope="module")
def neighbour_client(app, neighbour):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as c:
        r = c.post("/login", data={"username": neighbour[1], "password": PASSWORD, "next": "/"},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
        yield c


def _page(client, path: str) -> Doc:
    r = client.get(path, headers=HTML)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html"), path
    return Doc(r.text)


# ---------------------------------------------------------------- figures

def test_grid_dashboard_figures_equal_the_owners_count(signed_in, street, database_url):
    doc = _page(signed_in("worker"), f"/grids/{street.grid}/dashboard")
    expected = owner_figures(database_url, [street.grid])
    shown = {k: v["text"] for k, v in doc.figures.items()}
    assert shown == {k: str(expected[k]) for k in shown}
    assert set(shown) == set(expected)  # every figure of the statistics is on the page
    assert sum(expected.values()) > 0 and expected["key_persons"] > 0  # the demo street has tagged people


def test_community_dashboard_figures_equal_the_owners_count(signed_in, street, database_url):
    doc = _page(signed_in("street_admin"), f"/communities/{street.community}/dashboard")
    grids = grids_of(database_url, street.community)
    expected = owner_figures(database_url, grids)
    assert {k: v["text"] for k, v in doc.figures.items()} == {k: str(v) for k, v in expected.items()}
    for grid in grids:  # the table of its grids
        per_grid = owner_figures(database_url, [grid])
        for key in ("households", "persons", "floating", "key_persons", "poverty_persons"):
            assert doc.grid_cells[(grid, key)]["text"] == str(per_grid[key]), (grid, key)


# ---------------------------------------------------------------- drill-down

def _total(client, href: str) -> tuple[int, list[str]]:
    doc = _page(client, href)
    assert len(doc.totals) == 1, href
    return doc.totals[0], doc.rows


@pytest.mark.parametrize("user", ["worker", "street_admin"])
def test_every_figure_opens_a_list_page_of_as_many_rows(signed_in, street, user):
    c = signed_in(user)
    path = {"worker": f"/grids/{street.grid}/dashboard",
            "street_admin": f"/communities/{street.community}/dashboard"}[user]
    doc = _page(c, path)
    linked = {k: v for k, v in doc.figures.items() if v["href"]}
    assert set(linked) == set(doc.figures), "every figure drills down to its list"
    for key, figure in linked.items():
        href = figure["href"]
        assert urlsplit(href).path in ("/persons", "/households"), href
        total, rows = _total(c, href)
        assert total == int(figure["text"]), (key, href, total)
        assert len(rows) == min(total, 100) == len(set(rows)), (key, href)
        # the JSON API at the same address agrees (PageRoute: a non-browser gets the JSON)
        api = c.get(href)
        assert api.headers["content-type"].startswith("application/json") and api.json()["total"] == total


def test_a_long_list_pages_through_every_row_once(signed_in, street, database_url):
    c = signed_in("street_admin")
    with psycopg.connect(database_url) as conn:
        expected = {str(r[0]) for r in conn.execute(
            "SELECT p.id FROM person p JOIN household h ON h.id = p.household_id"
            " JOIN grid g ON g.code = h.grid_code WHERE g.community_code = %s", [street.community])}
    seen: list[str] = []
    href: str | None = f"/persons?community={street.community}&limit=40"
    while href:
        r = c.get(href, headers=HTML)
        assert r.status_code == 200
        doc = Doc(r.text)
        seen += doc.rows
        nexts = [h for h in doc.links if "offset=" in h and h.startswith("/persons?") and
                 int(parse_qs(urlsplit(h).query)["offset"][0]) > int(parse_qs(urlsplit(href).query).get(
                     "offset", ["0"])[0])]
        href = nexts[-1] if nexts else None
    assert len(seen) == len(set(seen)) and set(seen) == expected and len(expected) > 40


def test_the_households_list_is_a_page_and_the_search_stays_the_search(signed_in, street):
    c = signed_in("worker")
    listed = c.get(f"/households?grid={street.grid}&poverty=any", headers=HTML)
    assert listed.status_code == 200 and 'data-total="' in listed.text
    search = c.get("/households?q=zzzz-nobody", headers=HTML)
    assert search.status_code == 200 and 'type="search"' in search.text and 'data-total="' not in search.text


# ---------------------------------------------------------------- the statistics workbook

def test_stats_workbook_has_chinese_headers_and_the_same_numbers(signed_in, street, database_url):
    r = signed_in("street_admin").get(f"/stats.xlsx?community={street.community}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(v) for v in rows[0]]
    assert all(CJK.search(h) and not re.search(r"[A-Za-z]", h) for h in header), header
    by_code = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    with psycopg.connect(database_url) as conn:
        categories = dict(conn.execute("SELECT code, name_zh FROM key_person_category").fetchall())
        statuses = dict(conn.execute("SELECT code, name_zh FROM poverty_status").fetchall())
    names = {"户数": "households", "人口": "persons", "户籍人口": "registered", "流动人口": "floating",
             "重点人员": "key_persons", "困难人员": "poverty_persons", "困难户": "poverty_households",
             "独居老人": "elderly_alone", "残疾人": "disabled", "积极分子": "activists",
             "志愿者": "volunteers", "边界户": "border_households", "就业-离退休": "employment.retired",
             "就业-未登记": "employment.unknown"}
    names.update({f"重点人员-{zh}": f"key_persons_by_category.{c}" for c, zh in categories.items()})
    names.update({f"{zh}人员": f"poverty_by_status.{s}.persons" for s, zh in statuses.items()})
    grids = grids_of(database_url, street.community)
    for code, area in [(street.community, grids), *((g, [g]) for g in grids)]:
        expected = owner_figures(database_url, area)
        assert {h: by_code[code][h] for h in names} == {h: expected[k] for h, k in names.items()}, code
    assert by_code[street.community]["级别"] == "社区"


def test_a_grid_workers_workbook_of_her_community_has_dashes_not_sums(signed_in, street, database_url):
    r = signed_in("worker").get(f"/stats.xlsx?community={street.community}")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    by_code = {row[1]: row[3:] for row in rows[1:]}
    assert set(by_code[street.community]) == {"—"}  # her community: only her grid's share
    for grid in grids_of(database_url, street.community):
        if grid == street.grid:
            assert by_code[grid][0] == owner_figures(database_url, [grid])["households"]
        else:
            assert set(by_code[grid]) == {"—"}, grid  # hidden, never 0


# ---------------------------------------------------------------- who sees what

def test_a_grid_worker_sees_dashes_for_what_she_cannot_count_whole(signed_in, street, database_url):
    c = signed_in("worker")
    doc = _page(c, f"/communities/{street.community}/dashboard")
    assert doc.figures and {v["text"] for v in doc.figures.values()} == {"—"}
    assert not any(v["href"] for v in doc.figures.values())
    for grid in grids_of(database_url, street.community):
        cell = doc.grid_cells[(grid, "persons")]
        if grid == street.grid:
            assert cell["text"] == str(owner_figures(database_url, [grid])["persons"]) and cell["href"]
        else:
            assert cell["text"] == "—" and cell["href"] is None, grid
    assert f"/grids/{street.grid}/dashboard" in doc.links
    # no community register (it would hold her grid alone); the statistics workbook is offered
    assert f"/communities/{street.community}/register.xlsx" not in doc.links
    assert f"/stats.xlsx?community={street.community}" in doc.links
    grid_doc = _page(c, f"/grids/{street.grid}/dashboard")
    assert {f"/grids/{street.grid}/register.xlsx", f"/stats.xlsx?grid={street.grid}"} <= set(grid_doc.links)
    for href in grid_doc.links:  # no link on her pages leads to a 403
        if not href.startswith("/?lang"):
            assert c.get(href, headers=HTML).status_code == 200, href


def test_another_grids_worker_may_not_open_her_grid(neighbour_client, street, neighbour):
    c = neighbour_client
    assert c.get(f"/grids/{street.grid}/dashboard", headers=HTML).status_code == 403
    assert c.get(f"/persons?grid={street.grid}&key_person=any", headers=HTML).status_code == 403
    assert c.get(f"/households?grid={street.grid}", headers=HTML).status_code == 403
    assert c.get(f"/stats.xlsx?grid={street.grid}").status_code == 403
    # her community's list holds only the neighbour's own grid (row-level security)
    doc = _page(c, f"/persons?community={street.community}")
    api = c.get(f"/persons?community={street.community}&limit=1000").json()
    assert {p["grid_code"] for p in api["items"]} == {neighbour[0]}
    assert doc.totals == [api["total"]]
    community = _page(c, f"/communities/{street.community}/dashboard")
    assert community.grid_cells[(street.grid, "persons")]["text"] == "—"


def test_a_viewer_sees_counts_but_no_lists(signed_in, street, database_url):
    c = signed_in("viewer")
    doc = _page(c, f"/grids/{street.grid}/dashboard")
    expected = owner_figures(database_url, [street.grid])
    # key persons are counted for the register roles only: a viewer's are unknown, never 0
    assert {k: v["text"] for k, v in doc.figures.items()} == {
        k: "—" if k.startswith("key_persons") else str(expected[k]) for k in doc.figures}
    assert expected["key_persons"] > 0
    assert not any(v["href"] for v in doc.figures.values())
    sheet = load_workbook(io.BytesIO(c.get(f"/stats.xlsx?grid={street.grid}").content)).active
    assert sheet is not None
    header, row = list(sheet.iter_rows(values_only=True))
    assert row[header.index("户数")] == expected["households"] and row[header.index("重点人员")] == "—"
    assert not any(h.startswith(("/persons", "/households", "/maps/grids/")) or "register" in h
                   for h in doc.links)
    assert f"/stats.xlsx?grid={street.grid}" in doc.links
    assert c.get(f"/persons?grid={street.grid}", headers=HTML).status_code == 403
    assert c.get(f"/grids/{street.grid}/register.xlsx").status_code == 403
    assert "/dashboard" in Doc(c.get("/").text).links
    for role in ("inspector", "planner"):
        assert "/dashboard" not in Doc(signed_in(role).get("/").text).links
        assert signed_in(role).get("/dashboard", headers=HTML).status_code == 403


@pytest.mark.parametrize(("path", "status"), [
    ("/grids/abc/dashboard", 422), ("/grids/999999999999999/dashboard", 404),
    ("/communities/12/dashboard", 422), ("/communities/999999999999/dashboard", 404),
    ("/persons?grid=1", 422), ("/persons?key_person=" + "x" * 60, 422), ("/persons?elderly_alone=maybe", 422),
    ("/persons?limit=0", 422), ("/households?grid=abc", 422), ("/households?placement=nowhere", 422),
    ("/stats.xlsx?grid=431003001001001&community=431003001001", 422), ("/stats.xlsx?grid=x", 422),
])
def test_bad_input_is_a_4xx_never_a_500(signed_in, path, status):
    assert signed_in("admin").get(path, headers=HTML).status_code == status


def test_the_dashboard_index_offers_the_areas_of_the_users_scopes(signed_in, street, database_url, neighbour):
    doc = _page(signed_in("worker"), "/dashboard")
    boards = {h for h in doc.links if h.endswith("/dashboard") and h != "/dashboard"}
    assert boards == {f"/grids/{street.grid}/dashboard", f"/communities/{street.community}/dashboard"}
    with psycopg.connect(database_url) as conn:
        communities = {r[0] for r in conn.execute("SELECT code FROM community WHERE code LIKE %s",
                                                  [street.street + "%"])}
    admin = {h for h in _page(signed_in("street_admin"), "/dashboard").links if h.startswith("/communities/")}
    assert admin == {f"/communities/{c}/dashboard" for c in communities}


def test_the_dashboard_and_lists_in_english(signed_in, street):
    c = signed_in("worker")
    board = c.get(f"/grids/{street.grid}/dashboard?lang=en", headers=HTML)
    assert board.status_code == 200 and "Households" in board.text and "户数" not in board.text
    listed = c.get(f"/persons?grid={street.grid}&key_person=any&lang=en", headers=HTML)
    assert listed.status_code == 200 and "Any category" in listed.text and "全部类别" not in listed.text
    c.get("/?lang=zh")


# ---------------------------------------------------------------- charts

def test_each_table_has_its_chart_with_one_bar_per_figure(signed_in, street):
    for role, path in (("worker", f"/grids/{street.grid}/dashboard"),
                       ("worker", f"/communities/{street.community}/dashboard"),
                       ("street_admin", f"/communities/{street.community}/dashboard")):
        r = signed_in(role).get(path, headers=HTML)
        doc = Doc(r.text)
        assert len(doc.bars) == len(doc.tables) >= 5
        assert doc.bars == doc.tables  # one bar per figure, in the table's order
        assert doc.scripts == 0 and "http://www.w3.org/2000/svg" in r.text and "cdn" not in r.text.lower()


def test_bars_are_scaled_to_their_figures():
    from api.workbench.charts import PLOT, Bar, bar_chart

    bars = [Bar("a", "甲", 10), Bar("b", "乙", 5, "/persons?x=1&y=2"), Bar("c", "<丙>", None)]
    svg = str(bar_chart(bars, "t"))
    widths = [float(w) for w in re.findall(r'class="bar [a-z]+"[^>]* width="([0-9.]+)"', svg)]
    assert widths == [PLOT, PLOT / 2, 0.0]
    assert 'href="/persons?x=1&amp;y=2"' in svg and "&lt;丙&gt;" in svg and ">—</text>" in svg


# ---------------------------------------------------------------- the grid worker's home page

ATTENTION_SQL = {
    "key_persons": "EXISTS (SELECT 1 FROM key_person k WHERE k.person_id = p.id)",
    "elderly_alone": "p.elderly_alone",
    "poverty": "p.poverty IS NOT NULL",
    "disabled": "p.disabled",
    "floating": "p.residence = 'floating'",
}


def test_home_lists_hold_exactly_her_grids_tagged_persons(signed_in, street, database_url, neighbour):
    r = signed_in("worker").get("/")
    doc = Doc(r.text)
    assert set(doc.lists) == set(ATTENTION_SQL)
    with psycopg.connect(database_url) as conn:
        others = {r[0] for r in conn.execute(
            "SELECT p.id FROM person p JOIN household h ON h.id = p.household_id WHERE h.grid_code <> %s "
            "OR h.grid_code IS NULL", [street.grid])}
        for key, condition in ATTENTION_SQL.items():
            rows = conn.execute(
                f"SELECT p.id, p.name FROM person p JOIN household h ON h.id = p.household_id "  # noqa: S608
                f"WHERE h.grid_code = %s AND {condition} ORDER BY p.id", [street.grid]).fetchall()
            shown = doc.lists[key]
            assert shown["total"] == len(rows), key
            assert shown["persons"] == [r[0] for r in rows[:20]], key
            for name, (_id, full) in zip(shown["names"], rows, strict=False):
                assert name[0] == full[0] and "*" in name and name != full, (name, full)  # masked
            assert not set(shown["persons"]) & others, key
    assert sum(len(v["persons"]) for v in doc.lists.values()) > 0
    assert r.text.count("<iframe") == 1 and doc.iframes == [f"/maps/grids/{street.grid}"]


def test_home_lists_link_to_the_household_pages_and_the_map_may_be_framed(signed_in, street):
    c = signed_in("worker")
    doc = Doc(c.get("/").text)
    households = [h for h in doc.links if re.fullmatch(r"/households/\d+", h)]
    assert households
    page = c.get(households[0], headers=HTML)
    assert page.status_code == 200 and "<form" in page.text
    framed = c.get(doc.iframes[0], headers=HTML)
    assert framed.status_code == 200
    assert "frame-ancestors 'self'" in framed.headers["content-security-policy"]
    assert framed.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'none'" in c.get("/").headers["content-security-policy"]


def test_home_shows_the_households_changed_in_the_last_seven_days(signed_in, street, database_url):
    with psycopg.connect(database_url) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM household WHERE grid_code = %s ORDER BY id",
                                          [street.grid])]
        conn.execute("UPDATE household SET updated_at = now() - interval '30 days' WHERE grid_code = %s",
                     [street.grid])
        conn.execute("UPDATE household SET updated_at = now() - interval '2 days' WHERE id = ANY(%s)",
                     [ids[:3]])
        conn.execute("UPDATE household SET updated_at = now() WHERE grid_code <> %s", [street.grid])
        conn.commit()
    r = signed_in("worker").get("/")
    recent = re.search(r'<article class="card recent".*?</article>', r.text, re.S)
    assert recent is not None
    shown = [int(h) for h in re.findall(r'data-household="(\d+)"', recent.group(0))]
    assert sorted(shown) == ids[:3]  # hers, changed two days ago; not the older ones, not other grids'
    assert 'data-total="3"' in recent.group(0)


# ---------------------------------------------------------------- in the browser

@pytest.fixture(scope="module")
def served(app, serve_app):
    with serve_app(app) as url:
        yield url


@pytest.mark.parametrize("size", ["pc", "phone"])
def test_dashboard_and_home_in_chromium(browser, served, street, size):
    """At 1366×768 and 390×844, network cut: no console error (a CSP or framing refusal is one), no
    sideways scroll, tap targets of 40 px, the charts drawn, the grid's map loaded inside the home page."""
    from tests.workbench.test_browser import Tab, sign_in

    t = Tab(browser, size)
    try:
        sign_in(t, served, street.users["worker"], PASSWORD)
        frame = t.page.locator(".grid-map iframe")
        frame.scroll_into_view_if_needed()
        t.wait("() => { const d = document.querySelector('.grid-map iframe').contentDocument;"
               " return d && d.querySelector('.leaflet-container') !== null; }")
        t.shot(f"home-worker-lists-{size}")
        for name, path in (("grid", f"/grids/{street.grid}/dashboard"),
                           ("community", f"/communities/{street.community}/dashboard"),
                           ("list", f"/persons?grid={street.grid}&residence=floating")):
            t.page.goto(served + path, wait_until="load")
            assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), (name, "sideways")
            small = t.js("""() => Array.from(document.querySelectorAll('.links a, td a, .pager a'))
                .map(e => [e.textContent.trim(), e.getBoundingClientRect()])
                .filter(([, r]) => r.height < 40 || r.width < 40)
                .map(([s, r]) => `${s} ${r.width}x${r.height}`)""")
            assert small == [], (name, small)
            if name != "list":
                charts = t.js("() => Array.from(document.querySelectorAll('svg.chart'))"
                              ".map(s => s.getBoundingClientRect().width)")
                assert charts and all(w > 200 for w in charts), (name, charts)
            t.shot(f"dashboard-{name}-{size}")
        assert t.errors == [] and t.blocked == []
    finally:
        t.context.close()
