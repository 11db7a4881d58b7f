"""Exporting layers to GeoJSON, GeoPackage, zipped Shapefile, CSV or XLSX, personal fields masked.

The layer's ``export_sql`` selects the rows (filtered by community or grid); the file format
follows the extension. CSV/XLSX carry lon/lat for points and WKT otherwise, so that every export
can be imported again (the round trip is tested). Everything here takes a LayerSpec; finding a
layer by its name is gis/catalog.py's job.
"""

from __future__ import annotations

import tempfile
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyogrio
import shapely

from gis.codes import mask_id_number, mask_phone
from gis.crs import from_wgs84, output_crs
from gis.errors import InvalidInput
from gis.interop.layerspec import LayerSpec
from gis.spreadsheet import frame_csv_text, frame_xlsx_bytes

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".zip": "ESRI Shapefile",
           ".csv": "CSV", ".xlsx": "XLSX"}
# Personal fields (个人信息) and how they are masked unless the export is explicitly unmasked.
MASKS = {"id_number": mask_id_number, "phone": mask_phone}
# CSV text encodings: UTF-8 (written with a BOM) or GBK (国标扩展, what Chinese Excel/WPS save).
CSV_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gbk", "cp936": "gbk"}


def layer_frame(conn: psycopg.Connection, spec: LayerSpec, *, crs: str = "EPSG:4326",
                community: str | None = None, grid: str | None = None, unmasked: bool = False
                ) -> pd.DataFrame | gpd.GeoDataFrame:
    """The layer's rows as a frame in the output CRS, personal fields masked unless ``unmasked``."""
    if spec.export_sql is None:
        raise InvalidInput.one("layer", f"{spec.name} cannot be exported")
    cur = conn.execute(spec.export_sql, {"community": community, "grid": grid})
    names = [d.name for d in cur.description or []]
    frame = pd.DataFrame(cur.fetchall(), columns=names, dtype=object)
    for name, mask in MASKS.items():
        if name in frame and not unmasked:
            frame[name] = frame[name].map(mask)
    for name in frame.columns:
        # Dates as ISO text: every format (and the importer) reads them alike.
        if frame[name].map(lambda v: hasattr(v, "isoformat")).any():
            frame[name] = frame[name].map(lambda v: v.isoformat() if v is not None else None)
    frame = frame.infer_objects()  # booleans and numbers keep their type in GeoJSON/GPKG
    if "geom" not in frame:
        return frame
    geoms = shapely.from_wkb(frame.pop("geom").to_numpy())  # PostGIS sends hex EWKB as text
    try:
        target = output_crs(crs, _central_lon(geoms))
    except ValueError as exc:
        raise InvalidInput.one("crs", str(exc)) from None
    if target != "EPSG:4326" and len(geoms):
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], target)))
    # GCJ-02 has no EPSG code: the frame says no CRS rather than a wrong one.
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=None if target == "gcj02" else target)


def _central_lon(geoms: np.ndarray) -> float | None:
    """The middle of the data's longitudes, which picks its Gauss-Krüger zone (None: no data)."""
    present = geoms[~shapely.is_missing(geoms)] if len(geoms) else geoms
    if not len(present):
        return None
    minx, _, maxx, _ = shapely.total_bounds(present)
    return float((minx + maxx) / 2)


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    """A plain table for CSV/XLSX: lon/lat columns for points, a WKT column otherwise."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return frame
    geoms = frame.geometry.to_numpy()
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all():
        table["lon"], table["lat"] = shapely.get_x(geoms), shapely.get_y(geoms)
    else:
        table["wkt"] = shapely.to_wkt(geoms, rounding_precision=-1)
    return table


def _write_shapefile(frame: gpd.GeoDataFrame, name: str, path: Path) -> None:
    """A zipped Shapefile with a .cpg saying UTF-8, so that GIS tools decode Chinese names."""
    with tempfile.TemporaryDirectory() as tmp:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "'crs' was not provided")  # GCJ-02: no EPSG code
            warnings.filterwarnings("ignore", "Normalized/laundered field name")  # dBASE: 10 characters
            pyogrio.write_dataframe(frame, Path(tmp) / f"{name}.shp", driver="ESRI Shapefile",
                                    encoding="UTF-8")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)


def _csv_bytes(table: pd.DataFrame, encoding: str) -> bytes:
    """CSV text in UTF-8 with a BOM (Excel then shows Chinese text correctly) or in GBK, which older
    Chinese Excel/WPS installations and government systems expect. No cell runs as a formula."""
    text = frame_csv_text(table)
    if encoding == "gbk":
        try:
            return text.encode("gbk")
        except UnicodeEncodeError as exc:
            raise InvalidInput.one("encoding", f"{text[exc.start:exc.end]!r} has no GBK code: "
                                               "export as UTF-8") from None
    return text.encode("utf-8-sig")


def _encoding(name: str | None) -> str:
    key = (name or "utf-8").strip().lower().replace("_", "-")
    if key in CSV_ENCODINGS:
        return CSV_ENCODINGS[key]
    raise InvalidInput.one("encoding", f"unknown encoding {name!r}: use utf-8 or gbk")


def file_format(path: str | Path, encoding: str = "utf-8") -> tuple[str, str]:
    """The driver the extension of ``path`` names and the CSV text encoding; InvalidInput if either is
    unknown, or if a non-UTF-8 encoding is asked of a format other than CSV."""
    suffix = Path(path).suffix
    driver = FORMATS.get(suffix.lower())
    if driver is None:
        raise InvalidInput.one("format", f"unknown format {suffix or '(none)'}: use "
                                         f"{', '.join(sorted(FORMATS))}")
    text_encoding = _encoding(encoding)
    if text_encoding != "utf-8" and driver != "CSV":
        raise InvalidInput.one("encoding", f"{text_encoding} is for CSV only: {driver} is always UTF-8")
    return driver, text_encoding


def export_layer(conn: psycopg.Connection, spec: LayerSpec, path: str | Path, *, crs: str = "EPSG:4326",
                 community: str | None = None, grid: str | None = None, unmasked: bool = False,
                 encoding: str = "utf-8") -> int:
    """Write layer ``spec`` to ``path`` in the format its extension names. Returns the number of rows.

    ``encoding`` (utf-8 or gbk) applies to CSV; the other formats are always UTF-8."""
    path = Path(path)
    driver, text_encoding = file_format(path, encoding)
    frame = layer_frame(conn, spec, crs=crs, community=community, grid=grid, unmasked=unmasked)
    spatial = isinstance(frame, gpd.GeoDataFrame)
    if driver == "CSV":
        path.write_bytes(_csv_bytes(_table(frame), text_encoding))
    elif driver == "XLSX":
        path.write_bytes(frame_xlsx_bytes(_table(frame), spec.name))
    elif driver == "ESRI Shapefile":
        if not spatial:
            raise InvalidInput.one("format", f"{spec.name} has no geometry: use CSV, XLSX, GeoJSON or GPKG")
        kinds = set(frame.geometry.geom_type.dropna().str.removeprefix("Multi"))
        if len(kinds) > 1:
            raise InvalidInput.one("format", f"a Shapefile holds one geometry type, {spec.name} has "
                                             f"{', '.join(sorted(kinds))}: use GeoPackage or GeoJSON")
        _write_shapefile(frame, spec.name, path)
    else:
        path.unlink(missing_ok=True)
        with warnings.catch_warnings():
            # GCJ-02 has no EPSG code: writing it without a CRS is the honest choice, not a mistake.
            warnings.filterwarnings("ignore", "'crs' was not provided")
            pyogrio.write_dataframe(frame, path, layer=spec.name, driver=driver)
    return len(frame)
