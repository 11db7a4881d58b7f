"""Validating a file's rows against a LayerSpec: columns, typed values and geometries -> problems.

Validation runs in Python over whole columns (pandas/numpy/shapely, no per-row database work) and
collects every problem before anything is written; the load step (importing.py) then stages the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gis.crs import BBox, InputCRS, declares_gcj02, normalise_crs_name, to_wgs84
from gis.errors import InvalidInput, Problem
from gis.interop.layerspec import Field, LayerSpec
from gis.interop.shown import capped, shown

REF_COLUMNS = ("ref", "id", "编号")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")
# Our GCJ-02 exports name their coordinates so (exporting.py): such columns are GCJ-02 without --crs.
GCJ02_LON, GCJ02_LAT, GCJ02_WKT = "lon_gcj02", "lat_gcj02", "wkt_gcj02"

_TRUE = {"true", "t", "1", "yes", "y", "是", "有", "√"}
_FALSE = {"false", "f", "0", "no", "n", "否", "无", "×"}
# shapely type ids accepted for each kind of layer geometry
_KINDS: dict[str, set[int]] = {
    "point": {0},
    "line": {1, 5},
    "polygon": {3, 6},
    "any": {0, 1, 3, 4, 5, 6},
}
_KIND_NAMES = {"point": "a Point", "line": "a LineString", "polygon": "a Polygon or MultiPolygon",
               "any": "a Point, LineString or Polygon"}


def validated_rows(spec: LayerSpec, frame: pd.DataFrame, *, crs: str | None, field_map: dict[str, str],
                   region_bbox: BBox) -> pd.DataFrame:
    """The rows of ``frame`` typed for staging: ``row_no``, ``ref``, one column per field and, for a
    layer with geometry, ``geom`` as hex WKB in EPSG:4326.

    Raises InvalidInput with every problem found (row, field, reason).
    """
    problems: list[Problem] = []
    if len(frame) == 0:
        read_as = frame.attrs.get("read_as")
        raise InvalidInput.one("file", "has no data rows" + (f" (read as {read_as})" if read_as else ""))
    index = pd.RangeIndex(1, len(frame) + 1)  # data rows as a spreadsheet user counts them
    columns = _resolve_columns(spec, frame, field_map, problems)
    text = {name: as_text(frame[col]).set_axis(index) for name, col in columns.items()}
    typed = pd.DataFrame({"row_no": index.to_numpy(),
                          "ref": text.get("ref", pd.Series(None, index=index, dtype=object))}, index=index)
    for f in spec.fields:
        typed[f.name] = _typed(f, text.get(f.name), index, problems)
    if spec.prepare is not None:
        problems += spec.prepare(typed)
    _duplicates(typed["ref"], "ref", problems)
    for f in spec.fields:
        if f.unique:
            _duplicates(typed[f.name], f.name, problems)
    geoms = None
    if spec.geometry is not None:
        geoms = _geometries(spec, frame, crs, field_map, region_bbox, index, problems)
    if problems:
        raise refused(problems)
    if geoms is not None:
        typed["geom"] = shapely.to_wkb(geoms, hex=True)
    return typed


def refused(problems: list[Problem]) -> InvalidInput:
    """The problems by row and field, each reason capped: an error never carries the file back."""
    ordered = sorted(problems, key=lambda p: (p.row or 0, p.field))
    return InvalidInput([Problem(p.field, capped(p.reason), p.row) for p in ordered])


# --- columns -------------------------------------------------------------------------------------

def _key(name: object) -> str:
    return str(name).strip().lower()


def column_candidates(spec: LayerSpec, field_map: dict[str, str]) -> list[str]:
    """Every column name this layer would take: to find a table's header row by."""
    names = [*REF_COLUMNS, *LON_COLUMNS, *LAT_COLUMNS, *WKT_COLUMNS, GCJ02_LON, GCJ02_LAT, GCJ02_WKT]
    for f in spec.fields:
        names += [f.name, *f.aliases]
    return names + list(field_map.values())


def _columns_by_key(frame: pd.DataFrame) -> dict[str, Any]:
    """Columns by their key; under a two-row header ("户主信息/姓名") also by the lower name when that
    is unique (tables.py)."""
    columns = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    by_key = {_key(c): c for c in columns}
    lower = pd.Series([_key(c).rsplit("/", 1)[-1] for c in columns if "/" in str(c)], dtype=object)
    for c in columns:
        name = _key(c).rsplit("/", 1)[-1]
        if "/" in str(c) and name not in by_key and (lower == name).sum() == 1:
            by_key[name] = c
    return by_key


def _find_column(frame: pd.DataFrame, names: Iterable[str]) -> str | None:
    by_key = _columns_by_key(frame)
    for name in names:
        # Shapefile (dBASE) truncates field names to 10 characters: street_name -> street_nam.
        for candidate in (_key(name), _key(name)[:10]):
            if candidate in by_key:
                return str(by_key[candidate])
    return None


def _resolve_columns(spec: LayerSpec, frame: pd.DataFrame, field_map: dict[str, str],
                     problems: list[Problem]) -> dict[str, str]:
    """Which column of the file feeds each field (and ``ref``)."""
    known = {f.name for f in spec.fields} | {"ref", "lon", "lat", "geometry"}
    for target, column in field_map.items():
        if target not in known:
            problems.append(Problem(target, f"{spec.name} has no field {shown(target)} to map "
                                            f"(fields: {', '.join(sorted(known))})"))
        elif _find_column(frame, [column]) is None:
            problems.append(Problem(target, f"column {shown(column)} is not in the file"))
    columns: dict[str, str] = {}
    wanted = [("ref", REF_COLUMNS)] + [(f.name, (f.name, *f.aliases)) for f in spec.fields]
    for name, candidates in wanted:
        found = _find_column(frame, [field_map[name]] if name in field_map else candidates)
        if found is not None:
            columns[name] = found
    missing = False
    for f in spec.fields:
        if f.required and f.name not in columns:
            names = ", ".join((f.name, *f.aliases))
            problems.append(Problem(f.name, f"required column missing (looked for {names}; "
                                            f"map another with --{f.name}-field NAME)"))
            missing = True
    if missing:
        problems.append(columns_found(frame))
    return columns


def columns_found(frame: pd.DataFrame) -> Problem:
    """What the file was read as (sheet, header row, delimiter, encoding) and the columns found there:
    a missing column is most often a header read from the wrong row or sheet."""
    read_as = frame.attrs.get("read_as")
    tabular = read_as is not None and "header row" in read_as
    hint = " (choose others with --sheet, --header-row N or N-M)" if tabular else ""
    where = f"read as {read_as}{hint}; " if read_as else ""
    found = [shown(str(c), 30) for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    return Problem("file", f"{where}columns found: {', '.join(found) or 'none'}")


def as_text(series: pd.Series) -> pd.Series:
    """Any column as stripped text with None for empty, so every format validates alike."""
    if isinstance(series.dtype, pd.StringDtype):  # the usual case (CSV, XLSX): one vectorised pass
        stripped = series.str.strip()
        return stripped.astype(object).where(stripped.notna() & stripped.ne(""), None)
    if pd.api.types.is_datetime64_any_dtype(series):
        midnight = series.dropna().dt.normalize().eq(series.dropna()).all()
        text = series.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%dT%H:%M:%S")
    elif pd.api.types.is_bool_dtype(series):
        text = series.map({True: "true", False: "false"})
    elif pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        integral = np.isfinite(values) & (np.mod(values, 1) == 0)
        text = series.astype(object).where(~integral, pd.Series(values, index=series.index).round()
                                           .astype("Int64").astype(object))
        text = text.map(lambda v: v if pd.isna(v) else str(v))
    else:
        text = series
    out = text.astype(object).where(text.notna(), None)
    mask = out.notna()
    out[mask] = out[mask].astype(str).str.strip()
    return out.where(out.ne("") & out.notna(), None)


# --- values --------------------------------------------------------------------------------------

def _add(problems: list[Problem], rows: pd.Index, bad: pd.Series, field_name: str,
         reason: Callable[[Any], str], values: pd.Series) -> None:
    for row in rows[bad.to_numpy()]:
        problems.append(Problem(field_name, reason(values.at[row]), int(row)))


def parse_date(text: pd.Series) -> pd.Series:
    """YYYY-MM-DD (also / or . as separators, and a midnight time as spreadsheets add) -> date."""
    cleaned = text.str.replace(r"[/.]", "-", regex=True).str.replace(r"[ T]00:00:00$", "", regex=True)
    parsed = pd.to_datetime(cleaned, format="%Y-%m-%d", errors="coerce")
    return parsed.dt.date.where(parsed.notna(), None)


def _typed(f: Field, text: pd.Series | None, index: pd.Index, problems: list[Problem]) -> pd.Series:
    if text is None:  # no such column; if the field is required that was reported once
        return pd.Series(None, index=index, dtype=object)
    values = text
    present = values.notna()
    if f.normalise is not None and present.any():
        uniques = values[present].unique()
        values = values.copy()
        values[present] = values[present].map(dict(zip(uniques, map(f.normalise, uniques), strict=True)))
        present = values.notna()
    if f.required:
        _add(problems, index, ~present, f.name, lambda _: "required, but empty", values)
    if f.choices is not None:
        bad = present & ~values.isin(f.choices)
        choices = ", ".join(f.choices)
        _add(problems, index, bad, f.name, lambda v: f"{shown(v)} is not one of {choices}", values)
        present &= ~bad
    if f.check_column is not None and present.any():
        why = pd.Series(None, index=index, dtype=object)
        why[present] = f.check_column(values[present])
        bad = why.notna()
        _add(problems, index, bad, f.name, lambda v: capped(str(v)), why)
        present &= ~bad
    elif f.check is not None and present.any():
        reasons = {v: f.check(v) for v in values[present].unique()}
        why = values.map(reasons).where(present, None)
        bad = why.notna()
        _add(problems, index, bad, f.name, lambda v: capped(str(v)), why)
        present &= ~bad
    if f.kind == "text":
        return values.where(present, None)
    if f.kind in ("int", "float"):
        number = pd.to_numeric(values.where(present), errors="coerce")
        if f.kind == "int":
            bad = present & (number.isna() | (number.mod(1) != 0))
            _add(problems, index, bad, f.name, lambda v: f"{shown(v)} is not a whole number", values)
            return number.where(~bad).round().astype("Int64")
        bad = present & number.isna()
        _add(problems, index, bad, f.name, lambda v: f"{shown(v)} is not a number", values)
        return number
    if f.kind == "bool":
        lower = values.where(present).str.lower()
        flags = lower.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
        bad = present & flags.isna()
        _add(problems, index, bad, f.name, lambda v: f"{shown(v)} is not yes/no (true/false, 1/0, 是/否)",
             values)
        return flags.astype("boolean")
    parsed = parse_date(values.where(present))
    bad = present & parsed.isna()
    _add(problems, index, bad, f.name, lambda v: f"{shown(v)} is not a date (YYYY-MM-DD)", values)
    return parsed


def _duplicates(values: pd.Series, field_name: str, problems: list[Problem]) -> None:
    present = values.dropna()
    dup = present[present.duplicated(keep="first")]
    first = present[~present.duplicated(keep="first")]
    first_row = pd.Series(first.index, index=first.to_numpy())
    for row, value in dup.items():
        problems.append(Problem(field_name, f"{shown(value)} repeats row {first_row[value]}", int(row)))


# --- geometry ------------------------------------------------------------------------------------

def _gcj02_columns(frame: pd.DataFrame, field_map: dict[str, str]) -> bool:
    """Whether the table's coordinates are in columns named GCJ-02 (lon_gcj02/lat_gcj02, wkt_gcj02)."""
    if {"lon", "lat", "geometry"} & field_map.keys() or isinstance(frame, gpd.GeoDataFrame):
        return False
    return (_find_column(frame, [GCJ02_LON]) is not None and _find_column(frame, [GCJ02_LAT]) is not None
            or _find_column(frame, [GCJ02_WKT]) is not None)


def input_crs(frame: pd.DataFrame, crs: str | None, field_map: dict[str, str]
               ) -> tuple[pd.DataFrame, InputCRS]:
    """The coordinate system of the geometries: the caller's, else the file's, else EPSG:4326.

    A projected file (e.g. a CGCS2000 Gauss-Kruger GeoPackage) is reprojected to EPSG:4326 first:
    the three input systems are all longitude/latitude. A file declaring GCJ-02 (our exports' marker)
    or a table with GCJ-02 columns is GCJ-02; a --crs saying otherwise is refused, not obeyed.
    """
    declared = getattr(frame, "crs", None) if isinstance(frame, gpd.GeoDataFrame) else None
    says_gcj02 = (declared is not None and declares_gcj02(CRS(declared))) or _gcj02_columns(frame, field_map)
    if declared is not None and CRS(declared).is_projected:
        frame = frame.to_crs(4326)
        declared = CRS(4326)
    try:
        if crs is not None:
            given = normalise_crs_name(crs)
            if says_gcj02 and given != "gcj02":
                raise ValueError(f"the file's coordinates are GCJ-02 (its CRS or columns say so), "
                                 f"not {given}")
            return frame, given
        if says_gcj02:
            return frame, "gcj02"
        if declared is not None and CRS(declared).to_epsg() == 4490:
            return frame, "EPSG:4490"
        return frame, "EPSG:4326"
    except ValueError as exc:
        raise InvalidInput.one("crs", str(exc)) from None


def _table_geometries(frame: pd.DataFrame, field_map: dict[str, str], index: pd.Index,
                      problems: list[Problem]) -> np.ndarray | None:
    """Geometries of a CSV/XLSX table: lon/lat columns (points) or a WKT column."""
    lon_col = _find_column(frame, [field_map["lon"]] if "lon" in field_map else (*LON_COLUMNS, GCJ02_LON))
    lat_col = _find_column(frame, [field_map["lat"]] if "lat" in field_map else (*LAT_COLUMNS, GCJ02_LAT))
    if lon_col is not None and lat_col is not None:
        geoms = np.empty(len(frame), dtype=object)
        ok = np.ones(len(frame), dtype=bool)
        coords = []
        for name, col in (("lon", lon_col), ("lat", lat_col)):
            text = as_text(frame[col]).set_axis(index)
            number = pd.to_numeric(text, errors="coerce")
            _add(problems, index, text.isna(), name, lambda _: "required, but empty", text)
            bad = text.notna() & number.isna()
            _add(problems, index, bad, name, lambda v: f"{shown(v)} is not a number", text)
            ok &= number.notna().to_numpy()
            coords.append(number.to_numpy(dtype=float, na_value=np.nan))
        geoms[ok] = shapely.points(coords[0][ok], coords[1][ok])
        geoms[~ok] = None
        return geoms
    wkt_names = [field_map["geometry"]] if "geometry" in field_map else (*WKT_COLUMNS, GCJ02_WKT)
    wkt_col = _find_column(frame, wkt_names)
    if wkt_col is None:
        return None
    text = as_text(frame[wkt_col]).set_axis(index)
    geoms = shapely.from_wkt(text.to_numpy(), on_invalid="ignore")
    bad = text.notna() & pd.Series(shapely.is_missing(geoms), index=index)
    _add(problems, index, bad, "geometry", lambda v: f"not valid WKT: {shown(v)}", text)
    return geoms


def _outside(bounds: np.ndarray, bbox: BBox) -> np.ndarray:
    minx, miny, maxx, maxy = bounds.T
    return ~((minx >= bbox[0]) & (maxx <= bbox[2]) & (miny >= bbox[1]) & (maxy <= bbox[3]))


def _geometries(spec: LayerSpec, frame: pd.DataFrame, crs: str | None, field_map: dict[str, str],
                bbox: BBox, index: pd.Index, problems: list[Problem]) -> np.ndarray:
    """Check the geometries (presence, kind, validity, region) and convert them to EPSG:4326."""
    frame, source_crs = input_crs(frame, crs, field_map)
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.notna().any():
        geoms = frame.geometry.to_numpy()
        if shapely.has_z(geoms).any():
            geoms = shapely.force_2d(geoms)
    else:
        found = _table_geometries(frame, field_map, index, problems)
        if found is None:
            problems.append(Problem("geometry", "no geometry: give lon/lat (经度/纬度) or a WKT column"))
            if not any(p.field == "file" for p in problems):
                problems.append(columns_found(frame))
            return np.full(len(frame), None, dtype=object)
        geoms = found
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    already = {(p.row, p.field) for p in problems if p.field in ("lon", "lat", "geometry")}
    for row in index[missing]:
        if (row, "lon") not in already and (row, "lat") not in already and (row, "geometry") not in already:
            problems.append(Problem("geometry", "missing", int(row)))
    present = ~missing
    assert spec.geometry is not None
    kind_ok = np.isin(shapely.get_type_id(geoms), list(_KINDS[spec.geometry]))
    for row, geom in zip(index[present & ~kind_ok], geoms[present & ~kind_ok], strict=True):
        problems.append(Problem("geometry", f"must be {_KIND_NAMES[spec.geometry]}, got {geom.geom_type}",
                                int(row)))
    checked = present & kind_ok
    finite = np.isfinite(shapely.bounds(np.where(checked, geoms, None))).all(axis=1)
    for row in index[checked & ~finite]:
        problems.append(Problem("geometry", "coordinates must be finite numbers", int(row)))
    checked &= finite
    valid = shapely.is_valid(np.where(checked, geoms, None))
    for row, geom in zip(index[checked & ~valid], geoms[checked & ~valid], strict=True):
        problems.append(Problem("geometry", f"invalid: {shapely.is_valid_reason(geom)}", int(row)))
    checked &= valid
    bounds = shapely.bounds(np.where(checked, geoms, None))
    outside = checked & _outside(bounds, bbox)
    swapped = outside & ~_outside(bounds[:, [1, 0, 3, 2]], bbox)
    for row, is_swapped, b in zip(index[outside], swapped[outside], bounds[outside], strict=True):
        where = f"({b[0]:.6f}, {b[1]:.6f})"
        reason = (f"lat/lon look swapped: {where} is outside the region, ({b[1]:.6f}, {b[0]:.6f}) "
                  "would be inside" if is_swapped else
                  f"{where} is outside the region {bbox} (wrong CRS or a typo?)")
        problems.append(Problem("geometry", reason, int(row)))
    checked &= ~outside
    if source_crs != "EPSG:4326" and checked.any():
        geoms = geoms.copy()
        geoms[checked] = shapely.transform(
            geoms[checked], lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], source_crs)))
    return geoms
