"""Grid boundaries (网格边界), each labelled with its code, name and grid worker(s)."""

from __future__ import annotations

import html
from typing import Any

import folium

from layers.styles import GRID_COLOUR, NEIGHBOUR_GRID_COLOUR

GRID_CSS = f"""
<style>
  .grid-label div {{ transform: translate(-50%, -50%); display: inline-block; white-space: nowrap;
                    background: rgba(255,255,255,.85); border: 1px solid #555; border-radius: 3px;
                    padding: 1px 5px; font-size: 12px; line-height: 1.3; text-align: center; }}
  .grid-label .focus {{ border: 2px solid {GRID_COLOUR}; font-weight: bold; }}
</style>
"""


def _label(props: dict[str, Any]) -> str:
    workers = "、".join(props["workers"]) or "未配备网格员 no worker"
    cls = "focus" if props["focus"] else ""
    return (f'<div class="{cls}">{html.escape(props["name"])}<br><small>{html.escape(props["code"])}</small>'
            f"<br>网格员 {html.escape(workers)}</div>")


def grid_boundaries(grids: dict[str, Any], name: str = "网格 grids") -> folium.FeatureGroup:
    """The grids of a FeatureCollection (properties code, name, workers, focus, label=[lat, lon]):
    the focus grid bold, the others thin, each with a label at a point inside it."""
    if grids.get("type") != "FeatureCollection":
        raise ValueError("grid_boundaries needs a GeoJSON FeatureCollection")
    group = folium.FeatureGroup(name=name, overlay=True, control=True)
    if not grids["features"]:
        return group
    any_focus = any(f["properties"]["focus"] for f in grids["features"])

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        focus = feature["properties"]["focus"]
        return {"color": GRID_COLOUR if focus or not any_focus else NEIGHBOUR_GRID_COLOUR,
                "weight": 4 if focus else 2, "fillOpacity": 0.08 if focus or not any_focus else 0.02,
                "dashArray": None if focus or not any_focus else "6 4"}

    folium.GeoJson(grids, style_function=style, name="grid boundaries", control=False,
                   highlight_function=lambda _: {"weight": 5}).add_to(group)
    for feature in grids["features"]:
        props = feature["properties"]
        folium.Marker(props["label"], icon=folium.DivIcon(html=_label(props), class_name="grid-label",
                                                          icon_size=(0, 0)),
                      interactive=False).add_to(group)
    return group
