"""Reading import files into frames: GeoJSON, GeoPackage, zipped Shapefile, CSV and XLSX.

Spatial formats come back as GeoDataFrames (pyogrio/GDAL); tables (CSV, XLSX) as DataFrames of
text, their coordinates still in lon/lat or WKT columns for the importer to find. Tables never
reach GDAL. A spatial file reaches it only once its content agrees with its extension
(filecheck.py), with that format's driver alone, and with GDAL's network and cross-file reach off:
an upload is the user's data, never a pointer to the server's files or to a URL.
"""

from __future__ import annotations

import io
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import InvalidInput
from gis.interop import filecheck
from gis.interop.shown import shown
from gis.spreadsheet import unquoted

SPATIAL_SUFFIXES = {".geojson", ".json", ".gpkg", ".zip", ".shp"}
TABLE_SUFFIXES = {".csv", ".xlsx"}
SUFFIXES = SPATIAL_SUFFIXES | TABLE_SUFFIXES

# Chinese spreadsheets saved by Excel or WPS are GBK; GB18030 is its superset, so it decodes both.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def _broken(path: Path, what: str) -> InvalidInput:
    return filecheck.refuse(path, what)


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
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _broken(path, f"not a readable CSV table ({shown(str(exc).strip(), 120)})") from None
    return _unquoted(frame)


def _read_xlsx(path: Path) -> pd.DataFrame:
    filecheck.check_xlsx(path)  # bounded: the work a workbook asks for stays in proportion to its size
    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zip, XML, key and value errors alike
        raise _broken(path, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    return _unquoted(frame)


def _unquoted(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells without the apostrophe our exports put before a formula-like text (gis/spreadsheet.py)."""
    for column in frame.columns:
        values = frame[column]
        if values.map(lambda v: isinstance(v, str) and v[:1] == "'").any():
            frame[column] = values.map(lambda v: unquoted(v) if isinstance(v, str) else v)
    return frame


# GDAL, while it reads an upload: no network (no /vsicurl/, no HTTP driver fetches: every request
# goes to a proxy that does not exist), no remote resource pointing at local files, no SQLite
# virtual tables reaching other datasets, no VRT Python or raw bands.
_NO_REACH = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/nonexistent/gridmap-imports-use-no-network",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".gridmap-no-network",
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTPS_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "OGR_SQLITE_LOAD_EXTENSIONS": None,
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "GDAL_VRT_ENABLE_RAWRASTERBAND": "NO",
}
_gdal_lock = threading.Lock()


@contextmanager
def _gdal_confined() -> Iterator[None]:
    """GDAL's configuration is process-wide: set for the read and restored after, one read at a time."""
    with _gdal_lock:
        before = {name: pyogrio.get_gdal_config_option(name) for name in _NO_REACH}
        pyogrio.set_gdal_config_options(_NO_REACH)
        try:
            yield
        finally:
            pyogrio.set_gdal_config_options(before)


def _gdal_source(path: Path, suffix: str, scratch: Path) -> str:
    """What GDAL opens, its driver named or its content checked to be the only one that fits:
    ``GeoJSON:`` and ``GPKG:`` select that driver alone; a Shapefile is opened only after its
    header says Shapefile (and a zipped one is extracted by us, never through /vsizip/)."""
    if suffix in (".geojson", ".json"):
        filecheck.check_geojson(path)
        return f"GeoJSON:{path}"
    if suffix == ".gpkg":
        filecheck.check_gpkg(path)
        return f"GPKG:{path}"
    if suffix == ".zip":
        return str(filecheck.extract_shapefile(path, scratch))
    filecheck.check_shp(path)
    return str(path)


def _read_spatial(path: Path, suffix: str) -> gpd.GeoDataFrame:
    with tempfile.TemporaryDirectory(prefix="gridmap-read-") as scratch:
        source = _gdal_source(path, suffix, Path(scratch))
        try:
            with _gdal_confined():
                frame = pyogrio.read_dataframe(source)
        except Exception as exc:  # noqa: BLE001 - GDAL reports truncated or foreign files in many ways
            message = str(exc).replace(str(path), path.name).replace(scratch, "").strip()
            raise _broken(path, f"not a readable {suffix.lstrip('.')} file ({shown(message, 120)})") from None
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame)
    return frame


def read_frame(path: str | Path) -> pd.DataFrame | gpd.GeoDataFrame:
    """Read an import file by its extension, once its content agrees. Broken, foreign or unknown
    files raise InvalidInput."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _broken(path, f"unknown format {suffix or '(none)'}: use {', '.join(sorted(SUFFIXES))}")
    if str(path).startswith("/vsi") or "://" in str(path) or not path.is_file():
        raise _broken(path, "no such file")  # a plain local file only: no GDAL virtual file systems
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".xlsx":
        return _read_xlsx(path)
    return _read_spatial(path, suffix)
