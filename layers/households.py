"""The households (一册) on the map: the register embedded once, compactly, and drawn client-side.

One folium.Marker per household costs ~0.75 kB of page and ~1 ms of build time each (FIELD-NOTES:
10k markers, 7.5 MB, 12 s). Here the households are one JSON array; the browser makes the markers
and each popup only when it is opened. Layers (the cluster, the highlighted households, the tag
overlays in layers/persons.py) all read the same ``RegisterData``; the symbology is layers/styles.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from branca.element import MacroElement
from folium.map import Layer
from folium.plugins import MarkerCluster
from folium.template import Template

from layers.assets import local_links
from layers.escape import ESC_JS, script_json
from layers.grids import shown
from layers.styles import BORDER_COLOUR, HOUSEHOLD_COLOUR, TAG_STYLES

PLACEMENTS = ("inside", "border", "outside")
RELATIONS_ZH = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母",
                "grandchild": "孙辈", "sibling": "兄弟姐妹", "other": "其他"}


def compact_rows(households: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """[lat, lon, placement, tags, address, grid, [[name, relation, tags, note, id, phone], ...],
    household id]."""
    placement = {p: i for i, p in enumerate(PLACEMENTS)}
    return [
        [h["lat"], h["lon"], placement[h["placement"]], h["tags"], h["address"], h["grid_code"],
         [[m["name"], m["relation"], m["tags"], m["note"], m["id_number"], m["phone"]] for m in h["members"]],
         h["id"]]
        for h in households
    ]


class RegisterData(MacroElement):
    """The households as one JS object, with the popup (the register entry) built on demand.

    ``tags`` names bit i of a row's tag mask (gis.maps.grids.TAGS). ``household_url``, when given
    (a served map whose reader may open the household pages), is the prefix of each household's page
    (``/households/``): the popup links it with ``target="_top"``, so that a map framed by a
    workbench page opens the household in the whole window, not inside the frame. A map written to
    a file has no server behind it and no link."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
""" + ESC_JS + """
            var data = {
                rows: {{ this.rows_json }},
                tags: {{ this.tags_json }},
                relations: {{ this.relations_json }},
                householdUrl: {{ this.household_url_json }},
                placements: ['', '压线户（在网格边界上）', '界外户（不在任何网格内）']
            };
            data.tagNames = function (mask) {
                return data.tags.filter(function (t, i) { return mask & (1 << i); })
                                .map(function (t) { return t.label; });
            };
            data.popup = function (r) {
                var html = '<div class="hh-popup"><b>' + esc(r[4]) + '</b>';
                html += '<br><small>网格 ' + esc(r[5] || '—') + '</small>';
                if (r[2]) {
                    html += '<br><b style="color:{{ this.border_colour }}">' + esc(data.placements[r[2]]) +
                            '</b>';
                }
                html += '<table><tr><th>姓名</th><th>关系</th><th>身份证</th><th>电话</th><th>标签</th></tr>';
                r[6].forEach(function (m) {
                    var tags = data.tagNames(m[2]);
                    if (m[3]) { tags.push(m[3]); }
                    html += '<tr><td>' + esc(m[0]) + '</td><td>' + esc(data.relations[m[1]] || m[1]) +
                            '</td><td>' + esc(m[4]) + '</td><td>' + esc(m[5]) + '</td><td>' +
                            esc(tags.join('、')) + '</td></tr>';
                });
                html += '</table>';
                if (data.householdUrl) {
                    html += '<a class="hh-open" target="_top" href="' +
                            esc(data.householdUrl + encodeURIComponent(r[7])) + '">打开住户页</a>';
                }
                return html + '</div>';
            };
            data.marker = function (r, options) {
                var m = L.marker([r[0], r[1]], options);
                m.bindPopup(function () { return data.popup(r); }, {maxWidth: 420});
                return m;
            };
            return data;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, households: Sequence[dict[str, Any]], tags: Sequence[str],
                 household_url: str | None = None) -> None:
        super().__init__()
        self._name = "RegisterData"
        self.count = len(households)
        self.rows_json = script_json(compact_rows(households))
        self.tags_json = script_json([{"key": t, "label": TAG_STYLES[t].label} for t in tags])
        self.household_url_json = script_json(household_url)
        self.relations_json = script_json(RELATIONS_ZH)
        self.border_colour = BORDER_COLOUR


# Households of one building stand at (nearly) one point. Markers closer than their icons' size are
# kept in a cluster even at the closest zooms, and a click on such a cluster at the highest zoom fans
# them out (markercluster's spiderfy): each flat gets a marker of its own to click. Farther out the
# clusters are the usual 40 px ones.
CLOSE_ZOOM = 18
CLOSE_RADIUS_PX = 10  # the household icon's size: markers nearer than this overlap


class HouseholdCluster(MarkerCluster):
    """Every household as a small square, clustered when many; border and outside ones in red.
    ``count`` (the households, None when the map's area is not the user's whole) names the layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var data = {{ this.register.get_name() }};
            var icons = ['hh', 'hh hh-border', 'hh hh-outside'].map(function (cls) {
                return L.divIcon({className: cls, iconSize: [10, 10]});
            });
            var options = {{ this.options|tojavascript }};
            options.maxClusterRadius = function (zoom) {
                return zoom >= {{ this.close_zoom }} ? {{ this.close_radius }} : 40;
            };
            var cluster = L.markerClusterGroup(options);
            cluster.addLayers(data.rows.map(function (r) {
                return data.marker(r, {icon: icons[r[2]], title: r[4]});
            }));
            return cluster;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, register: RegisterData, count: int | None = None, show: bool = True) -> None:
        super().__init__(name=f"住户 {shown(count)} 户", show=show, spiderfyOnMaxZoom=True,
                         chunkedLoading=True)
        self.default_js = local_links(["markerclusterjs"])
        self.default_css = local_links(["markerclustercss", "markerclusterdefaultcss"])
        self.register = register
        self.close_zoom, self.close_radius = CLOSE_ZOOM, CLOSE_RADIUS_PX


# Rings go in panes above the household markers (Leaflet's marker pane is at z-index 600): a click on a
# ring opens the ringed household, never the neighbour's marker under it; key persons on top of all.
RING_PANE, RING_Z = "gridmap-rings", 620
KEY_PANE, KEY_Z = "gridmap-key-persons", 640  # below tooltips (650) and popups (700)


class HouseholdRings(Layer):
    """Rings around the households whose row ``r`` passes ``condition`` (a JavaScript expression); they
    stay visible when the others are clustered. Households at one point share one ring, whose popup
    holds each one's register entry: a ring must not stand for one flat of a building and hide the rest.
    Drawn in ``pane`` (created with ``z_index`` above the markers)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var data = {{ this.register.get_name() }}, map = {{ this._parent.get_name() }};
            if (!map.getPane('{{ this.pane }}')) {
                map.createPane('{{ this.pane }}').style.zIndex = {{ this.z_index }};
            }
            var group = L.featureGroup(), at = {}, order = [];
            data.rows.forEach(function (r) {
                if (!({{ this.condition }})) { return; }
                var key = r[0] + ',' + r[1];
                if (!at[key]) { at[key] = []; order.push(key); }
                at[key].push(r);
            });
            order.forEach(function (key) {
                var rows = at[key];
                L.circleMarker([rows[0][0], rows[0][1]], {
                    radius: {{ this.radius }}, color: '{{ this.colour }}', weight: {{ this.weight }},
                    fill: false, pane: '{{ this.pane }}', className: '{{ this.class_name }}'})
                 .bindPopup(function () { return rows.map(data.popup).join(''); },
                            {maxWidth: 420, maxHeight: 360})
                 .addTo(group);
            });
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, register: RegisterData, condition: str, *, name: str, colour: str, radius: float,
                 weight: float, class_name: str, show: bool = True, pane: str = RING_PANE,
                 z_index: int = RING_Z) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "HouseholdRings"
        self.register, self.condition = register, condition
        self.colour, self.radius, self.weight, self.class_name = colour, radius, weight, class_name
        self.pane, self.z_index = pane, z_index


class HighlightedHouseholds(HouseholdRings):
    """Households on a border or outside every grid, as red rings: each one is a question for the
    division (网格划分) to answer."""

    def __init__(self, register: RegisterData, name: str = "压线/界外户") -> None:
        super().__init__(register, "r[2]", name=name, colour=BORDER_COLOUR, radius=9, weight=3,
                         class_name="hh-problem")
        self._name = "HighlightedHouseholds"


HOUSEHOLD_CSS = f"""
<style>
  .hh {{ background: {HOUSEHOLD_COLOUR}; border: 1px solid #fff; border-radius: 2px; }}
  .hh-border, .hh-outside {{ background: {BORDER_COLOUR}; }}
  .hh-popup + .hh-popup {{ border-top: 2px solid #888; margin-top: 6px; padding-top: 4px; }}
  .hh-popup table {{ border-collapse: collapse; margin-top: 4px; }}
  .hh-popup th, .hh-popup td {{ border: 1px solid #ccc; padding: 1px 4px; font-size: 12px; }}
  .hh-popup .hh-open {{ display: inline-block; min-height: 40px; line-height: 40px; padding: 0 12px;
                        margin-top: 6px; border: 1px solid {HOUSEHOLD_COLOUR}; border-radius: 4px; }}
</style>
"""
