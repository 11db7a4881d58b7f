"""layers/: the offline shell, basemaps and the layers, from plain data (no database)."""

from __future__ import annotations

from datetime import date

import folium
import pytest
from folium.plugins import Fullscreen, MarkerCluster

from gis.maps.grids import TAGS, MapData
from gis.settings import Settings
from layers.division import division_problems
from layers.index import map_index_html
from layers.maps import community_map, grid_map
from layers.persons import TaggedPersons
from layers.shell import MAX_ZOOM, basemap_layers, offline_map, render_html

GRID = "439901007001001"


def _data(n: int = 30, address: str = "测试路{}号") -> MapData:
    ring = [[112.9, 28.2], [112.905, 28.2], [112.905, 28.208], [112.9, 28.208], [112.9, 28.2]]
    grids = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": GRID, "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
        "properties": {"code": GRID, "name": "西区网格", "workers": ["张伟"], "team": [], "focus": True,
                       "label": [28.204, 112.9025]}}]}
    households = [
        {"id": i, "lat": 28.2 + i * 1e-4, "lon": 112.9 + i * 1e-4, "address": address.format(i),
         "grid_code": GRID, "placement": ("inside", "border", "outside")[i % 3], "tags": i % 64,
         "members": [{"name": f"居民{i}", "relation": "head", "tags": i % 64, "note": "",
                      "id_number": "439901********0001", "phone": "139****0001"}]}
        for i in range(n)
    ]
    counts = {"households": n, "persons": n, "border": n // 3, "outside": n // 3, **dict.fromkeys(TAGS, 1)}
    return MapData(kind="grid", code=GRID, name="西区网格", community_code=GRID[:12],
                   community_name="测试社区", workers=["张伟"], team=[], grids=grids,
                   bbox=(112.9, 28.2, 112.905, 28.208), households=households, counts=counts,
                   made_on=date(2026, 11, 28))


def _settings(**kw) -> Settings:
    return Settings(_env_file=None, **kw)


def test_offline_page_links_only_local_assets_and_leaves_folium_alone(links):
    before = (list(folium.Map.default_js), list(folium.Map.default_css), list(MarkerCluster.default_js))
    page = render_html(grid_map(_data(), _settings()))
    assert links.remote_urls(page) == []
    assert [u for u in links.page_urls(page) if u.endswith(".js")] == [
        "/static/leaflet/leaflet.js", "/static/jquery/jquery.min.js",
        "/static/leaflet_markercluster/leaflet.markercluster.js"]
    # The next map made by anyone in this process still gets folium's defaults.
    assert (folium.Map.default_js, folium.Map.default_css, MarkerCluster.default_js) == before


def test_the_shell_is_local_even_when_folium_renders_it(links):
    """The asset lists are local on the instance itself: m.save() gives a page with no CDN too."""
    m = grid_map(_data(), _settings())
    page = m.get_root().render()
    assert links.remote_urls(page) == []
    assert "/static/leaflet/leaflet.js" in links.page_urls(page)
    assert "/static/leaflet_markercluster/leaflet.markercluster.js" in links.page_urls(page)


def test_inline_page_needs_nothing_but_itself(links):
    page = render_html(grid_map(_data(), _settings()), inline=True)
    assert links.page_urls(page) == []  # no src, no href: nothing to fetch
    assert "L.MarkerClusterGroup=" in page.replace(" ", "")  # the plugin's own source
    assert "jQuery" in page and 'url("data:image/png;base64,' in page  # layer-control icon
    assert "charset=UTF-8" in page.encode()[:1024].decode("utf-8", "ignore")


def test_every_folium_asset_needs_a_local_copy():
    m = grid_map(_data(), _settings())
    Fullscreen().add_to(m)  # its plugin script exists only on a CDN
    with pytest.raises(ValueError, match="no local copy"):
        render_html(m)


def test_hostile_text_cannot_close_the_script():
    page = render_html(grid_map(_data(3, address="</script><script>alert(1)</script>{}"), _settings()))
    assert "</script><script>alert(1)" not in page
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e0" in page


def test_basemaps():
    assert basemap_layers(_settings()) == []
    m = offline_map((112.9, 28.2, 112.91, 28.21), "t", _settings())
    assert m.options["maxZoom"] == MAX_ZOOM  # MarkerCluster needs it without tiles
    (osm,) = basemap_layers(_settings(basemap="osm"))
    assert "openstreetmap" in osm.tiles
    vec, cva = basemap_layers(_settings(basemap="tianditu", tianditu_key="KEY123"))
    assert "vec_w" in vec.tiles and "cva_w" in cva.tiles and all("tk=KEY123" in t.tiles for t in (vec, cva))
    assert "{z}" in vec.tiles and "{x}" in vec.tiles and "{s}" in vec.tiles and cva.control is False
    (custom,) = basemap_layers(_settings(basemap="custom", tile_url="http://10.0.0.1/t/{z}/{x}/{y}.png"))
    assert custom.tiles == "http://10.0.0.1/t/{z}/{x}/{y}.png"
    page = render_html(grid_map(_data(), _settings(basemap="tianditu", tianditu_key="KEY123")))
    assert "tianditu.gov.cn/vec_w" in page


def test_the_basemap_is_the_callers_not_the_environments(monkeypatch):
    monkeypatch.setenv("GRIDMAP_BASEMAP", "osm")
    assert "openstreetmap" not in render_html(grid_map(_data(), _settings(basemap="none")))


def test_the_index_page_escapes_what_it_lists():
    page = map_index_html([{"code": "439901007001", "name": "<b>测试</b>", "street_name": None, "grids": [
        {"code": GRID, "name": "西区", "workers": ["张伟", "李娜"], "households": 3}]}])
    assert "&lt;b&gt;测试&lt;/b&gt;" in page and "<b>测试" not in page
    assert f'<a href="/maps/grids/{GRID}">{GRID} 西区</a> — 网格员 张伟、李娜，3 户' in page
    assert "还没有社区" in map_index_html([])


def test_title_legend_and_overlays():
    page = render_html(grid_map(_data(), _settings()))
    assert "西区网格 网格图" in page and "网格员 张伟" in page
    assert "制图日期 2026-11-28" in page and "住户 30 户" in page
    for tag in TAGS:
        assert f"tag-{tag}" in page
    assert page.count("L.markerClusterGroup(") == 1 and "L.marker(" in page  # built client-side


def test_community_map_says_when_the_division_was_not_checked():
    data = _data()
    data.kind, data.division = "community", None
    assert "网格划分未检查" in render_html(community_map(data, _settings()))
    data.division = {"type": "FeatureCollection", "features": []}
    assert "网格划分无缝隙、无交叉" in render_html(community_map(data, _settings()))


def test_layer_options_are_validated():
    with pytest.raises(ValueError, match="unknown person tag"):
        TaggedPersons(None, "vip", 0, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind must be"):
        division_problems({"type": "FeatureCollection", "features": [{"properties": {"kind": "hole"}}]})


def test_crowded_tag_overlays_start_unticked():
    data = _data()
    data.counts["floating"] = 301  # above RINGS_SHOWN
    m = grid_map(data, _settings())
    overlays = {layer.tag: layer for layer in m._children.values() if isinstance(layer, TaggedPersons)}
    page = render_html(m)
    assert set(overlays) == set(TAGS)
    for tag, layer in overlays.items():
        added = f"{layer.get_name()}.addTo(" in page
        assert layer.get_name() in page and added == (tag != "floating"), tag
