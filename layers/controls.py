"""Tooltips and the layer control, showing the texts they are given as text, never as HTML.

folium's GeoJsonTooltip joins a feature's properties into an HTML string for innerHTML, and
Leaflet's layer control writes each layer's name with innerHTML: a place or unit named
``<img src=x onerror=...>`` would run. These two put text in with ``textContent`` and escape the
names, whatever a caller passes.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template

from layers.escape import html_text


class TextTooltip(folium.GeoJsonTooltip):
    """A GeoJson layer's tooltip: one row per field (its alias as a heading when ``labels``), each
    value written as text."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindTooltip(function (layer) {
            var fields = {{ this.fields|tojson }}, aliases = {{ this.aliases|tojson }};
            var div = L.DomUtil.create('div'), table = L.DomUtil.create('table', '', div);
            fields.forEach(function (field, i) {
                var row = L.DomUtil.create('tr', '', table), value = layer.feature.properties[field];
                {% if this.labels %}L.DomUtil.create('th', '', row).textContent = aliases[i];{% endif %}
                L.DomUtil.create('td', '', row).textContent = value == null ? '' :
                    typeof value === 'object' ? JSON.stringify(value) : String(value);
            });
            return div;
        }, {{ this.tooltip_options|tojavascript }});
        {% endmacro %}
        """
    )


class LayerControl(folium.LayerControl):
    """folium's layer control, every layer's name escaped: Leaflet writes the names as HTML."""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # folium's returns None too
        # folium's own render collects the names as they are; this is the same loop, escaping them.
        self.reset()
        assert self._parent is not None, "a layer control is added to a map"
        for item in self._parent._children.values():
            if isinstance(item, Layer) and item.control:
                names = self.overlays if item.overlay else self.base_layers
                names[html_text(item.layer_name)] = item.get_name()
        MacroElement.render(self, **kwargs)
