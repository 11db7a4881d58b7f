"""The campaign layers (issue 16) of the grid, community and street maps: unmanaged compounds
(无人管理小区) filled by whether a lead helper unit holds them today, the facilities (阵地) by kind, and
the posts of the duties in force (a crossing as a point, a road section as a line) with their day.

Each is one overlay in the layer control, off when the map opens (the register is what a map is
opened for): a tap shows it. The data (gis.maps.campaign.CampaignLayerData) is embedded once as JSON
and drawn client-side, as the 走访 and reports layers are; the symbology is gis/maps/symbology.py,
shared with the wall map. Colour is never the only cue: unhelped compounds have a dashed outline,
facilities a glyph of their kind, monthly duties a dashed line. Tooltips carry names, kinds and units:
no personal data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from folium import Map
from folium.map import Layer
from folium.template import Template

# layers/styles.py re-exports the older part of the symbology; these are the campaign's.
from gis.maps.symbology import (
    COMPOUND_HELPED_COLOUR,
    COMPOUND_UNHELPED_COLOUR,
    DUTY_POST_COLOUR,
    FACILITY_STYLES,
    LABELS,
)
from layers.escape import ESC_JS, script_json
from layers.legend import LegendEntry, LegendWhileShown
from layers.reports import STATE_CLASSES, ReportLayer  # the reports map's own layer and colours

if TYPE_CHECKING:
    from gis.maps.campaign import CampaignLayerData
    from gis.maps.reports import ReportLayerData

NAMES = {"compounds": "无人管理小区", "facilities": "文明阵地", "posts": "值守点位"}
# Above the grid boundaries, below the household markers (600) and the other overlays' panes.
PANES = {"compounds": ("gridmap-compounds", 405), "posts": ("gridmap-duty-posts", 606),
         "facilities": ("gridmap-facilities", 608)}


def layer_name(what: str, counts: dict[str, int]) -> str:
    """Short (the layer control must not cover a phone's map), with what it counts."""
    if what == "compounds":
        return f"{NAMES[what]} {counts['compounds']} 个（未结对 {counts['unhelped']}）"
    if what == "facilities":
        return f"{NAMES[what]} {counts['facilities']} 处"
    return f"{NAMES[what]} {counts['posts']} 处"


class CampaignLayer(Layer):
    """One campaign overlay of a map: ``what`` is "compounds", "facilities" or "posts"."""

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
            group.campaignData = data;
            var line = function (label, value) {
                return value == null || value === '' ? '' : '<br>' + esc(label) + ' ' + esc(value);
            };
            if (data.campaignLayer === 'compounds') {
                L.geoJSON({type: 'FeatureCollection', features: data.features}, {
                    pane: '{{ this.pane }}',
                    style: function (f) {
                        var helped = f.properties.helper != null;
                        return {color: helped ? data.helped : data.unhelped, weight: 2,
                                dashArray: helped ? null : '5 4', fillOpacity: 0.3,
                                fillColor: helped ? data.helped : data.unhelped,
                                className: 'campaign-compound compound-' + (helped ? 'helped' : 'unhelped')};
                    },
                    onEachFeature: function (f, layer) {
                        var p = f.properties;
                        layer.bindTooltip('<div class="campaign-tip"><b>' + esc(p.name) + '</b>' +
                            line('管理方式', p.management_zh) +
                            (p.helper == null ? '<br><b>未结对帮扶单位</b>'
                                              : line('帮扶单位', p.helper) + line('结对自', p.since)) +
                            line('住户（户）', p.households) + '</div>', {sticky: true});
                    }
                }).addTo(group);
            } else if (data.campaignLayer === 'facilities') {
                data.features.forEach(function (r) {
                    var s = data.styles[r[3]] || data.styles.other;
                    L.marker([r[1], r[2]], {
                        pane: '{{ this.pane }}', facilityId: r[0], facilityKind: r[3], title: r[5],
                        icon: L.divIcon({className: 'campaign-facility', iconSize: [24, 24],
                                         html: '<span style="background:' + s.colour + '">' +
                                               esc(s.glyph) + '</span>'})})
                     .bindTooltip('<div class="campaign-tip"><b>' + esc(r[5]) + '</b><br>' + esc(r[4]) +
                                  line('管理', r[6]) + line('地址', r[7]) + '</div>')
                     .addTo(group);
                });
            } else {
                L.geoJSON({type: 'FeatureCollection', features: data.features}, {
                    pane: '{{ this.pane }}',
                    pointToLayer: function (f, latlng) {
                        return L.circleMarker(latlng, {radius: 7, pane: '{{ this.pane }}'});
                    },
                    style: function (f) {
                        var monthly = f.properties.recurrence === 'monthly';
                        return {color: data.colour, weight: f.properties.section ? 6 : 3, opacity: 0.9,
                                dashArray: monthly ? '8 5' : null, fillColor: '#fff', fillOpacity: 1,
                                className: 'campaign-post'};
                    },
                    onEachFeature: function (f, layer) {
                        var p = f.properties;
                        layer.bindTooltip('<div class="campaign-tip"><b>' + esc(p.name) + '</b>' +
                            '<br>' + esc(p.when) + line('点位', p.post) + line('责任单位', p.unit) + '</div>',
                            {sticky: true});
                    }
                }).addTo(group);
            }
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: CampaignLayerData, what: str, show: bool = False) -> None:
        super().__init__(name=layer_name(what, data.counts), overlay=True, control=True, show=show)
        self._name = f"CampaignLayer_{what}"
        self.what = what
        self.pane, self.z_index = PANES[what]
        features = {"compounds": data.compounds, "facilities": data.facilities, "posts": data.posts}[what]
        # "campaignLayer" first: the key a reader of the page (a test, a script) finds the data by.
        self.data_json = script_json({
            "campaignLayer": what, "on": data.on.isoformat(), "features": features,
            "helped": COMPOUND_HELPED_COLOUR, "unhelped": COMPOUND_UNHELPED_COLOUR,
            "colour": DUTY_POST_COLOUR,
            "styles": {k: {"label": s.label, "colour": s.colour, "glyph": s.glyph}
                       for k, s in FACILITY_STYLES.items()}})


def campaign_layers(data: CampaignLayerData | None) -> list[CampaignLayer]:
    """The overlays of the layers the reader may read (none without data: a map without them)."""
    if data is None:
        return []
    return [CampaignLayer(data, what) for what in ("compounds", "facilities", "posts")
            if what in data.readable]


def campaign_legend(what: str) -> list[LegendEntry]:
    """The legend entries of one campaign overlay: the compounds' two, one for the others."""
    if what == "compounds":
        return [LegendEntry(LABELS["compound_helped"], "square", COMPOUND_HELPED_COLOUR),
                LegendEntry(LABELS["compound_unhelped"], "square", COMPOUND_UNHELPED_COLOUR)]
    if what == "facilities":
        kinds = "、".join(s.glyph + s.label for k, s in FACILITY_STYLES.items() if k != "other")
        return [LegendEntry(f"{LABELS['facility']}（{kinds}）", "square", FACILITY_STYLES["other"].colour)]
    return [LegendEntry(f"{LABELS['duty_post']}（实线每周、虚线每月）", "line", DUTY_POST_COLOUR)]


def add_overlays(m: Map, reports: ReportLayerData | None, campaign: CampaignLayerData | None,
                 report_url: str | None = None) -> list[Layer]:
    """The 不文明行为 overlay and the campaign's the reader may read, off when the map opens, each with
    its legend entries while shown; the layers added (a layer control lists them)."""
    added: list[Layer] = []
    if reports is not None:
        layer = ReportLayer(reports, show=False, report_url=report_url)
        layer.add_to(m)
        LegendWhileShown(layer, [LegendEntry(f"不文明行为：{c.label}", "square", c.colour)
                                 for c in STATE_CLASSES.values()], "campaign-legend").add_to(m)
        added.append(layer)
    for campaign_layer in campaign_layers(campaign):
        campaign_layer.add_to(m)
        LegendWhileShown(campaign_layer, campaign_legend(campaign_layer.what), "campaign-legend").add_to(m)
        added.append(campaign_layer)
    return added


CAMPAIGN_CSS = """
<style>
  .campaign-facility span { display: block; width: 24px; height: 24px; line-height: 24px; border-radius: 4px;
                            color: #fff; border: 1px solid #fff; text-align: center;
                            font: bold 13px sans-serif; box-shadow: 0 1px 3px rgba(0,0,0,.4); }
  .campaign-tip { font-size: 13px; line-height: 1.5; }
  .campaign-legend { margin-top: 4px; border-top: 1px solid #ccc; padding-top: 2px; }
</style>
"""
