"""The street map (街道一图): every grid of a street on a canvas, households and places by viewport.

Folium's one-object-per-feature layers stop working long before a street's size (FIELD-NOTES: 150k
markers make a 135 MB page that opens blank). Here Leaflet draws on one canvas (``preferCanvas``):
the grids and their household counts come embedded in the page; at ``DETAIL_ZOOM`` and above the
page fetches the households (and from ``PLACES_ZOOM`` the places) of the current view from the app
(JSON arrays) and draws them as canvas circles, replacing the previous view's. Nothing but Leaflet
itself is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import folium
from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template

from gis.perimeter.specs import PLACE_CATEGORIES
from layers.base import add_base
from layers.campaign import CAMPAIGN_CSS, add_overlays
from layers.escape import ESC_JS, script_json
from layers.grids import shown
from layers.legend import LegendEntry, NorthArrow, legend, title_box
from layers.shell import Raw, figure, offline_map
from layers.styles import (
    BASE_BUILDING_COLOUR,
    BASE_ROAD_COLOUR,
    BORDER_COLOUR,
    CAMPUS_COLOUR,  # as on the perimeter map (layers/perimeter.py)
    COMMUNITY_COLOUR,
    GRID_COLOUR,
    HOUSEHOLD_COLOUR,
)

if TYPE_CHECKING:
    from gis.maps.campaign import CampaignLayerData
    from gis.maps.reports import ReportLayerData
    from gis.maps.street import StreetOverview
    from gis.settings import Settings

DETAIL_ZOOM = 16  # households are fetched from here on (a view of ~3 km², a few thousand)
PLACES_ZOOM = 17  # places from here on: a dense street has ~2,000 per km², more than households
LABEL_ZOOM = 14  # grid names and counts as labels, for the grids in view
COUNT_COLOUR = "#2c7fb8"
# One colour per category (gis.perimeter.specs.PLACE_CATEGORIES, in order), none of them the campuses'.
PLACE_COLOURS = ("#e31a1c", "#ff7f00", "#6a3d9a", "#b15928", "#fb9a99", "#33a02c", "#cab2d6",
                 "#01665e", "#a6cee3", "#fdbf6f", "#b2df8a", "#999999")
PLACE_LABELS = {"internet_cafe": "网吧", "game_hall": "游戏厅", "mahjong_parlor": "麻将馆",
                "entertainment": "歌舞娱乐", "bar": "酒吧", "tobacco": "烟草", "lottery": "彩票",
                "publication_shop": "出版物", "food_shop": "食品店", "small_shop": "五小门店",
                "restaurant": "餐饮", "other": "其他"}


class StreetLayers(MacroElement):
    """Grids, household counts (low zoom) or households (high zoom), places (high zoom), drawn on a
    canvas. ``households_url``/``places_url`` answer ``?bbox=w,s,e,n`` with {truncated, rows}.

    When the first view's data has been drawn the page sets ``window.gridmapReady = true``;
    ``window.gridmapStreet`` holds the map and its layers (for tests and the curious)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var cfg = {{ this.config_json }};
            // The shell's fitBounds animates from its start zoom; until that ends getZoom() is the old
            // zoom, and the first data load would ask for a close-up. Fit again, at once.
            map.fitBounds(cfg.bounds, {padding: [20, 20], animate: false});
            var renderer = L.canvas({padding: 0.3});
""" + ESC_JS + """
            var status = document.getElementById('street-status');
            var say = function (text) { if (status) { status.textContent = text; } };
            // A figure the user may not count arrives as null and is shown as "—", never as 0.
            var figure = function (v) { return v == null ? '—' : String(v); };
            // Links open in the whole window (target _top): a workbench page may frame this map.
            var gridPopup = function (p) {
                return '<div class="street-popup"><b>' + esc(p.n) + '</b><br>' + esc(p.k || '') +
                       '<br><small>网格 ' + esc(p.c) + '</small><br>住户 ' + esc(figure(p.h)) + ' 户' +
                       (p.m ? '<br><a target="_top" href="/maps/grids/' + esc(encodeURIComponent(p.c)) +
                              '">网格图</a>' : '') +
                       '</div>';
            };
            L.geoJSON(cfg.communities, {renderer: renderer, interactive: false,
                                        style: {color: '#000', weight: 3}}).addTo(map);
            var grids = L.geoJSON(cfg.grids, {
                renderer: renderer,
                style: {color: cfg.gridColour, weight: 1, fillOpacity: 0.03},
                onEachFeature: function (f, layer) {
                    layer.bindPopup(function () { return gridPopup(f.properties); });
                }
            }).addTo(map);
            var households = L.layerGroup().addTo(map);
            var places = L.layerGroup().addTo(map);
            // Campuses (校园), each labelled with its school's name.
            var schools = L.layerGroup().addTo(map);
            L.geoJSON(cfg.schools, {renderer: renderer, interactive: false,
                                    style: {color: cfg.campusColour, weight: 2, fillOpacity: 0.2}})
             .addTo(schools);
            cfg.schools.features.forEach(function (f) {
                schools.addLayer(L.marker(f.properties.p, {interactive: false, icon: L.divIcon({
                    className: 'campus-label', iconSize: [0, 0],
                    html: '<div>' + esc(f.properties.n) + '</div>'})}));
            });
            var overlays = {};
            overlays[cfg.names.grids] = grids;
            overlays[cfg.names.households] = households;
            overlays[cfg.names.places] = places;
            overlays[cfg.names.schools] = schools;
            // The reports and campaign overlays (layers/reports.py, layers/campaign.py), off at first.
            [{% for v in this.extra_vars %}{{ v }}, {% endfor %}].forEach(function (layer, i) {
                overlays[cfg.extraNames[i]] = layer;
            });
            L.control.layers(null, overlays, {collapsed: false}).addTo(map);

            var counts = cfg.grids.features.filter(function (f) { return f.properties.h > 0; })
                .map(function (f) {
                    var p = f.properties;
                    return L.circleMarker(p.p, {renderer: renderer, radius: 3 + Math.sqrt(p.h) / 2,
                                                color: '#fff', weight: 1, fillColor: cfg.countColour,
                                                fillOpacity: 0.75})
                            .bindPopup(function () { return gridPopup(p); });
                });
            var householdRow = function (r) {
                var fill = r[3] ? cfg.problemColour : cfg.householdColour;
                var m = L.circleMarker([r[1], r[2]], {renderer: renderer, radius: 4, weight: 1,
                                                      color: '#fff', fillOpacity: 0.9, fillColor: fill});
                return m.bindPopup(function () {
                    return '<div class="street-popup"><b>' + esc(r[4]) + '</b><br><small>网格 ' +
                           esc(r[5] || '—') + '</small>' +
                           (r[3] ? '<br><b style="color:' + fill + '">' + esc(cfg.placements[r[3]]) + '</b>'
                                 : '') +
                           '<br>人口 ' + esc(r[6]) + ' 人' +
                           (cfg.householdUrl ? '<br><a class="hh-open" target="_top" href="' +
                                               esc(cfg.householdUrl + encodeURIComponent(r[0])) +
                                               '">打开住户页</a>' : '') + '</div>';
                });
            };
            var placeRow = function (r) {
                var c = cfg.categories[r[3]] || cfg.categories[cfg.categories.length - 1];
                return L.circleMarker([r[1], r[2]], {renderer: renderer, radius: 3, weight: 0,
                                                     fillColor: c.colour, fillOpacity: 0.9})
                        .bindPopup(function () {
                            return '<div class="street-popup"><b>' + esc(r[4]) + '</b><br>' + esc(c.label) +
                                   '<br><small>' + esc(r[5]) + '</small></div>';
                        });
            };
            var fetchRows = function (url, bbox) {
                return fetch(url + '?bbox=' + bbox, {credentials: 'same-origin',
                                                      headers: {Accept: 'application/json'}})
                    .then(function (r) { return r.ok ? r.json() : {rows: [], refused: r.status}; })
                    .catch(function () { return {rows: [], refused: 'offline'}; });
            };
            var seq = 0;
            var refresh = function () {
                var mine = ++seq, zoom = map.getZoom();
                var wanted = {households: map.hasLayer(households),
                              places: map.hasLayer(places) && zoom >= cfg.placesZoom};
                if (zoom < cfg.detailZoom) {
                    households.clearLayers();
                    places.clearLayers();
                    if (wanted.households) {
                        var view = map.getBounds();
                        counts.forEach(function (c) { households.addLayer(c); });
                        if (zoom >= cfg.labelZoom) {
                            cfg.grids.features.forEach(function (f) {
                                var p = f.properties;
                                if (!view.contains(p.p)) { return; }
                                households.addLayer(L.marker(p.p, {interactive: false, icon: L.divIcon({
                                    className: 'street-label', iconSize: [0, 0],
                                    html: '<div>' + esc(p.n) + '<br><small>' + esc(p.k || '') +
                                          '</small><br>' + esc(figure(p.h)) + ' 户</div>'})}));
                            });
                        }
                    }
                    say('住户按网格计数；放大到 ' + cfg.detailZoom + ' 级显示住户，' + cfg.placesZoom +
                        ' 级显示经营场所');
                    return Promise.resolve();
                }
                var b = map.getBounds().pad(0.25);
                var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
                    .map(function (v) { return v.toFixed(6); }).join(',');
                var none = Promise.resolve({rows: []});
                return Promise.all([wanted.households ? fetchRows(cfg.householdsUrl, bbox) : none,
                                    wanted.places ? fetchRows(cfg.placesUrl, bbox) : none])
                    .then(function (answers) {
                        if (mine !== seq) { return; }  // the user moved on: a newer view is loading
                        households.clearLayers();
                        places.clearLayers();
                        answers[0].rows.forEach(function (r) { households.addLayer(householdRow(r)); });
                        answers[1].rows.forEach(function (r) { places.addLayer(placeRow(r)); });
                        var cut = answers[0].truncated || answers[1].truncated ? '（更多请放大）' : '';
                        var refused = answers[0].refused || answers[1].refused ? ' · 部分图层无权查看' : '';
                        var placed = wanted.places ? answers[1].rows.length + ' 处'
                                                   : '放大到 ' + cfg.placesZoom + ' 级显示';
                        say('住户 ' + answers[0].rows.length + ' 户 · 经营场所 ' + placed + cut + refused);
                    });
            };
            var first = true;
            var update = function () {
                refresh().then(function () {
                    if (first) {
                        first = false;
                        window.gridmapReady = true;
                        document.documentElement.setAttribute('data-gridmap-ready', '1');
                    }
                });
            };
            map.on('moveend overlayadd overlayremove', update);
            window.gridmapStreet = {map: map, grids: grids, households: households, places: places,
                                    schools: schools, counts: counts, refresh: refresh};
            map.whenReady(update);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, overview: StreetOverview, households_url: str, places_url: str,
                 grid_maps: Callable[[str], bool] = lambda code: True,
                 household_url: str | None = None, extra: Sequence[Layer] = ()) -> None:
        super().__init__()
        self._name = "StreetLayers"
        # Overlays rendered before this element (their variables exist when its script runs).
        self.extra_vars = [layer.get_name() for layer in extra]
        # Each grid's popup links its grid map only where the reader may open it (property m).
        grids = {**overview.grids, "features": [
            {**f, "properties": {**f["properties"], "m": int(grid_maps(f["properties"]["c"]))}}
            for f in overview.grids["features"]]}
        self.config_json = script_json({
            "grids": grids, "communities": overview.communities, "householdUrl": household_url,
            "bounds": [[overview.bbox[1], overview.bbox[0]], [overview.bbox[3], overview.bbox[2]]],
            "householdsUrl": households_url, "placesUrl": places_url,
            "detailZoom": DETAIL_ZOOM, "placesZoom": PLACES_ZOOM, "labelZoom": LABEL_ZOOM,
            "gridColour": GRID_COLOUR, "countColour": COUNT_COLOUR,
            "householdColour": HOUSEHOLD_COLOUR, "problemColour": BORDER_COLOUR,
            "placements": ["", "压线户（在网格边界上）", "界外户（不在任何网格内）"],
            "categories": [{"label": PLACE_LABELS[c], "colour": PLACE_COLOURS[i]}
                           for i, c in enumerate(PLACE_CATEGORIES)],
            "schools": overview.schools, "campusColour": CAMPUS_COLOUR,
            "extraNames": [layer.layer_name for layer in extra],
            "names": {"grids": f"网格 {overview.grid_count} 个",
                      "households": f"住户 {shown(overview.household_count)} 户",
                      "places": "经营场所", "schools": f"学校 {len(overview.schools['features'])} 所"},
        })


STREET_CSS = """
<style>
  .street-label div { transform: translate(-50%, -50%); display: inline-block; white-space: nowrap;
                      background: rgba(255,255,255,.8); border: 1px solid #777; border-radius: 3px;
                      padding: 0 4px; font-size: 11px; line-height: 1.25; text-align: center; }
  .street-popup { font-size: 13px; }
  .campus-label div { transform: translate(-50%, -50%); display: inline-block; white-space: nowrap;
                      background: rgba(255,255,255,.85); border: 1px solid #1f78b4; border-radius: 3px;
                      padding: 0 4px; font-size: 12px; font-weight: bold; color: #1f78b4; }
  .street-popup .hh-open { display: inline-block; min-height: 40px; line-height: 40px; }
</style>
"""


def street_map(overview: StreetOverview, households_url: str, places_url: str, settings: Settings,
               grid_maps: Callable[[str], bool] = lambda code: True,
               household_url: str | None = None, wall_map: str | None = None,
               reports: ReportLayerData | None = None, campaign: CampaignLayerData | None = None,
               report_url: str | None = None) -> folium.Map:
    """The map of a street: ``overview`` from gis.maps.street.street_overview; the two URLs serve the
    households and places of a viewport (``?bbox=``); the basemap is the one ``settings`` name.
    ``grid_maps(code)`` says whether the reader may open a grid's map (its popup links it only
    then); ``household_url`` (``/households/``) links each household's popup to its page. ``reports``
    and ``campaign`` add their overlays, off when the map opens (``report_url`` links a report's popup)."""
    title = f"{overview.name} 街道网格图"
    m = offline_map(overview.bbox, title, settings)
    m.options["preferCanvas"] = True  # one canvas for every vector, not one SVG element each
    entries = []
    if add_base(m, overview.base, settings):
        entries = [LegendEntry("道路", "line", BASE_ROAD_COLOUR),
                   LegendEntry("建筑", "square", BASE_BUILDING_COLOUR)]
    extra = add_overlays(m, reports, campaign, report_url)  # before StreetLayers: its control lists them
    StreetLayers(overview, households_url, places_url, grid_maps, household_url, extra).add_to(m)
    NorthArrow().add_to(m)
    page = figure(m)
    page.header.add_child(Raw(STREET_CSS + CAMPAIGN_CSS), name="gridmap_street_css")
    lines = [f"街道 {overview.code} · 社区 {overview.community_count} 个 · "
             f"网格 {overview.grid_count} 个 · 住户 {shown(overview.household_count)} 户"]
    links = [("下载责任路段上墙图（PDF）", wall_map)] if wall_map else []  # the road sections' wall map
    page.html.add_child(title_box(title, lines, status_id="street-status", links=links), name="gridmap_title")
    entries += [LegendEntry("社区边界", "line", COMMUNITY_COLOUR),
                LegendEntry("网格", "line", GRID_COLOUR),
                LegendEntry("网格住户数（圆越大户越多）", "ring", COUNT_COLOUR),
                LegendEntry("住户", "square", HOUSEHOLD_COLOUR),
                LegendEntry("压线/界外户", "square", BORDER_COLOUR),
                LegendEntry("校园", "square", CAMPUS_COLOUR)]
    categories = [LegendEntry(PLACE_LABELS[c], "square", PLACE_COLOURS[i])
                  for i, c in enumerate(PLACE_CATEGORIES)]
    page.html.add_child(legend(entries, more=("经营场所（按类别）", categories)), name="gridmap_legend")
    return m
