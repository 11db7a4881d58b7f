"""The two maps (一图): a grid's and a community's, composed from the layers of this package."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import folium

from layers.base import add_base
from layers.campaign import CAMPAIGN_CSS, add_overlays
from layers.controls import LayerControl
from layers.division import COLOUR as PROBLEM_COLOUR
from layers.division import HATCH_SVG, division_problems
from layers.grids import DASH, GRID_CSS, grid_boundaries, shown, workers_hidden
from layers.households import HOUSEHOLD_CSS, HighlightedHouseholds, HouseholdCluster, RegisterData
from layers.legend import LegendEntry, NorthArrow, legend, title_box
from layers.persons import TaggedPersons
from layers.shell import Raw, figure, offline_map
from layers.styles import (
    BASE_BUILDING_COLOUR,
    BASE_ROAD_COLOUR,
    BORDER_COLOUR,
    COMMUNITY_COLOUR,
    GRID_COLOUR,
    HOUSEHOLD_COLOUR,
    LABELS,
    NEIGHBOUR_GRID_COLOUR,
    TAG_STYLES,
)
from layers.visits import VISIT_CSS, VisitLayer

if TYPE_CHECKING:
    from gis.maps.campaign import CampaignLayerData
    from gis.maps.grids import MapData
    from gis.maps.reports import ReportLayerData
    from gis.maps.visits import VisitLayerData
    from gis.settings import Settings

# Above this many rings a tag overlay buries the map (a community's floating population runs to
# thousands): it starts unticked in the layer control, one click away.
RINGS_SHOWN = 300


def _figures(data: MapData) -> dict[str, int | None]:
    """The map's counts, or None each where the user's scopes do not hold its area whole: a sum
    over her own grid must not pass for the community's."""
    return {k: v if data.whole else None for k, v in data.counts.items()}


def _summary(data: MapData) -> list[str]:
    c = _figures(data)
    tagged = " · ".join(f"{TAG_STYLES[t].label} {shown(c[t])} 人" for t in data.tags)
    return [
        f"住户 {shown(c['households'])} 户 · 人口 {shown(c['persons'])} 人 · "
        f"压线户 {shown(c['border'])} 户 · 界外户 {shown(c['outside'])} 户",
        tagged,
        f"制图日期 {data.made_on.isoformat()}",
    ]


def _register_layers(m: folium.Map, data: MapData, household_url: str | None) -> list[LegendEntry]:
    """Households, highlighted households and one overlay per person tag; their legend entries."""
    figures = _figures(data)
    register = RegisterData(data.households, data.tags, household_url)
    register.add_to(m)
    HouseholdCluster(register, figures["households"]).add_to(m)
    entries = [LegendEntry(LABELS["household"], "square", HOUSEHOLD_COLOUR)]
    if data.counts["border"] or data.counts["outside"]:
        HighlightedHouseholds(register).add_to(m)
        entries.append(LegendEntry(LABELS["border"], "ring", BORDER_COLOUR))
    for bit, tag in enumerate(data.tags):
        rings = data.counts[tag]
        TaggedPersons(register, tag, bit, figures[tag], show=rings <= RINGS_SHOWN).add_to(m)
        entries.append(LegendEntry(TAG_STYLES[tag].label, "ring", TAG_STYLES[tag].colour))
    return entries


# The label of the link to the PDF wall map (一图上墙) of a served map.
WALL_MAP_LABEL = "下载上墙图（PDF）"


def _finish(m: folium.Map, entries: list[LegendEntry], title: str, lines: list[str],
            wall_map: str | None = None) -> folium.Map:
    NorthArrow().add_to(m)  # a 一图 is hung on a wall
    LayerControl(collapsed=False).add_to(m)
    page = figure(m)
    page.header.add_child(Raw(GRID_CSS + HOUSEHOLD_CSS + VISIT_CSS + CAMPAIGN_CSS), name="gridmap_layer_css")
    links = [(WALL_MAP_LABEL, wall_map)] if wall_map else []
    page.html.add_child(title_box(title, lines, links=links), name="gridmap_title")
    page.html.add_child(legend(entries), name="gridmap_legend")
    return m


def _visits(m: folium.Map, data: MapData, visits: VisitLayerData | None,
            household_url: str | None) -> None:
    """The 走访 overlay (off when the map opens; it adds its own legend entries while shown), none
    without visit data (a map written by the CLI)."""
    if visits is not None:
        VisitLayer(visits, data.whole, household_url).add_to(m)


@dataclass(frozen=True)
class Overlays:
    """The overlays a map may carry beside the register, each off when it opens; None: not drawn (a
    map written by the CLI without them). ``report_url`` (/reports/) links a report's popup."""

    visits: VisitLayerData | None = None
    reports: ReportLayerData | None = None
    campaign: CampaignLayerData | None = None
    report_url: str | None = None


def _overlays(m: folium.Map, data: MapData, overlays: Overlays, household_url: str | None) -> None:
    """The 走访, 不文明行为 and campaign overlays, hidden when the map opens; each adds its legend
    entries while shown (a phone's legend has no room for all of them at once)."""
    _visits(m, data, overlays.visits, household_url)
    add_overlays(m, overlays.reports, overlays.campaign, overlays.report_url)


def _base(m: folium.Map, data: MapData, settings: Settings) -> list[LegendEntry]:
    """The roads and buildings under a map without tiles; its legend entries."""
    if not add_base(m, data.base, settings):
        return []
    return [LegendEntry(LABELS["road"], "line", BASE_ROAD_COLOUR),
            LegendEntry(LABELS["building"], "square", BASE_BUILDING_COLOUR)]


def grid_map(data: MapData, settings: Settings, household_url: str | None = None,
             visits: VisitLayerData | None = None, wall_map: str | None = None,
             overlays: Overlays | None = None) -> folium.Map:
    """A grid's map: its boundary bold among its neighbours, its households and tagged persons;
    the basemap is the one ``settings`` name. ``household_url`` (``/households/``) links each
    household's popup to its page (layers.households.RegisterData); ``visits`` adds the 走访 overlay;
    ``wall_map`` (the URL of its PDF wall map) a download link in the title box; ``overlays`` the
    reports and campaign overlays (and the 走访 one, when ``visits`` is not given)."""
    title = f"{data.name} 网格图"
    m = offline_map(data.bbox, title, settings)
    base = _base(m, data, settings)
    grid_boundaries(data.grids).add_to(m)
    entries = [*base, LegendEntry(LABELS["grid_focus"], "line", GRID_COLOUR),
               LegendEntry(LABELS["grid_neighbour"], "line", NEIGHBOUR_GRID_COLOUR)]
    entries += _register_layers(m, data, household_url)
    overlays = overlays or Overlays()
    _overlays(m, data, replace(overlays, visits=visits or overlays.visits), household_url)
    workers = "、".join(data.workers) or "未配备"
    team = f" · 服务团队 {'、'.join(data.team)}" if data.team else ""
    lines = [f"网格 {data.code} · {data.community_name}（社区）",
             f"网格员 {workers}{team}", *_summary(data)]
    return _finish(m, entries, title, lines, wall_map)


def _community_workers(data: MapData) -> str:
    """The community's workers the user may see, and a note when some grids' workers are hidden
    from her (a grid worker sees her own grid's only): the list is then not the community's."""
    hidden = [f for f in data.grids["features"] if workers_hidden(f["properties"])]
    names = "、".join(data.workers)
    if hidden:
        return f"{names or DASH}（另有 {len(hidden)} 个网格的网格员无权查看）"
    return names or "未配备"


def community_map(data: MapData, settings: Settings, household_url: str | None = None,
                  visits: VisitLayerData | None = None, wall_map: str | None = None,
                  overlays: Overlays | None = None) -> folium.Map:
    """A community's map: its boundary, all its grids, households, tagged persons and the problems
    of its division (gaps, overlaps, areas outside it); the basemap is the one ``settings`` name;
    ``household_url``, ``visits``, ``wall_map`` and ``overlays`` as for grid_map."""
    title = f"{data.name} 社区网格图"
    m = offline_map(data.bbox, title, settings)
    base = _base(m, data, settings)
    if data.community is not None:
        boundary = {"color": COMMUNITY_COLOUR, "weight": 3, "fill": False}
        folium.GeoJson(data.community, name="社区边界", control=False,
                       style_function=lambda _: boundary).add_to(m)
    grid_boundaries(data.grids).add_to(m)
    entries = [*base, LegendEntry(LABELS["community"], "line", COMMUNITY_COLOUR),
               LegendEntry(LABELS["grid"], "line", GRID_COLOUR)]
    features = (data.division or {}).get("features") or []
    if data.division is None:
        division_note = "网格划分未检查"
    elif features:
        figure(m).html.add_child(HATCH_SVG, name="gridmap_hatch")
        division_problems(data.division).add_to(m)
        division_note = f"划分问题 {len(features)} 处"
        entries.append(LegendEntry("缝隙/交叉/超界", "hatch", PROBLEM_COLOUR))
    else:
        division_note = "网格划分无缝隙、无交叉"
    entries += _register_layers(m, data, household_url)
    overlays = overlays or Overlays()
    _overlays(m, data, replace(overlays, visits=visits or overlays.visits), household_url)
    lines = [f"社区 {data.code} · 网格 {len(data.grids['features'])} 个",
             f"网格员 {_community_workers(data)}", division_note, *_summary(data)]
    return _finish(m, entries, title, lines, wall_map)
