"""The symbology the maps share: the colour of each person tag (四清), of households and of grids."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TagStyle:
    label: str  # Chinese term first, English beside it
    colour: str


# Colours from ColorBrewer's Set1/Dark2: distinct on screen and in print.
TAG_STYLES: dict[str, TagStyle] = {
    "key_person": TagStyle("重点人员 key persons", "#e41a1c"),
    "floating": TagStyle("流动人口 floating population", "#ff7f00"),
    "poverty": TagStyle("低保/特困 poverty", "#984ea3"),
    "elderly_alone": TagStyle("独居老人 elderly living alone", "#a65628"),
    "disabled": TagStyle("残疾人 disabled", "#377eb8"),
    "activist": TagStyle("积极分子/志愿者 activists & volunteers", "#4daf4a"),
}

HOUSEHOLD_COLOUR = "#2c7fb8"
BORDER_COLOUR = "#d7301f"  # households on a border or outside every grid (压线户/界外户)
GRID_COLOUR = "#08519c"  # the grid a map is about; every grid where none is singled out
NEIGHBOUR_GRID_COLOUR = "#636363"  # the grids around it, for context
COMMUNITY_COLOUR = "#000"
