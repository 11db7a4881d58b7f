"""The reports layer (不文明行为): each report the user reads as a dot coloured by its state, and the
road sections with open reports shaded by open reports per 100 m of section.

One overlay in the layer control, off when a grid's, community's or street's map opens (its dots would
cover the register's markers); the reports map (/maps/reports) shows it from the start. The data
(gis.maps.reports.ReportLayerData) is embedded once as JSON and drawn client-side, as the 走访 layer
is (layers/visits.py). Every state class has its own outline as well as its colour, so colour is never
the only cue. Popups carry the category, the state and the day: never the reporter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import folium
from folium.map import Layer
from folium.template import Template

from layers.controls import LayerControl
from layers.escape import ESC_JS, script_json
from layers.legend import LegendEntry, NorthArrow, legend, title_box
from layers.shell import figure, offline_map

if TYPE_CHECKING:
    from gis.maps.reports import ReportLayerData
    from gis.settings import Settings


@dataclass(frozen=True)
class StateClass:
    label: str
    colour: str
    outline: str  # the outline's colour
    dash: str | None  # the outline's dash pattern


# The workflow's states in five classes, from ColorBrewer Dark2 (apart from the register's reds, the
# key persons' magenta and the 走访 layer's hues; the suggestion is to move them to gis/maps/symbology).
STATE_CLASSES: dict[str, StateClass] = {
    "waiting": StateClass("待受理", "#d95f02", "#000", None),
    "working": StateClass("处置中", "#7570b3", "#fff", None),
    "handled": StateClass("已处置待核查", "#a6761d", "#fff", "3 2"),
    "done": StateClass("已办结", "#1b9e77", "#fff", None),
    "dropped": StateClass("不予受理/重复", "#999999", "#000", "2 2"),
}
STATE_CLASS = {
    "new": "waiting",
    "accepted": "working",
    "dispatched": "working",
    "returned": "working",
    "signed": "working",
    "handled": "handled",
    "verified": "done",
    "closed": "done",
    "rejected": "dropped",
    "duplicate": "dropped",
}
# open reports per 100 m of section: (upper bound included, colour), YlOrBr; beyond the last: darkest
DENSITY = ((1.0, "#fec44f"), (3.0, "#fe9929"), (None, "#cc4c02"))
DENSITY_LABELS = ("每百米 ≤1 件未办结", "每百米 1–3 件", "每百米 >3 件")
REPORT_PANE, REPORT_Z = "gridmap-reports", 612
LAYER_NAME = "不文明行为"
PAD = 0.001  # degrees, about 100 m


def density_colour(per_100m: float) -> str:
    for upper, colour in DENSITY:
        if upper is None or per_100m <= upper:
            return colour
    return DENSITY[-1][1]


def report_legend(counts: dict[str, int]) -> list[LegendEntry]:
    """A swatch per state class with its count, and the sections' shades."""
    per_class: dict[str, int] = dict.fromkeys(STATE_CLASSES, 0)
    for state, cls in STATE_CLASS.items():
        per_class[cls] += counts.get(state, 0)
    entries = [
        LegendEntry(f"{c.label} {per_class[k]} 件", "square", c.colour) for k, c in STATE_CLASSES.items()
    ]
    entries += [
        LegendEntry(label, "line", colour) for label, (_, colour) in zip(DENSITY_LABELS, DENSITY, strict=True)
    ]
    return entries


class ReportLayer(Layer):
    """The 不文明行为 overlay: ``show`` whether it is on when the map opens; ``report_url`` (/reports/)
    links each popup to the report's page when the user may open it."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var map = {{ this._parent.get_name() }};
            if (!map.getPane('{{ this.pane }}')) {
                map.createPane('{{ this.pane }}').style.zIndex = {{ this.z_index }};
            }
""" + ESC_JS + """
            var data = {{ this.data_json }};
            var group = L.featureGroup();
            group.reportData = data;
            var shade = function (v) {
                for (var i = 0; i < data.density.length; i++) {
                    if (data.density[i][0] === null || v <= data.density[i][0]) { return data.density[i][1]; }
                }
                return data.density[data.density.length - 1][1];
            };
            L.geoJSON({type: 'FeatureCollection', features: data.sections}, {
                pane: '{{ this.pane }}',
                style: function (f) {
                    return {color: shade(f.properties.per_100m), weight: 7, opacity: 0.85,
                            className: 'report-section'};
                },
                onEachFeature: function (f, layer) {
                    var p = f.properties;
                    layer.bindPopup('<div class="report-popup"><b>' + esc(p.road_name) + ' ' + esc(p.code) +
                        '</b><br>未办结 ' + esc(p.open_reports) + ' 件 · 长 ' + esc(p.length_m) +
                        ' 米<br>每百米 ' +
                        esc(p.per_100m) + ' 件</div>');
                }
            }).addTo(group);
            data.reports.forEach(function (r) {
                var s = data.classes[data.stateClass[r[3]]];
                var m = L.circleMarker([r[1], r[2]], {
                    radius: 6, pane: '{{ this.pane }}', fillColor: s.colour, fillOpacity: 0.9,
                    color: s.outline,
                    weight: 1.5, dashArray: s.dash, className: 'report-dot report-' + r[3], reportId: r[0],
                    reportState: r[3]});
                m.bindPopup(function () {
                    var html = '<div class="report-popup"><b>' + esc(r[5]) + '</b><br>' + esc(r[4]) + ' · ' +
                        esc(r[6]);
                    if (data.reportUrl) {
                        html += '<br><a target="_top" href="' +
                                esc(data.reportUrl + encodeURIComponent(r[0])) +
                                '">打开上报</a>';
                    }
                    return html + '</div>';
                });
                m.addTo(group);
            });
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: ReportLayerData, show: bool = False, report_url: str | None = None) -> None:
        counts = data.counts
        super().__init__(
            name=f"{LAYER_NAME} {counts['reports']} 件（未办结 {counts['open']}）",
            overlay=True,
            control=True,
            show=show,
        )
        self._name = "ReportLayer"
        self.pane, self.z_index = REPORT_PANE, REPORT_Z
        classes = {
            k: {"label": c.label, "colour": c.colour, "outline": c.outline, "dash": c.dash}
            for k, c in STATE_CLASSES.items()
        }
        # "reportLayer" first: the key a reader of the page (a test, a script) finds the data by.
        self.data_json = script_json(
            {
                "reportLayer": LAYER_NAME,
                "classes": classes,
                "stateClass": STATE_CLASS,
                "density": [list(d) for d in DENSITY],
                "reports": data.reports,
                "sections": data.sections,
                "reportUrl": report_url,
            }
        )


def report_map(
    data: ReportLayerData, settings: Settings, title: str, lines: list[str], report_url: str | None = None
) -> folium.Map:
    """The reports map page: the layer on from the start, fitted to the reports (the service's region
    when there are none), with its title box and legend."""
    if data.bbox:  # a margin around the reports (one report alone is a point)
        x0, y0, x1, y1 = data.bbox
        bbox = (x0 - PAD, y0 - PAD, x1 + PAD, y1 + PAD)
    else:
        bbox = settings.region_bbox
    m = offline_map(bbox, title, settings)
    ReportLayer(data, show=True, report_url=report_url).add_to(m)
    NorthArrow().add_to(m)
    LayerControl(collapsed=False).add_to(m)
    page = figure(m)
    page.html.add_child(title_box(title, lines), name="gridmap_title")
    page.html.add_child(legend(report_legend(data.counts)), name="gridmap_legend")
    return m
