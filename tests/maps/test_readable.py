"""Maps that read well (issue 13), checked in headless Chromium with the network cut, at an office PC's
1366×768 and a phone's 390×844: the scale bar apart from the legend, metric only; a north arrow on the
maps hung on walls; key persons above the households in a colour of their own; co-located households
fanned out on a click; the school map framed on the zone and every violation; roads and buildings
drawn when there are no tiles.

A demo street of its own database, plus two households at one point (one of them with a key person)
and four internet cafés 180 m from a school. Expectations come from the owner's SQL, shapely and the
JSON API, never from the map code.
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import shapely
from shapely.geometry import box

from tests.conftest import CHROMIUM, own_database

database_url, settings, admin_token = own_database("gridmap_readable")

LAYERS = Path(__file__).resolve().parents[2] / "layers"
SIZES = [(1366, 768), (390, 844)]
PAIR = ("同楼路1号1单元101室", "同楼路1号1单元102室")  # two flats at one point
MAP = "window[document.querySelector('.folium-map').id]"
needs_chromium = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium not installed")


# --- colours: no browser needed ------------------------------------------------------------------


def _rgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour, for a perceptual distance (ΔE76)."""
    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_key_persons_have_a_colour_no_other_layer_uses():
    from layers.styles import KEY_PERSON_COLOUR, TAG_STYLES

    assert TAG_STYLES["key_person"].colour == KEY_PERSON_COLOUR
    # Every colour written anywhere in layers/ (roads.py too), read from the source text.
    found: dict[str, list[str]] = {}
    # layers/styles.py re-exports the one symbology that the web maps and the PDF wall map share.
    for path in [*LAYERS.glob("*.py"), LAYERS.parent / "gis" / "maps" / "symbology.py"]:
        for colour in re.findall(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", path.read_text("utf-8")):
            found.setdefault(colour.lower(), []).append(path.name)
    assert found.pop(KEY_PERSON_COLOUR.lower()) == ["symbology.py"]  # defined once, used by name
    key = _lab(KEY_PERSON_COLOUR)
    nearest = min(found, key=lambda c: math.dist(key, _lab(c)))
    assert len(found) > 30 and math.dist(key, _lab(nearest)) > 20, (nearest, found[nearest])


def test_map_texts_are_chinese():
    from layers.styles import TAG_STYLES

    assert not [s.label for s in TAG_STYLES.values() if re.search(r"[A-Za-z]", s.label)]


# --- the street, served --------------------------------------------------------------------------

_PAIR_SQL = """
WITH g AS (SELECT code, ST_PointOnSurface(geom) AS p FROM grid WHERE code = %(grid)s),
h AS (
    INSERT INTO household (ref, address, grid_code, placement, geom)
    SELECT 'readable-' || n, a, g.code, 'inside', g.p
    FROM g, unnest(%(addresses)s::text[]) WITH ORDINALITY AS x (a, n)
    RETURNING id, ref
),
p AS (
    INSERT INTO person (ref, household_id, name, relation)
    SELECT h.ref || '-p', h.id, '同楼居民' || right(h.ref, 1), 'head' FROM h RETURNING id, ref
)
INSERT INTO key_person (person_id, category)
SELECT p.id, (SELECT code FROM key_person_category ORDER BY code LIMIT 1) FROM p WHERE p.ref = 'readable-1-p'
"""

# Four internet cafés 180 m beyond each side of the school's campus box: inside its 200 m zone, near
# its edge, where a map framed on the campus cut them off.
_CAFES_SQL = """
INSERT INTO place (ref, name, category, address, geom)
SELECT 'readable-cafe-' || d, '网吧' || d, 'internet_cafe', '校外' || d,
       ST_SetSRID(ST_MakePoint(x, y), 4326)
FROM school s CROSS JOIN LATERAL ST_PointOnSurface(s.geom) c
CROSS JOIN LATERAL (VALUES
    ('北', ST_X(c), ST_YMax(s.geom) + 180 / 110574.0),
    ('南', ST_X(c), ST_YMin(s.geom) - 180 / 110574.0),
    ('东', ST_XMax(s.geom) + 180 / (111320 * cos(radians(ST_Y(c)))), ST_Y(c)),
    ('西', ST_XMin(s.geom) - 180 / (111320 * cos(radians(ST_Y(c)))), ST_Y(c))) AS v (d, x, y)
WHERE s.ref = %(school)s
"""


@pytest.fixture(scope="module")
def street(database_url: str) -> dict[str, Any]:
    from gis.demo.street import generate_street, load_demo

    demo = generate_street(seed=5, communities=2, grids=4, households=120, persons=240, schools=2, places=40)
    grid = str(demo.grids["code"].iloc[0])
    school = str(demo.schools["ref"].iloc[0])
    with psycopg.connect(database_url) as conn:
        load_demo(conn, demo)
        conn.execute(_PAIR_SQL, {"grid": grid, "addresses": list(PAIR)})
        conn.execute(_CAFES_SQL, {"school": school})
        conn.commit()
        level, region = conn.execute(
            "SELECT s.level, (SELECT c.code FROM community c"
            " WHERE ST_Intersects(c.geom, ST_PointOnSurface(s.geom)) ORDER BY c.code LIMIT 1)"
            " FROM school s WHERE s.ref = %s", [school]).fetchone()  # type: ignore[misc]
        zone_m = conn.execute("SELECT max(distance_m) FROM perimeter_rules_in_force(%s, %s)",
                              [level, region]).fetchone()[0]  # type: ignore[index]
        campus = conn.execute("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM school"
                              " WHERE ref = %s", [school]).fetchone()
    return {"grid": grid, "community": grid[:12], "street": grid[:9], "school": school,
            "zone_m": float(zone_m), "campus": campus}


@pytest.fixture(scope="module")
def base_url(settings, street, serve_app) -> Iterator[str]:
    from api.app import create_app

    assert settings.basemap == "none"
    with serve_app(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def open_map(browser, base_url, admin_token) -> Iterator:
    """``open_map(path, size)``: a page at that size, signed in as an admin, every request away from
    the app aborted; the page waits for the map's panes and controls."""
    contexts = []

    def opened(path: str, size: tuple[int, int]):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        contexts.append(context)
        context.add_cookies([{"name": "gridmap_token", "value": admin_token, "url": base_url}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base_url) else r.abort())
        response = page.goto(base_url + path, wait_until="load")
        assert response is not None and response.status == 200, path
        page.wait_for_selector(".leaflet-control-scale", state="attached", timeout=15_000)
        page.wait_for_timeout(300)  # fitBounds and the legend's layout settle
        page.errors = errors
        return page

    yield opened
    for context in contexts:
        context.close()


def _paths(street: dict[str, Any]) -> dict[str, str]:
    return {"grid": f"/maps/grids/{street['grid']}", "community": f"/maps/communities/{street['community']}",
            "street": f"/maps/street/{street['street']}", "perimeter": "/maps/perimeter",
            "school": f"/maps/perimeter/schools/{street['school']}"}


_RECTS = """() => {
    const r = (s) => { const e = document.querySelector(s); if (!e) return null;
                       const b = e.getBoundingClientRect();
                       return [b.left, b.top, b.right, b.bottom]; };
    return {scale: r('.leaflet-control-scale'), legend: r('.gridmap-legend'), north: r('.gridmap-north'),
            lines: document.querySelectorAll('.leaflet-control-scale-line').length,
            width: window.innerWidth, height: window.innerHeight};
}"""


def _apart(a: list[float], b: list[float]) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


@needs_chromium
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("kind", ["grid", "community", "street", "perimeter", "school"])
def test_scale_bar_metric_apart_from_the_legend_and_a_north_arrow(open_map, street, kind, size):
    page = open_map(_paths(street)[kind], size)
    rects = page.evaluate(_RECTS)
    assert rects["scale"] and rects["legend"], rects
    assert _apart(rects["scale"], rects["legend"]), rects
    assert rects["lines"] == 1  # metres only: no second line in feet and miles
    assert "m" in page.locator(".leaflet-control-scale-line").inner_text()
    # Everything inside the window: the legend is not pushed off a phone's screen.
    assert 0 <= rects["legend"][0] and rects["legend"][2] <= rects["width"], rects
    assert rects["north"] is not None and page.locator(".gridmap-north").is_visible()
    assert _apart(rects["north"], rects["legend"]) and _apart(rects["north"], rects["scale"])
    page.emulate_media(media="print")  # on paper the buttons go, the arrow and the scale stay
    assert page.locator(".gridmap-north").is_visible() and page.locator(".leaflet-control-scale").is_visible()
    assert not page.errors


_PANES = f"""() => {{
    const map = {MAP};
    const z = (name) => Number(getComputedStyle(map.getPane(name)).zIndex);
    const key = document.querySelectorAll('.leaflet-gridmap-key-persons-pane path.tag-key_person').length;
    return {{markers: z('markerPane'), key: z('gridmap-key-persons'), rings: z('gridmap-rings'),
             keyRings: key, allKeyRings: document.querySelectorAll('path.tag-key_person').length,
             colour: document.querySelector('path.tag-key_person').getAttribute('stroke')}};
}}"""


@needs_chromium
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_key_persons_are_drawn_above_the_households(open_map, street, size):
    from layers.styles import KEY_PERSON_COLOUR

    page = open_map(_paths(street)["community"], size)
    panes = page.evaluate(_PANES)
    assert panes["key"] > panes["rings"] > panes["markers"], panes
    assert panes["keyRings"] == panes["allKeyRings"] > 0, panes
    assert panes["colour"] == KEY_PERSON_COLOUR
    labels = page.locator(".leaflet-control-layers-overlays label").all_text_contents()
    assert any(re.fullmatch(r"\s*重点人员 \d+ 人\s*", t) for t in labels), labels
    assert any(re.fullmatch(r"\s*住户 \d+ 户\s*", t) for t in labels), labels


_PAIR_POINT = f"""() => {{
    const map = {MAP}; let found = null;
    map.eachLayer(l => {{ if (!found && l instanceof L.MarkerClusterGroup) {{
        l.getLayers().forEach(m => {{ if (m.options.title === {PAIR[0]!r}) found = m.getLatLng(); }});
    }} }});
    map.setView(found, map.getMaxZoom(), {{animate: false}});
    return [found.lat, found.lng];
}}"""
_POINT = f"""([lat, lng]) => {{ const p = {MAP}.latLngToContainerPoint([lat, lng]);
    const box = {MAP}.getContainer().getBoundingClientRect(); return [box.left + p.x, box.top + p.y]; }}"""


@needs_chromium
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_households_at_one_point_fan_out_and_each_opens_its_own_popup(open_map, street, size):
    page = open_map(_paths(street)["grid"], size)
    point = page.evaluate(_PAIR_POINT)
    page.wait_for_timeout(500)
    # At the highest zoom the two flats are one cluster: neither marker can be clicked yet.
    assert page.locator(f'.hh[title="{PAIR[0]}"]').count() == 0
    x, y = page.evaluate(_POINT, point)
    page.mouse.click(x, y)  # the cluster's middle (the key person's ring is a stroke, 6 px out)
    for address in PAIR:
        marker = page.locator(f'.hh[title="{address}"]')
        marker.wait_for(state="visible", timeout=5_000)
        marker.click()
        popup = page.locator(".leaflet-popup-content .hh-popup")
        popup.wait_for(state="visible", timeout=5_000)
        assert popup.count() == 1 and address in popup.inner_text()
        page.evaluate(f"() => {MAP}.closePopup()")
        page.locator(".leaflet-popup").wait_for(state="detached", timeout=5_000)
    # The key person's ring, above the fanned-out markers, opens her flat and not the neighbour's.
    x, y = page.evaluate(_POINT, point)  # a popup may have panned the map into view
    page.mouse.click(x + 6, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=5_000)
    assert PAIR[0] in popup.inner_text() and PAIR[1] not in popup.inner_text()


@needs_chromium
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_school_map_frames_the_zone_and_every_violation(open_map, client, street, size):
    listing = client.get(f"/perimeter/schools/{street['school']}/violations", params={"format": "geojson"})
    assert listing.status_code == 200
    points = [f["geometry"]["coordinates"] for f in listing.json()["features"]]
    assert len(points) >= 4  # the four cafés at least
    w, s, e, n = street["campus"]
    zone = street["zone_m"]
    lat = (s + n) / 2
    dlat, dlon = zone / 110574.0, zone / (111320 * math.cos(math.radians(lat)))
    page = open_map(_paths(street)["school"], size)
    bounds = page.evaluate(f"() => {{ const b = {MAP}.getBounds(); "
                           "return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }")
    frame = box(*bounds)
    assert frame.contains(box(w - dlon, s - dlat, e + dlon, n + dlat)), (bounds, zone)
    outside = [p for p in points if not frame.contains(shapely.Point(p))]
    assert not outside, (bounds, outside)
    labels = page.locator(".campus-label").all_text_contents()
    assert labels and all(t.strip() for t in labels)


def _owner_base(database_url: str, area: tuple[float, float, float, float]) -> tuple[int, int]:
    """Roads and buildings crossing ``area`` (a line or an area inside it), counted with shapely."""
    with psycopg.connect(database_url) as conn:
        roads = [shapely.from_wkb(r[0]) for r in conn.execute("SELECT ST_AsBinary(geom) FROM road")]
        buildings = [shapely.from_wkb(r[0]) for r in conn.execute("SELECT ST_AsBinary(geom) FROM building")]
    frame = box(*area)
    return (sum(frame.intersection(g).length > 0 for g in roads),
            sum(frame.intersection(g).area > 0 for g in buildings))


@needs_chromium
@pytest.mark.parametrize("kind", ["grid", "community"])
def test_without_tiles_the_roads_and_buildings_are_drawn(open_map, database_url, street, kind):
    from gis.maps.base import MARGIN_DEG

    table, code = ("grid", street["grid"]) if kind == "grid" else ("community", street["community"])
    with psycopg.connect(database_url) as conn:
        extent = conn.execute("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)"
                              f" FROM {table} WHERE code = %s", [code]).fetchone()
    assert extent is not None
    area = (extent[0] - MARGIN_DEG, extent[1] - MARGIN_DEG, extent[2] + MARGIN_DEG, extent[3] + MARGIN_DEG)
    roads, buildings = _owner_base(database_url, area)
    page = open_map(_paths(street)[kind], SIZES[0])
    drawn = page.evaluate("() => ['road', 'building'].map(k => document.querySelectorAll("
                          "'.leaflet-gridmap-base-pane path.base-' + k).length)")
    assert drawn == [roads, buildings] and roads > 0 and buildings > 0


@needs_chromium
def test_the_street_map_has_a_legend_of_place_colours_community_names_and_campus_labels(
        open_map, database_url, street):
    from gis.perimeter.specs import PLACE_CATEGORIES
    from layers.street import PLACE_COLOURS, PLACE_LABELS

    page = open_map(_paths(street)["street"], SIZES[0])
    page.wait_for_function("window.gridmapReady === true", timeout=15_000)
    legend = page.locator(".gridmap-legend").inner_text()
    assert all(PLACE_LABELS[c] in legend for c in PLACE_CATEGORIES)
    assert len(set(PLACE_COLOURS)) == len(PLACE_CATEGORIES)
    with psycopg.connect(database_url) as conn:
        truth = dict(conn.execute("SELECT g.code, c.name FROM grid g"
                                  " JOIN community c ON c.code = g.community_code"
                                  " WHERE starts_with(g.code, %s)", [street["street"]]).fetchall())
        schools = [r[0] for r in conn.execute("SELECT name FROM school ORDER BY name")]
    names = page.evaluate("() => Object.fromEntries(window.gridmapStreet.grids.getLayers()"
                          ".map(l => [l.feature.properties.c, l.feature.properties.k]))")
    assert names == truth
    labels = sorted(t.strip() for t in page.locator(".campus-label").all_text_contents())
    assert labels == schools
