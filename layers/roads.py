"""The road-section map (责任路段图): sections coloured by responsible unit, unassigned ones red and
dashed, one layer per unit to toggle, a legend and popups with unit, contact and period."""

from __future__ import annotations

import html
from datetime import date
from typing import TYPE_CHECKING, Any

import folium

from layers.controls import LayerControl, TextTooltip
from layers.legend import LegendEntry, legend, title_box
from layers.shell import figure, offline_map
from layers.styles import UNASSIGNED_COLOUR, unit_colours

if TYPE_CHECKING:
    from gis.settings import Settings

WEEKDAY_ZH = {1: "星期一", 2: "星期二", 3: "星期三", 4: "星期四", 5: "星期五", 6: "星期六", 7: "星期日"}


def _popup(p: dict[str, Any]) -> str:
    e = html.escape
    lines = [f"<b>{e(p['code'])}</b> {e(p['road_name'])}",
             f"{e(p.get('from_desc') or '')} → {e(p.get('to_desc') or '')}",
             f"长度 length: {p['length_m']:.0f} m"]
    if p.get("unit_id") is None:
        lines.append(f'<span style="color:{UNASSIGNED_COLOUR}"><b>未分配 unassigned</b></span>')
    else:
        period = f"{p['valid_from']} – {p.get('valid_to') or '长期 open'}"
        lines += [f"责任单位 unit: <b>{e(p['unit_name'])}</b>",
                  f"联系人 contact: {e(p.get('contact') or '-')} {e(p.get('phone') or '')}",
                  f"期限 period: {e(period)}",
                  f"值勤日 duty day: {WEEKDAY_ZH.get(p.get('duty_day') or 5, '')}"]
    return "<br>".join(lines)


def _bbox(features: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    xs, ys = [], []
    for f in features:
        for x, y in f["geometry"]["coordinates"]:
            xs.append(x)
            ys.append(y)
    return min(xs), min(ys), max(xs), max(ys)


def _group(name: str, features: list[dict[str, Any]], colour: str, dashed: bool) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, overlay=True, control=True)
    style = {"color": colour, "weight": 5, "opacity": 0.9, "dashArray": "8 6" if dashed else None}
    folium.GeoJson({"type": "FeatureCollection", "features": features},
                   style_function=lambda _: style, highlight_function=lambda _: {"weight": 8},
                   popup=folium.GeoJsonPopup(fields=["popup"], labels=False),
                   tooltip=TextTooltip(fields=["code"], labels=False)).add_to(group)
    return group


def coverage_lines(totals: dict[str, Any], units: int) -> list[str]:
    """The map's summary lines from a coverage row (gis.roads.coverage.coverage_of), in metres to the
    decimetre as the API and the CLI give them: the map never adds its features up itself."""
    pct = totals.get("assigned_pct")
    return [f"{totals['sections']} 段 sections, 总长 total {totals['total_m']:,.1f} m",
            f"已分配 assigned: {totals['assigned_m']:,.1f} m ({'-' if pct is None else f'{pct:.1f}%'}), "
            f"{units} 个单位 units"]


def scope_note(community: str | None) -> str:
    """What the map draws and what its figures count, for its legend."""
    if community is None:
        return "本图：全部在用路段，总长为整段长度 / drawn: every live section, counted whole"
    return (f"本图：在社区 {community} 内有长度的全部路段，整段画出（含边界上、跨界的）；"
            "总长只计社区内的部分，边界线上的一段由相邻区域平分 / "
            f"drawn: every section with length in community {community}, "
            "whole (also those on or across its border); the total counts only the part inside it, "
            "a stretch on the border shared equally with the neighbour")


def road_sections_map(sections: dict[str, Any], on: date, settings: Settings,
                      title: str = "责任路段图 Road sections by responsible unit",
                      totals: dict[str, Any] | None = None, community: str | None = None) -> folium.Map:
    """The map of a FeatureCollection of sections (properties as gis.roads.sections.sections_geojson gives:
    code, road_name, from_desc, to_desc, length_m, unit_id, unit_name, contact, phone, valid_from,
    valid_to, duty_day) held on ``on``, summed up by ``totals`` (a row of gis.roads.coverage; without
    it the map prints no lengths) for the district or ``community`` (the legend says which set it
    draws); with no sections it shows ``settings``' region, on its basemap. When the collection's
    numberMatched exceeds the features drawn, the title box says so."""
    if sections.get("type") != "FeatureCollection":
        raise ValueError("road_sections_map needs a GeoJSON FeatureCollection")
    features = [{"type": "Feature", "geometry": f["geometry"],
                 "properties": {"code": f["properties"]["code"], "popup": _popup(f["properties"])}}
                for f in sections["features"]]
    props = [f["properties"] for f in sections["features"]]
    bbox = _bbox(features) if features else settings.region_bbox
    m = offline_map(bbox, title, settings)
    colours = unit_colours((p["unit_id"], p["unit_name"]) for p in props if p.get("unit_id") is not None)
    names = {p["unit_id"]: p["unit_name"] for p in props if p.get("unit_id") is not None}
    entries = []
    for uid, colour in colours.items():
        mine = [f for f, p in zip(features, props, strict=True) if p.get("unit_id") == uid]
        label = f"{names[uid]} ({len(mine)})"
        _group(label, mine, colour, dashed=False).add_to(m)
        entries.append(LegendEntry(label, "line", colour))
    free = [f for f, p in zip(features, props, strict=True) if p.get("unit_id") is None]
    if free:
        label = f"未分配 unassigned ({len(free)})"
        _group(label, free, UNASSIGNED_COLOUR, dashed=True).add_to(m)
        entries.append(LegendEntry(label, "line", UNASSIGNED_COLOUR))
    LayerControl(collapsed=False).add_to(m)
    page = figure(m)
    lines = coverage_lines(totals, len(colours)) if totals else [f"{len(colours)} 个单位 units"]
    matched = sections.get("numberMatched", len(features))
    if matched > len(features):
        lines.append(f"只画出 {len(features):,} / {matched:,} 段 drawn {len(features):,} of {matched:,}")
    head = [f"日期 on: {on.isoformat()}"] + ([f"社区 community: {community}"] if community else [])
    page.html.add_child(title_box(title, [*head, *lines]), name="gridmap_title")
    page.html.add_child(legend(entries, "责任单位 units", more=(scope_note(community), [])),
                        name="gridmap_legend")
    return m
