"""Problems of a grid division (网格划分): gaps, overlaps and areas outside the community, hatched red."""

from __future__ import annotations

import copy
from typing import Any

import folium

from layers.controls import TextTooltip
from layers.shell import Raw

KINDS_ZH = {"gap": "缝隙 gap", "overlap": "交叉 overlap", "outside": "超出社区 outside the community"}
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


def division_problems(problems: dict[str, Any], name: str = "划分问题 division problems") -> folium.GeoJson:
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
        problems, name=f"{name} ({len(features)})",
        style_function=lambda _: {"color": COLOUR, "weight": 2, "fillColor": f"url(#{HATCH_ID})",
                                  "fillOpacity": 1, "className": "division-problem"},
        tooltip=TextTooltip(fields=["label", "area", "grid_list"],
                                      aliases=["问题 problem", "面积 area", "网格 grids"]),
    )
