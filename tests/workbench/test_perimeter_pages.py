"""The perimeter check as a page (/perimeter/violations for a browser) and the inspector's home section.

The page is compared with the JSON API for the same filters and with an independent measure as the
database owner (ST_Distance on geography, to 1 cm); each filter with the rows it should keep, worked
out from the unfiltered rows and owner SQL; the CSV (read with the csv module: UTF-8 BOM, Chinese
headers) and the XLSX (read with openpyxl) with the page's rows. Roles without the perimeter right get
no menu entry or link and a 403; bad filters a 422 beside the field. The home section's figures are
counted again as the owner. A browser at 1366×768 and 390×844: no sideways scroll, tap targets of
40 px, no console error.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from html.parser import HTMLParser

import psycopg
import pytest
from openpyxl import load_workbook

HTML = {"accept": "text/html"}
TODAY = date.today()
CSV_HEADERS = ["场所编号", "场所名称", "类别", "地址", "学校编号", "学校名称", "违反规则", "距离（米）",
               "证照状态", "经度", "纬度"]


class Rows(HTMLParser):
    """The check table's rows (their data attributes and the distance cell's text), the links, the
    menu's links and the errors beside fields (by their id)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.links: list[str] = []
        self.menu: list[str] = []
        self.errors: dict[str, str] = {}
        self._in: str | None = None
        self._nav = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "nav" and "menu" in (a.get("class") or ""):
            self._nav = True
        if tag == "a" and a.get("href"):
            (self.menu if self._nav else self.links).append(a["href"])
        if tag == "tr" and "data-place" in a:
            self.rows.append({k[5:]: v for k, v in a.items() if k.startswith("data-")})
        if tag == "td" and "distance" in (a.get("class") or ""):
            self.rows[-1]["distance_text"] = ""
            self.rows[-1]["distance"] = a["data-distance"]
            self._in = "distance"
        if tag == "span" and (a.get("id") or "").endswith("-error"):
            self._in = "error:" + a["id"][:-6]

    def handle_endtag(self, tag):
        if tag == "nav":
            self._nav = False
        if tag in ("td", "span"):
            self._in = None

    def handle_data(self, data):
        if self._in == "distance":
            self.rows[-1]["distance_text"] += data.strip()
        elif self._in and self._in.startswith("error:"):
            self.errors[self._in[6:]] = self.errors.get(self._in[6:], "") + data


def parsed(html: str) -> Rows:
    p = Rows()
    p.feed(html)
    return p


def page_rows(client, **params) -> list[tuple[str, str, int, float]]:
    r = client.get("/perimeter/violations", params={"date": TODAY.isoformat(), **params}, headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text[:500]
    return [(row["place"], row["school"], int(row["rule"]), float(row["distance"]))
            for row in parsed(r.text).rows]


def api_rows(client, **params) -> list[dict]:
    r = client.get("/perimeter/violations", params={"date": TODAY.isoformat(), **params})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), r.text[:500]
    return r.json()["violations"]


def as_tuples(rows: list[dict]) -> list[tuple[str, str, int, float]]:
    return [(v["place_ref"], v["school_ref"], v["rule_id"], v["distance_m"]) for v in rows]


@pytest.fixture(scope="module")
def inspector(signed_in):
    return signed_in("inspector")


# Places added around the demo street's protected schools (ref prefix TPP): (category, metres from the
# campus's centre, bearing, licence: None or (valid_until offset in days, displayed)).
PLACES = [("internet_cafe", 40, 0, None), ("internet_cafe", 120, 90, (300, True)),
          ("food_shop", 80, 180, None), ("food_shop", 150, 270, (-10, True)),
          ("small_shop", 60, 45, (200, False)), ("publication_shop", 100, 135, None),
          ("small_shop", 170, 225, (-400, False))]


@pytest.fixture(scope="module")
def places(database_url, street):
    """PLACES around each school a rule protects, committed for the app; removed afterwards."""
    with psycopg.connect(database_url) as conn:
        schools = [r[0] for r in conn.execute(
            "SELECT s.id FROM school s WHERE EXISTS (SELECT 1 FROM perimeter_rule r"
            " WHERE s.level = ANY (r.school_levels)) ORDER BY s.id")]
        assert schools, "the demo street has schools a rule protects"
        for n, school in enumerate(schools):
            for i, (category, metres, bearing, licence) in enumerate(PLACES):
                ref = f"TPP{n}{i}"
                conn.execute(
                    """INSERT INTO place (ref, name, category, address, geom)
                       SELECT %s, %s, %s, %s,
                              ST_Project(ST_Centroid(geom)::geography, %s, radians(%s))::geometry
                       FROM school WHERE id = %s""",
                    [ref, f"测试场所{n}{i}", category, f"测试路{i}号", metres, bearing, school])
                if licence:
                    conn.execute("INSERT INTO licence (place_id, kind, number, valid_until, displayed)"
                                 " SELECT id, 'business', %s, %s, %s FROM place WHERE ref = %s",
                                 [f"L-{ref}", TODAY + timedelta(days=licence[0]), licence[1], ref])
        conn.commit()
    yield
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM place WHERE ref LIKE 'TPP%'")


@pytest.fixture(scope="module")
def everything(inspector, places) -> list[dict]:
    rows = api_rows(inspector)
    assert len(rows) >= len(PLACES), "the street has violations to list"
    assert {v["licence_state"] for v in rows} >= {"missing", "expired", "not_displayed", "valid"}
    return rows


def test_page_rows_are_the_apis_and_the_owners_geography_distances(inspector, everything, database_url):
    assert page_rows(inspector) == as_tuples(everything)
    distances = [v["distance_m"] for v in everything]
    assert distances == sorted(distances), "nearest first"
    with psycopg.connect(database_url) as conn:  # the owner: no service code, a geodesic per pair
        measured = dict(conn.execute(
            """SELECT p.ref, CASE WHEN r.method = 'entrance' AND s.gates IS NOT NULL
                                  THEN CASE WHEN ST_Intersects(s.geom, p.geom) THEN 0
                                            ELSE ST_Distance(s.gates::geography, p.geom::geography) END
                                  ELSE ST_Distance(s.geom::geography, p.geom::geography) END
               FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS v(place, school, rule)
               JOIN place p ON p.ref = v.place JOIN school s ON s.ref = v.school
               JOIN perimeter_rule r ON r.id = v.rule""",
            [[v["place_ref"] for v in everything], [v["school_ref"] for v in everything],
             [v["rule_id"] for v in everything]]).fetchall())
    assert measured.keys() == {v["place_ref"] for v in everything}
    worst = max(abs(measured[v["place_ref"]] - v["distance_m"]) for v in everything)
    assert worst <= 0.01, worst
    r = inspector.get("/perimeter/violations", params={"date": TODAY.isoformat()}, headers=HTML)
    shown = parsed(r.text).rows
    assert all(row["distance_text"] == f"{float(row['distance']):.2f}" for row in shown), "to the centimetre"


def test_each_filter_keeps_its_rows(inspector, everything, street, database_url):
    with psycopg.connect(database_url) as conn:
        in_community = {r[0] for r in conn.execute(
            "SELECT p.ref FROM place p JOIN community c ON ST_Intersects(c.geom, p.geom) WHERE c.code = %s",
            [street.community])}
    first = everything[0]
    cases = {
        "community": (street.community, lambda v: v["place_ref"] in in_community),
        "school": (first["school_ref"], lambda v: v["school_ref"] == first["school_ref"]),
        "category": (first["category"], lambda v: v["category"] == first["category"]),
        "rule": (str(first["rule_id"]), lambda v: v["rule_id"] == first["rule_id"]),
        "licence_state": (first["licence_state"], lambda v: v["licence_state"] == first["licence_state"]),
    }
    narrowed = 0
    for name, (value, keep) in cases.items():
        expected = as_tuples([v for v in everything if keep(v)])
        assert expected, name
        assert page_rows(inspector, **{name: value}) == expected, name
        assert as_tuples(api_rows(inspector, **{name: value})) == expected, name
        narrowed += len(expected) < len(everything)
    assert narrowed >= 3, "the filters narrow"
    both = page_rows(inspector, category=first["category"], licence_state=first["licence_state"])
    assert both == as_tuples([v for v in everything if v["category"] == first["category"]
                              and v["licence_state"] == first["licence_state"]])
    # the day counts: TPP03's displayed licence was still valid 20 days ago
    assert "TPP03" in {p for p, *_ in page_rows(inspector)}
    assert "TPP03" not in {p for p, *_ in page_rows(inspector, date=(TODAY - timedelta(days=20)).isoformat())}


def test_sorting_by_other_columns(inspector, everything):
    r = inspector.get("/perimeter/violations", params={"date": TODAY.isoformat(), "sort": "school"},
                      headers=HTML)
    by_school = [row["place"] for row in parsed(r.text).rows]
    names = {v["place_ref"]: v["school_name"] for v in everything}
    assert [names[p] for p in by_school] == sorted(names[p] for p in by_school)
    assert sorted(by_school) == sorted(names)
    far_first = page_rows(inspector, desc="1")
    assert [d for *_, d in far_first] == sorted((v["distance_m"] for v in everything), reverse=True)


def test_rows_link_to_the_place_the_school_map_and_the_map(inspector, everything):
    r = inspector.get("/perimeter/violations", params={"date": TODAY.isoformat()}, headers=HTML)
    links = parsed(r.text).links
    for v in everything:
        assert f"/perimeter/places/{v['place_ref']}" in links
        assert f"/maps/perimeter/schools/{v['school_ref']}" in links
    assert f"/maps/perimeter?date={TODAY.isoformat()}" in links
    school = everything[0]["school_ref"]
    assert inspector.get(f"/maps/perimeter/schools/{school}").status_code == 200
    assert any(h.startswith("/perimeter/violations?") and "format=csv" in h for h in links)
    assert any(h.startswith("/perimeter/violations?") and "format=xlsx" in h for h in links)


def test_csv_has_a_bom_chinese_headers_and_the_pages_rows(inspector, everything):
    # a browser's click on the export button (it accepts text/html too) gets the file, not the page
    r = inspector.get("/perimeter/violations", params={"date": TODAY.isoformat(), "format": "csv"},
                      headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert table[0] == CSV_HEADERS
    assert [(row[0], row[4], float(row[7])) for row in table[1:]] == \
        [(v["place_ref"], v["school_ref"], v["distance_m"]) for v in everything]
    assert all(len(row[7].split(".")[1]) == 2 for row in table[1:])
    names = {v["place_ref"]: (v["category_name"], v["licence_state_name"]) for v in everything}
    assert all((row[2], row[8]) == names[row[0]] for row in table[1:])
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in row[6]) for row in table[1:]), "the rule in Chinese"


def test_xlsx_has_chinese_headers_and_the_pages_rows(inspector, everything):
    first = everything[0]
    params = {"date": TODAY.isoformat(), "category": first["category"], "format": "xlsx"}
    r = inspector.get("/perimeter/violations", params=params, headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0][:len(CSV_HEADERS)]) == CSV_HEADERS
    codes = list(values[0]).index("规则编号")
    got = [(row[0], row[4], int(row[codes]), round(float(row[7]), 2)) for row in values[1:]]
    assert got == page_rows(inspector, category=first["category"])


@pytest.mark.parametrize("role", ["worker", "planner"])
def test_roles_without_the_perimeter_right_get_no_link_and_a_403(signed_in, role):
    client = signed_in(role)
    home = parsed(client.get("/", headers=HTML).text)
    assert not any(h.startswith("/perimeter/violations") for h in home.menu + home.links)
    r = client.get("/perimeter/violations", headers=HTML)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert client.get("/perimeter/violations").status_code == 403
    assert client.get("/perimeter/violations", params={"format": "csv"}).status_code == 403


def test_the_viewer_and_the_inspector_have_the_menu_entry(signed_in):
    for role in ("inspector", "viewer"):
        menu = parsed(signed_in(role).get("/", headers=HTML).text).menu
        assert "/perimeter/violations" in menu, role


@pytest.mark.parametrize(("params", "field"), [
    ({"community": "123"}, "community"), ({"grid": "43100200100100x"}, "grid"), ({"rule": "x"}, "rule"),
    ({"licence_state": "bogus"}, "licence_state"), ({"date": "2026-13-01"}, "date"),
    ({"category": "no_such_category"}, "category"), ({"rule": "999999"}, "rule"),
    ({"school": "no-such-school"}, "school"), ({"community": "431999999999"}, "community"),
])
def test_bad_filters_are_a_422_beside_the_field(inspector, params, field):
    r = inspector.get("/perimeter/violations", params=params, headers=HTML)
    assert r.status_code == 422, r.text[:300]
    page = parsed(r.text)
    assert field in page.errors and page.errors[field].strip()
    assert page.rows == []


def test_two_areas_at_once_are_a_422_beside_them(inspector, everything, street):
    params = {"community": street.community, "school": everything[0]["school_ref"]}
    page = parsed(inspector.get("/perimeter/violations", params=params, headers=HTML).text)
    assert {"community", "school"} <= page.errors.keys()


@pytest.mark.parametrize("params", [{"community": "123"}, {"community": "43100200100a"},
                                    {"grid": "4310020010010"}, {"grid": "x" * 15}, {"rule": "0"},
                                    {"licence_state": "bogus"}])
def test_the_api_refuses_malformed_filters(inspector, params):
    r = inspector.get("/perimeter/violations", params=params)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/json")
    assert r.json()["errors"][0]["field"] == next(iter(params))


def test_the_api_says_which_category_or_rule_it_does_not_know(inspector):
    r = inspector.get("/perimeter/violations", params={"category": "no_such", "rule": "999999"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"category", "rule"}


# --- the inspector's home -----------------------------------------------------------------------

@pytest.fixture
def backlog(database_url, everything):
    """Three violations recorded as the owner, aged and moved along: one open for 40 days, one notified
    10 days ago (its 7-day deadline passed 3 days ago), one rectified yesterday (re-check due)."""
    refs = [v["place_ref"] for v in everything[:3]]
    with psycopg.connect(database_url) as conn:
        ids_by_status = dict(r[::-1] for r in conn.execute(
            """INSERT INTO violation (place_id, rule_id, school_id, distance_m, reason, status, found_on)
               SELECT p.id, v.rule_id, s.id, v.distance_m, 'test', v.status, %(today)s::date - v.age
               FROM unnest(%(refs)s::text[], %(schools)s::text[], %(rules)s::bigint[], %(d)s::float8[],
                           %(statuses)s::text[], %(ages)s::int[])
                    AS v(ref, school, rule_id, distance_m, status, age)
               JOIN place p ON p.ref = v.ref JOIN school s ON s.ref = v.school
               RETURNING id, status""",
            {"refs": refs, "schools": [v["school_ref"] for v in everything[:3]],
             "rules": [v["rule_id"] for v in everything[:3]],
             "d": [float(v["distance_m"]) for v in everything[:3]],
             "statuses": ["open", "notified", "rectified"], "ages": [40, 12, 20], "today": TODAY}).fetchall())
        ids = [ids_by_status[s] for s in ("open", "notified", "rectified")]
        conn.execute(
            """INSERT INTO violation_event (violation_id, from_status, to_status, actor, at)
               VALUES (%(a)s, NULL, 'open', 'test', now() - interval '40 days'),
                      (%(b)s, 'open', 'notified', 'test', now() - interval '10 days'),
                      (%(c)s, 'notified', 'rectified', 'test', now() - interval '1 day')""",
            {"a": ids[0], "b": ids[1], "c": ids[2]})
        conn.commit()
    yield ids
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM violation WHERE id = ANY(%s)", [ids])


class Section(HTMLParser):
    """The inspector section's table cells (status, bucket -> number) and its due list items."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], int] = {}
        self.due: list[str] = []
        self.schools: list[str] = []
        self.links: list[str] = []
        self._status: str | None = None
        self._bucket: str | None = None
        self._in_section = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._in_section = a.get("id") == "inspector"
        if not self._in_section:
            return
        if tag == "tr" and "data-status" in a:
            self._status = a["data-status"]
        if tag == "td" and "data-bucket" in a:
            self._bucket = a["data-bucket"]
        if tag == "li" and "data-violation" in a:
            self.due.append(a["data-violation"])
        if tag == "li" and "data-school" in a:
            self.schools.append(a["data-school"])
        if tag == "a":
            self.links.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "td":
            self._bucket = None

    def handle_data(self, data):
        if self._in_section and self._bucket and self._status and data.strip():
            self.cells[(self._status, self._bucket)] = int(data)


def test_inspector_home_counts_the_backlog_as_the_owner_does(inspector, backlog, database_url):
    r = inspector.get("/", headers=HTML)
    assert r.status_code == 200
    section = Section()
    section.feed(r.text)
    with psycopg.connect(database_url) as conn:
        counted = conn.execute(
            """SELECT status, CASE WHEN d <= 7 THEN '0-7' WHEN d <= 30 THEN '8-30' WHEN d <= 90 THEN '31-90'
                                   ELSE '91+' END, count(*)
               FROM (SELECT status, current_date - found_on AS d FROM violation WHERE status <> 'closed') v
               GROUP BY 1, 2""").fetchall()
        due = {str(r[0]) for r in conn.execute(
            """SELECT v.id FROM violation v
               JOIN LATERAL (SELECT max(at)::date AS since FROM violation_event e
                             WHERE e.violation_id = v.id AND e.to_status = v.status) e ON true
               WHERE (v.status = 'notified' AND e.since + 7 <= current_date + 3)
                  OR (v.status = 'rectified' AND e.since + 3 <= current_date + 3)""")}
        top = conn.execute(
            """SELECT s.ref FROM violation v JOIN school s ON s.id = v.school_id WHERE v.status <> 'closed'
               GROUP BY s.ref ORDER BY count(*) DESC, min(v.found_on), s.ref LIMIT 1""").fetchone()
    expected = {("open", "0-7"): 0} | {(s, b): int(n) for s, b, n in counted}
    for (status, bucket), n in expected.items():
        assert section.cells[(status, bucket)] == n, (status, bucket)
    for status in ("open", "notified", "rectified"):
        assert section.cells[(status, "total")] == sum(n for (s, _), n in expected.items() if s == status)
    assert set(section.due) == due and {str(backlog[1]), str(backlog[2])} <= due
    assert str(backlog[0]) not in section.due
    assert section.schools[0] == top[0]
    assert "/perimeter/violations" in section.links
    assert f"/maps/perimeter/schools/{top[0]}" in section.links
    overdue = r.text[r.text.index(f'data-violation="{backlog[1]}"'):]
    assert "已逾期 3 天" in overdue[:overdue.index("</li>")]


def test_only_inspectors_get_the_section(signed_in):
    for role in ("worker", "planner", "viewer", "admin"):
        assert 'id="inspector"' not in signed_in(role).get("/", headers=HTML).text, role
    assert 'id="inspector"' in signed_in("inspector").get("/", headers=HTML).text


def test_english_page(inspector, everything):
    r = inspector.get("/perimeter/violations", params={"date": TODAY.isoformat(), "lang": "en"}, headers=HTML)
    assert r.status_code == 200 and 'lang="en"' in r.text
    assert "forbidden within" in r.text or "licence_required within" in r.text
    inspector.get("/", params={"lang": "zh"}, headers=HTML)


def test_day_before_yesterday_is_a_date_in_the_form(inspector):
    day = (TODAY - timedelta(days=2)).isoformat()
    r = inspector.get("/perimeter/violations", params={"date": day}, headers=HTML)
    assert f'value="{day}"' in r.text


# --- in a browser ----------------------------------------------------------------------------------

_TAPS = """() => Array.from(document.querySelectorAll(
    'main a, main button, main select, main input:not([type=hidden]), nav a'))
    .map(e => [e.textContent.trim() || e.name, e.getBoundingClientRect()])
    .filter(([, r]) => r.width > 0 && (r.height < 40 || r.width < 40))
    .map(([t, r]) => `${t} ${r.width}x${r.height}`)"""


@pytest.mark.parametrize("size", ["pc", "phone"])
def test_the_check_in_a_browser(browser_tab, check_base_url, street, password, everything, size):
    """The inspector opens the check from the menu, narrows it by category with the form, sorts it by
    school; nothing scrolls sideways, every control is 40 px, no console error."""
    from tests.workbench.test_browser import sign_in

    t = browser_tab(size)
    sign_in(t, check_base_url, street.users["inspector"], password)
    assert t.js("() => !!document.querySelector('#inspector #violations-by-age')")
    with t.page.expect_navigation():
        t.page.click("nav.menu a[href='/perimeter/violations']")
    assert t.page.locator("table.perimeter-check tbody tr[data-place]").count() == len(everything)
    assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    assert t.js(_TAPS) == []
    t.shot(f"perimeter-check-{size}")
    t.guide_shot(f"perimeter-check-{size}")
    category = everything[0]["category"]
    t.page.select_option("select[name=category]", category)
    with t.page.expect_navigation():
        t.page.click("form.perimeter-filter button[type=submit]")
    kept = [v for v in everything if v["category"] == category]
    assert t.page.locator("table.perimeter-check tbody tr[data-place]").count() == len(kept)
    assert f"category={category}" in t.page.url
    with t.page.expect_navigation():
        t.page.click("table.perimeter-check th a[href*='sort=school']")
    assert t.page.locator("th[aria-sort=ascending]").count() == 1
    assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    with t.page.expect_download() as download:
        t.page.click("a[href*='format=csv']")
    assert download.value.suggested_filename.endswith(".csv")
    t.page.goto(check_base_url + "/", wait_until="load")
    assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "home scrolls sideways"
    t.shot(f"home-inspector-backlog-{size}")
    t.clean()


@pytest.fixture(scope="module")
def check_base_url(app, street, serve_app):
    with serve_app(app) as url:
        yield url


@pytest.fixture
def browser_tab(browser):
    pytest.importorskip("playwright.sync_api")
    from tests.workbench.test_browser import Tab

    tabs: list = []

    def make(size: str):
        tabs.append(Tab(browser, size))
        return tabs[-1]

    yield make
    for t in tabs:
        t.context.close()


def test_the_inspector_records_the_checks_findings_from_the_page(inspector, everything, street, database_url,
                                                                 signed_in):
    """登记违规: the page's button records the day's findings as violations, by the signed-in inspector
    (the open violations afterwards are the check's places, as the owner reads them); no CSRF token or
    a viewer's post records nothing, and the viewer has no button."""
    import re

    page = inspector.get("/perimeter/violations", params={"date": TODAY.isoformat()}, headers=HTML).text
    form = re.search(r'<form class="record-findings".*?</form>', page, flags=re.S)
    assert form, "the inspector has the 登记违规 button"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.group(0)).group(1)
    actor = f"check ({street.users['inspector']})"

    def recorded() -> set[str]:
        with psycopg.connect(database_url) as conn:
            return {r[0] for r in conn.execute(
                "SELECT p.ref FROM violation v JOIN place p ON p.id = v.place_id WHERE v.status <> 'closed'"
                " AND EXISTS (SELECT 1 FROM violation_event e WHERE e.violation_id = v.id AND e.actor = %s)",
                [actor])}

    assert inspector.post("/perimeter/violations/record", data={"date": TODAY.isoformat()},
                          follow_redirects=False).status_code in (401, 403)
    viewer = signed_in("viewer")
    assert "record-findings" not in viewer.get("/perimeter/violations", headers=HTML).text
    assert recorded() == set()
    try:
        r = inspector.post("/perimeter/violations/record",
                           data={"csrf_token": csrf, "date": TODAY.isoformat()}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/#inspector", r.text[:300]
        assert recorded() == {v["place_ref"] for v in everything}
    finally:
        with psycopg.connect(database_url) as conn:
            conn.execute("DELETE FROM violation v WHERE EXISTS (SELECT 1 FROM violation_event e"
                         " WHERE e.violation_id = v.id AND e.actor = %s)", [actor])


def test_the_perimeter_maps_link_each_violation_to_its_place_page(inspector, everything):
    """From the map to the place's page, where the inspection is recorded (in the top window: the map
    may be framed); the link opens."""
    import json
    from urllib.parse import quote

    for url in ("/maps/perimeter", f"/maps/perimeter/schools/{quote(everything[0]['school_ref'], safe='')}"):
        text = inspector.get(url, params={"date": TODAY.isoformat()}).text
        place = next(v for v in everything if v["school_ref"] == everything[0]["school_ref"])
        href = f"/perimeter/places/{quote(place['place_ref'], safe='')}"
        assert json.dumps(f'target="_top" href="{href}"')[1:-1] in text, url
    assert inspector.get(href, headers=HTML).status_code == 200
