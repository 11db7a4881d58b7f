"""Problems of a grid division (网格划分): gaps, overlaps and areas outside the community, hatched red."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import folium
from shapely.geometry import shape

from layers.controls import LayerControl, TextTooltip
from layers.shell import Raw, figure, offline_map, render_html
from layers.styles import BORDER_COLOUR, COMMUNITY_COLOUR, GRID_COLOUR

if TYPE_CHECKING:
    from gis.settings import Settings

KINDS_ZH = {"gap": "缝隙", "overlap": "交叉", "outside": "超出社区"}
COLOUR = "#d00"
HATCH_ID = "gridmap-hatch"

# Leaflet writes fillColor into the path's fill attribute, so a fill of url(#pattern) hatches the
# polygon with a pattern defined once in the page (printed as drawn, unlike a CSS background).
HATCH_SVG = Raw(
    f'<svg width="0" height="0" style="position:absolute"><defs>'
    f'<pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="8" height="8" '
    f'patternTransform="rotate(45)"><rect width="8" height="8" fill="{COLOUR}" fill-opacity="0.12"/>'
    f'<line x1="0" y1="0" x2="0" y2="8" stroke="{COLOUR}" stroke-width="3"/></pattern></defs></svg>'
)


def division_problems(problems: dict[str, Any], name: str = "划分问题") -> folium.GeoJson:
    """check_division's FeatureCollection (properties kind, area_m2, grids) as a hatched red layer."""
    problems = copy.deepcopy(problems)  # labels are added to the properties
    features = problems.get("features")
    if problems.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise ValueError("division_problems needs a GeoJSON FeatureCollection")
    for i, feature in enumerate(features):
        props = feature.setdefault("properties", {})
        if props.get("kind") not in KINDS_ZH:
            raise ValueError(f"division problem {i}: kind must be one of {', '.join(KINDS_ZH)}")
        props["label"] = KINDS_ZH[props["kind"]]
        props["area"] = f"{float(props.get('area_m2') or 0):,.0f} m²"
        props["grid_list"] = "、".join(props.get("grids") or []) or "—"
    return folium.GeoJson(
        problems, name=f"{name} {len(features)} 处",
        style_function=lambda _: {"color": COLOUR, "weight": 2, "fillColor": f"url(#{HATCH_ID})",
                                  "fillOpacity": 1, "className": "division-problem"},
        tooltip=TextTooltip(fields=["label", "area", "grid_list"],
                                      aliases=["问题", "面积", "网格"]),
    )


# --- the division check page's map (api/workbench/division.py): drawn into the workbench page itself


@dataclass(frozen=True)
class EmbeddedMap:
    """A map's parts for a page of the workbench (which frames nothing: frame-ancestors 'none'):
    ``head`` its stylesheets and scripts (local, each script with the page's nonce), ``body`` its
    element, ``script`` the code that draws it (for one ``<script nonce>`` after the body)."""

    head: str
    body: str
    script: str


ADDRESS_PARTS = ("address", "building", "unit", "room")
PLACEMENT_ZH = {"border": "压线户（在网格边界上）", "outside": "界外户（不在任何网格内）"}


def _bounds(geometries: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    boxes = [shape(g).bounds for g in geometries if g]
    if not boxes:
        raise ValueError("division_map needs the community's boundary")
    lons = [b[0] for b in boxes] + [b[2] for b in boxes]
    lats = [b[1] for b in boxes] + [b[3] for b in boxes]
    return (min(lons), min(lats), max(lons), max(lats))


def _points(households: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [h["lon"], h["lat"]]},
         "properties": {"address": " ".join(str(h.get(k) or "") for k in ADDRESS_PARTS).strip() or "—",
                        "placement": PLACEMENT_ZH.get(h.get("placement") or "", h.get("placement") or "")}}
        for h in households if h.get("lon") is not None and h.get("lat") is not None]}


def division_map(community: dict[str, Any], grids: dict[str, Any], problems: dict[str, Any],
                 unplaced: list[dict[str, Any]] | None, settings: Settings) -> folium.Map:
    """A community's division as the check sees it: its boundary, its grids (code and name on
    hover), the problems hatched red and, when given, the households outside every grid or on a
    border. ``community`` is a GeoJSON geometry, ``grids`` a FeatureCollection (properties code and
    name), ``problems`` check_division's FeatureCollection; the data come from the caller."""
    if grids.get("type") != "FeatureCollection":
        raise ValueError("division_map needs the grids as a GeoJSON FeatureCollection")
    bbox = _bounds([community, *(f.get("geometry") for f in grids["features"])])
    m = offline_map(bbox, "网格划分检查", settings)
    folium.GeoJson(community, name="社区边界",
                   style_function=lambda _: {"color": COMMUNITY_COLOUR, "weight": 3, "fill": False}).add_to(m)
    folium.GeoJson(grids, name=f"网格 {len(grids['features'])} 个",
                   style_function=lambda _: {"color": GRID_COLOUR, "weight": 2, "fillOpacity": 0.05},
                   tooltip=TextTooltip(fields=["code", "name"], aliases=["网格", "名称"])).add_to(m)
    if problems.get("features"):
        figure(m).html.add_child(HATCH_SVG, name="gridmap_hatch")
        division_problems(problems).add_to(m)
    points = _points(unplaced or [])
    if points["features"]:
        folium.GeoJson(points, name=f"待落格的压线/界外户 {len(points['features'])} 户",
                       marker=folium.CircleMarker(radius=6, color=BORDER_COLOUR, weight=2, fill=True,
                                                  fill_color="#fff", fill_opacity=1),
                       tooltip=TextTooltip(fields=["placement", "address"], labels=False)).add_to(m)
    LayerControl(collapsed=True).add_to(m)
    return m


def embedded(m: folium.Map, nonce: str) -> EmbeddedMap:
    """The parts of ``m`` for a page of our own: rendered as layers/shell.py renders a map page (local
    assets, every script with ``nonce``), without the map page's own rules for <html> and <body>
    (full-window size): the page's stylesheet sizes the map's element instead."""
    render_html(m, nonce=nonce)
    page = figure(m)
    for name in (m.get_name(), "gridmap_page_css", "meta_http"):
        page.header._children.pop(name, None)
    return EmbeddedMap(head=page.header.render(), body=page.html.render(), script=page.script.render())
