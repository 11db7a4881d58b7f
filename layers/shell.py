"""The offline map shell: a folium.Map with local Leaflet assets, the caller's basemap, print CSS.

``offline_map`` makes the map from the settings its caller passes (a layer never reads the
environment); ``render_html`` turns it into a page whose scripts and stylesheets
are either served by the app under /static (``inline=False``) or written into the page itself
(``inline=True``, for a file opened on a PC with no server and no internet). Asset lists are set on
each element *instance*: ``add_js_link`` would change the class-level list of every later map.

Every script the page holds is one this code writes, and each carries the page's nonce, so that a
Content-Security-Policy of ``script-src 'nonce-…'`` (the app's header, or for a file a ``<meta>``
in the page) runs them and nothing else. Texts from the database are escaped where they are
written (layers/escape.py); the page itself is assembled without reading them as templates.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from layers.assets import DROPPED, LOCAL, STATIC_PREFIX, Asset, inline_text, local_links
from layers.escape import html_text

if TYPE_CHECKING:
    from gis.settings import Settings

MAX_ZOOM = 19  # MarkerCluster needs a finite map maxZoom, which a map without tiles lacks
SCALE_WIDTH = 100  # px, the scale bar's longest; the legend keeps clear of it (layers/legend.py)

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


def basemap_origins(settings: Settings) -> list[str]:
    """The origins the basemap's tiles come from (``https://*.tianditu.gov.cn``), for a page's
    Content-Security-Policy; none for a blank basemap."""
    origins = []
    for layer in basemap_layers(settings):
        url = urlsplit(str(layer.tiles))
        labels = (url.hostname or "").split(".")
        if url.scheme in ("http", "https") and labels[0]:
            if "{" in labels[0]:  # a subdomain template (t{s}.tianditu.gov.cn): any subdomain
                labels[0] = "*"
            port = f":{url.port}" if url.port else ""
            origins.append(f"{url.scheme}://{'.'.join(labels)}{port}")
    return sorted(set(origins))


# The page: branca's Figure template, but with the title escaped and the nonce on its one script.
_PAGE = Template(
    "<!DOCTYPE html>\n<html>\n<head>\n"
    "{% if this.title %}<title>{{ this.title|e }}</title>{% endif %}"
    "    {{ this.header.render(**kwargs) }}\n</head>\n<body>\n    {{ this.html.render(**kwargs) }}\n</body>\n"
    "<script{% if this.nonce %} nonce=\"{{ this.nonce|e }}\"{% endif %}>\n"
    "    {{ this.script.render(**kwargs) }}\n</script>\n</html>\n"
)


class OfflineMap(folium.Map):
    """folium.Map whose page header holds no script: folium's sets two global switches (touch, 3D)
    to what Leaflet does anyway, and an inline script there would need the nonce as well."""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # folium's returns None too
        super().render(**kwargs)
        size = {k: f"{v[0]}{v[1]}" for k, v in
                {"width": self.width, "height": self.height, "left": self.left, "top": self.top}.items()}
        figure(self).header.add_child(Raw(
            '<meta name="viewport" content="width=device-width, initial-scale=1.0, maximum-scale=1.0, '
            'user-scalable=no" />\n'
            f"<style>#{self.get_name()} {{ position: {self.position}; width: {size['width']}; "
            f"height: {size['height']}; left: {size['left']}; top: {size['top']}; }}\n"
            f".leaflet-container {{ font-size: {self.font_size}; }}\n"
            "html, body { width: 100%; height: 100%; margin: 0; padding: 0; }\n"
            "#map { position: absolute; top: 0; bottom: 0; right: 0; left: 0; }</style>"
        ), name=self.get_name())


def offline_map(bbox: tuple[float, float, float, float], title: str, settings: Settings) -> folium.Map:
    """An empty map fitted to ``bbox`` (minlon, minlat, maxlon, maxlat) with the basemap of ``settings``;
    ``title`` is text (escaped when the page is written)."""
    minlon, minlat, maxlon, maxlat = bbox
    m = OfflineMap(location=[(minlat + maxlat) / 2, (minlon + maxlon) / 2], tiles=None, zoom_start=16,
                   control_scale=False)
    ScaleBar().add_to(m)
    m.options["maxZoom"] = MAX_ZOOM
    # On the instance: folium's class-level lists (CDN URLs) stay as they are for everyone else.
    m.default_js = local_links(["leaflet", "jquery"])
    m.default_css = local_links(["leaflet_css"])
    for layer in basemap_layers(settings):
        layer.add_to(m)
    m.fit_bounds([[minlat, minlon], [maxlat, maxlon]], padding=(20, 20))
    page = figure(m)
    page.title = title
    page._template = _PAGE
    page.header.add_child(Raw(_PAGE_CSS), name="gridmap_page_css")
    return m


class ScaleBar(MacroElement):
    """A metric scale bar bottom-left (folium's control_scale adds miles and feet beside it)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({position: 'bottomleft', metric: true, imperial: false,
                         maxWidth: {{ this.width }}}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "ScaleBar"
        self.width = SCALE_WIDTH


def figure(m: folium.Map) -> Figure:
    """The page a map sits in, where title boxes, legends and CSS go."""
    root = m.get_root()
    assert isinstance(root, Figure)
    return root


class Raw(Element):
    """Text written into the page as it is (not a Jinja template: scripts contain braces)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: object) -> str:
        return self.text


def _render_macros_as_text(self: MacroElement, **kwargs: Any) -> None:
    """branca's MacroElement.render, except that what a macro writes is kept as text.

    branca wraps each macro's output in ``Element(text)``, which compiles the text as a new Jinja
    template and renders it again: data that reached the output (a household's address in the
    register's JSON, a name in a tooltip) was evaluated as a template, so ``{{7*7}}`` became 49 and
    worse could run Python on the server. Output is final; nothing in it is a template."""
    page = self.get_root()
    assert isinstance(page, Figure), "an element is rendered inside a Figure"
    for part, target in (("header", page.header), ("html", page.html), ("script", page.script)):
        macro = self._template.module.__dict__.get(part)
        if macro is not None:
            target.add_child(Raw(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


# Installed once, for every folium element of the process: the maps are folium's only users here.
MacroElement.render = _render_macros_as_text  # type: ignore[method-assign]


def _nonce_attr(nonce: str) -> str:
    return f' nonce="{html_text(nonce)}"'


def _link(asset: Asset, prefix: str, nonce: str) -> Raw:
    if asset.kind == "js":
        return Raw(f'<script src="{asset.url(prefix)}"{_nonce_attr(nonce)}></script>')
    return Raw(f'<link rel="stylesheet" href="{asset.url(prefix)}"/>')


def _inline(asset: Asset, nonce: str) -> Raw:
    if asset.kind == "js":
        return Raw(f"<script{_nonce_attr(nonce)}>{inline_text(asset)}</script>")
    return Raw(f"<style>{inline_text(asset)}</style>")


def file_policy(nonce: str) -> str:
    """The Content-Security-Policy of a page written to a file, where no server sends one: only the
    page's own scripts run, no plugin, no <base>."""
    return f"script-src 'nonce-{nonce}'; object-src 'none'; base-uri 'none'"


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


def render_html(m: folium.Map, inline: bool = False, static_prefix: str = STATIC_PREFIX,
                nonce: str | None = None) -> str:
    """The page of ``m``, every script and stylesheet local: under ``static_prefix`` or inline.

    ``nonce`` is the one of the Content-Security-Policy the server sends with the page; without one
    the page is for a file: it gets a nonce of its own and the policy in a ``<meta>`` element."""
    page = figure(m)
    page._template = _PAGE
    served = nonce is not None
    nonce = nonce or secrets.token_urlsafe(18)
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
        element = _inline(asset, nonce) if inline else _link(asset, static_prefix, nonce)
        page.header.add_child(element, name=key)
        page.header._children.move_to_end(key, last=False)
    if not served:  # before every script, so that it governs them all
        policy = Raw(f'<meta http-equiv="Content-Security-Policy" content="{html_text(file_policy(nonce))}">')
        page.header.add_child(policy, name="meta_csp")
        page.header._children.move_to_end("meta_csp", last=False)
    page.header._children.move_to_end("meta_http", last=False)
    page.nonce = nonce  # type: ignore[attr-defined]  # read by _PAGE (folium's elements take no extra render arguments)
    return page.render()
