"""Import and export over HTTP: upload a file into a layer, download a layer as a file."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.deps import AppSettings, Conn
from gis.catalog import export_layer, import_file, layer_spec
from gis.errors import InvalidInput, TooLarge
from gis.interop.fieldmap import parse_field_map
from gis.interop.readers import SUFFIXES

router = APIRouter(tags=["import and export (导入导出)"])

ExportFormat = Literal["geojson", "gpkg", "shp", "csv", "xlsx"]
_SUFFIX = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".zip", "csv": ".csv", "xlsx": ".xlsx"}
_MEDIA = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3",
          "shp": "application/zip", "csv": "text/csv; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def upload_name(filename: str | None) -> str:
    """The upload's own name, reduced to letters, digits, . _ - (no folders, no GDAL ':' or '/vsi'
    syntax): it names the file in error messages, never a path anything could follow."""
    name = re.sub(r"[^\w.-]", "_", Path(filename or "").name)[-100:].lstrip(".")
    return name or "upload"


def save_upload(upload: UploadFile, path: Path, limit_mb: int) -> None:
    """Copy the upload to ``path``, refusing it (413) as soon as it passes the limit."""
    limit, written = limit_mb * 1024 * 1024, 0
    if upload.size is not None and upload.size > limit:
        raise TooLarge(limit_mb)
    with path.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise TooLarge(limit_mb)
            out.write(chunk)


@router.post("/imports/{layer}", summary="Import a file into a layer, all rows or none")
def upload(
    layer: str,
    file: UploadFile,
    conn: Conn,
    settings: AppSettings,
    crs: Annotated[str | None, Query(description="EPSG:4326, EPSG:4490, gcj02; default: the file's")] = None,
    field: Annotated[list[str] | None, Query(description="FIELD=COLUMN, repeatable")] = None,
    id_field: Annotated[str | None, Query(description="the column holding the record's id (ref)")] = None,
) -> dict[str, Any]:
    spec = layer_spec(layer)  # an unknown layer is a 404 before the upload is stored
    mapping = parse_field_map(field or [], ref=id_field)
    name = upload_name(file.filename)
    if Path(name).suffix.lower() not in SUFFIXES:
        raise InvalidInput.one("file", f"{name or 'the upload'}: unknown format, use "
                                       f"{', '.join(sorted(SUFFIXES))}")
    with tempfile.TemporaryDirectory(prefix="gridmap-upload-") as tmp:
        path = Path(tmp) / name
        save_upload(file, path, settings.max_upload_mb)
        report = import_file(conn, spec, path, crs=crs, field_map=mapping, region_bbox=settings.region_bbox)
    return report.to_dict()


@router.get("/exports/{layer}", summary="Download a layer; id numbers and phones are masked")
def download(
    layer: str,
    conn: Conn,
    format: ExportFormat = "geojson",
    crs: Annotated[str, Query(description="EPSG:4326, EPSG:4490 or gcj02")] = "EPSG:4326",
    community: str | None = None,
    grid: str | None = None,
) -> FileResponse:
    # Unmasked exports of personal data are for the CLI (an administrator on the machine) only.
    spec = layer_spec(layer)
    tmp = tempfile.mkdtemp(prefix="gridmap-export-")
    path = Path(tmp) / f"{spec.name}{_SUFFIX[format]}"
    try:
        export_layer(conn, spec.name, path, crs=crs, community=community, grid=grid)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(path, media_type=_MEDIA[format], filename=path.name,
                        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True))
