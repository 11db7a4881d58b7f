"""Which column of an imported file fills which field of a layer, as the CLI and HTTP spell it."""

from __future__ import annotations

from collections.abc import Iterable

from gis.errors import InvalidInput
from gis.interop.shown import shown


def parse_field_map(pairs: Iterable[str], **columns: str | None) -> dict[str, str]:
    """["ref=osm_id", "category=type"] -> {"ref": "osm_id", "category": "type"}.

    ``columns`` are the fields a caller names one by one (``ref="osm_id"`` from --id-field);
    they win over the pairs, and the unset ones are left out.
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        target, sep, column = pair.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise InvalidInput.one("field", f"{shown(pair)} must be FIELD=COLUMN, e.g. ref=osm_id")
        mapping[target.strip()] = column.strip()
    mapping.update({target: column for target, column in columns.items() if column})
    return mapping
