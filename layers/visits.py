"""The 走访 layer: households coloured by the days since their last visit that counts against their
policy interval, key persons of overdue households ringed, and the day's route with numbered stops.

One overlay in the layer control, off when the map opens (its circles would cover the register's
markers): a tap on "走访 …" shows it. The data (gis.maps.visits.VisitLayerData) is embedded once as
JSON and drawn client-side, like the register (layers/households.py); the symbology is
layers/styles.py. Its name and legend say what they count, "—" where the user's scopes do not hold
the map's area whole (a sum over her part would pass for the area's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from folium.map import Layer
from folium.template import Template

from layers.escape import ESC_JS, script_json
from layers.grids import shown
from layers.legend import LegendEntry, LegendWhileShown
from layers.styles import KEY_PERSON_COLOUR, VISIT_ROUTE_COLOUR, VISIT_STYLES

if TYPE_CHECKING:
    from gis.maps.visits import VisitLayerData

# Each state's outline, so that colour is never the only cue (and print in greyscale still reads).
_OUTLINES = {
    "ok": {"color": "#fff", "weight": 1, "dashArray": None},
    "due": {"color": "#fff", "weight": 1, "dashArray": None},
    "overdue": {"color": "#000", "weight": 2.5, "dashArray": None},
    "never": {"color": "#000", "weight": 1.5, "dashArray": "3 2"},
}
VISIT_PANE, VISIT_Z = "gridmap-visits", 610  # above the household markers (600), below the rings (620)
STOP_PANE, STOP_Z = "gridmap-visit-stops", 615
LAYER_NAME = "走访"


class VisitLayer(Layer):
    """The 走访 overlay of a map. ``whole``: the user's scopes hold the map's area whole (else its
    counts show "—"). ``household_url`` as for layers.households.RegisterData."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var map = {{ this._parent.get_name() }};
            [['{{ this.pane }}', {{ this.z_index }}], ['{{ this.stop_pane }}', {{ this.stop_z }}]]
                .forEach(function (p) {
                    if (!map.getPane(p[0])) { map.createPane(p[0]).style.zIndex = p[1]; }
                });
""" + ESC_JS + """
            var data = {{ this.data_json }};
            var group = L.featureGroup(), rings = [], walks = {}, walkers = [];
            group.visitData = data;
            group.byHousehold = {};
            var popup = function (r) {
                var s = data.styles[r[3]];
                var html = '<div class="visit-popup"><b>' + esc(r[7]) + '</b><br>' +
                    '<b style="color:' + s.colour + '">' + esc(s.label) + '</b><br>' +
                    esc(r[8]) + ' · 每 ' + esc(r[5]) + ' 天走访一次<br>' +
                    (r[9] ? '上次走访 ' + esc(r[9]) + '（' + esc(r[4]) + ' 天前）'
                          : '从未走访（见面、拒绝或已搬离才计）');
                if (r[6]) { html += '<br>重点人员 ' + esc(r[6]) + ' 人'; }
                if (data.householdUrl) {
                    html += '<br><a class="hh-open" target="_top" href="' +
                            esc(data.householdUrl + encodeURIComponent(r[0])) + '">打开住户页</a>';
                }
                return html + '</div>';
            };
            data.households.forEach(function (r) {
                var s = data.styles[r[3]];
                var m = L.circleMarker([r[1], r[2]], {
                    radius: 6, pane: '{{ this.pane }}', fillColor: s.colour, fillOpacity: 0.9,
                    color: s.outline.color, weight: s.outline.weight, dashArray: s.outline.dashArray,
                    className: 'visit-hh visit-' + s.state, householdId: r[0], visitState: s.state});
                m.bindPopup(function () { return popup(r); }, {maxWidth: 320});
                m.addTo(group);
                group.byHousehold[r[0]] = m;
                if (r[3] >= 2 && r[6] > 0) { rings.push(r); }
            });
            rings.forEach(function (r) {
                L.circleMarker([r[1], r[2]], {
                    radius: 11, pane: '{{ this.pane }}', color: data.keyColour, weight: 3, fill: false,
                    dashArray: '5 3', className: 'visit-key-overdue', householdId: r[0]})
                 .bindPopup(function () { return popup(r); }, {maxWidth: 320}).addTo(group);
            });
            data.route.forEach(function (v) {
                if (!walks[v[0]]) { walks[v[0]] = []; walkers.push(v[0]); }
                walks[v[0]].push(v);
            });
            walkers.forEach(function (who) {
                var stops = walks[who];
                L.polyline(stops.map(function (v) { return [v[2], v[3]]; }), {
                    color: data.routeColour, weight: 3, opacity: 0.8, pane: '{{ this.pane }}',
                    className: 'visit-route', visitor: who}).addTo(group);
                stops.forEach(function (v) {
                    L.marker([v[2], v[3]], {
                        pane: '{{ this.stop_pane }}', visitor: who, stop: v[1], householdId: v[5],
                        title: v[1] + ' ' + v[4] + ' ' + v[6],
                        icon: L.divIcon({className: 'visit-stop', html: '<span>' + esc(v[1]) + '</span>',
                                         iconSize: [22, 22]})})
                     .bindPopup('<div class="visit-popup"><b>' + esc(v[1]) + '. ' + esc(v[4]) + ' ' +
                                esc(v[6]) + '</b><br>' + esc(v[8]) + ' · ' + esc(v[7]) + '<br>走访人 ' +
                                esc(who) + '</div>')
                     .addTo(group);
                });
            });
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, visits: VisitLayerData, whole: bool, household_url: str | None = None,
                 show: bool = False) -> None:
        counts = visits.counts
        self.figures: dict[str, int | None] = {k: v if whole else None for k, v in counts.items()}
        super().__init__(name=layer_name(self.figures), overlay=True, control=True, show=show)
        self._name = "VisitLayer"
        self.pane, self.z_index, self.stop_pane, self.stop_z = VISIT_PANE, VISIT_Z, STOP_PANE, STOP_Z
        styles = [{"state": state, "label": style.label, "colour": style.colour, "outline": _OUTLINES[state]}
                  for state, style in VISIT_STYLES.items()]
        # "visitLayer" first: the key a reader of the page (a test, a script) finds the data by.
        self.data_json = script_json({
            "visitLayer": LAYER_NAME, "on": visits.on.isoformat(), "styles": styles,
            "households": visits.households, "route": visits.route, "householdUrl": household_url,
            "keyColour": KEY_PERSON_COLOUR, "routeColour": VISIT_ROUTE_COLOUR})
        # its entries in the map's legend while it is shown (rendered after the layer: a child)
        self.add_child(LegendWhileShown(self, visit_legend(self.figures), "visit-legend",
                                        f"{LAYER_NAME}（{visits.on.isoformat()}）"))


def layer_name(figures: dict[str, int | None]) -> str:
    """"走访逾期 12 户": the households overdue or never visited, the overdue list's length (the legend
    splits them and gives the rest). Short: the layer control must not cover the map on a phone."""
    overdue, never = figures["overdue"], figures["never"]
    return f"{LAYER_NAME}逾期 {shown(None if overdue is None or never is None else overdue + never)} 户"


def visit_legend(figures: dict[str, int | None]) -> list[LegendEntry]:
    """The layer's legend entries, each with its count: added to the map's legend while the layer is
    shown (short: a phone's legend has room for little more)."""
    return [
        LegendEntry(f"{VISIT_STYLES['ok'].label} {shown(figures['ok'])} 户", "square",
                    VISIT_STYLES["ok"].colour),
        LegendEntry(f"{VISIT_STYLES['due'].label} {shown(figures['due'])} 户", "square",
                    VISIT_STYLES["due"].colour),
        LegendEntry(f"{VISIT_STYLES['overdue'].label} {shown(figures['overdue'])} 户", "square",
                    VISIT_STYLES["overdue"].colour),
        LegendEntry(f"{VISIT_STYLES['never'].label} {shown(figures['never'])} 户", "square",
                    VISIT_STYLES["never"].colour),
        LegendEntry(f"逾期重点人员 {shown(figures['key_overdue'])} 人", "ring", KEY_PERSON_COLOUR),
        LegendEntry(f"今日路线 {shown(figures['stops'])} 处（按序编号）", "line", VISIT_ROUTE_COLOUR),
    ]


VISIT_CSS = f"""
<style>
  .visit-stop span {{ display: block; width: 22px; height: 22px; line-height: 22px; border-radius: 50%;
                      background: {VISIT_ROUTE_COLOUR}; color: #fff; border: 1px solid #fff;
                      text-align: center; font: bold 12px sans-serif; }}
  .visit-legend {{ margin-top: 4px; border-top: 1px solid #ccc; padding-top: 2px; }}
  .visit-popup {{ font-size: 13px; line-height: 1.5; }}
</style>
"""
