"""The symbology the maps share: the colour of each person tag (四清), of households, grids and the base.

Labels are Chinese: the maps' readers are. A layer's count says what it counts (人 or 户)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TagStyle:
    label: str  # the Chinese term, as the layer control, the legend and the popups show it
    colour: str


# Key persons (重点人员) in a magenta that no other layer of any map uses (tests/maps/test_readable.py
# checks the distance to every colour in layers/): the reds belong to border households, violations
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
