"""The light base layer (底图): roads and buildings in pale grey under everything, for maps without tiles.

The geometries come from the caller (gis.maps.base.base_layer: clipped to the map's area); this only
draws them, in a pane of their own below every other layer (Leaflet's overlay pane is at z-index 400),
not clickable, so that a click always reaches the grid, household or place above.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from folium.map import Layer
from folium.template import Template

from layers.escape import script_json
from layers.styles import BASE_BUILDING_COLOUR, BASE_ROAD_COLOUR

if TYPE_CHECKING:
    import folium

    from gis.settings import Settings

BASE_PANE, BASE_Z = "gridmap-base", 350


class BaseLayer(Layer):
    """Buildings (class ``base-building``) and roads (``base-road``), one path each, in BASE_PANE."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var map = {{ this._parent.get_name() }}, base = {{ this.base_json }};
            if (!map.getPane('{{ this.pane }}')) {
                var pane = map.createPane('{{ this.pane }}');
                pane.style.zIndex = {{ this.z_index }};
                pane.style.pointerEvents = 'none';
            }
            var group = L.featureGroup();
            var draw = function (geometries, style) {
                // An array of geometries: one path each.
                L.geoJSON(geometries, {pane: '{{ this.pane }}', interactive: false, style: style})
                 .addTo(group);
            };
            draw(base.buildings, {color: base.buildingEdge, weight: 0.6, fillColor: base.building,
                                  fillOpacity: 1, className: 'base-building'});
            draw(base.roads, {color: base.road, weight: 3, opacity: 1, lineCap: 'round',
                              className: 'base-road'});
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, base: dict[str, Any], name: str = "底图（道路、建筑）") -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "BaseLayer"
        self.pane, self.z_index = BASE_PANE, BASE_Z
        self.count = len(base["roads"]) + len(base["buildings"])
        self.base_json = script_json({"roads": base["roads"], "buildings": base["buildings"],
                                      "road": BASE_ROAD_COLOUR, "building": BASE_BUILDING_COLOUR,
                                      "buildingEdge": BASE_ROAD_COLOUR})


def add_base(m: folium.Map, base: dict[str, Any] | None, settings: Settings) -> bool:
    """Draw ``base`` on ``m`` when the map has no tiles (basemap ``none``) and there is something to
    draw; whether it did."""
    if settings.basemap != "none" or not base or not (base["roads"] or base["buildings"]):
        return False
    BaseLayer(base).add_to(m)
    return True
