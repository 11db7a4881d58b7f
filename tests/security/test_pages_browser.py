"""Issue 10 class 3 in a real browser: hostile names in the database, every map page opened in
headless Chromium with the network cut (only the app on 127.0.0.1 answers).

The names go where people type them: households' addresses, heads' names, grid and community
names, worker names, school and place names, a responsible unit's name and contact, road names.
Each page must run none of them (window.__xss stays undefined, no alert), log no console error (a
CSP violation is one), show the names as text, and draw every feature it should.

Before the fix each page failed: ``<!--<script>`` in an address made the register's <script>
swallow the rest of the page (a blank map, markers 0); ``</script><script>window.__xss=1`` in the
title ran; a unit named ``"><img src=x onerror=window.__xss=1>`` ran from the roads map's layer
control, a place's name from the perimeter map's tooltip; ``{{7*7}}`` was shown as 49.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import quote, urlparse

import psycopg
import pytest

from tests.conftest import CHROMIUM, own_database

playwright_api = pytest.importorskip("playwright.sync_api")
# CI installs Chromium: there a missing browser is a failure, not a skip.
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM) and not os.environ.get("CI"),
                                reason="chromium not installed")

# A database of this module's own: the hostile street is committed for the served app.
database_url, settings, admin_token = own_database("gridmap_sec_pages")

PAYLOADS = ["<!--<script>", "</script><script>window.__xss=1</script>",
            '"><img src=x onerror=window.__xss=1>', "'-alert(1)-'", "a\u2028b\u2029c", "{{7*7}}"]
EVERYTHING = "".join(PAYLOADS)
UNIT = f"单位 {EVERYTHING}"
DAY = date(2026, 6, 1)

# Every name gets one payload (by row), the first rows all of them at once.
_HOSTILE_SQL = """
WITH p AS (SELECT %(payloads)s::text[] AS a, %(everything)s::text AS every)
, c AS (UPDATE community SET name = '社区 ' || (SELECT every FROM p) || ' ' || right(code, 3),
                             street_name = '街道 ' || (SELECT every FROM p) RETURNING 1)
, g AS (UPDATE grid SET name = '网格 ' || (SELECT CASE WHEN right(code, 1) = '1' THEN every
                                             ELSE a[1 + right(code, 3)::int %% 6] END FROM p)
                               || ' ' || right(code, 3) RETURNING 1)
, w AS (UPDATE grid_worker SET name = '网格员 ' || (SELECT a[1 + id::int %% 6] FROM p) RETURNING 1)
, h AS (UPDATE household SET address = '地址 ' || (SELECT CASE WHEN id %% 7 = 0 THEN every
                                                    ELSE a[1 + id::int %% 6] END FROM p) || ' #' || id
        RETURNING 1)
, pe AS (UPDATE person SET name = '户主 ' || (SELECT a[1 + id::int %% 6] FROM p) WHERE relation = 'head'
         RETURNING 1)
, s AS (UPDATE school SET name = '学校 ' || (SELECT every FROM p) || ' ' || ref RETURNING 1)
, pl AS (UPDATE place SET name = '场所 ' || (SELECT CASE WHEN id %% 5 = 0 THEN every
                                              ELSE a[1 + id::int %% 6] END FROM p) || ' #' || id
         RETURNING 1)
, r AS (UPDATE road SET name = '道路 ' || (SELECT every FROM p) RETURNING 1)
, rs AS (UPDATE road_section SET road_name = '道路 ' || (SELECT every FROM p) RETURNING 1)
SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM g), (SELECT count(*) FROM h),
       (SELECT count(*) FROM pl), (SELECT count(*) FROM rs)
"""


@pytest.fixture(scope="module")
def hostile(database_url: str, settings, admin_token: str) -> dict[str, Any]:
    """A small demo street loaded, cut into sections, one section held by a hostile unit, then every
    name made hostile. Returns the codes and what each map must draw."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from gis.demo.street import generate_street, load_demo

    street = generate_street(seed=11, communities=2, grids=4, households=80, persons=160, schools=2,
                             places=60)
    with psycopg.connect(database_url) as conn:
        load_demo(conn, street)
        conn.commit()
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {admin_token}"}) as api:
        assert api.post("/roads/cut", json={"method": "intersections"}).status_code == 200
        unit = api.post("/units", json={"name": UNIT, "contact": PAYLOADS[2], "phone": "13900000000"})
        assert unit.status_code == 201, unit.text
        sections = api.get("/sections", params={"limit": 3}).json()["features"]
        for section in sections:
            held = api.post(f"/sections/{section['properties']['id']}/assignments",
                            json={"unit_id": unit.json()["id"], "valid_from": "2020-01-01"})
            assert held.status_code == 201, held.text
    with psycopg.connect(database_url) as conn:
        counts = conn.execute(_HOSTILE_SQL, {"payloads": PAYLOADS, "everything": EVERYTHING}).fetchone()
        assert counts is not None and all(counts), counts
        conn.commit()
        return _expected(conn, street)


def _expected(conn: psycopg.Connection, street) -> dict[str, Any]:
    from gis.maps import grids as mapdata
    from gis.perimeter.mapdata import perimeter_map_data
    from gis.roads.sections import sections_geojson

    grid = str(street.grids["code"].iloc[0])
    community = grid[:12]
    perimeter = perimeter_map_data(conn, DAY)

    def points(data: dict[str, Any]) -> int:
        return len(data["violations"]) + len(data["compliant"]["features"])

    school_points, school = max((points(perimeter_map_data(conn, DAY, ref)), str(ref))
                                for ref in street.schools["ref"])
    grid_data = mapdata.grid_map_data(conn, grid)
    community_data = mapdata.community_map_data(conn, community)
    names = dict(conn.execute("SELECT code, name FROM grid").fetchall())
    return {
        "grid": grid, "community": community, "street": community[:9], "school": school,
        "grid_name": names[grid], "community_name": community_data.name,
        "grid_households": len(grid_data.households), "community_households": len(community_data.households),
        "perimeter_points": points(perimeter), "school_points": school_points,
        "place_name": perimeter["compliant"]["features"][0]["properties"]["place_name"]
        if perimeter["compliant"]["features"] else perimeter["violations"][0]["place_name"],
        "sections": len(sections_geojson(conn, on=DAY, limit=20_000)["features"]),
        "grids": len(names),
        "communities": conn.execute("SELECT count(*) FROM community").fetchone()[0],  # type: ignore[index]
    }


@pytest.fixture(scope="module")
def base_url(settings, hostile, serve_app) -> Iterator[str]:
    from api.app import create_app

    with serve_app(create_app(settings)) as url:
        yield url


class Attacked:
    """A signed-in page whose requests outside 127.0.0.1 are aborted, whose console errors and page
    errors are kept (a CSP violation is a console error), and whose dialogs are recorded."""

    def __init__(self, browser, base_url: str, token: str | None, allowed=None) -> None:
        allowed = allowed or (lambda url: urlparse(url).hostname == "127.0.0.1")
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        if token:
            self.context.add_cookies([{"name": "gridmap_token", "value": token, "url": base_url}])
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def dialog(d) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)

        def route(r) -> None:
            if allowed(r.request.url):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)

    def open(self, url: str) -> None:
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, url

    def js(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def wait(self, predicate: str, timeout_s: float = 15) -> None:
        """Polls ``predicate`` (a JS function) until true. Playwright's wait_for_function evaluates
        its predicate with eval(), which the page's policy rightly refuses."""
        deadline = time.monotonic() + timeout_s
        while not self.js(predicate):
            assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
            self.page.wait_for_timeout(100)

    def assert_clean(self) -> None:
        self.page.wait_for_timeout(300)  # an onerror of a broken <img> would fire by now
        assert self.js("() => window.__xss") is None
        assert self.dialogs == []
        assert self.errors == []
        assert self.blocked == []


@pytest.fixture
def attacked(browser, base_url, admin_token) -> Iterator:
    pages: list[Attacked] = []

    def make(token: str | None = admin_token, allowed=None) -> Attacked:
        pages.append(Attacked(browser, base_url, token, allowed))
        return pages[-1]

    yield make
    for page in pages:
        page.context.close()


# In the page: the folium map object, the markers of its clusters, its GeoJSON features by geometry.
_MAP = "document.querySelector('.folium-map') && window[document.querySelector('.folium-map').id]"
_CLUSTERED = f"""() => {{ const map = {_MAP}; let n = 0;
    map.eachLayer(l => {{ if (l instanceof L.MarkerClusterGroup) n += l.getLayers().length; }});
    return n; }}"""
_FEATURES = f"""(kind) => {{ const map = {_MAP}; let n = 0;
    map.eachLayer(l => {{ if (l.feature && l.feature.geometry.type === kind && !l.getLayers) n += 1; }});
    return n; }}"""
_OVERLAY_NAMES = """() => Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))
    .map(l => l.textContent.trim())"""


def _popup_of_a_household(w: Attacked) -> str:
    """Opens the register entry of a ringed household (a tag overlay or a border household: the
    same popup as a square's, never clustered) and returns its text."""
    opened = w.js(f"""() => {{ const map = {_MAP}; let ring = null;
        map.eachLayer(l => {{ if (!ring && l instanceof L.CircleMarker && l.getPopup()) ring = l; }});
        if (ring) ring.openPopup(); return !!ring; }}""")
    assert opened, "no ringed household on the map"
    return w.page.wait_for_selector(".hh-popup", timeout=10_000).text_content() or ""


@pytest.mark.parametrize("kind", ["grid", "community"])
def test_grid_and_community_maps(attacked, base_url, hostile, kind):
    w = attacked()
    code = hostile[kind]
    w.open(f"{base_url}/maps/{'grids' if kind == 'grid' else 'communities'}/{code}")
    w.page.wait_for_selector(".grid-label", state="attached", timeout=15_000)
    assert w.js(_CLUSTERED) == hostile[f"{kind}_households"] > 0
    name = hostile["grid_name"] if kind == "grid" else hostile["community_name"]
    title = "网格图" if kind == "grid" else "社区网格图"
    assert w.page.title() == f"{name} {title}"
    assert name in (w.page.locator(".gridmap-title").text_content() or "")
    labels = w.page.locator(".grid-label").all_text_contents()
    assert any(hostile["grid_name"] in t for t in labels)
    assert len(w.js(_OVERLAY_NAMES)) >= 2  # households and the tag overlays, in the layer control
    popup = _popup_of_a_household(w)
    assert popup.startswith("地址 ") and any(p in popup for p in PAYLOADS), popup
    assert "49" not in popup.split("#")[0]
    w.assert_clean()


def test_street_map(attacked, base_url, hostile):
    w = attacked()
    w.open(f"{base_url}/maps/street/{hostile['street']}")
    w.wait("() => window.gridmapReady === true")
    assert w.js("() => window.gridmapStreet.grids.getLayers().length") == hostile["grids"]
    popup = w.js("""() => { const g = window.gridmapStreet.grids.getLayers()[0]; g.openPopup();
                            return document.querySelector('.street-popup').textContent; }""")
    assert any(popup.startswith(f"网格 {p}") for p in [EVERYTHING, *PAYLOADS]), popup
    # Zoomed in, the households of the view come from the JSON route and open as text.
    w.js("""() => { const s = window.gridmapStreet; s.map.closePopup();
                    const first = s.grids.getLayers()[0].getBounds().getCenter();
                    s.map.setView(first, 17, {animate: false}); }""")
    w.wait("() => window.gridmapStreet.households.getLayers().length > 0")
    text = w.js("""() => { const h = window.gridmapStreet.households.getLayers()[0]; h.openPopup();
                           const all = document.querySelectorAll('.street-popup');
                           return all[all.length - 1].textContent; }""")
    assert text.startswith("地址 "), text
    w.assert_clean()


@pytest.mark.parametrize("which", ["all", "school"])
def test_perimeter_maps(attacked, base_url, hostile, which):
    w = attacked()
    path = "/maps/perimeter" if which == "all" else f"/maps/perimeter/schools/{quote(hostile['school'])}"
    w.open(f"{base_url}{path}?date={DAY.isoformat()}")
    w.page.wait_for_selector("path.leaflet-interactive", timeout=15_000)
    expected = hostile["perimeter_points" if which == "all" else "school_points"]
    assert w.js(_FEATURES, "Point") == expected > 0
    assert w.js(_FEATURES, "Polygon") + w.js(_FEATURES, "MultiPolygon") > 0  # campuses and zones
    if which == "school":
        assert EVERYTHING in w.page.title()
    # A place's tooltip: the name as text.
    tip = w.js(f"""(name) => {{ const map = {_MAP}; let found = null;
        map.eachLayer(g => {{ if (!found && g instanceof L.GeoJSON) g.eachLayer(l => {{
            if (!found && l.feature.properties.place_name === name) found = [g, l]; }}); }});
        if (!found) return null; found[1].fire('mouseover', {{latlng: found[1].getLatLng()}}, true);
        return document.querySelector('.leaflet-tooltip').textContent; }}""", hostile["place_name"])
    if which == "all":
        assert tip == hostile["place_name"]
    w.assert_clean()


def test_roads_map(attacked, base_url, hostile):
    for inline in ("false", "true"):
        w = attacked()
        w.open(f"{base_url}/maps/roads?on={DAY.isoformat()}&inline={inline}")
        w.page.wait_for_selector("path.leaflet-interactive", timeout=15_000)
        assert w.js(_FEATURES, "LineString") == hostile["sections"] > 0
        names = w.js(_OVERLAY_NAMES)
        assert f"{UNIT} (3)" in names, names
        assert UNIT in (w.page.locator(".gridmap-legend").text_content() or "")
        popup = w.js(f"""() => {{ const map = {_MAP}; let found = null;
            map.eachLayer(g => {{ if (!found && g instanceof L.GeoJSON && g.getPopup()) found = g; }});
            const line = found.getLayers()[0];
            line.fire('click', {{latlng: line.getBounds().getCenter()}}, true);
            return document.querySelector('.leaflet-popup-content').textContent; }}""")
        assert "道路 " + EVERYTHING in popup
        w.assert_clean()


def test_map_index_and_login(attacked, base_url, hostile):
    w = attacked()
    w.open(f"{base_url}/maps/")
    items = w.page.locator("li").all_text_contents()
    assert sum(hostile["community_name"] in t for t in items) >= 1
    assert w.page.locator("body > ul > li").count() == hostile["communities"]
    w.assert_clean()
    anonymous = attacked(token=None)
    target = '/"><img src=x onerror=window.__xss=1><script>window.__xss=1</script>'
    anonymous.open(f"{base_url}/login?next={quote(target, safe='')}")
    assert anonymous.page.locator("input[name=next]").get_attribute("value") == target
    assert anonymous.page.locator("img").count() == 0
    anonymous.assert_clean()


def test_the_single_file_map_is_safe_by_escaping_alone(attacked, database_url, hostile, tmp_path):
    """The CLI's file (``gridmap map grid CODE -o FILE.html``) is opened with no server and hence no
    header. Written here without even its own <meta> policy (a nonce is given, as if a server sent
    one, but none does), the hostile register must still run nothing and draw every household."""
    from gis.maps import grids as mapdata
    from gis.settings import Settings
    from layers.maps import grid_map
    from layers.shell import render_html

    with psycopg.connect(database_url) as conn:
        data = mapdata.grid_map_data(conn, hostile["grid"])
    page = render_html(grid_map(data, Settings(_env_file=None)), inline=True, nonce="no-policy-sent")
    assert "Content-Security-Policy" not in page
    out = tmp_path / "grid.html"
    out.write_text(page, "utf-8")
    w = attacked(token=None, allowed=lambda url: url.startswith(("file:", "data:")))
    w.page.goto(out.as_uri(), wait_until="load")
    w.page.wait_for_selector(".grid-label", state="attached", timeout=15_000)
    assert w.js(_CLUSTERED) == hostile["grid_households"] > 0
    assert w.page.title().startswith(hostile["grid_name"])
    assert _popup_of_a_household(w).startswith("地址 ")
    w.assert_clean()


_TOOLTIPS = f"""() => {{ const map = {_MAP}; const texts = [];
    map.eachLayer(l => {{ if (l.getTooltip && l.getTooltip()) {{
        l.openTooltip(); const t = l.getTooltip().getElement(); if (t) texts.push(t.textContent); }} }});
    return texts; }}"""


def test_the_campaign_overlays_draw_hostile_names_as_text(attacked, base_url, hostile, database_url):
    """Issue 16's overlays on the community map: a compound, its helper unit and a 阵地 named with every
    payload, ticked in the layer control; each tooltip shows the names as text and nothing runs."""
    with psycopg.connect(database_url) as conn:
        conn.execute("""
            WITH c AS (SELECT geom FROM community WHERE code = %(code)s)
            , k AS (INSERT INTO compound (name, management, geom)
                    SELECT '小区 ' || %(every)s, 'none',
                           ST_Multi(ST_Buffer(ST_PointOnSurface(geom)::geography, 40)::geometry) FROM c
                    RETURNING id)
            , f AS (INSERT INTO facility (kind, name, address, owner_community, geom)
                    SELECT 'moral_lecture_hall', '讲堂 ' || %(every)s, '地址 ' || %(every)s, %(code)s,
                           ST_PointOnSurface(geom) FROM c RETURNING id)
            INSERT INTO compound_helper (compound_id, unit_id, valid)
            SELECT k.id, u.id, daterange('2020-01-01', NULL) FROM k, responsible_unit u
            WHERE u.name = %(unit)s""", {"code": hostile["community"], "every": EVERYTHING, "unit": UNIT})
        conn.commit()
    w = attacked()
    w.open(f"{base_url}/maps/communities/{hostile['community']}")
    w.page.wait_for_selector(".grid-label", state="attached", timeout=15_000)
    overlays = w.page.locator(".leaflet-control-layers-overlays label")
    for name in ("无人管理小区", "文明阵地"):
        overlays.filter(has_text=name).locator("input").check()
    assert w.page.locator("path.campaign-compound").count() >= 1
    tips = " ".join(w.js(_TOOLTIPS))
    assert f"小区 {EVERYTHING}" in tips and f"讲堂 {EVERYTHING}" in tips and UNIT in tips, tips
    w.assert_clean()
