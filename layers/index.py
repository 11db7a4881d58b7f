"""The list of maps (/maps/): every community with a link to its map and to each of its grids' maps."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from layers.grids import shown, workers_text


def _entry(href: str, text: str, link: bool) -> str:
    """A map's name, linked only when its reader may open it: a link never leads to a 403."""
    return f'<a href="{href}">{text}</a>' if link else text


def _grid_item(grid: dict[str, Any]) -> str:
    code = html.escape(grid["code"])
    # A grid the reader may not count: "—" households, and its workers hidden rather than "none".
    workers = html.escape(workers_text(grid))
    name = _entry(f"/maps/grids/{code}", f'{code} {html.escape(grid["name"])}', grid.get("link", True))
    return f"<li>{name} — 网格员 {workers}，{shown(grid['households'])} 户</li>"


def map_index_html(communities: Sequence[dict[str, Any]]) -> str:
    """The page for ``gis.maps.grids.map_index``'s rows (code, name, street_name, grids with code,
    name, workers, households; ``link`` false on a community or grid whose map the reader may not
    open)."""
    items = []
    for community in communities:
        grids = "".join(_grid_item(g) for g in community["grids"])
        street = f' ({html.escape(community["street_name"])})' if community["street_name"] else ""
        code = html.escape(community["code"])
        name = _entry(f"/maps/communities/{code}", f'{code} {html.escape(community["name"])}',
                      community.get("link", True))
        items.append(f"<li>{name}{street}<ul>{grids}</ul></li>")
    body = "".join(items) or "<li>还没有社区：请导入数据或加载示例街道</li>"
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>一图 · gridmap</title>'
            "<style>body{font:15px/1.5 sans-serif;margin:2em}li{margin:.2em 0}</style></head>"
            f"<body><h1>一图</h1><ul>{body}</ul></body></html>")
