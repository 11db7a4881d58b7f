"""Every importable layer by name, gathered from the capabilities that declare them, and the name-based
entry points for importing and exporting (gis.interop itself only ever sees a LayerSpec)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

from gis.compounds.exchange import COMPOUNDS
from gis.crs import BBox
from gis.division.specs import DIVISION_LAYERS
from gis.errors import NotFound
from gis.facilities.exchange import FACILITIES
from gis.interop import exporting, importing
from gis.interop.importing import ImportReport, Progress
from gis.interop.layerspec import LayerSpec
from gis.perimeter.specs import PERIMETER_LAYERS
from gis.register.specs import REGISTER_LAYERS
from gis.roads.specs import ROAD_LAYERS
from gis.settings import CHINA_BBOX

# In load order: a layer's parents (communities before grids, households before persons) come first.
# The campaign's facilities name their owner by community or unit (units: the roads' layer), so they come
# after both; compounds (issue 16) stand alone.
LAYERS: dict[str, LayerSpec] = {**DIVISION_LAYERS, **REGISTER_LAYERS, **PERIMETER_LAYERS, **ROAD_LAYERS,
                                FACILITIES.name: FACILITIES, COMPOUNDS.name: COMPOUNDS}


def layer_spec(layer: str | LayerSpec) -> LayerSpec:
    """The layer called ``layer`` (a LayerSpec is returned as it is); NotFound if there is none."""
    if isinstance(layer, LayerSpec):
        return layer
    try:
        return LAYERS[layer]
    except KeyError:
        raise NotFound("layer", layer) from None


def load_frame(conn: psycopg.Connection, spec_or_name: str | LayerSpec, frame: pd.DataFrame, *,
               crs: str | None = None, field_map: dict[str, str] | None = None,
               columns: dict[str, str] | None = None, dry_run: bool = False,
               region_bbox: BBox = CHINA_BBOX, progress: Progress | None = None) -> ImportReport:
    """Validate ``frame`` as the layer named and load it, all or nothing (see interop.importing;
    ``columns`` a complete mapping, ``dry_run`` rolls the load back)."""
    return importing.load_frame(conn, layer_spec(spec_or_name), frame, crs=crs, field_map=field_map,
                                columns=columns, dry_run=dry_run, region_bbox=region_bbox, progress=progress)


def read_file(layer: str | LayerSpec, path: str | Path, *, encoding: str | None = None,
              sheet: str | None = None, header_row: str | int | None = None,
              columns: dict[str, str] | None = None) -> pd.DataFrame:
    """An import file of the layer named, read as the importer reads it (its header row found by the
    layer's column names and those ``columns`` maps), for a mapping form and its preview."""
    return importing.read_file(layer_spec(layer), path, encoding=encoding, sheet=sheet, header_row=header_row,
                               columns=columns)


def import_file(conn: psycopg.Connection, layer: str | LayerSpec, path: str | Path, **options: Any
                ) -> ImportReport:
    """Import one file into the layer named (options as for load_frame)."""
    return importing.import_file(conn, layer_spec(layer), path, **options)


def export_layer(conn: psycopg.Connection, layer: str | LayerSpec, path: str | Path, *,
                 crs: str = "EPSG:4326", community: str | None = None, grid: str | None = None,
                 unmasked: bool = False, encoding: str = "utf-8") -> int:
    """Write the layer named to ``path`` in the format its extension names. Returns the number of rows."""
    exporting.file_format(path, encoding)  # a wrong extension or encoding is named before a wrong layer
    return exporting.export_layer(conn, layer_spec(layer), path, crs=crs, community=community, grid=grid,
                                  unmasked=unmasked, encoding=encoding)
