"""Which column of an imported file fills which field of a layer, as the CLI and HTTP spell it, and as
the workbench's mapping form shows it: every target with the column the importer would take by
default (from the field's name and its Chinese and English aliases), and the frame a complete mapping
makes, whose columns are the targets themselves."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from gis.errors import InvalidInput
from gis.interop.layerspec import LayerSpec
from gis.interop.shown import shown
from gis.interop.validate import (
    GCJ02_LAT,
    GCJ02_LON,
    GCJ02_WKT,
    LAT_COLUMNS,
    LON_COLUMNS,
    REF_COLUMNS,
    WKT_COLUMNS,
    _find_column,
)

_CJK = re.compile(r"[\u3400-\u9fff]")
# The targets beside a layer's fields: its record id, and a table's coordinates or WKT.
EXTRA_LABELS = {"ref": "编号", "lon": "经度", "lat": "纬度", "geometry": "WKT 几何"}
_GCJ02_NAMES = {GCJ02_LON, GCJ02_LAT, GCJ02_WKT}
# What the validator looks for under each extra target (validate.py), in its order.
_EXTRA_CANDIDATES = {"ref": REF_COLUMNS, "lon": (*LON_COLUMNS, GCJ02_LON), "lat": (*LAT_COLUMNS, GCJ02_LAT),
                     "geometry": (*WKT_COLUMNS, GCJ02_WKT)}
# A mapped geometry column is named as the validator looks for it first.
_GEOMETRY_NAMES = {"lon": "lon", "lat": "lat", "geometry": "wkt"}


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


@dataclass(frozen=True)
class Target:
    """A field of the layer a column may fill: its name, its label (the first Chinese alias, else the
    name) and whether the import needs it."""

    name: str
    label: str
    required: bool = False


def has_geometry(frame: pd.DataFrame) -> bool:
    """Whether the file brought its own geometries (a GeoJSON, GeoPackage or Shapefile)."""
    return isinstance(frame, gpd.GeoDataFrame) and bool(frame.geometry.notna().any())


def targets(spec: LayerSpec, frame: pd.DataFrame) -> list[Target]:
    """What a column of ``frame`` may fill: ``ref``, every field, and for a table of a layer with a
    geometry its lon/lat or WKT columns."""
    found = [Target("ref", EXTRA_LABELS["ref"])]
    for f in spec.fields:
        label = next((a for a in f.aliases if _CJK.search(a)), f.name)
        found.append(Target(f.name, label, f.required))
    if spec.geometry is not None and not has_geometry(frame):
        found += [Target(name, EXTRA_LABELS[name]) for name in ("lon", "lat", "geometry")]
    return found


def columns(frame: pd.DataFrame) -> list[str]:
    """The file's columns a target may take (not a spatial file's own geometry)."""
    geometry = getattr(frame, "_geometry_column_name", None) if isinstance(frame, gpd.GeoDataFrame) else None
    return [str(c) for c in frame.columns if c != geometry]


def suggested_mapping(spec: LayerSpec, frame: pd.DataFrame) -> dict[str, str]:
    """target -> column, as the importer would map the file's header by itself: a field's name or one of
    its aliases (Chinese or English, case and Shapefile truncation aside). Lon/lat win over WKT."""
    mapping: dict[str, str] = {}
    for target in targets(spec, frame):
        if target.name in _EXTRA_CANDIDATES:
            candidates: Iterable[str] = _EXTRA_CANDIDATES[target.name]
        else:
            f = spec.field(target.name)
            candidates = (f.name, *f.aliases)
        if (column := _find_column(frame, candidates)) is not None:
            mapping[target.name] = column
    if "lon" in mapping and "lat" in mapping:
        mapping.pop("geometry", None)
    return mapping


def parse_mapping(spec: LayerSpec, frame: pd.DataFrame, pairs: Iterable[str]) -> dict[str, str]:
    """A complete mapping from the form's ``field`` values: "address=地址" maps, "address=" leaves the
    field out. Every target and column must be the layer's and the file's."""
    names = {t.name for t in targets(spec, frame)}
    present = set(columns(frame))
    mapping: dict[str, str] = {}
    for pair in pairs:
        target, sep, column = pair.partition("=")
        target = target.strip()
        if not sep or target not in names:
            raise InvalidInput.one("field", f"{shown(pair)}: {spec.name} has no field {shown(target)} to map")
        if not column:
            continue
        if column not in present:
            raise InvalidInput.one(target, f"column {shown(column)} is not in the file")
        mapping[target] = column
    return mapping


def mapped_frame(frame: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """The file's rows with one column per mapped target, named so that the importer finds it and
    nothing else: a field left out of ``mapping`` is not imported, whatever the file's header says.
    Coordinate columns named GCJ-02 keep their names (they say which CRS the numbers are in); a
    spatial file keeps its geometry and CRS; ``attrs`` (how the file was read) are kept."""
    data: dict[str, pd.Series] = {}
    for target, column in mapping.items():
        name = _GEOMETRY_NAMES.get(target, target)
        if target in _GEOMETRY_NAMES and column.strip().lower() in _GCJ02_NAMES:
            name = column.strip().lower()
        data[name] = frame[column]
    out: pd.DataFrame = pd.DataFrame(data, index=frame.index)
    if isinstance(frame, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=frame.geometry.to_numpy(), crs=frame.crs)
    out.attrs.update(frame.attrs)
    return out
