"""The offline map shell: a folium.Map with local Leaflet assets, the caller's basemap, print CSS.

``offline_map`` makes the map from the settings its caller passes (a layer never reads the
environment); ``render_html`` turns it into a page whose scripts and stylesheets
are either served by the app under /static (``inline=False``) or written into the page itself
(``inline=True``, for a file opened on a PC with no server and no internet). Asset lists are set on
each element *instance*: ``add_js_link`` would change the class-level list of every later map.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import folium
from branca.element import Element, Figure
from folium.elements import JSCSSMixin

from layers.assets import DROPPED, LOCAL, STATIC_PREFIX, Asset, inline_text, local_links

if TYPE_CHECKING:
    from gis.settings import Settings

MAX_ZOOM = 19  # MarkerCluster needs a finite map maxZoom, which a map without tiles lacks

_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)

# A wall map: white paper, no controls, everything the reader needs in the title box and legend.
_PAGE_CSS = """
<style>
  .leaflet-container { background: #fff; }
  .leaflet-container, .gridmap-box {
    font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; }
  .gridmap-box { background: rgba(255,255,255,.92); padding: 6px 10px; border: 1px solid #888;
                 border-radius: 4px; font-size: 13px; line-height: 1.4;
                 box-shadow: 0 1px 4px rgba(0,0,0,.3); }
  @media print {
    @page { size: A3 landscape; margin: 8mm; }
    .leaflet-control-zoom, .leaflet-control-layers, .leaflet-control-attribution { display: none !important; }
    .gridmap-box { box-shadow: none; }
    .leaflet-popup-pane { display: none; }
  }
</style>
"""


def basemap_layers(settings: Settings) -> list[folium.TileLayer]:
    """The tile layers of the configured basemap: none (blank paper), OSM, Tianditu (天地图: vector
    plus its annotation layer, with the key) or a custom XYZ template. Tianditu and OSM are in
    WGS84/CGCS2000 like our data; a GCJ-02 source (高德, 腾讯) would be offset by hundreds of metres."""
    if settings.basemap == "osm":
        return [folium.TileLayer("OpenStreetMap", max_zoom=MAX_ZOOM, name="OpenStreetMap")]
    if settings.basemap == "tianditu":
        def tianditu(layer: str, name: str, overlay: bool) -> folium.TileLayer:
            url = _TIANDITU.format(layer=layer, key=settings.tianditu_key or "", s="{s}")
            return folium.TileLayer(url, attr="天地图 Tianditu", subdomains="01234567", max_zoom=18,
                                    name=name, overlay=overlay, control=not overlay)

        return [tianditu("vec", "天地图 vector", False), tianditu("cva", "天地图 labels", True)]
    if settings.basemap == "custom":
        return [folium.TileLayer(settings.tile_url, attr=settings.tile_attribution or "custom tiles",
                                 max_zoom=MAX_ZOOM, name="basemap")]
    return []


def offline_map(bbox: tuple[float, float, float, float], title: str, settings: Settings) -> folium.Map:
    """An empty map fitted to ``bbox`` (minlon, minlat, maxlon, maxlat) with the basemap of ``settings``."""
    minlon, minlat, maxlon, maxlat = bbox
    m = folium.Map(location=[(minlat + maxlat) / 2, (minlon + maxlon) / 2], tiles=None, zoom_start=16,
                   control_scale=True)
    m.options["maxZoom"] = MAX_ZOOM
    # On the instance: folium's class-level lists (CDN URLs) stay as they are for everyone else.
    m.default_js = local_links(["leaflet", "jquery"])
    m.default_css = local_links(["leaflet_css"])
    for layer in basemap_layers(settings):
        layer.add_to(m)
    m.fit_bounds([[minlat, minlon], [maxlat, maxlon]], padding=(20, 20))
    page = figure(m)
    page.title = title
    page.header.add_child(Raw(_PAGE_CSS), name="gridmap_page_css")
    return m


def figure(m: folium.Map) -> Figure:
    """The page a map sits in, where title boxes, legends and CSS go."""
    root = m.get_root()
    assert isinstance(root, Figure)
    return root


def script_json(value: object) -> str:
    """JSON for a <script>: "</" is escaped so that a name cannot close the script element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


class Raw(Element):
    """Text written into the page as it is (not a Jinja template: scripts contain braces)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: object) -> str:
        return self.text


def _link(asset: Asset, prefix: str) -> Raw:
    if asset.kind == "js":
        return Raw(f'<script src="{asset.url(prefix)}"></script>')
    return Raw(f'<link rel="stylesheet" href="{asset.url(prefix)}"/>')


def _inline(asset: Asset) -> Raw:
    tag = "script" if asset.kind == "js" else "style"
    return Raw(f"<{tag}>{inline_text(asset)}</{tag}>")


def _elements(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _elements(child)


def _local(links: list[tuple[str, str]]) -> list[tuple[str, Asset]]:
    """The local assets for an element's (name, url) list, by name; an unknown name is an error, so
    that a new plugin cannot silently put a CDN link back into the page."""
    unknown = [name for name, _ in links if name not in LOCAL and name not in DROPPED]
    if unknown:
        raise ValueError(f"no local copy of map assets {unknown}: add them to layers/assets.py")
    return [(name, LOCAL[name]) for name, _ in links if name in LOCAL]


def render_html(m: folium.Map, inline: bool = False, static_prefix: str = STATIC_PREFIX) -> str:
    """The page of ``m``, every script and stylesheet local: under ``static_prefix`` or inline."""
    page = figure(m)
    assets: dict[str, Asset] = {}
    for element in list(_elements(page)):
        if isinstance(element, JSCSSMixin):
            assets.update(_local(element.default_js) + _local(element.default_css))
            element.default_js, element.default_css = [], []
    # Linked or inlined here rather than by folium, to control where: first in <head>, in folium's
    # order (Leaflet, jQuery, then plugins; scripts before stylesheets), so that our CSS after them
    # wins; only the charset goes before them, as it must come in the first 1024 bytes or a browser
    # may misread the Chinese text of a file:// page.
    ordered = sorted(assets.items(), key=lambda item: item[1].kind != "js")
    for name, asset in reversed(ordered):
        key = f"asset_{name}"
        element = _inline(asset) if inline else _link(asset, static_prefix)
        page.header.add_child(element, name=key)
        page.header._children.move_to_end(key, last=False)
    page.header._children.move_to_end("meta_http", last=False)
    return page.render()
