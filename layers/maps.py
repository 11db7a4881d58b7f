"""The two maps (一图): a grid's and a community's, composed from the layers of this package."""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium

from layers.controls import LayerControl
from layers.division import COLOUR as PROBLEM_COLOUR
from layers.division import HATCH_SVG, division_problems
from layers.grids import DASH, GRID_CSS, grid_boundaries, shown, workers_hidden
from layers.households import HOUSEHOLD_CSS, HighlightedHouseholds, HouseholdCluster, RegisterData
from layers.legend import LegendEntry, legend, title_box
from layers.persons import TaggedPersons
from layers.shell import Raw, figure, offline_map
from layers.styles import (
    BORDER_COLOUR,
    COMMUNITY_COLOUR,
    GRID_COLOUR,
    HOUSEHOLD_COLOUR,
    NEIGHBOUR_GRID_COLOUR,
    TAG_STYLES,
)

if TYPE_CHECKING:
    from gis.maps.grids import MapData
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
    tagged = " · ".join(f"{TAG_STYLES[t].label.split()[0]} {shown(c[t])}" for t in data.tags)
    return [
        f"住户 households {shown(c['households'])} · 人口 persons {shown(c['persons'])} · "
        f"压线户 on a border {shown(c['border'])} · 界外户 outside {shown(c['outside'])}",
        tagged,
        f"制图日期 made on {data.made_on.isoformat()}",
    ]


def _register_layers(m: folium.Map, data: MapData, household_url: str | None) -> list[LegendEntry]:
    """Households, highlighted households and one overlay per person tag; their legend entries."""
    register = RegisterData(data.households, data.tags, household_url)
    register.add_to(m)
    HouseholdCluster(register).add_to(m)
    entries = [LegendEntry("住户 household", "square", HOUSEHOLD_COLOUR)]
    if data.counts["border"] or data.counts["outside"]:
        HighlightedHouseholds(register).add_to(m)
        entries.append(LegendEntry("压线/界外户 on a border or outside every grid", "ring", BORDER_COLOUR))
    figures = _figures(data)
    for bit, tag in enumerate(data.tags):
        rings = data.counts[tag]
        TaggedPersons(register, tag, bit, figures[tag], show=rings <= RINGS_SHOWN).add_to(m)
        entries.append(LegendEntry(TAG_STYLES[tag].label, "ring", TAG_STYLES[tag].colour))
    return entries


def _finish(m: folium.Map, entries: list[LegendEntry], title: str, lines: list[str]) -> folium.Map:
    LayerControl(collapsed=False).add_to(m)
    page = figure(m)
    page.header.add_child(Raw(GRID_CSS + HOUSEHOLD_CSS), name="gridmap_layer_css")
    page.html.add_child(title_box(title, lines), name="gridmap_title")
    page.html.add_child(legend(entries), name="gridmap_legend")
    return m


def grid_map(data: MapData, settings: Settings, household_url: str | None = None) -> folium.Map:
    """A grid's map: its boundary bold among its neighbours, its households and tagged persons;
    the basemap is the one ``settings`` name. ``household_url`` (``/households/``) links each
    household's popup to its page (layers.households.RegisterData)."""
    title = f"{data.name} 网格图 grid map"
    m = offline_map(data.bbox, title, settings)
    grid_boundaries(data.grids).add_to(m)
    entries = [LegendEntry("本网格 this grid", "line", GRID_COLOUR),
               LegendEntry("相邻网格 neighbouring grids", "line", NEIGHBOUR_GRID_COLOUR)]
    entries += _register_layers(m, data, household_url)
    workers = "、".join(data.workers) or "未配备"
    team = f" · 服务团队 team {'、'.join(data.team)}" if data.team else ""
    lines = [f"网格 grid {data.code} · {data.community_name} 社区 community",
             f"网格员 grid worker {workers}{team}", *_summary(data)]
    return _finish(m, entries, title, lines)


def _community_workers(data: MapData) -> str:
    """The community's workers the user may see, and a note when some grids' workers are hidden
    from her (a grid worker sees her own grid's only): the list is then not the community's."""
    hidden = [f for f in data.grids["features"] if workers_hidden(f["properties"])]
    names = "、".join(data.workers)
    if hidden:
        return f"{names or DASH}（另有 {len(hidden)} 个网格的网格员无权查看）"
    return names or "未配备"


def community_map(data: MapData, settings: Settings, household_url: str | None = None) -> folium.Map:
    """A community's map: its boundary, all its grids, households, tagged persons and the problems
    of its division (gaps, overlaps, areas outside it); the basemap is the one ``settings`` name;
    ``household_url`` as for grid_map."""
    title = f"{data.name} 社区网格图 community grid map"
    m = offline_map(data.bbox, title, settings)
    if data.community is not None:
        boundary = {"color": COMMUNITY_COLOUR, "weight": 3, "fill": False}
        folium.GeoJson(data.community, name="社区边界 community boundary", control=False,
                       style_function=lambda _: boundary).add_to(m)
    grid_boundaries(data.grids).add_to(m)
    entries = [LegendEntry("社区边界 community boundary", "line", COMMUNITY_COLOUR),
               LegendEntry("网格 grid", "line", GRID_COLOUR)]
    features = (data.division or {}).get("features") or []
    if data.division is None:
        division_note = "划分未检查 division not checked"
    elif features:
        figure(m).html.add_child(HATCH_SVG, name="gridmap_hatch")
        division_problems(data.division).add_to(m)
        division_note = f"划分问题 division problems: {len(features)}"
        entries.append(LegendEntry("缝隙/交叉/超界 gap, overlap, outside", "hatch", PROBLEM_COLOUR))
    else:
        division_note = "划分无问题 division: no gaps, no overlaps"
    entries += _register_layers(m, data, household_url)
    lines = [f"社区 community {data.code}" + (f" · {len(data.grids['features'])} 网格 grids"),
             f"网格员 grid workers {_community_workers(data)}", division_note, *_summary(data)]
    return _finish(m, entries, title, lines)
