"""The school-perimeter map (校园周边200米): campuses, their true zones, violating places in red with a
popup, compliant places muted; one toggleable layer each, a legend and a title box; printable."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import folium
from shapely.geometry import shape

from layers.base import add_base
from layers.controls import LayerControl, TextTooltip
from layers.legend import LegendEntry, NorthArrow, legend, title_box
from layers.shell import Raw, figure, offline_map
from layers.styles import (
    BASE_BUILDING_COLOUR,
    BASE_ROAD_COLOUR,
    CAMPUS_COLOUR,
    COMPLIANT_COLOUR,
    LABELS,
    VIOLATION_COLOUR,
    ZONE_COLOUR,
)

if TYPE_CHECKING:
    from gis.settings import Settings

COMPLIANT_SHOWN = 20_000  # gis.perimeter.mapdata.COMPLIANT_LIMIT
LICENCE_ZH = {"valid": "有效", "missing": "无证", "expired": "过期", "not_displayed": "未亮证"}
CAMPUS_CSS = f"""
<style>
  .campus-label div {{ transform: translate(-50%, -50%); display: inline-block; white-space: nowrap;
                      background: rgba(255,255,255,.85); border: 1px solid {CAMPUS_COLOUR};
                      border-radius: 3px; padding: 0 4px; font-size: 12px; font-weight: bold;
                      color: {CAMPUS_COLOUR}; }}
</style>
"""


def _popup(v: dict[str, Any], place_pages: bool) -> str:
    """A violation's popup; with ``place_pages`` a link to the place's page (where an inspection is
    recorded), in the top window: the map may be framed by a workbench page."""
    e = html.escape
    lines = [
        f"<b>{e(v['place_name'])}</b> ({e(v['place_ref'] or '-')})",
        f"类别：{e(v['category'])}",
        f"规则：{e(v['rule'])}",
        f"最近学校：{e(v['school_name'])}",
        f"距离：{v['distance_m']:.2f} 米",
        f"证照：{e(LICENCE_ZH.get(v['licence_state'], v['licence_state']))}",
    ]
    if place_pages:
        key = quote(str(v["place_ref"] or v["place_id"]), safe="")
        lines.append(f'<a class="place-open" target="_top" href="/perimeter/places/{key}">'
                     "打开场所页 · 登记检查</a>")
    return "<br>".join(lines)


def _points(features: list[dict[str, Any]], colour: str, radius: int, popup: bool) -> folium.GeoJson:
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        marker=folium.CircleMarker(radius=radius, weight=1, fill=True, fill_opacity=0.85 if popup else 0.5),
        style_function=lambda _: {"color": colour, "fillColor": colour},
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False) if popup else None,
        tooltip=TextTooltip(fields=["place_name"], labels=False),
    )


def _campus_labels(campuses: dict[str, Any], group: folium.FeatureGroup) -> None:
    """Each campus's name on it, at a point inside it (a polygon's centroid may fall outside)."""
    for f in campuses["features"]:
        point = shape(f["geometry"]).representative_point()
        folium.Marker([point.y, point.x], interactive=False, icon=folium.DivIcon(
            html=f"<div>{html.escape(str(f['properties']['name']))}</div>", class_name="campus-label",
            icon_size=(0, 0))).add_to(group)


def perimeter_map(data: dict[str, Any], settings: Settings, base: dict[str, Any] | None = None,
                  place_pages: bool = False, wall_map: str | None = None) -> folium.Map:
    """The map of ``gis.perimeter.mapdata.perimeter_map_data``: campuses (labelled), zones,
    violations, compliant places, framed on the zones and every violation; with no data it shows
    ``settings``' region, on its basemap; ``base`` (gis.maps.base.base_layer) under it when the
    basemap is none."""
    for key in ("campuses", "zones", "violations", "compliant"):
        if key not in data:
            raise ValueError(f"perimeter_map needs {key!r} in its data")
    school = data.get("school")
    title = f"校园周边 — {school['name']}" if school else "校园周边200米"
    bbox = data.get("bbox") or settings.region_bbox
    m = offline_map(bbox, title, settings)
    entries = []
    if add_base(m, base, settings):
        entries = [LegendEntry(LABELS["road"], "line", BASE_ROAD_COLOUR),
                   LegendEntry(LABELS["building"], "square", BASE_BUILDING_COLOUR)]

    campuses = folium.FeatureGroup(name=f"校园 {len(data['campuses']['features'])} 所")
    if data["campuses"]["features"]:
        folium.GeoJson(data["campuses"], style_function=lambda _: {"color": CAMPUS_COLOUR, "weight": 2,
                                                                   "fillOpacity": 0.25},
                       tooltip=TextTooltip(fields=["name", "level"], labels=False)).add_to(campuses)
        _campus_labels(data["campuses"], campuses)
    zones = folium.FeatureGroup(name="周边范围")
    if data["zones"]["features"]:
        folium.GeoJson(data["zones"], style_function=lambda _: {"color": ZONE_COLOUR, "weight": 1.5,
                                                                "dashArray": "6 4", "fillOpacity": 0.06},
                       tooltip=TextTooltip(fields=["name", "zone_m"], labels=False)).add_to(zones)
    violations = folium.FeatureGroup(name=f"违规场所 {len(data['violations'])} 处")
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [v["lon"], v["lat"]]},
                 "properties": {"place_name": v["place_name"], "popup": _popup(v, place_pages)}}
                for v in data["violations"]]
    if features:
        _points(features, VIOLATION_COLOUR, 6, popup=True).add_to(violations)
    compliant = folium.FeatureGroup(name=f"合规场所 {len(data['compliant']['features'])} 处", show=True)
    if data["compliant"]["features"]:
        _points(data["compliant"]["features"], COMPLIANT_COLOUR, 3, popup=False).add_to(compliant)
    for group in (zones, campuses, compliant, violations):  # violations drawn last, on top
        group.add_to(m)
    NorthArrow().add_to(m)
    LayerControl(collapsed=False).add_to(m)

    lines = [f"检查日期 {data.get('day')}",
             f"违规场所 {len(data['violations'])} 处 · 学校 {len(data['campuses']['features'])} 所"]
    if data.get("compliant_capped"):
        lines.append(f"合规场所仅显示前 {COMPLIANT_SHOWN:,} 处")
    page = figure(m)
    page.header.add_child(Raw(CAMPUS_CSS), name="gridmap_campus_css")
    links = [("下载上墙图（PDF）", wall_map)] if wall_map else []  # one school's wall map
    page.html.add_child(title_box(title, lines, links=links), name="gridmap_title")
    page.html.add_child(legend([
        *entries,
        LegendEntry(LABELS["campus"], "square", CAMPUS_COLOUR),
        LegendEntry(LABELS["zone"], "line", ZONE_COLOUR),
        LegendEntry(LABELS["violation"], "ring", VIOLATION_COLOUR),
        LegendEntry(LABELS["compliant"], "ring", COMPLIANT_COLOUR),
    ]), name="gridmap_legend")
    return m
