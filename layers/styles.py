"""The symbology the web maps use: the one definition in gis.maps.symbology, shared with the PDF wall
map (gis/maps/wallmap.py), re-exported here for the layers of this package."""

from __future__ import annotations

from gis.maps.symbology import (
    BASE_BUILDING_COLOUR,
    BASE_ROAD_COLOUR,
    BORDER_COLOUR,
    CAMPUS_COLOUR,
    COMMUNITY_COLOUR,
    COMPLIANT_COLOUR,
    GRID_COLOUR,
    HOUSEHOLD_COLOUR,
    KEY_PERSON_COLOUR,
    LABELS,
    NEIGHBOUR_GRID_COLOUR,
    TAG_STYLES,
    UNASSIGNED_COLOUR,
    UNIT_COLOURS,
    VIOLATION_COLOUR,
    VISIT_ROUTE_COLOUR,
    VISIT_STYLES,
    ZONE_COLOUR,
    TagStyle,
    unit_colours,
)

__all__ = [
    "BASE_BUILDING_COLOUR", "BASE_ROAD_COLOUR", "BORDER_COLOUR", "CAMPUS_COLOUR", "COMMUNITY_COLOUR",
    "COMPLIANT_COLOUR", "GRID_COLOUR", "HOUSEHOLD_COLOUR", "KEY_PERSON_COLOUR", "LABELS",
    "NEIGHBOUR_GRID_COLOUR", "TAG_STYLES", "UNASSIGNED_COLOUR", "UNIT_COLOURS", "VIOLATION_COLOUR",
    "VISIT_ROUTE_COLOUR", "VISIT_STYLES", "ZONE_COLOUR", "TagStyle", "unit_colours",
]
