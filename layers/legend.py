"""What a printed map carries besides its layers: the title box (code, name, worker, counts, date),
the legend, the north arrow.

Placement, so that nothing covers anything else at 1366×768 and on a 390 px phone: the title box
top-left (beside the zoom buttons), the layer control top-right, the metric scale bar bottom-left
(layers/shell.py), the legend bottom-right and never wider than the window minus the scale bar's
corner; the north arrow below the zoom buttons, and it stays on paper when the buttons go.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from branca.element import MacroElement
from folium.template import Template

from layers.escape import script_json
from layers.shell import Raw

# The legend keeps this much of the window's width free on its left: the scale bar's corner
# (Leaflet's 10 px margin + the bar's at most SCALE_WIDTH px, layers/shell.py) and a gap.
LEGEND_CLEARANCE_PX = 150


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


LEGEND_CSS = f"""
<style>
  .gridmap-legend {{ position: fixed; bottom: 24px; right: 10px; z-index: 1000;
                    max-width: calc(100vw - {LEGEND_CLEARANCE_PX + 10}px); max-height: calc(100vh - 150px);
                    overflow-y: auto; }}
  .gridmap-legend summary {{ font-weight: bold; cursor: pointer; min-height: 24px; }}
  .gridmap-legend .gridmap-legend-columns {{ columns: 2 9em; column-gap: 12px; }}
  .gridmap-north {{ background: rgba(255,255,255,.9); border-radius: 4px; padding: 2px 4px;
                    text-align: center; font: bold 12px/1 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); }}
  @media print {{ .gridmap-legend {{ max-height: none; overflow: visible; }} }}
</style>
"""


def legend(entries: Sequence[LegendEntry], title: str = "图例",
           more: tuple[str, Sequence[LegendEntry]] | None = None) -> Raw:
    """A box bottom-right listing what each colour means, folded away with a tap on a phone (it opens
    unfolded, and stays in print); ``more`` is a titled second list in two columns (a category each)."""
    rows = "".join(f"<div>{_swatch(e)}{html.escape(e.label)}</div>" for e in entries)
    if more is not None:
        heading, extra = more
        rows += (f"<div><b>{html.escape(heading)}</b></div><div class=\"gridmap-legend-columns\">"
                 + "".join(f"<div>{_swatch(e)}{html.escape(e.label)}</div>" for e in extra) + "</div>")
    return Raw(
        f'{LEGEND_CSS}<details open class="gridmap-box gridmap-legend">'
        f"<summary>{html.escape(title)}</summary>{rows}</details>"
    )


# The download links of a served map (the PDF wall map, 一图上墙): tap-sized, and not on paper.
DOWNLOAD_CSS = ("<style>.gridmap-download { display: inline-block; min-height: 40px; line-height: 40px;"
                " padding: 0 10px; margin-top: 4px; border: 1px solid #08519c; border-radius: 4px; }"
                " @media print { .gridmap-download { display: none; } }</style>")


def title_box(title: str, lines: Sequence[str], status_id: str | None = None,
              links: Sequence[tuple[str, str]] = ()) -> Raw:
    """A fixed box top-left: the map's title and a few lines (worker, counts, date); ``status_id``
    adds an empty line with that id for a page's script to write its state into; ``links`` (label,
    href) are download links under them (the wall map PDF), opened in the whole window."""
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    if status_id is not None:
        body += f'<div id="{html.escape(status_id)}"></div>'
    if links:
        body += DOWNLOAD_CSS + "".join(
            f'<div><a class="gridmap-download" target="_top" download href="{html.escape(href)}">'
            f"{html.escape(label)}</a></div>" for label, href in links)
    return Raw(
        f'<div class="gridmap-box gridmap-title" style="position:fixed;top:10px;left:54px;z-index:1000;'
        f'max-width:46%"><div style="font-size:16px;font-weight:bold">{html.escape(title)}</div>{body}</div>'
    )


_ARROW_SVG = ('<svg width="22" height="30" viewBox="0 0 22 30" aria-hidden="true">'
              '<polygon points="11,1 20,27 11,21" fill="#000"/>'
              '<polygon points="11,1 2,27 11,21" fill="#fff" stroke="#000" stroke-width="1"/></svg>')


class NorthArrow(MacroElement):
    """A north arrow (指北针) under the zoom buttons: the maps are north-up, and a printed map says so."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var arrow = L.control({position: 'topleft'});
            arrow.onAdd = function () {
                var div = L.DomUtil.create('div', 'leaflet-control gridmap-north');
                div.title = '指北针 北';
                div.innerHTML = {{ this.svg_json }} + '<div>北</div>';
                return div;
            };
            arrow.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "NorthArrow"
        self.svg_json = script_json(_ARROW_SVG)


class LegendWhileShown(MacroElement):
    """An overlay's entries in the map's legend (.gridmap-legend) while the overlay is shown: a phone's
    legend has no room for every overlay's entries at once (it would cover the map), and a map printed
    with an overlay on carries its entries. Rendered after its layer (add it to the map after the layer,
    or as the layer's child); ``css_class`` names the rows' box, ``heading`` titles it."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var layer = {{ this.layer_name }}, cfg = {{ this.config_json }}, rows = null;
            var swatch = function (e) {
                var css = {
                    ring: 'border:2.5px solid ' + e.colour + ';border-radius:50%;width:10px;height:10px',
                    square: 'background:' + e.colour + ';width:10px;height:10px;border:1px solid #fff',
                    line: 'border-top:3px solid ' + e.colour + ';width:16px;height:0;margin-top:8px'
                }[e.swatch];
                var span = document.createElement('span');
                span.style.cssText = 'display:inline-block;vertical-align:middle;margin-right:6px;' + css;
                return span;
            };
            var show = function () {
                var box = document.querySelector('.gridmap-legend');
                if (!box || rows) { return; }
                rows = document.createElement('div');
                rows.className = cfg.cssClass;
                if (cfg.heading) {
                    var heading = document.createElement('b');
                    heading.textContent = cfg.heading;
                    rows.appendChild(heading);
                }
                cfg.entries.forEach(function (e) {
                    var row = document.createElement('div');
                    row.appendChild(swatch(e));
                    row.appendChild(document.createTextNode(e.label));
                    rows.appendChild(row);
                });
                box.appendChild(rows);
            };
            layer.on('add', show);
            layer.on('remove', function () {
                if (rows) { rows.remove(); rows = null; }
            });
            if (layer._map) { show(); }  // already on the map when this runs
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: MacroElement, entries: Sequence[LegendEntry], css_class: str,
                 heading: str | None = None) -> None:
        super().__init__()
        self._name = "LegendWhileShown"
        self.layer_name = layer.get_name()
        self.config_json = script_json({
            "cssClass": css_class, "heading": heading,
            "entries": [{"label": e.label, "swatch": e.swatch, "colour": e.colour} for e in entries]})
