"""Grid boundaries (网格边界), each labelled with its code, name, grid worker(s) and figures.

A label says only what the user may know of the grid (gis.maps.grids._GRIDS): a neighbour's worker
she may not see is "已配备（无权查看）", not "未配备网格员"; a figure she may not count is "—", not 0.
The labels are Chinese, as the maps' readers are."""

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


DASH = "—"  # a figure the user may not see: never 0, which would say "none"


def shown(value: int | None) -> str:
    """A figure as text: "—" when the user may not see it (None)."""
    return DASH if value is None else str(value)


NO_WORKER = "未配备网格员"
HIDDEN_WORKER = "已配备（无权查看）"


def workers_hidden(props: dict[str, Any]) -> bool:
    """Whether a grid's workers are hidden from the user: she may not count the grid, and it has
    workers (``staffed`` > 0) or she may not know even whether (``staffed`` None)."""
    return not props.get("counted", True) and props.get("staffed") != 0


def workers_text(props: dict[str, Any]) -> str:
    """Who serves a grid, as far as the user may know: the names where she may count the grid;
    elsewhere whether anyone does (``staffed``, a number) without the names; "—" when she may not
    know even that. A grid without the visibility keys (a map made as the owner) shows its names."""
    if props.get("counted", True):
        return "、".join(props["workers"]) or NO_WORKER
    if props.get("staffed") is None:
        return DASH
    return HIDDEN_WORKER if props["staffed"] else NO_WORKER


def _label(props: dict[str, Any]) -> str:
    cls = "focus" if props["focus"] else ""
    figures = ""
    if "households" in props:  # per-grid figures, "—" where the user may not count the grid
        figures = f"<br>住户 {shown(props['households'])} · 人口 {shown(props.get('persons'))}"
    return (f'<div class="{cls}">{html.escape(props["name"])}<br><small>{html.escape(props["code"])}</small>'
            f"<br>网格员 {html.escape(workers_text(props))}{figures}</div>")


def grid_boundaries(grids: dict[str, Any], name: str | None = None) -> folium.FeatureGroup:
    """The grids of a FeatureCollection (properties code, name, workers, focus, label=[lat, lon]):
    the focus grid bold, the others thin, each with a label at a point inside it. The layer is
    named ``name``, by default "网格 n 个"."""
    if grids.get("type") != "FeatureCollection":
        raise ValueError("grid_boundaries needs a GeoJSON FeatureCollection")
    name = name or f"网格 {len(grids.get('features') or [])} 个"
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
