"""The tagged persons (四清: key persons, floating population, poor groups, ...) as one overlay per tag.

Each overlay rings the households that have at least one person with that tag, in the tag's colour;
rings of different tags at one household nest (one radius per tag) so that none hides another.
"""

from __future__ import annotations

from layers.grids import shown
from layers.households import KEY_PANE, KEY_Z, RING_PANE, RING_Z, HouseholdRings, RegisterData
from layers.styles import TAG_STYLES


class TaggedPersons(HouseholdRings):
    """The households with a person tagged ``tag`` (bit ``bit`` of the row's tag mask). ``count``
    (the persons tagged) is shown in the layer's name as "重点人员 12 人"; None shows "—": the map's
    area is not the user's whole, and her part's count would pass for the area's. Key persons are
    drawn thicker, in a pane of their own above every other ring and marker."""

    def __init__(self, register: RegisterData, tag: str, bit: int, count: int | None,
                 show: bool = True) -> None:
        if tag not in TAG_STYLES:
            raise ValueError(f"unknown person tag {tag!r}; known: {', '.join(TAG_STYLES)}")
        self.style = TAG_STYLES[tag]
        key = tag == "key_person"
        super().__init__(register, f"r[3] & {1 << bit}", name=f"{self.style.label} {shown(count)} 人",
                         colour=self.style.colour, radius=6 + 2.5 * bit, weight=3.5 if key else 2.5,
                         class_name=f"tag-{tag}", show=show,
                         pane=KEY_PANE if key else RING_PANE, z_index=KEY_Z if key else RING_Z)
        self._name = "TaggedPersons"
        self.tag, self.mask = tag, 1 << bit
