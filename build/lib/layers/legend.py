"""The title box (grid code and name, worker, counts, date) and the legend of a printed map."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from layers.shell import Raw


@dataclass(frozen=True)
class LegendEntry:
    label: str
    swatch: str  # "ring", "square", "line" or "hatch"
    colour: str


def _swatch(entry: LegendEntry) -> str:
    colour = html.escape(entry.colour)
    css = {
        "ring": f"border:2.5px solid {colour};border-radius:50%;width:10px;height:10px",
        "square": f"background:{colour};width:10px;height:10px;border:1px solid #fff",
        "line": f"border-top:3px solid {colour};width:16px;height:0;margin-top:8px",
        "hatch": f"border:2px solid {colour};width:12px;height:10px;"
                 f"background:repeating-linear-gradient(45deg,{colour} 0 2px,#fff 2px 5px)",
    }[entry.swatch]
    return f'<span style="display:inline-block;vertical-align:middle;margin-right:6px;{css}"></span>'


def legend(entries: Sequence[LegendEntry], title: str = "图例 legend") -> Raw:
    """A fixed box bottom-left listing what each colour means; it stays visible in print."""
    rows = "".join(f"<div>{_swatch(e)}{html.escape(e.label)}</div>" for e in entries)
    return Raw(
        f'<div class="gridmap-box gridmap-legend" style="position:fixed;bottom:24px;left:10px;z-index:1000">'
        f"<b>{html.escape(title)}</b>{rows}</div>"
    )


def title_box(title: str, lines: Sequence[str]) -> Raw:
    """A fixed box top-left: the map's title and a few lines (worker, counts, date)."""
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    return Raw(
        f'<div class="gridmap-box gridmap-title" style="position:fixed;top:10px;left:54px;z-index:1000;'
        f'max-width:46%"><div style="font-size:16px;font-weight:bold">{html.escape(title)}</div>{body}</div>'
    )
