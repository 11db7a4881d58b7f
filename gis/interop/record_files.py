"""The campaign's records (台账) as files: XLSX with Chinese headers, CSV in UTF-8 with a BOM, GeoJSON.

A record export is a table the capability builds from the same readers as its JSON route (so row-level
security has already decided which rows it holds): Chinese column names, and for records with a place
either 经度/纬度 columns (points) or a ``wkt`` column (polygons), both of which the importer reads back
(validate.py). The tables go through gis/spreadsheet.py, so no cell runs as a formula; GeoJSON is
written by GDAL (pyogrio), the same writer as the layer exports.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from openpyxl import Workbook

from gis.errors import InvalidInput
from gis.spreadsheet import append_row, frame_csv_text

RecordFormat = Literal["xlsx", "csv", "geojson"]
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}
LON, LAT, WKT = "经度", "纬度", "wkt"  # the importer's own names for coordinates (validate.py)


@dataclass
class RecordTable:
    """A table of records: its rows under Chinese headers, the sheet's name, and the geometries (WGS 84)
    of records that have a place (``None``: a plain table). ``extra`` sheets follow in an XLSX only
    (e.g. the communities failing a target, which no row of the first sheet can show)."""

    name: str  # the file's base name, ASCII (a download's name)
    sheet: str  # the first sheet's name, Chinese
    frame: pd.DataFrame
    geoms: np.ndarray | None = None
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    """A cell as XLSX, CSV and JSON all take it: dates as ISO text, decimals as numbers."""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


Rows = list[dict[str, Any]]


def plain_frame(rows: Rows, columns: dict[str, str]) -> pd.DataFrame:
    """Rows (dicts) as a frame of the ``columns`` wanted (key -> Chinese header), in that order."""
    data = {header: [_plain(r.get(key)) for r in rows] for key, header in columns.items()}
    return pd.DataFrame(data, columns=list(columns.values()), dtype=object)


def record_table(name: str, sheet: str, rows: Rows, columns: dict[str, str], *, geom: str | None = None,
                 extra: dict[str, tuple[Rows, dict[str, str]]] | None = None) -> RecordTable:
    """The table of ``rows`` as a capability describes it: its columns (key -> Chinese header), the key
    holding each row's geometry as WKB (``geom``), and extra sheets (name -> rows, columns)."""
    geoms = None
    if geom is not None:
        geoms = shapely.from_wkb(np.array([r[geom] for r in rows], dtype=object)) if rows else \
            np.array([], dtype=object)
    return RecordTable(name, sheet, plain_frame(rows, columns), geoms,
                       {n: plain_frame(r, c) for n, (r, c) in (extra or {}).items()})


def _table(table: RecordTable) -> pd.DataFrame:
    """The first sheet, with coordinates for points and WKT otherwise (what the importer reads back)."""
    frame = table.frame.copy()
    if table.geoms is None:
        return frame
    geoms = table.geoms
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all():
        frame[LON], frame[LAT] = shapely.get_x(geoms), shapely.get_y(geoms)
    else:
        frame[WKT] = shapely.to_wkt(geoms, rounding_precision=-1)
    return frame


def xlsx_bytes(table: RecordTable) -> bytes:
    """A workbook: the records' sheet first (the importer picks the first sheet naming its columns),
    then the extra sheets; every text stored as text."""
    book = Workbook()
    first = book.active
    assert first is not None
    sheets = [(first, table.sheet, _table(table))]
    sheets += [(book.create_sheet(), name, frame) for name, frame in table.extra.items()]
    for sheet, name, frame in sheets:
        sheet.title = name[:31]
        append_row(sheet, [str(c) for c in frame.columns])
        values = frame.astype(object).where(frame.notna(), None)
        for row in values.itertuples(index=False, name=None):
            append_row(sheet, list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(table: RecordTable) -> bytes:
    """CSV in UTF-8 with a BOM (Excel and WPS then show the Chinese headers), no cell a formula."""
    return frame_csv_text(_table(table)).encode("utf-8-sig")


def geojson_bytes(table: RecordTable) -> bytes:
    """A FeatureCollection in WGS 84 (RFC 7946), the Chinese headers as property names."""
    if table.geoms is None:
        raise InvalidInput.one("format", f"{table.name} has no geometry: use xlsx or csv")
    frame = table.frame.copy()
    for column in frame.columns:  # numbers and booleans keep their JSON type
        frame[column] = frame[column].infer_objects()
    out = gpd.GeoDataFrame(frame, geometry=table.geoms, crs="EPSG:4326")
    with tempfile.TemporaryDirectory(prefix="gridmap-records-") as tmp:
        path = Path(tmp) / f"{table.name}.geojson"
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Normalized/laundered field name")
            pyogrio.write_dataframe(out, path, layer=table.name, driver="GeoJSON")
        return path.read_bytes()


def record_file(table: RecordTable, fmt: RecordFormat) -> bytes:
    """The table in ``fmt``: xlsx, csv, or geojson (records with a place only)."""
    if fmt == "xlsx":
        return xlsx_bytes(table)
    if fmt == "csv":
        return csv_bytes(table)
    if fmt == "geojson":
        return geojson_bytes(table)
    raise InvalidInput.one("format", f"unknown format {fmt!r}: use xlsx, csv or geojson")
