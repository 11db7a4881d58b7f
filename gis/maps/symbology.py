"""The symbology every map shares (图式): colours, symbols and legend texts, on screen (layers/, Folium)
and on paper (gis/maps/wallmap.py, the PDF wall map).

One definition: a colour or a legend text changed here changes the web map and the printed sheet
alike, so a household, a grid boundary or a key person's ring means the same on the wall and on the
phone. Labels are Chinese: the maps' readers are. Pure data: no drawing library is imported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class TagStyle:
    label: str  # the Chinese term, as the layer control, the legend and the popups show it
    colour: str


# Key persons (重点人员) in a magenta that no other layer of any map uses (tests/maps/test_readable.py
# checks the distance to every colour of the maps): the reds belong to border households, violations
# and unassigned road sections, and a key person's ring must never be mistaken for one of those.
KEY_PERSON_COLOUR = "#c2007a"

# The other colours from ColorBrewer's Set1/Dark2: distinct on screen and in print.
TAG_STYLES: dict[str, TagStyle] = {
    "key_person": TagStyle("重点人员", KEY_PERSON_COLOUR),
    "floating": TagStyle("流动人口", "#ff7f00"),
    "poverty": TagStyle("低保/特困", "#984ea3"),
    "elderly_alone": TagStyle("独居老人", "#a65628"),
    "disabled": TagStyle("残疾人", "#377eb8"),
    "activist": TagStyle("积极分子/志愿者", "#4daf4a"),
}

HOUSEHOLD_COLOUR = "#2c7fb8"
BORDER_COLOUR = "#d7301f"  # households on a border or outside every grid (压线户/界外户)
GRID_COLOUR = "#08519c"  # the grid a map is about; every grid where none is singled out
NEIGHBOUR_GRID_COLOUR = "#636363"  # the grids around it, for context
COMMUNITY_COLOUR = "#000"
# The light base (底图) drawn from the service's own roads and buildings when there are no tiles.
BASE_ROAD_COLOUR = "#c8c8c8"
BASE_BUILDING_COLOUR = "#e3e3e3"

# The 走访 layer (layers/visits.py): a household's state against its visit interval, from Okabe-Ito /
# ColorBrewer hues that stay apart for red-green colour-blind readers (bluish green, amber and a dark
# crimson differ in lightness as well as hue) and from every other colour of the maps (ΔE > 20; the
# slate of "never" is a grey, as no-data is, told from the base's greys by its dashed outline). Each
# state also has its own outline (none, thin, thick dark, dashed), so the colour is never the only cue.
VISIT_STYLES: dict[str, TagStyle] = {
    "ok": TagStyle("周期内已走访", "#1b9e77"),
    "due": TagStyle("临期（周期末四分之一）", "#e6ab02"),
    "overdue": TagStyle("已超周期", "#b2182b"),
    "never": TagStyle("从未走访", "#8e9aaf"),
}
VISIT_ROUTE_COLOUR = "#000080"  # the day's route and its numbered stops

# The school perimeter (校园周边200米).
CAMPUS_COLOUR = "#1f78b4"
ZONE_COLOUR = "#ff7f00"
VIOLATION_COLOUR = "#e31a1c"
COMPLIANT_COLOUR = "#9e9e9e"

# Road sections by responsible unit (责任路段): distinct colours without red, which means
# "unassigned" on that map.
UNASSIGNED_COLOUR = "#e31a1c"
UNIT_COLOURS = ("#1f78b4", "#33a02c", "#6a3d9a", "#ff7f00", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#393b79", "#637939", "#8c6d31", "#7b4173", "#3182bd", "#31a354", "#756bb1")


def unit_colours(units: Iterable[tuple[int, str]]) -> dict[int, str]:
    """A colour per unit id, in the order of the unit names (stable for the same set of units)."""
    ordered = sorted(set(units), key=lambda u: (u[1], u[0]))
    return {uid: UNIT_COLOURS[i % len(UNIT_COLOURS)] for i, (uid, _) in enumerate(ordered)}


# The legend texts of the layers both kinds of map draw, by layer key. The web maps' legends and the
# wall map's legend read them from here.
LABELS: dict[str, str] = {
    "road": "道路",
    "building": "建筑",
    "grid_focus": "本网格",
    "grid_neighbour": "相邻网格",
    "grid": "网格",
    "community": "社区边界",
    "household": "住户",
    "border": "压线/界外户（在网格边界上或不在任何网格内）",
    "campus": "校园",
    "zone": "周边范围（实地距离）",
    "violation": "违规场所",
    "compliant": "合规场所",
    "unassigned": "未分配",
}


@dataclass(frozen=True)
class PrintStyle:
    """How the wall map (PDF) draws a layer: ``symbol`` "line", "area", "square" or "ring" (the legend's
    swatch too), its colour, a line width in mm on A4 paper (larger sheets scale it, as they are read
    from farther away), an optional dash pattern (mm) and fill."""

    symbol: str
    colour: str
    width_mm: float = 0.3
    dash_mm: tuple[float, ...] | None = None
    fill: str | None = None
    fill_alpha: float = 1.0


# Boundary bold, neighbours thin (issue 15): a wall map reads from a metre away.
PRINT_STYLES: dict[str, PrintStyle] = {
    "road": PrintStyle("line", BASE_ROAD_COLOUR, 1.2),
    "building": PrintStyle("area", "#b0b0b0", 0.1, fill=BASE_BUILDING_COLOUR),
    "grid_focus": PrintStyle("line", GRID_COLOUR, 1.0),
    "grid_neighbour": PrintStyle("line", NEIGHBOUR_GRID_COLOUR, 0.25, dash_mm=(2.0, 1.2)),
    "grid": PrintStyle("line", GRID_COLOUR, 0.5),
    "community": PrintStyle("line", COMMUNITY_COLOUR, 1.0),
    "household": PrintStyle("square", HOUSEHOLD_COLOUR, 0.0, fill=HOUSEHOLD_COLOUR),
    "border": PrintStyle("ring", BORDER_COLOUR, 0.35),
    "campus": PrintStyle("area", CAMPUS_COLOUR, 0.5, fill=CAMPUS_COLOUR, fill_alpha=0.25),
    "zone": PrintStyle("line", ZONE_COLOUR, 0.5, dash_mm=(2.0, 1.2)),
    "violation": PrintStyle("square", VIOLATION_COLOUR, 0.0, fill=VIOLATION_COLOUR),
    "compliant": PrintStyle("square", COMPLIANT_COLOUR, 0.0, fill=COMPLIANT_COLOUR),
    "unassigned": PrintStyle("line", UNASSIGNED_COLOUR, 1.2, dash_mm=(2.5, 1.5)),
}


# The campaign's records (issue 16) as map layers (layers/campaign.py) and on the wall map. Compounds
# (无人管理小区) are filled by whether a lead helper unit (帮扶单位) holds them today: green helped, an
# orange with a dashed outline where none does, so the outline tells them apart in greyscale too.
COMPOUND_HELPED_COLOUR = "#66a61e"
COMPOUND_UNHELPED_COLOUR = "#e08214"
# Duty posts (值守点位): crossings as points, road sections as lines; weekly solid, monthly dashed.
DUTY_POST_COLOUR = "#1c9099"


@dataclass(frozen=True)
class FacilityStyle:
    label: str  # the kind's name, as facility_kind.name_zh has it
    colour: str
    glyph: str  # one character on the marker, so the kind reads without the colour


# Facilities (阵地) by kind (facility_kind, migration 026). A kind added to that table later is drawn
# with "other" and its own name from the database.
FACILITY_STYLES: dict[str, FacilityStyle] = {
    "moral_lecture_hall": FacilityStyle("道德讲堂", "#8c510a", "讲"),
    "volunteer_station": FacilityStyle("志愿服务站", "#01665e", "志"),
    "civic_school": FacilityStyle("市民学校", "#2166ac", "校"),
    "notice_board": FacilityStyle("宣传栏", "#5e4fa2", "宣"),
    "exposure_board": FacilityStyle("曝光台", "#b35806", "曝"),
    "practice_station": FacilityStyle("新时代文明实践站", "#762a83", "践"),
    "other": FacilityStyle("其他阵地", "#666666", "阵"),
}

LABELS.update({
    "compound_helped": "无人管理小区（已结对帮扶）",
    "compound_unhelped": "无人管理小区（未结对）",
    "facility": "文明阵地",
    "duty_post": "值守点位/路段",
})
PRINT_STYLES.update({
    "compound_helped": PrintStyle("area", COMPOUND_HELPED_COLOUR, 0.4, fill=COMPOUND_HELPED_COLOUR,
                                  fill_alpha=0.3),
    "compound_unhelped": PrintStyle("area", COMPOUND_UNHELPED_COLOUR, 0.4, dash_mm=(1.5, 1.0),
                                    fill=COMPOUND_UNHELPED_COLOUR, fill_alpha=0.3),
    "facility": PrintStyle("square", FACILITY_STYLES["other"].colour, 0.0,
                           fill=FACILITY_STYLES["other"].colour),
    "duty_post": PrintStyle("line", DUTY_POST_COLOUR, 0.8),
})
