"""Issue 10 class 3 (stored XSS in the maps), on the page text: hostile names from the database
rendered by layers/ into every map, with no database and no browser (test_pages_browser.py runs
the same names in Chromium).

Each test names what it failed on before the fix:
- ``{{7*7}}`` in an address became ``49``: branca compiled every macro's output as a new Jinja
  template, so data in a script ran as a template on the server (and ``{% raw %}`` crashed the map).
- ``<!--<script>`` in an address sat raw inside the register's <script>: the HTML parser then ran
  on past ``</script>`` and the page came up blank; script_json escaped only ``</``.
- A name in the page title, a place or unit name in folium's tooltips and a unit's name in the layer
  control were written as HTML.
- Scripts carried no nonce, so no Content-Security-Policy could tell them from injected ones.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from gis.maps.grids import TAGS, MapData
from gis.settings import Settings
from layers.maps import community_map, grid_map
from layers.perimeter import perimeter_map
from layers.roads import road_sections_map
from layers.shell import render_html

HOSTILE = ["<!--<script>", "</script><script>window.__xss=1</script>", '"><img src=x onerror=window.__xss=1>',
           "'-alert(1)-'", "a\u2028b\u2029c", "{{7*7}}", "{% raw %}", "{{ cycler.__init__.__globals__ }}"]
EVERYTHING = "".join(HOSTILE)
GRID = "439901007001001"
RING = [[112.9, 28.2], [112.905, 28.2], [112.905, 28.208], [112.9, 28.208], [112.9, 28.2]]


def _settings() -> Settings:
    return Settings(_env_file=None)


def _grid_data(name: str) -> MapData:
    grids = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": GRID, "geometry": {"type": "MultiPolygon", "coordinates": [[RING]]},
        "properties": {"code": GRID, "name": name, "workers": [name], "team": [], "focus": True,
                       "label": [28.204, 112.9025]}}]}
    households = [{"id": i, "lat": 28.2 + i * 1e-4, "lon": 112.9 + i * 1e-4, "address": f"{name} {i}",
                   "grid_code": GRID, "placement": "inside", "tags": 1,
                   "members": [{"name": name, "relation": "head", "tags": 1, "note": name,
                                "id_number": "439901********0001", "phone": "139****0001"}]}
                  for i in range(3)]
    counts = {"households": 3, "persons": 3, "border": 0, "outside": 0, **dict.fromkeys(TAGS, 1)}
    return MapData(kind="grid", code=GRID, name=name, community_code=GRID[:12], community_name=name,
                   workers=[name], team=[name], grids=grids, bbox=(112.9, 28.2, 112.905, 28.208),
                   households=households, counts=counts, made_on=date(2026, 11, 28))


def _perimeter_data(name: str) -> dict:
    point = {"type": "Point", "coordinates": [112.901, 28.201]}
    campus = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [RING]},
              "properties": {"name": name, "level": name}}
    zone = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [RING]},
            "properties": {"name": name, "zone_m": 200}}
    return {"school": {"name": name}, "day": "2026-06-01", "bbox": (112.9, 28.2, 112.905, 28.208),
            "campuses": {"type": "FeatureCollection", "features": [campus]},
            "zones": {"type": "FeatureCollection", "features": [zone]},
            "violations": [{"lon": 112.901, "lat": 28.201, "place_name": name, "place_ref": name,
                            "category": name, "rule": name, "school_name": name, "distance_m": 12.0,
                            "licence_state": name}],
            "compliant": {"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": point, "properties": {"place_name": name}}]}}


def _road_data(name: str) -> dict:
    props = {"code": name, "road_name": name, "from_desc": name, "to_desc": name, "length_m": 100.0,
             "unit_id": 1, "unit_name": name, "contact": name, "phone": "13900000000",
             "valid_from": "2026-01-01", "valid_to": None, "duty_day": 5}
    line = {"type": "LineString", "coordinates": [[112.9, 28.2], [112.905, 28.2]]}
    feature = {"type": "Feature", "geometry": line, "properties": props}
    return {"type": "FeatureCollection", "features": [feature]}


def _pages(name: str) -> dict[str, str]:
    community = _grid_data(name)
    community.kind = "community"
    community.division = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [RING]},
        "properties": {"kind": "gap", "area_m2": 1.0, "grids": [name]}}]}
    s = _settings()
    return {
        "grid": render_html(grid_map(_grid_data(name), s), nonce="N0NCE"),
        "community": render_html(community_map(community, s), nonce="N0NCE"),
        "perimeter": render_html(perimeter_map(_perimeter_data(name), s), nonce="N0NCE"),
        "roads": render_html(road_sections_map(_road_data(name), date(2026, 6, 1), s), nonce="N0NCE"),
        "roads-inline": render_html(road_sections_map(_road_data(name), date(2026, 6, 1), s), inline=True,
                                    nonce="N0NCE"),
        "grid-file": render_html(grid_map(_grid_data(name), s), inline=True),
    }


class _Page(HTMLParser):
    """The page as an HTML tokenizer sees it: every start tag with its attributes, the text of each
    script element, and the title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append("")
        self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "title":
            self.title += data


def _parse(page: str) -> _Page:
    parsed = _Page()
    parsed.feed(page)
    parsed.close()
    return parsed


@pytest.mark.parametrize("name", [*HOSTILE, EVERYTHING])
def test_hostile_names_leave_every_map_whole(name):
    """Every map with the name in every text has exactly the elements it has with a plain name (no
    <img>, no extra or cut-short <script>), every script carries the nonce, the map's script holds
    nothing the HTML parser reads as markup (``<!--``, ``<script``, ``</script``), and the title is
    the text itself."""
    plain = {kind: _parse(page) for kind, page in _pages("测试").items()}
    for kind, page in _pages(name).items():
        parsed = _parse(page)
        assert [t for t, _ in parsed.tags] == [t for t, _ in plain[kind].tags], kind
        assert not [(t, a) for t, a in parsed.tags for k in a if k.startswith("on")], kind
        nonces = {a.get("nonce") for t, a in parsed.tags if t == "script"}
        assert len(nonces) == 1 and None not in nonces, (kind, nonces)
        if kind != "grid-file":
            assert nonces == {"N0NCE"}, kind
        map_script = parsed.scripts[-1].lower()
        assert "<!--" not in map_script and "<script" not in map_script and "</script" not in map_script
        if kind in ("grid", "community"):
            assert name in parsed.title, kind  # escaped in the source, the text itself once parsed


@pytest.mark.parametrize("kind", ["grid", "community", "perimeter", "roads", "roads-inline", "grid-file"])
def test_templates_in_names_are_text_not_jinja(kind):
    """{{7*7}} stays as typed (before: 49 on the server, and {% raw %} raised TemplateSyntaxError)."""
    page = _pages("X{{7*7}}Y{% raw %}Z")[kind]
    assert "X49Y" not in page
    assert "X{{7*7}}Y{% raw %}Z" in page


def test_script_json_escapes_what_the_html_parser_reads():
    from layers.escape import script_json

    text = script_json({"a": "<!--<script></script>&'\u2028\u2029"})
    assert not re.search(r"[<>&'\u2028\u2029]", text)
    assert json.loads(text) == {"a": "<!--<script></script>&'\u2028\u2029"}


def test_layer_names_and_tooltips_are_text():
    """A unit's name in the layer control and a place's name in a tooltip reach the browser as
    text: the names are escaped for innerHTML, the tooltip is written with textContent."""
    name = '"><img src=x onerror=window.__xss=1>'
    roads = _pages(name)["roads"]
    assert "<img src=x" not in roads
    control = re.search(r"overlays\s*:\s*\{(.*?)\}", roads, re.S)
    assert control is not None
    assert json.dumps(f"{name} (1)").replace("<", "\\u003c").replace(">", "\\u003e") not in control.group(1)
    assert "\\u0026lt;img src=x onerror=window.__xss=1\\u0026gt;" in control.group(1)
    perimeter = _pages(name)["perimeter"]
    assert "innerHTML" not in perimeter.split("bindTooltip", 1)[1].split("});", 1)[0]
    assert "textContent" in perimeter


def test_the_file_page_carries_its_own_policy():
    """The CLI's single-file map has no server to send headers: it carries a CSP <meta> first, and
    its scripts carry that policy's nonce."""
    page = _pages("x")["grid-file"]
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert meta is not None and page.index(meta.group(0)) < page.index("<script")
    policy = html.unescape(meta.group(1))
    nonce = re.search(r"script-src 'nonce-([^']+)'", policy)
    assert nonce is not None and "object-src 'none'" in policy and "base-uri 'none'" in policy
    assert all(a.get("nonce") == nonce.group(1) for t, a in _parse(page).tags if t == "script")
    served = _pages("x")["grid"]
    assert "Content-Security-Policy" not in served  # the server's header governs a served page


@pytest.mark.parametrize(("basemap", "origin"), [
    ({"basemap": "osm"}, "https://tile.openstreetmap.org"),
    ({"basemap": "tianditu", "tianditu_key": "K"}, "https://*.tianditu.gov.cn"),
    ({"basemap": "custom", "tile_url": "http://10.0.0.1:8080/t/{z}/{x}/{y}.png"}, "http://10.0.0.1:8080"),
])
def test_the_policy_lets_the_configured_basemap_draw(basemap, origin):
    """The served policy names the basemap's tile origin in img-src and nothing else from outside."""
    from api.headers import content_security_policy
    from layers.shell import basemap_origins

    policy = content_security_policy("n", basemap_origins(Settings(_env_file=None, **basemap)))
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["img-src"] == ["'self'", "data:", origin]
    assert directives["script-src"] == ["'nonce-n'"]
    assert all(origin not in v for k, v in directives.items() if k != "img-src")
