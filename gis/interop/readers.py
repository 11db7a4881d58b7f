"""Reading import files into frames: GeoJSON, GeoPackage, zipped Shapefile, CSV and XLSX.

Spatial formats come back as GeoDataFrames (pyogrio/GDAL); tables (CSV, XLSX) as DataFrames of
text, their coordinates still in lon/lat or WKT columns for the importer to find.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import InvalidInput

SPATIAL_SUFFIXES = {".geojson", ".json", ".gpkg", ".zip", ".shp"}
TABLE_SUFFIXES = {".csv", ".xlsx"}
SUFFIXES = SPATIAL_SUFFIXES | TABLE_SUFFIXES

# Chinese spreadsheets saved by Excel or WPS are GBK; GB18030 is its superset, so it decodes both.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def _broken(path: Path, what: str) -> InvalidInput:
    return InvalidInput.one("file", f"{path.name}: {what}")


def decode_text(path: Path, data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without a BOM), else GBK/GB18030."""
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _broken(path, "text is neither UTF-8 nor GBK/GB18030 encoded")


def _read_csv(path: Path) -> pd.DataFrame:
    text = decode_text(path, path.read_bytes())
    try:
        # Everything as text: the importer types each field itself and reports bad values by row.
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _broken(path, f"not a readable CSV table ({str(exc).strip()})") from None


def _read_xlsx(path: Path) -> pd.DataFrame:
    try:
        return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zip, XML, key and value errors alike
        raise _broken(path, f"not a readable XLSX workbook ({type(exc).__name__})") from None


def _spatial_source(path: Path) -> str:
    if path.suffix.lower() != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            shapefiles = [n for n in archive.namelist() if n.lower().endswith(".shp")]
    except zipfile.BadZipFile:
        raise _broken(path, "not a readable ZIP archive") from None
    if not shapefiles:
        raise _broken(path, "the ZIP archive holds no .shp file")
    # GDAL's Shapefile driver reads the .cpg beside the .shp and recodes the attributes to UTF-8.
    return f"/vsizip/{path}/{shapefiles[0]}"


def _read_spatial(path: Path) -> gpd.GeoDataFrame:
    source = _spatial_source(path)
    try:
        frame = pyogrio.read_dataframe(source)
    except Exception as exc:  # noqa: BLE001 - GDAL reports truncated or foreign files in many ways
        message = str(exc).replace(str(path), path.name).strip()
        raise _broken(path, f"not a readable {path.suffix.lstrip('.')} file ({message})") from None
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame)
    return frame


def read_frame(path: str | Path) -> pd.DataFrame | gpd.GeoDataFrame:
    """Read an import file by its extension. Broken or unknown files raise InvalidInput."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _broken(path, f"unknown format {suffix or '(none)'}: use {', '.join(sorted(SUFFIXES))}")
    if not path.is_file():
        raise _broken(path, "no such file")
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".xlsx":
        return _read_xlsx(path)
    return _read_spatial(path)
