"""Places and schools (场所与学校) and the rule book (周边规则) through their forms, as a browser uses
them (login cookie, CSRF token): a school with a drawn campus and a gate, then the perimeter check sees
a place 150 m away (measured as the owner with ST_Distance on geography); an invalid campus answered
beside the field with nothing saved; GCJ-02 input converted (prcoords); a licence's expiry shown and
the licences check agreeing; a rule's preview listing exactly the schools whose violations change
(counted as the owner), cancelling saving nothing; who may open what; and the campus drawn by clicking
the map in Chromium at both sizes."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from html import unescape
from urllib.parse import quote

import prcoords
import psycopg
import pytest

from tests.workbench.test_pages import Page

HTML = {"accept": "text/html,application/xhtml+xml"}
M_LAT = 111_320.0  # metres per degree of latitude, near enough for drawing test squares


def _owner(database_url: str, query: str, params: object = None) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def spot(database_url, street) -> Iterator[tuple[float, float]]:
    """A point 5 km east of the demo street, 2 km and more from every school; what the tests add there
    is removed at the end (other modules share the database)."""
    ((lon, lat),) = _owner(database_url, "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)"
                                         "::geometry) c FROM community) x")
    lon += 0.05
    ((nearest,),) = _owner(database_url, "SELECT min(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint("
                                         "%s, %s), 4326)::geography)) FROM school", [lon, lat])
    assert nearest is None or nearest > 2000
    yield lon, lat
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM place WHERE ST_DWithin(geom::geography,"
                     " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 3000)", [lon, lat])
        conn.execute("DELETE FROM school WHERE ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s),"
                     " 4326)::geography, 3000)", [lon, lat])


def square(lon: float, lat: float, half_m: float) -> list[list[float]]:
    dlat, dlon = half_m / M_LAT, half_m / (M_LAT * math.cos(math.radians(lat)))
    return [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat],
            [lon - dlon, lat + dlat], [lon - dlon, lat - dlat]]


def _form(c, url: str) -> Page:
    r = c.get(url, headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), (url, r.text[:300])
    return Page(r.text)


def _post(c, url: str, data: dict, page_url: str | None = None):
    page = _form(c, page_url or url)
    sent = {"csrf_token": page.inputs["csrf_token"], **data}
    if "version" in page.inputs and "version" not in data:
        sent["version"] = page.inputs["version"]
    return c.post(url, headers=HTML, data=sent, follow_redirects=False)


def _error_beside(html: str, field: str) -> str:
    """The text of the error element the field's aria-describedby names."""
    found = re.search(rf'name="{field}"[^>]*aria-describedby="e-{field}"', html) or \
        re.search(rf'id="f-{field}"[^>]*aria-describedby="e-{field}"', html)
    assert found, f"{field} is not marked invalid"
    text = re.search(rf'<span class="error" id="e-{field}">(.*?)</span>', html, re.S)
    assert text, f"no error beside {field}"
    return unescape(text[1])


def _school(c, name: str, geometry: object, gates: object = "", **extra) -> object:
    data = {"name": name, "level": "primary", "ref": extra.pop("ref", ""), "crs": "EPSG:4326",
            "geometry": json.dumps(geometry) if isinstance(geometry, dict) else geometry,
            "gates": json.dumps(gates) if isinstance(gates, dict) else gates, **extra}
    return _post(c, "/perimeter/schools/new", data)


def test_a_drawn_school_and_a_place_150_m_away_make_a_violation(signed_in, database_url, spot):
    c = signed_in("inspector")
    lon, lat = spot
    ref = "TS-" + uuid.uuid4().hex[:6]
    campus = {"type": "Polygon", "coordinates": [square(lon, lat, 50)]}
    gate = {"type": "MultiPoint", "coordinates": [[lon, lat - 50 / M_LAT]]}
    r = _school(c, "测试小学", campus, gate, ref=ref)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/perimeter/schools/{ref}/edit?saved=true"
    ((level, kind, gates, area),) = _owner(database_url, "SELECT level, GeometryType(geom),"
                                           " ST_NumGeometries(gates), ST_Area(geom::geography)"
                                           " FROM school WHERE ref = %s", [ref])
    assert (level, kind, gates) == ("primary", "POLYGON", 1) and 9_900 < area < 10_100
    edit = c.get(r.headers["location"], headers=HTML).text
    assert "已保存" in edit and 'class="gate-count">1<' in edit

    # an internet cafe 150 m north of the campus's north edge, added through the place form
    place_ref = "TP-" + uuid.uuid4().hex[:6]
    north = lat + (50 + 150) / M_LAT
    r = _post(c, "/perimeter/places/new", {"name": "测试网吧", "category": "internet_cafe", "ref": place_ref,
                                           "address": "测试路1号", "lon": f"{lon:.7f}", "lat": f"{north:.7f}",
                                           "crs": "EPSG:4326"})
    assert r.status_code == 303, r.text[:500]
    ((owner_m,),) = _owner(database_url, "SELECT ST_Distance(s.geom::geography, p.geom::geography)"
                                         " FROM school s, place p WHERE s.ref = %s AND p.ref = %s",
                           [ref, place_ref])
    found = c.get("/perimeter/violations", params={"school": ref}).json()
    rows = found["violations"]
    mine = [v for v in rows if v["place_ref"] == place_ref]
    assert len(mine) == 1 and mine[0]["school_ref"] == ref
    assert abs(owner_m - 150) < 1 and abs(mine[0]["distance_m"] - owner_m) < 0.5


@pytest.mark.parametrize(("geometry", "field", "words"), [
    ("POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", "geometry", "outside the region"),
    ("bowtie", "geometry", "outer boundary crosses itself"),
    ("swapped", "geometry", "lat/lon look swapped"),
    ("POLYGON((1 2", "geometry", "neither GeoJSON nor WKT"),
    ("square", "gates", "m from the campus"),
])
def test_an_invalid_campus_is_refused_beside_its_field(signed_in, database_url, spot, geometry, field, words):
    c = signed_in("inspector")
    lon, lat = spot
    d = 0.001
    gates = ""
    if geometry == "bowtie":
        corners = [(lon, lat), (lon + d, lat + d), (lon + d, lat), (lon, lat + d), (lon, lat)]
        geometry = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in corners) + "))"
    elif geometry == "swapped":
        geometry = {"type": "Polygon", "coordinates": [[[y, x] for x, y in square(lon, lat, 40)]]}
    elif geometry == "square":
        geometry = {"type": "Polygon", "coordinates": [square(lon, lat, 40)]}
        gates = f"{lon + 0.02},{lat}"  # about 1.7 km away
    name = "无效学校" + uuid.uuid4().hex[:4]
    r = _school(c, name, geometry, gates)
    assert r.status_code == 422, r.text[:300]
    assert words in _error_beside(r.text, field)
    assert _owner(database_url, "SELECT count(*) FROM school WHERE name = %s", [name]) == [(0,)]


def test_gcj02_input_is_converted_on_the_way_in(signed_in, database_url, spot):
    c = signed_in("inspector")
    lon, lat = spot
    gcj = prcoords.wgs_gcj(prcoords.Coords(lat + 0.003, lon))  # where 高德 shows a point: typed as read
    ref = "TG-" + uuid.uuid4().hex[:6]
    r = _post(c, "/perimeter/places/new", {"name": "火星坐标店", "category": "food_shop", "ref": ref,
                                           "lon": f"{gcj.lon:.8f}", "lat": f"{gcj.lat:.8f}", "crs": "gcj02"})
    assert r.status_code == 303, r.text[:500]
    ((x, y, shift),) = _owner(database_url, "SELECT ST_X(geom), ST_Y(geom), ST_Distance(geom::geography,"
                                            " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) FROM place"
                                            " WHERE ref = %s", [gcj.lon, gcj.lat, ref])
    back = prcoords.wgs_gcj(prcoords.Coords(y, x))
    assert abs(back.lon - gcj.lon) < 1e-7 and abs(back.lat - gcj.lat) < 1e-7  # within about a centimetre
    assert abs(x - lon) < 1e-6 and abs(y - (lat + 0.003)) < 1e-6
    assert shift > 50  # the shift was applied, not the GCJ numbers stored


def test_licence_expiry_is_shown_and_the_licences_check_agrees(signed_in, database_url, spot):
    c = signed_in("inspector")
    lon, lat = spot
    yesterday, later = date.today() - timedelta(days=1), date.today() + timedelta(days=90)
    refs = {}
    for state, until in (("expired", yesterday), ("valid", later)):
        refs[state] = f"TL-{state}-" + uuid.uuid4().hex[:4]
        r = _post(c, "/perimeter/places/new", {
            "name": f"证照{state}", "category": "food_shop", "ref": refs[state], "lon": f"{lon + 0.004:.7f}",
            "lat": f"{lat:.7f}", "crs": "EPSG:4326", "licence_kind": "食品经营许可证",
            "licence_number": "JY1" + uuid.uuid4().hex[:8], "licence_valid_until": until.isoformat(),
            "licence_displayed": "true"})
        assert r.status_code == 303, r.text[:500]
    expired = c.get(f"/perimeter/places/{refs['expired']}/edit", headers=HTML).text
    assert "证照过期" in expired and yesterday.isoformat() in expired
    valid = c.get(f"/perimeter/places/{refs['valid']}/edit", headers=HTML).text
    assert 'class="licence valid"' in valid and later.isoformat() in valid
    listed = c.get("/perimeter/directory", params={"q": "证照"}, headers=HTML).text
    assert "证照过期" in listed
    check = c.get("/perimeter/licences", params={"category": "food_shop"}).json()
    rows = {r["place_ref"]: r for r in check["shops"]}
    assert rows[refs["expired"]]["licence_state"] == "expired"
    assert refs["valid"] not in rows
    # the licence removed through the form: the check then says "missing"
    r = _post(c, f"/perimeter/places/{refs['valid']}/edit", {
        "name": "证照valid", "category": "food_shop", "ref": refs["valid"], "lon": f"{lon + 0.004:.7f}",
        "lat": f"{lat:.7f}", "crs": "EPSG:4326", "licence_kind": "", "licence_number": "",
        "licence_valid_until": ""})
    assert r.status_code == 303, r.text[:500]
    check = c.get("/perimeter/licences", params={"category": "food_shop"}).json()
    rows = {r["place_ref"]: r for r in check["shops"]}
    assert rows[refs["valid"]]["licence_state"] == "missing"


def test_a_stale_edit_shows_both_versions(signed_in, database_url, spot):
    c = signed_in("inspector")
    lon, lat = spot
    ref = "TV-" + uuid.uuid4().hex[:6]
    fields = {"name": "原名", "category": "bar", "ref": ref, "lon": f"{lon:.7f}", "lat": f"{lat + 0.006:.7f}",
              "crs": "EPSG:4326"}
    assert _post(c, "/perimeter/places/new", fields).status_code == 303
    stale = _form(c, f"/perimeter/places/{ref}/edit").inputs["version"]
    assert _post(c, f"/perimeter/places/{ref}/edit", {**fields, "name": "别人改的"}).status_code == 303
    r = _post(c, f"/perimeter/places/{ref}/edit", {**fields, "name": "我改的", "version": stale})
    assert r.status_code == 409 and "别人改的" in r.text and "我改的" in r.text
    assert _owner(database_url, "SELECT name FROM place WHERE ref = %s", [ref]) == [("别人改的",)]


def _violations_by_school(database_url: str, category: str, rules: list[tuple[str, float]]) -> dict:
    """As the owner, independently of check.sql: for each place of ``category``, the nearest school
    within the distance of the rule (region prefix, metres) that applies to the school's community
    (the most specific region wins), by ST_Distance on geography; per school, its places."""
    rows = _owner(database_url, """
        WITH r AS (SELECT * FROM unnest(%s::text[], %s::float8[]) AS r(region, distance_m)),
        s AS (SELECT s.id, s.geom, (SELECT r.distance_m FROM r WHERE r.region = 'national' OR
                     starts_with(coalesce(c.code, ''), r.region)
                     ORDER BY CASE WHEN r.region = 'national' THEN 0 ELSE length(r.region) END DESC
                     LIMIT 1) AS d
              FROM school s LEFT JOIN LATERAL (SELECT code FROM community WHERE ST_Intersects(geom,
                   ST_PointOnSurface(s.geom)) ORDER BY code LIMIT 1) c ON true
              WHERE s.level IN ('primary', 'middle'))
        SELECT DISTINCT ON (p.id) p.id, s.id FROM place p JOIN s ON s.d IS NOT NULL
          AND ST_DWithin(p.geom::geography, s.geom::geography, s.d)
        WHERE p.category = %s ORDER BY p.id, ST_Distance(p.geom::geography, s.geom::geography)""",
                  [[r for r, _ in rules], [d for _, d in rules], category])
    by_school: dict[int, set[int]] = {}
    for place, school in rows:
        by_school.setdefault(school, set()).add(place)
    return by_school


def test_the_rule_preview_lists_exactly_the_schools_it_changes(signed_in, database_url, street):
    c = signed_in("admin")
    # a school of ours inside the street, with internet cafes 120 m (within the national 200 m, not the
    # province's 100 m) and 50 m (within both) from its campus
    # the grid farthest from the demo's schools, and the way pointing further away from the nearest one
    ((campus, cafes, away),) = _owner(database_url, """
        SELECT ST_AsGeoJSON(ST_Buffer(x.p::geography, 30, 8)::geometry, 8),
               array[ST_AsText(ST_Project(x.p::geography, 150, az)::geometry),
                     ST_AsText(ST_Project(x.p::geography, 80, az)::geometry)], n.d
        FROM (SELECT ST_PointOnSurface(g.geom) p FROM grid g) x
        CROSS JOIN LATERAL (SELECT ST_Distance(s.geom::geography, x.p::geography) d,
                                   ST_Azimuth(ST_ClosestPoint(s.geom, x.p), x.p) az
                            FROM school s ORDER BY 1 LIMIT 1) n
        ORDER BY n.d DESC LIMIT 1""")
    assert away > 200
    tag = uuid.uuid4().hex[:6]
    try:
        assert _school(c, "规则小学" + tag, campus, ref="TR-" + tag).status_code == 303
        for metres, wkt in zip((120, 50), cafes, strict=True):
            x, y = map(float, wkt[len("POINT("):-1].split())
            assert _post(c, "/perimeter/places/new", {
                "name": f"网吧{metres}-{tag}", "category": "internet_cafe", "lon": f"{x:.8f}",
                "lat": f"{y:.8f}", "crs": "EPSG:4326"}).status_code == 303
        province = street.street[:2]
        (rules_before,) = _owner(database_url, "SELECT count(*) FROM perimeter_rule")
        form = {"region": province, "category": "internet_cafe", "school_levels": ["primary", "middle"],
                "distance_m": "100", "kind": "forbidden", "method": "boundary", "note": "测试省规",
                "action": "preview"}
        r = _post(c, "/perimeter/rulebook", form)
        assert r.status_code == 200, r.text[:500]
        shown = {int(s) for s in re.findall(r'<tr data-school="(\d+)">', r.text)}
        before = _violations_by_school(database_url, "internet_cafe", [("national", 200)])
        after = _violations_by_school(database_url, "internet_cafe", [("national", 200), (province, 100)])
        changed = {s for s in before.keys() | after.keys() if before.get(s, set()) != after.get(s, set())}
        ((ours,),) = _owner(database_url, "SELECT id FROM school WHERE ref = %s", ["TR-" + tag])
        assert ours in changed and shown == changed
        # cancelling (leaving the preview) saved nothing; the page lists the rules as before
        assert _owner(database_url, "SELECT count(*) FROM perimeter_rule") == [rules_before]
        page = c.get("/perimeter/rulebook", headers=HTML)
        assert page.status_code == 200 and "测试省规" not in page.text
        # saving from the preview adds it
        r = _post(c, "/perimeter/rulebook", {**form, "action": "save"})
        assert r.status_code == 303, r.text[:300]
        rule_id = int(r.headers["location"].rsplit("=", 1)[1])
        assert _owner(database_url, "SELECT region, distance_m FROM perimeter_rule WHERE id = %s",
                      [rule_id]) == [(province, 100.0)]
        assert f'data-rule="{rule_id}"' in c.get(r.headers["location"], headers=HTML).text
    finally:  # other modules run the check on this database
        with psycopg.connect(database_url) as conn:
            conn.execute("DELETE FROM perimeter_rule WHERE note = '测试省规'")
            conn.execute("DELETE FROM place WHERE name LIKE %s", [f"网吧%-{tag}"])
            conn.execute("DELETE FROM school WHERE ref = %s", ["TR-" + tag])


def test_a_street_admin_cannot_set_a_provinces_rule_or_edit_outside_their_street(signed_in, database_url,
                                                                                 street, spot):
    c = signed_in("street_admin")
    (count,) = _owner(database_url, "SELECT count(*) FROM perimeter_rule")
    r = _post(c, "/perimeter/rulebook", {"region": street.street[:2], "category": "bar",
                                         "school_levels": ["primary"], "distance_m": "150",
                                         "kind": "forbidden",
                                         "method": "boundary", "action": "save"})
    assert r.status_code == 403 and "outside the areas you administer" in _error_beside(r.text, "region")
    assert _owner(database_url, "SELECT count(*) FROM perimeter_rule") == [count]
    lon, lat = spot  # outside every community: not the street admin's
    r = _school(c, "越界学校", {"type": "Polygon", "coordinates": [square(lon, lat + 0.01, 30)]})
    assert r.status_code == 403 and "outside the areas you may edit" in _error_beside(r.text, "geometry")
    assert _owner(database_url, "SELECT count(*) FROM school WHERE name = '越界学校'") == [(0,)]


@pytest.mark.parametrize("role", ["worker", "viewer", "planner"])
def test_other_roles_get_no_menu_and_403(signed_in, role):
    c = signed_in(role)
    links = Page(c.get("/", headers=HTML).text).links
    assert "/perimeter/directory" not in links and "/perimeter/rulebook" not in links
    for url in ("/perimeter/directory", "/perimeter/places/new", "/perimeter/schools/new",
                "/perimeter/rulebook"):
        assert c.get(url, headers=HTML).status_code == 403, url
    csrf = Page(c.get("/", headers=HTML).text).inputs["csrf_token"]  # the sign-out form's: a valid token
    r = c.post("/perimeter/schools/new", headers=HTML, data={"name": "x", "csrf_token": csrf},
               follow_redirects=False)
    assert r.status_code == 403


def test_an_inspector_sees_the_directory_but_not_the_rule_book(signed_in):
    c = signed_in("inspector")
    links = Page(c.get("/", headers=HTML).text).links
    assert "/perimeter/directory" in links and "/perimeter/rulebook" not in links
    assert c.get("/perimeter/rulebook", headers=HTML).status_code == 403
    page = c.get("/perimeter/directory", headers=HTML)
    assert page.status_code == 200 and 'type="search"' in page.text


def test_a_form_post_without_its_csrf_token_is_refused(signed_in, database_url, spot):
    c = signed_in("inspector")
    lon, lat = spot
    r = c.post("/perimeter/places/new", headers=HTML, follow_redirects=False,
               data={"name": "无令牌", "category": "bar", "lon": str(lon), "lat": str(lat)})
    assert r.status_code in (401, 403)
    assert _owner(database_url, "SELECT count(*) FROM place WHERE name = '无令牌'") == [(0,)]


def test_the_json_api_creates_reads_and_replaces_a_school(database_url, spot, settings, admin_token):
    from fastapi.testclient import TestClient

    from api.app import create_app

    lon, lat = spot
    with TestClient(create_app(settings)) as api:
        auth = {"authorization": f"Bearer {admin_token}"}
        body = {"name": "接口小学", "level": "小学", "ref": "TJ-" + uuid.uuid4().hex[:6],
                "geometry": {"type": "Polygon", "coordinates": [square(lon + 0.01, lat, 30)]},
                "gates": f"{lon + 0.01},{lat - 30 / M_LAT}"}
        r = api.post("/perimeter/schools", json=body, headers=auth)
        assert r.status_code == 201, r.text
        school = r.json()
        assert school["level"] == "primary" and school["gate_count"] == 1
        renamed = {**body, "name": "接口小学二", "version": school["version"]}
        r = api.put(f"/perimeter/schools/{quote(body['ref'])}", json=renamed, headers=auth)
        assert r.status_code == 200 and r.json()["name"] == "接口小学二"
        r = api.put(f"/perimeter/schools/{quote(body['ref'])}", json={**body, "version": school["version"]},
                    headers=auth)
        assert r.status_code == 409
        found = api.get("/perimeter/schools", params={"q": "接口小学"}, headers=auth).json()
        assert [s["ref"] for s in found["items"]] == [body["ref"]]


# --- in Chromium: a campus drawn by clicking the map ---------------------------------------------------

@pytest.fixture(scope="module")
def base_url(app, street, serve_app) -> Iterator[str]:
    with serve_app(app) as url:
        yield url


@pytest.mark.parametrize("size", ["pc", "phone"])
def test_a_campus_drawn_by_clicking_the_map(browser, base_url, street, password, database_url, spot, size):
    pytest.importorskip("playwright.sync_api")
    from tests.workbench.test_browser import Tab, sign_in

    t = Tab(browser, size)
    try:
        sign_in(t, base_url, street.users["inspector"], password)
        t.page.goto(base_url + "/perimeter/schools/new", wait_until="load")
        t.wait("() => document.querySelector('#draw-map .leaflet-pane') !== null")
        t.page.locator("#draw-map").scroll_into_view_if_needed()
        assert t.errors == [], t.errors
        box = t.page.locator("#draw-map").bounding_box()
        assert box is not None
        name = f"点画小学{size}" + uuid.uuid4().hex[:4]
        t.page.fill("#f-name", name)
        t.page.locator("#draw-map").scroll_into_view_if_needed()
        box = t.page.locator("#draw-map").bounding_box()
        assert box is not None
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for dx, dy in ((-40, -30), (40, -30), (40, 30), (-40, 30)):  # campus mode is on for a new school
            t.page.mouse.click(cx + dx, cy + dy)
        t.page.click("button[data-draw=gates]")  # may scroll the page: the map is measured again
        t.page.locator("#draw-map").scroll_into_view_if_needed()
        box = t.page.locator("#draw-map").bounding_box()
        assert box is not None
        t.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 30)
        drawn = json.loads(t.js("() => document.getElementById('f-geometry').value"))
        assert drawn["type"] == "Polygon" and len(drawn["coordinates"][0]) == 5
        assert json.loads(t.js("() => document.getElementById('f-gates').value"))["type"] == "MultiPoint"
        assert t.js("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        t.shot(f"school-drawn-{size}")
        t.page.click("form.school button[type=submit]")
        t.page.wait_for_url(re.compile(r".*/edit\?saved=true$"), timeout=60_000)
        ((kind, corners, gates),) = _owner(database_url, "SELECT GeometryType(geom), ST_NPoints(geom),"
                                           " ST_NumGeometries(gates) FROM school WHERE name = %s", [name])
        assert (kind, corners, gates) == ("POLYGON", 5, 1)
        t.wait("() => document.querySelectorAll('#draw-map .draw-vertex').length === 4")
        t.clean()
    finally:
        t.context.close()
        with psycopg.connect(database_url) as conn:
            conn.execute("DELETE FROM school WHERE name LIKE '点画小学%%'")
