"""The tagged persons (四清: key persons, floating population, poor groups, ...) as one overlay per tag.

Each overlay rings the households that have at least one person with that tag, in the tag's colour;
rings of different tags at one household nest (one radius per tag) so that none hides another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from folium.map import Layer
from folium.template import Template

if TYPE_CHECKING:
    from layers.households import RegisterData


@dataclass(frozen=True)
class TagStyle:
    label: str  # Chinese term first, English beside it
    colour: str


# Colours from ColorBrewer's Set1/Dark2: distinct on screen and in print.
TAG_STYLES: dict[str, TagStyle] = {
    "key_person": TagStyle("重点人员 key persons", "#e41a1c"),
    "floating": TagStyle("流动人口 floating population", "#ff7f00"),
    "poverty": TagStyle("低保/特困 poverty", "#984ea3"),
    "elderly_alone": TagStyle("独居老人 elderly living alone", "#a65628"),
    "disabled": TagStyle("残疾人 disabled", "#377eb8"),
    "activist": TagStyle("积极分子/志愿者 activists & volunteers", "#4daf4a"),
}


class TaggedPersons(Layer):
    """The households with a person tagged ``tag`` (bit ``bit`` of the row's tag mask)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var data = {{ this.register.get_name() }};
            var group = L.featureGroup();
            data.rows.forEach(function (r) {
                if (!(r[3] & {{ this.mask }})) { return; }
                L.circleMarker([r[0], r[1]], {radius: {{ this.radius }}, color: '{{ this.style.colour }}',
                                              weight: 2.5, fill: false, className: 'tag-{{ this.tag }}'})
                 .bindPopup(function () { return data.popup(r); }, {maxWidth: 420})
                 .addTo(group);
            });
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, register: RegisterData, tag: str, bit: int, count: int, show: bool = True) -> None:
        if tag not in TAG_STYLES:
            raise ValueError(f"unknown person tag {tag!r}; known: {', '.join(TAG_STYLES)}")
        self.style = TAG_STYLES[tag]
        super().__init__(name=f"{self.style.label} ({count})", overlay=True, control=True, show=show)
        self._name = "TaggedPersons"
        self.register, self.tag, self.mask = register, tag, 1 << bit
        self.radius = 6 + 2.5 * bit
