"""Importing layers: map a file's columns to a LayerSpec, validate every row, then load all or nothing.

Validation runs in Python over whole columns (pandas/numpy/shapely, no per-row database work) and
collects every problem before anything is written. The load is one transaction: COPY into a
temporary ``staging`` table, set-based checks, one INSERT ... SELECT, then the layer's after-SQL.
The register layers (communities, grids, grid workers, buildings, households, persons) are
declared at the end of this module in ``LAYERS``; other modules add theirs to the same dict.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from pyproj import CRS

from gis.codes import (
    birth_dates_and_sexes,
    community_code_problem,
    grid_code_problem,
    id_number_problems,
)
from gis.crs import BBox, InputCRS, normalise_crs_name, to_wgs84
from gis.errors import InvalidInput, NotFound, Problem
from gis.interop.layerspec import Field, LayerSpec
from gis.interop.readers import read_frame
from gis.perimeter.specs import PERIMETER_LAYERS
from gis.roads.specs import ROAD_LAYERS
from gis.settings import CHINA_BBOX

Progress = Callable[[int, int], None]  # (rows done, rows in all)

REF_COLUMNS = ("ref", "id", "编号")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")
COPY_CHUNK = 100_000
TEMP_BUFFERS = "256MB"

_SQL_TYPES = {"text": "text", "int": "bigint", "float": "double precision", "bool": "boolean", "date": "date"}
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

LAYERS: dict[str, LayerSpec] = {}


@dataclass
class ImportReport:
    """What an import did: rows written and, for households, where they fell (一户一格)."""

    layer: str
    rows: int
    placements: dict[str, int] = field(default_factory=dict)
    outside: list[str] = field(default_factory=list)  # refs of households outside every grid
    border: list[str] = field(default_factory=list)  # refs of households on a grid border

    @property
    def reported(self) -> list[str]:
        return self.outside + self.border

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "rows": self.rows, "placements": self.placements,
                "outside": self.outside, "border": self.border}


def layer_spec(layer: str | LayerSpec) -> LayerSpec:
    if isinstance(layer, LayerSpec):
        return layer
    try:
        return LAYERS[layer]
    except KeyError:
        raise NotFound("layer", layer) from None


# --- columns -------------------------------------------------------------------------------------

def _key(name: object) -> str:
    return str(name).strip().lower()


def _find_column(frame: pd.DataFrame, names: Iterable[str]) -> str | None:
    by_key = {_key(c): c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)}
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
            problems.append(Problem(target, f"{spec.name} has no field {target!r} to map "
                                            f"(fields: {', '.join(sorted(known))})"))
        elif _find_column(frame, [column]) is None:
            problems.append(Problem(target, f"column {column!r} is not in the file"))
    columns: dict[str, str] = {}
    wanted = [("ref", REF_COLUMNS)] + [(f.name, (f.name, *f.aliases)) for f in spec.fields]
    for name, candidates in wanted:
        found = _find_column(frame, [field_map[name]] if name in field_map else candidates)
        if found is not None:
            columns[name] = found
    for f in spec.fields:
        if f.required and f.name not in columns:
            names = ", ".join((f.name, *f.aliases))
            problems.append(Problem(f.name, f"required column missing (looked for {names}; "
                                            f"map another with --{f.name}-field NAME)"))
    return columns


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
        _add(problems, index, bad, f.name, lambda v: f"{v!r} is not one of {choices}", values)
        present &= ~bad
    if f.check_column is not None and present.any():
        why = pd.Series(None, index=index, dtype=object)
        why[present] = f.check_column(values[present])
        bad = why.notna()
        _add(problems, index, bad, f.name, lambda v: str(v), why)
        present &= ~bad
    elif f.check is not None and present.any():
        reasons = {v: f.check(v) for v in values[present].unique()}
        why = values.map(reasons).where(present, None)
        bad = why.notna()
        _add(problems, index, bad, f.name, lambda v: str(v), why)
        present &= ~bad
    if f.kind == "text":
        return values.where(present, None)
    if f.kind in ("int", "float"):
        number = pd.to_numeric(values.where(present), errors="coerce")
        if f.kind == "int":
            bad = present & (number.isna() | (number.mod(1) != 0))
            _add(problems, index, bad, f.name, lambda v: f"{v!r} is not a whole number", values)
            return number.where(~bad).round().astype("Int64")
        bad = present & number.isna()
        _add(problems, index, bad, f.name, lambda v: f"{v!r} is not a number", values)
        return number
    if f.kind == "bool":
        lower = values.where(present).str.lower()
        flags = lower.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
        bad = present & flags.isna()
        _add(problems, index, bad, f.name, lambda v: f"{v!r} is not yes/no (true/false, 1/0, 是/否)", values)
        return flags.astype("boolean")
    parsed = parse_date(values.where(present))
    bad = present & parsed.isna()
    _add(problems, index, bad, f.name, lambda v: f"{v!r} is not a date (YYYY-MM-DD)", values)
    return parsed


def _duplicates(values: pd.Series, field_name: str, problems: list[Problem]) -> None:
    present = values.dropna()
    dup = present[present.duplicated(keep="first")]
    first = present[~present.duplicated(keep="first")]
    first_row = pd.Series(first.index, index=first.to_numpy())
    for row, value in dup.items():
        problems.append(Problem(field_name, f"{value!r} repeats row {first_row[value]}", int(row)))


# --- geometry ------------------------------------------------------------------------------------

def _input_crs(frame: pd.DataFrame, crs: str | None) -> tuple[pd.DataFrame, InputCRS]:
    """The coordinate system of the geometries: the caller's, else the file's, else EPSG:4326.

    A projected file (e.g. a CGCS2000 Gauss-Kruger GeoPackage) is reprojected to EPSG:4326 first:
    the three input systems are all longitude/latitude.
    """
    declared = getattr(frame, "crs", None) if isinstance(frame, gpd.GeoDataFrame) else None
    if declared is not None and CRS(declared).is_projected:
        frame = frame.to_crs(4326)
        declared = CRS(4326)
    try:
        if crs is not None:
            return frame, normalise_crs_name(crs)
        if declared is not None and CRS(declared).to_epsg() == 4490:
            return frame, "EPSG:4490"
        return frame, "EPSG:4326"
    except ValueError as exc:
        raise InvalidInput.one("crs", str(exc)) from None


def _table_geometries(frame: pd.DataFrame, field_map: dict[str, str], index: pd.Index,
                      problems: list[Problem]) -> np.ndarray | None:
    """Geometries of a CSV/XLSX table: lon/lat columns (points) or a WKT column."""
    lon_col = _find_column(frame, [field_map["lon"]] if "lon" in field_map else LON_COLUMNS)
    lat_col = _find_column(frame, [field_map["lat"]] if "lat" in field_map else LAT_COLUMNS)
    if lon_col is not None and lat_col is not None:
        geoms = np.empty(len(frame), dtype=object)
        ok = np.ones(len(frame), dtype=bool)
        coords = []
        for name, col in (("lon", lon_col), ("lat", lat_col)):
            text = as_text(frame[col]).set_axis(index)
            number = pd.to_numeric(text, errors="coerce")
            _add(problems, index, text.isna(), name, lambda _: "required, but empty", text)
            bad = text.notna() & number.isna()
            _add(problems, index, bad, name, lambda v: f"{v!r} is not a number", text)
            ok &= number.notna().to_numpy()
            coords.append(number.to_numpy(dtype=float, na_value=np.nan))
        geoms[ok] = shapely.points(coords[0][ok], coords[1][ok])
        geoms[~ok] = None
        return geoms
    wkt_col = _find_column(frame, [field_map["geometry"]] if "geometry" in field_map else WKT_COLUMNS)
    if wkt_col is None:
        return None
    text = as_text(frame[wkt_col]).set_axis(index)
    geoms = shapely.from_wkt(text.to_numpy(), on_invalid="ignore")
    bad = text.notna() & pd.Series(shapely.is_missing(geoms), index=index)
    _add(problems, index, bad, "geometry", lambda v: f"not valid WKT: {str(v)[:40]!r}", text)
    return geoms


def _outside(bounds: np.ndarray, bbox: BBox) -> np.ndarray:
    minx, miny, maxx, maxy = bounds.T
    return ~((minx >= bbox[0]) & (maxx <= bbox[2]) & (miny >= bbox[1]) & (maxy <= bbox[3]))


def _geometries(spec: LayerSpec, frame: pd.DataFrame, crs: str | None, field_map: dict[str, str],
                bbox: BBox, index: pd.Index, problems: list[Problem]) -> np.ndarray:
    """Check the geometries (presence, kind, validity, region) and convert them to EPSG:4326."""
    frame, source_crs = _input_crs(frame, crs)
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.notna().any():
        geoms = frame.geometry.to_numpy()
        if shapely.has_z(geoms).any():
            geoms = shapely.force_2d(geoms)
    else:
        found = _table_geometries(frame, field_map, index, problems)
        if found is None:
            problems.append(Problem("geometry", "no geometry: give lon/lat (经度/纬度) or a WKT column"))
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


# --- the load ------------------------------------------------------------------------------------

def _staging_ddl(spec: LayerSpec) -> sql.Composed:
    columns: list[sql.Composable] = [sql.SQL("row_no integer NOT NULL"), sql.SQL("ref text")]
    columns += [sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(_SQL_TYPES[f.kind]))
                for f in spec.fields]
    if spec.geometry:
        # The typmod stamps SRID 4326 on the plain WKB the importer sends (cheaper than EWKB).
        columns.append(sql.SQL("geom geometry(Geometry, 4326)"))
    return sql.SQL("CREATE TEMP TABLE staging ({}) ON COMMIT DROP").format(sql.SQL(", ").join(columns))


def _copy_staging(conn: psycopg.Connection, spec: LayerSpec, staged: pd.DataFrame,
                  progress: Progress | None) -> None:
    """COPY the typed rows as CSV (geometry as hex WKB, which PostGIS reads as text input)."""
    names = sql.SQL(", ").join(sql.Identifier(c) for c in staged.columns)
    statement = sql.SQL("COPY staging ({}) FROM STDIN (FORMAT csv)").format(names)
    total = len(staged)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, total, COPY_CHUNK):
            chunk = staged.iloc[start:start + COPY_CHUNK]
            buffer = io.StringIO()
            chunk.to_csv(buffer, header=False, index=False, na_rep="")
            copy.write(buffer.getvalue())
            if progress is not None:
                progress(min(start + COPY_CHUNK, total), total)


def _bulk_settings(conn: psycopg.Connection) -> None:
    """Memory for a large load, for this transaction (work_mem) or this session (temp_buffers).

    ``staging`` is a temporary table: its pages live in temp_buffers (8 MB by default), so a million
    staged rows would be written out and read back. temp_buffers can only be raised before the
    session's first temporary table; after that the attempt fails harmlessly inside a savepoint.
    """
    conn.execute("SET LOCAL work_mem = '256MB'")  # the spatial sort and the placement aggregate
    if conn.execute("SHOW temp_buffers").fetchone() != (TEMP_BUFFERS,):
        try:
            with conn.transaction():
                conn.execute(sql.SQL("SET temp_buffers = {}").format(sql.Literal(TEMP_BUFFERS)))
        except psycopg.errors.InvalidParameterValue:
            pass


def _stored_duplicates(conn: psycopg.Connection, spec: LayerSpec) -> list[Problem]:
    """Refs and unique fields already stored in the layer's table."""
    columns = {r[0] for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
        "AND NOT attisdropped", [spec.table])}
    keys = [name for name in ["ref"] + [f.name for f in spec.fields if f.unique] if name in columns]
    problems: list[Problem] = []
    for name in keys:
        query = sql.SQL(
            "SELECT s.row_no, s.{col}::text FROM staging s JOIN {table} t ON t.{col} = s.{col} "
            "ORDER BY s.row_no").format(col=sql.Identifier(name), table=sql.Identifier(spec.table))
        for row_no, value in conn.execute(query):
            problems.append(Problem(name, f"{value!r} is already stored in {spec.table}", row_no))
    return problems


def load_frame(conn: psycopg.Connection, spec_or_name: str | LayerSpec, frame: pd.DataFrame, *,
               crs: str | None = None, field_map: dict[str, str] | None = None,
               region_bbox: BBox = CHINA_BBOX, progress: Progress | None = None) -> ImportReport:
    """Validate ``frame`` as layer ``spec_or_name`` and load it in one transaction, all or nothing.

    ``crs``: EPSG:4326, EPSG:4490 or gcj02 (None: as the file declares, else EPSG:4326).
    ``field_map``: field -> column name, e.g. {"ref": "osm_id", "category": "type"}.
    Raises InvalidInput with every problem found (row, field, reason); nothing is written then.
    """
    spec = layer_spec(spec_or_name)
    field_map = dict(field_map or {})
    problems: list[Problem] = []
    if len(frame) == 0:
        raise InvalidInput.one("file", "has no data rows")
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
        raise InvalidInput(sorted(problems, key=lambda p: (p.row or 0, p.field)))
    if geoms is not None:
        typed["geom"] = shapely.to_wkb(geoms, hex=True)

    report = ImportReport(layer=spec.name, rows=len(typed))
    with conn.transaction():
        _bulk_settings(conn)
        conn.execute("DROP TABLE IF EXISTS pg_temp.staging")
        conn.execute(_staging_ddl(spec))
        _copy_staging(conn, spec, typed, progress)
        if spec.geometry is not None:
            # Built once, sorted, after the load: lets spatial joins probe the staged rows by area
            # (2,000 grids x a GiST scan each instead of 1M point lookups in the grid index).
            conn.execute("CREATE INDEX staging_geom_idx ON staging USING gist (geom)")
        conn.execute("ANALYZE staging")  # temp tables are never auto-analysed; the joins need counts
        problems = _stored_duplicates(conn, spec)
        if spec.check_sql:
            problems += [Problem(fld, reason, row_no) for row_no, fld, reason in conn.execute(spec.check_sql)]
        if problems:
            raise InvalidInput(sorted(problems, key=lambda p: (p.row or 0, p.field)))
        cur = conn.execute(spec.insert_sql)
        if spec.reports_placement:
            for placement, count, refs in cur.fetchall():
                report.placements[placement] = count
                if placement in ("outside", "border"):
                    getattr(report, placement).extend(refs or [])
        if spec.after_sql:
            conn.execute(spec.after_sql)
        conn.execute("DROP TABLE staging")
    return report


def import_file(conn: psycopg.Connection, layer: str | LayerSpec, path: str | Path, **options: Any
                ) -> ImportReport:
    """read_frame + load_frame: import one file into a layer."""
    spec = layer_spec(layer)
    return load_frame(conn, spec, read_frame(path), **options)


# --- the register layers (一档一册) ------------------------------------------------------------------

def _upper(value: str) -> str:
    return value.strip().upper()


def _vocabulary(mapping: dict[str, str]) -> Callable[[str], str]:
    """A normaliser that maps synonyms (Chinese, upper case) to the stored code."""
    lowered = {k.lower(): v for k, v in mapping.items()}

    def normalise(value: str) -> str:
        return lowered.get(value.strip().lower(), value.strip())

    return normalise


_PHONE = re.compile(r"^[0-9+\-]{5,20}$")


def phone_problem(value: str) -> str | None:
    return None if _PHONE.match(value) else "must be 5-20 digits (+ and - allowed)"


def positive_problem(value: str) -> str | None:
    number = pd.to_numeric(value, errors="coerce")
    return "must be a positive whole number" if pd.isna(number) or number <= 0 or number % 1 else None


_GRID_LIST_SPLIT = re.compile(r"[;；,，、\s]+")


def _grid_list(value: str) -> str:
    return ";".join(c for c in _GRID_LIST_SPLIT.split(value.strip()) if c)


def grid_list_problem(value: str) -> str | None:
    for code in value.split(";"):
        if (problem := grid_code_problem(code)) is not None:
            return f"grid {code} {problem}"
    return None


def _id_number_rules(typed: pd.DataFrame) -> list[Problem]:
    """Birth date and sex are written in the ID number: derive them when absent, refuse a mismatch."""
    problems: list[Problem] = []
    ids = typed["id_number"]
    known = ids.notna()
    known[known] = id_number_problems(ids[known]).isna()
    if not known.any():
        return problems
    born, sex = birth_dates_and_sexes(ids[known].astype(str))
    for name, derived in (("birth_date", born), ("sex", sex)):
        given = typed.loc[known, name]
        clash = given.notna() & (given != derived)
        for row in given.index[clash.to_numpy()]:
            problems.append(Problem(name, f"{given.at[row]} disagrees with the ID number, which says "
                                          f"{derived.at[row]}", int(row)))
        column = typed[name].astype(object)
        column[known & column.isna()] = derived
        typed[name] = column
    return problems


# Export filters: NULL community/grid = everything.
_FILTER_GRID = "(%(community)s::text IS NULL OR left({col}, 12) = %(community)s) " \
               "AND (%(grid)s::text IS NULL OR {col} = %(grid)s)"

COMMUNITIES = LayerSpec(
    name="communities", table="community", geometry="polygon",
    description="Communities (社区): 12-digit code, name, street, boundary",
    fields=(
        Field("code", required=True, unique=True, check=community_code_problem,
              aliases=("社区编码", "社区代码", "编码", "代码")),
        Field("name", required=True, aliases=("社区名称", "名称", "社区")),
        Field("street_name", aliases=("street", "街道", "街道名称")),
    ),
    insert_sql="INSERT INTO community (code, name, street_name, ref, geom) "
               "SELECT code, name, street_name, ref, ST_Multi(geom) FROM staging ORDER BY row_no",
    export_sql="SELECT ref, code, name, street_name, geom FROM community "
               "WHERE (%(community)s::text IS NULL OR code = %(community)s) "
               "AND (%(grid)s::text IS NULL OR code = left(%(grid)s, 12)) ORDER BY code",
)

# After grids change, every household (and building) is placed again; only changed rows are written.
# The GiST index is rebuilt first: built sorted (PostgreSQL 15), its leaf pages do not overlap, and a
# point lookup reads 3 pages instead of 6 - placing 100k points took 1.4 s instead of 4 s.
_REASSIGN = """
SELECT grid_geom_reindex();  -- REINDEX is the owner's; the service role runs it through this function
UPDATE household h SET grid_code = p.grid_code, placement = p.placement
FROM (SELECT x.id, g.grid_code, g.placement
      FROM household x CROSS JOIN LATERAL grid_for_point(x.geom) g) p
WHERE p.id = h.id
  AND (h.grid_code IS DISTINCT FROM p.grid_code OR h.placement IS DISTINCT FROM p.placement);
UPDATE building b SET grid_code = p.grid_code
FROM (SELECT x.id, g.grid_code
      FROM building x CROSS JOIN LATERAL grid_for_point(ST_PointOnSurface(x.geom)) g) p
WHERE p.id = b.id AND b.grid_code IS DISTINCT FROM p.grid_code
"""

GRIDS = LayerSpec(
    name="grids", table="grid", geometry="polygon",
    description="Grids (网格): 15-digit code, name, community, boundary",
    fields=(
        Field("code", required=True, unique=True, check=grid_code_problem,
              aliases=("网格编码", "网格代码", "编码", "代码")),
        Field("name", required=True, aliases=("网格名称", "名称", "网格")),
        Field("community_code", check=community_code_problem, aliases=("社区编码", "社区代码")),
    ),
    check_sql="""
        SELECT row_no, 'community_code', 'must be the first 12 digits of the grid code ' || code
        FROM staging WHERE community_code IS NOT NULL AND community_code <> left(code, 12)
        UNION ALL
        SELECT s.row_no, 'community_code',
               'community ' || coalesce(s.community_code, left(s.code, 12)) || ' does not exist'
        FROM staging s LEFT JOIN community c ON c.code = coalesce(s.community_code, left(s.code, 12))
        WHERE c.code IS NULL
        ORDER BY 1""",
    insert_sql="INSERT INTO grid (code, community_code, name, ref, geom) "
               "SELECT code, coalesce(community_code, left(code, 12)), name, ref, ST_Multi(geom) "
               "FROM staging ORDER BY row_no",
    after_sql=_REASSIGN,
    export_sql="SELECT ref, code, name, community_code, geom FROM grid WHERE "
               + _FILTER_GRID.format(col="code") + " ORDER BY code",
)

GRID_WORKERS = LayerSpec(
    name="grid_workers", table="grid_worker", geometry=None,
    description="Grid workers (网格员) and the grids they serve (';'-separated codes)",
    fields=(
        Field("name", required=True, aliases=("姓名", "网格员")),
        Field("phone", check=phone_problem, aliases=("电话", "手机", "联系电话")),
        Field("grid_codes", required=True, normalise=_grid_list, check=grid_list_problem,
              aliases=("grid_code", "grids", "网格编码", "负责网格")),
    ),
    check_sql="""
        SELECT s.row_no, 'grid_codes', 'grid ' || c.code || ' does not exist'
        FROM staging s CROSS JOIN LATERAL unnest(string_to_array(s.grid_codes, ';')) AS c(code)
        WHERE NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = c.code)
        ORDER BY 1""",
    # Identities are drawn first so that the links can be written in the same statement.
    insert_sql="""
        WITH s AS (SELECT s.*, nextval(pg_get_serial_sequence('grid_worker', 'id')) AS id FROM staging s),
        w AS (INSERT INTO grid_worker (id, name, phone, ref) OVERRIDING SYSTEM VALUE
              SELECT id, name, phone, ref FROM s ORDER BY row_no)
        INSERT INTO grid_worker_grid (worker_id, grid_code)
        SELECT DISTINCT s.id, c.code
        FROM s CROSS JOIN LATERAL unnest(string_to_array(s.grid_codes, ';')) c(code)
        """,
    export_sql="""
        SELECT w.ref, w.name, w.phone, string_agg(l.grid_code, ';' ORDER BY l.grid_code) AS grid_codes
        FROM grid_worker w JOIN grid_worker_grid l ON l.worker_id = w.id
        WHERE w.id IN (SELECT worker_id FROM grid_worker_grid WHERE """
               + _FILTER_GRID.format(col="grid_code") + """)
        GROUP BY w.id ORDER BY w.ref, w.id""",
)

BUILDINGS = LayerSpec(
    name="buildings", table="building", geometry="any",
    description="Buildings (楼栋): footprint polygon or a point",
    fields=(
        Field("name", required=True, aliases=("楼栋", "名称", "楼栋名称")),
        Field("floors", kind="int", check=positive_problem, aliases=("层数",)),
    ),
    insert_sql="""
        INSERT INTO building (ref, name, floors, grid_code, geom)
        SELECT s.ref, s.name, s.floors, p.grid_code, s.geom
        FROM staging s CROSS JOIN LATERAL grid_for_point(ST_PointOnSurface(s.geom)) p ORDER BY s.row_no""",
    export_sql="SELECT ref, name, floors, grid_code, geom FROM building WHERE "
               + _FILTER_GRID.format(col="grid_code") + " ORDER BY ref, id",
)

HOUSEHOLDS = LayerSpec(
    name="households", table="household", geometry="point",
    description="Households (住户): address, building, unit, room and location; placed in a grid",
    fields=(
        Field("address", required=True, aliases=("地址", "住址")),
        Field("building", aliases=("楼栋", "楼号")),
        Field("unit", aliases=("单元",)),
        Field("room", aliases=("房号", "门牌号", "室")),
    ),
    reports_placement=True,
    # Placement is set-based inside the same statement and gives the answers of grid_for_point()
    # (tests/importing/test_register.py compares them), but joins the other way round: each grid
    # scans the staging GiST index for its points, instead of one grid-index lookup per household.
    # At 1M households x 2,000 grids this is the difference between b/a = 3.5 and ~2 (see
    # tests/bench_import.py). The report is read from staging, not from RETURNING: materialising a
    # million returned rows cost more than reading the staged ones again (measured, as was
    # dropping an ORDER BY geometry that did not make the index inserts cheaper).
    insert_sql="""
        WITH placed AS (
            SELECT s.row_no, min(g.code) AS grid_code,
                   CASE WHEN count(*) > 1 OR bool_or(NOT ST_Contains(g.geom, s.geom))
                        THEN 'border'::grid_placement ELSE 'inside'::grid_placement END AS placement
            FROM grid g JOIN staging s ON ST_Intersects(g.geom, s.geom)
            GROUP BY s.row_no),
        ins AS (
            INSERT INTO household (ref, address, building, unit, room, grid_code, placement, geom)
            SELECT s.ref, s.address, s.building, s.unit, s.room, p.grid_code,
                   coalesce(p.placement, 'outside'), s.geom
            FROM staging s LEFT JOIN placed p ON p.row_no = s.row_no)
        SELECT r.placement::text, count(*),
               array_agg(coalesce(r.ref, 'row ' || r.row_no) ORDER BY r.ref, r.row_no)
                   FILTER (WHERE r.placement <> 'inside')
        FROM (SELECT s.ref, s.row_no, coalesce(p.placement, 'outside') AS placement
              FROM staging s LEFT JOIN placed p ON p.row_no = s.row_no) r
        GROUP BY r.placement ORDER BY r.placement""",
    export_sql="SELECT ref, address, building, unit, room, grid_code, placement::text AS placement, geom "
               "FROM household WHERE " + _FILTER_GRID.format(col="grid_code") + " ORDER BY ref, id",
)

_SEX = {"男": "M", "女": "F", "male": "M", "female": "F", "m": "M", "f": "F"}
_RELATION = {"户主": "head", "本人": "head", "配偶": "spouse", "妻": "spouse", "夫": "spouse",
             "子女": "child", "子": "child", "女": "child", "儿子": "child", "女儿": "child",
             "父母": "parent", "父亲": "parent", "母亲": "parent", "孙子女": "grandchild",
             "孙子": "grandchild", "孙女": "grandchild", "兄弟姐妹": "sibling", "其他": "other"}
_RESIDENCE = {"户籍": "registered", "户籍人口": "registered", "常住": "registered",
              "流动": "floating", "流动人口": "floating"}
_EMPLOYMENT = {"在业": "employed", "就业": "employed", "在职": "employed", "失业": "unemployed",
               "无业": "unemployed", "退休": "retired", "离退休": "retired", "学生": "student",
               "在校": "student", "学龄前": "preschool", "其他": "other"}

PERSONS = LayerSpec(
    name="persons", table="person", geometry=None,
    description="Persons (人口) of a household, with the tags of 四清四掌握",
    fields=(
        Field("household_ref", required=True, aliases=("household", "户编号", "住户编号")),
        Field("name", required=True, aliases=("姓名",)),
        Field("id_number", unique=True, normalise=_upper, check_column=id_number_problems,
              aliases=("身份证号", "身份证号码", "公民身份号码")),
        Field("phone", check=phone_problem, aliases=("电话", "手机", "联系电话")),
        Field("sex", choices=("M", "F"), normalise=_vocabulary(_SEX), aliases=("性别",)),
        Field("birth_date", kind="date", aliases=("出生日期", "生日")),
        Field("relation", choices=("head", "spouse", "child", "parent", "grandchild", "sibling", "other"),
              normalise=_vocabulary(_RELATION), aliases=("与户主关系", "关系")),
        Field("residence", choices=("registered", "floating"), normalise=_vocabulary(_RESIDENCE),
              aliases=("户籍类型", "人口类型")),
        Field("employment", choices=("employed", "unemployed", "retired", "student", "preschool", "other"),
              normalise=_vocabulary(_EMPLOYMENT), aliases=("就业状况", "就业")),
        Field("poverty", aliases=("困难类型", "贫困类型", "低保")),
        Field("key_person", aliases=("重点人员类别", "重点人员")),
        Field("elderly_alone", kind="bool", aliases=("独居老人", "空巢独居")),
        Field("disabled", kind="bool", aliases=("残疾", "残疾人")),
        Field("activist", kind="bool", aliases=("积极分子",)),
        Field("volunteer", kind="bool", aliases=("志愿者",)),
    ),
    prepare=_id_number_rules,
    # Vocabularies are data: a code or its Chinese name is accepted.
    check_sql="""
        SELECT s.row_no, 'household_ref', 'household ' || s.household_ref || ' is not stored'
        FROM staging s WHERE NOT EXISTS (SELECT 1 FROM household h WHERE h.ref = s.household_ref)
        UNION ALL
        SELECT s.row_no, 'poverty', s.poverty || ' is not a poverty status (' ||
               (SELECT string_agg(code || '/' || name_zh, ', ' ORDER BY code) FROM poverty_status) || ')'
        FROM staging s WHERE s.poverty IS NOT NULL AND NOT EXISTS
              (SELECT 1 FROM poverty_status v WHERE s.poverty IN (v.code, v.name_zh, v.name_en))
        UNION ALL
        SELECT s.row_no, 'key_person', s.key_person || ' is not a key-person category (' ||
               (SELECT string_agg(code || '/' || name_zh, ', ' ORDER BY code) FROM key_person_category) || ')'
        FROM staging s WHERE s.key_person IS NOT NULL AND NOT EXISTS
              (SELECT 1 FROM key_person_category v WHERE s.key_person IN (v.code, v.name_zh, v.name_en))
        ORDER BY 1""",
    insert_sql="""
        WITH s AS (SELECT s.*, nextval(pg_get_serial_sequence('person', 'id')) AS id FROM staging s),
        p AS (INSERT INTO person (id, ref, household_id, name, id_number, phone, sex, birth_date,
                                  relation, residence, employment, poverty,
                                  elderly_alone, disabled, activist, volunteer)
              OVERRIDING SYSTEM VALUE
              SELECT s.id, s.ref, h.id, s.name, s.id_number, s.phone, s.sex, s.birth_date,
                     coalesce(s.relation, 'other'), coalesce(s.residence, 'registered'), s.employment,
                     (SELECT v.code FROM poverty_status v WHERE s.poverty IN (v.code, v.name_zh, v.name_en)),
                     coalesce(s.elderly_alone, false), coalesce(s.disabled, false),
                     coalesce(s.activist, false), coalesce(s.volunteer, false)
              FROM s JOIN household h ON h.ref = s.household_ref ORDER BY s.row_no)
        INSERT INTO key_person (person_id, category)
        SELECT s.id, v.code
        FROM s JOIN key_person_category v ON s.key_person IN (v.code, v.name_zh, v.name_en)
        """,
    export_sql="""
        SELECT p.ref, h.ref AS household_ref, p.name, p.id_number, p.phone, p.sex, p.birth_date,
               p.relation, p.residence, p.employment, p.poverty, k.category AS key_person,
               p.elderly_alone, p.disabled, p.activist, p.volunteer
        FROM person p JOIN household h ON h.id = p.household_id
        LEFT JOIN key_person k ON k.person_id = p.id
        WHERE """ + _FILTER_GRID.format(col="h.grid_code") + " ORDER BY p.ref, p.id",
)

LAYERS.update({s.name: s for s in (COMMUNITIES, GRIDS, GRID_WORKERS, BUILDINGS, HOUSEHOLDS, PERSONS)})
# The layers of the other capabilities (school perimeter, road sections) are declared beside them.
LAYERS.update(PERIMETER_LAYERS)
LAYERS.update(ROAD_LAYERS)

from gis.roads.specs import ROAD_LAYERS  # noqa: E402 - road centrelines and responsible units

LAYERS.update(ROAD_LAYERS)

from gis.perimeter.specs import PERIMETER_LAYERS  # noqa: E402 - schools, places, licences

LAYERS.update(PERIMETER_LAYERS)
