"""The list of maps (/maps/): every community with a link to its map and to each of its grids' maps."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any


def _grid_item(grid: dict[str, Any]) -> str:
    code = html.escape(grid["code"])
    workers = html.escape("、".join(grid["workers"]) or "—")
    return (f'<li><a href="/maps/grids/{code}">{code} {html.escape(grid["name"])}</a>'
            f' — 网格员 {workers}, {grid["households"]} 户 households</li>')


def map_index_html(communities: Sequence[dict[str, Any]]) -> str:
    """The page for ``gis.maps.grids.map_index``'s rows (code, name, street_name, grids with code,
    name, workers, households)."""
    items = []
    for community in communities:
        grids = "".join(_grid_item(g) for g in community["grids"])
        street = f' ({html.escape(community["street_name"])})' if community["street_name"] else ""
        code = html.escape(community["code"])
        items.append(f'<li><a href="/maps/communities/{code}">{code} {html.escape(community["name"])}</a>'
                     f"{street}<ul>{grids}</ul></li>")
    body = "".join(items) or "<li>没有社区 no communities yet: import or load the demo data</li>"
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>gridmap 一图 maps</title>'
            "<style>body{font:15px/1.5 sans-serif;margin:2em}li{margin:.2em 0}</style></head>"
            f"<body><h1>一图 maps</h1><ul>{body}</ul></body></html>")
