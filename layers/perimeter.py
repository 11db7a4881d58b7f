"""The school-perimeter map (校园周边200米): campuses, their true zones, violating places in red with a
popup, compliant places muted; one toggleable layer each, a legend and a title box; printable."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import folium

from layers.controls import LayerControl, TextTooltip
from layers.legend import LegendEntry, legend, title_box
from layers.shell import figure, offline_map

if TYPE_CHECKING:
    from gis.settings import Settings

CAMPUS_COLOUR = "#1f78b4"
ZONE_COLOUR = "#ff7f00"
VIOLATION_COLOUR = "#e31a1c"
COMPLIANT_COLOUR = "#9e9e9e"
LICENCE_ZH = {"valid": "有效 valid", "missing": "无证 missing", "expired": "过期 expired",
              "not_displayed": "未亮证 not displayed"}


def _popup(v: dict[str, Any]) -> str:
    e = html.escape
    return "<br>".join([
        f"<b>{e(v['place_name'])}</b> ({e(v['place_ref'] or '-')})",
        f"类别 category: {e(v['category'])}",
        f"规则 rule: {e(v['rule'])}",
        f"最近学校 nearest school: {e(v['school_name'])}",
        f"距离 distance: {v['distance_m']:.2f} m",
        f"证照 licence: {e(LICENCE_ZH.get(v['licence_state'], v['licence_state']))}",
    ])


def _points(features: list[dict[str, Any]], colour: str, radius: int, popup: bool) -> folium.GeoJson:
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        marker=folium.CircleMarker(radius=radius, weight=1, fill=True, fill_opacity=0.85 if popup else 0.5),
        style_function=lambda _: {"color": colour, "fillColor": colour},
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False) if popup else None,
        tooltip=TextTooltip(fields=["place_name"], labels=False),
    )


def perimeter_map(data: dict[str, Any], settings: Settings) -> folium.Map:
    """The map of ``gis.perimeter.mapdata.perimeter_map_data``: campuses, zones, violations, compliant
    places; with no data it shows ``settings``' region, on its basemap."""
    for key in ("campuses", "zones", "violations", "compliant"):
        if key not in data:
            raise ValueError(f"perimeter_map needs {key!r} in its data")
    school = data.get("school")
    title = f"校园周边 school perimeter — {school['name']}" if school else "校园周边200米 school perimeter"
    bbox = data.get("bbox") or settings.region_bbox
    m = offline_map(bbox, title, settings)

    campuses = folium.FeatureGroup(name="校园 campuses")
    if data["campuses"]["features"]:
        folium.GeoJson(data["campuses"], style_function=lambda _: {"color": CAMPUS_COLOUR, "weight": 2,
                                                                   "fillOpacity": 0.25},
                       tooltip=TextTooltip(fields=["name", "level"], labels=False)).add_to(campuses)
    zones = folium.FeatureGroup(name="周边范围 zones")
    if data["zones"]["features"]:
        folium.GeoJson(data["zones"], style_function=lambda _: {"color": ZONE_COLOUR, "weight": 1.5,
                                                                "dashArray": "6 4", "fillOpacity": 0.06},
                       tooltip=TextTooltip(fields=["name", "zone_m"], labels=False)).add_to(zones)
    violations = folium.FeatureGroup(name="违规场所 violations")
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [v["lon"], v["lat"]]},
                 "properties": {"place_name": v["place_name"], "popup": _popup(v)}}
                for v in data["violations"]]
    if features:
        _points(features, VIOLATION_COLOUR, 6, popup=True).add_to(violations)
    compliant = folium.FeatureGroup(name="合规场所 compliant places", show=True)
    if data["compliant"]["features"]:
        _points(data["compliant"]["features"], COMPLIANT_COLOUR, 3, popup=False).add_to(compliant)
    for group in (zones, campuses, compliant, violations):  # violations drawn last, on top
        group.add_to(m)
    LayerControl(collapsed=False).add_to(m)

    lines = [f"检查日期 check date: {data.get('day')}",
             f"违规 violations: {len(data['violations'])}",
             f"学校 schools: {len(data['campuses']['features'])}"]
    if data.get("compliant_capped"):
        lines.append("合规场所仅显示部分 compliant places: first 20,000 shown")
    page = figure(m)
    page.html.add_child(title_box(title, lines), name="gridmap_title")
    page.html.add_child(legend([
        LegendEntry("校园 campus", "square", CAMPUS_COLOUR),
        LegendEntry("周边范围 zone (true distance)", "line", ZONE_COLOUR),
        LegendEntry("违规场所 violation", "ring", VIOLATION_COLOUR),
        LegendEntry("合规场所 compliant", "ring", COMPLIANT_COLOUR),
    ]), name="gridmap_legend")
    return m
