"""Reading import files into frames: GeoJSON, GeoPackage, zipped Shapefile, CSV and XLSX.

Spatial formats come back as GeoDataFrames (pyogrio/GDAL); tables (CSV, XLSX) as DataFrames of
text, their coordinates still in lon/lat or WKT columns for the importer to find. Tables never
reach GDAL. A spatial file reaches it only once its content agrees with its extension
(filecheck.py), with that format's driver alone, and with GDAL's network and cross-file reach off:
an upload is the user's data, never a pointer to the server's files or to a URL.
"""

from __future__ import annotations

import codecs
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import InvalidInput
from gis.interop import dbf, filecheck
from gis.interop.shown import shown
from gis.interop.tables import HeaderRows, known_keys, parse_header_row, read_csv_text, read_xlsx
from gis.spreadsheet import unquoted

SPATIAL_SUFFIXES = {".geojson", ".json", ".gpkg", ".zip", ".shp"}
TABLE_SUFFIXES = {".csv", ".xlsx"}
SUFFIXES = SPATIAL_SUFFIXES | TABLE_SUFFIXES

# Chinese spreadsheets saved by Excel or WPS are GBK; GB18030 is its superset, so it decodes both.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def _broken(path: Path, what: str) -> InvalidInput:
    return filecheck.refuse(path, what)


# Encoding names as GDAL's iconv spells them, for the ones Python spells differently.
_GDAL_ENCODINGS = {"gbk": "CP936", "gb2312": "CP936", "gb18030": "GB18030", "utf-8": "UTF-8",
                   "big5": "BIG5", "latin-1": "ISO-8859-1", "iso8859-1": "ISO-8859-1"}


def text_encoding(name: str | None) -> str | None:
    """``--encoding`` as Python's codec name (gbk, gb18030, utf-8, ...); InvalidInput if unknown."""
    if name is None or not name.strip():
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        raise InvalidInput.one("encoding", f"unknown encoding {shown(name)}: e.g. utf-8, gbk, gb18030"
                               ) from None


def decode_text(path: Path, data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of a CSV file and its encoding: the one given, else UTF-8 (with or without a BOM),
    else GBK/GB18030."""
    if encoding is not None:
        try:
            return data.decode("utf-8-sig" if encoding == "utf-8" else encoding), encoding
        except UnicodeDecodeError as exc:
            raise InvalidInput.one("encoding", f"{path.name} is not {encoding} text (byte "
                                               f"{data[exc.start]:#04x} at offset {exc.start})") from None
    for candidate in CSV_ENCODINGS:
        try:
            return data.decode(candidate), candidate.removesuffix("-sig")
        except UnicodeDecodeError:
            continue
    raise _broken(path, "text is neither UTF-8 nor GBK/GB18030 encoded (name it with --encoding)")


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


def _dbf_encoding(shp: Path, encoding: str | None) -> str | None:
    """The encoding GDAL is told for a Shapefile's text: the one given, else (no .cpg beside it) the
    one its .dbf's bytes show; None: the .cpg (or GDAL's default) decides."""
    if encoding is not None:
        return _GDAL_ENCODINGS.get(encoding, encoding.upper())
    parts = {p.suffix.lower(): p for p in shp.parent.glob(f"{shp.stem}.*")}
    if ".cpg" in parts:
        return None
    return dbf.sniff_encoding(parts[".dbf"]) if ".dbf" in parts else None


def _read_spatial(path: Path, suffix: str, encoding: str | None) -> gpd.GeoDataFrame:
    with tempfile.TemporaryDirectory(prefix="gridmap-read-") as scratch:
        source = _gdal_source(path, suffix, Path(scratch))
        options = {}
        if suffix in (".zip", ".shp") and (text := _dbf_encoding(Path(source), encoding)) is not None:
            options["encoding"] = text
        try:
            with _gdal_confined():
                frame = pyogrio.read_dataframe(source, **options)
        except Exception as exc:  # noqa: BLE001 - GDAL reports truncated or foreign files in many ways
            message = str(exc).replace(str(path), path.name).replace(scratch, "").strip()
            raise _broken(path, f"not a readable {suffix.lstrip('.')} file ({shown(message, 120)})") from None
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame)
    if "encoding" in options:
        frame.attrs["read_as"] = f"text encoding {options['encoding']}"
    return frame


def _refuse_options(suffix: str, encoding: str | None, sheet: str | None, header: HeaderRows | None) -> None:
    """Options that do nothing for this format are named, not ignored."""
    if encoding is not None and suffix not in (".csv", ".zip", ".shp"):
        raise InvalidInput.one("encoding", f"is for CSV and Shapefile files: {suffix} is always UTF-8")
    if sheet is not None and str(sheet).strip() and suffix != ".xlsx":
        raise InvalidInput.one("sheet", f"is for XLSX workbooks, not {suffix}")
    if header is not None and suffix not in TABLE_SUFFIXES:
        raise InvalidInput.one("header_row", f"is for CSV and XLSX tables, not {suffix}")


def read_frame(path: str | Path, *, encoding: str | None = None, sheet: str | None = None,
               header_row: str | int | None = None, header_names: Iterable[str] = ()
               ) -> pd.DataFrame | gpd.GeoDataFrame:
    """Read an import file by its extension, once its content agrees. Broken, foreign or unknown
    files raise InvalidInput.

    ``encoding``: the text encoding of a CSV or a Shapefile's .dbf (default: detected; a .cpg wins
    over detection). ``sheet``: an XLSX sheet by name or 1-based number (default: the first whose
    first rows name known columns). ``header_row``: "N" or "N-M" (a two-row header), 1-based
    (default: the first row naming at least two of ``header_names``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _broken(path, f"unknown format {suffix or '(none)'}: use {', '.join(sorted(SUFFIXES))}")
    text = text_encoding(encoding)
    header = parse_header_row(header_row)
    _refuse_options(suffix, text, sheet, header)
    if str(path).startswith("/vsi") or "://" in str(path) or not path.is_file():
        raise _broken(path, "no such file")  # a plain local file only: no GDAL virtual file systems
    known = known_keys(header_names)
    if suffix == ".csv":
        decoded, used = decode_text(path, path.read_bytes(), text)
        return _unquoted(read_csv_text(path, decoded, used, header, known))
    if suffix == ".xlsx":
        return _unquoted(read_xlsx(path, sheet, header, known))
    return _read_spatial(path, suffix, text)
