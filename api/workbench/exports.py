"""The export page (数据导出): per layer the user may export, a form choosing the format and the
coordinate system that downloads the file from the API's own route, ``GET /exports/{layer}``.

The form is a plain GET to that route (its parameters are the route's: ``format``, ``crs``), so the
download is the API's, under the same per-layer rule (api/policy.py EXPORT_LAYERS), row-level security,
masking and audit; a layer the user may not export is not offered at all.
"""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.policy import POLICY
from api.routes.imports import ExportFormat
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.imports import LAYER_NAMES
from api.workbench.render import page
from gis import catalog
from gis.access.accounts import Principal

EXPORT_ROUTE = ("GET", "/exports/{layer}")
FORMATS: dict[str, str] = {"xlsx": N_("Excel（XLSX）"), "csv": N_("CSV（UTF-8）"), "geojson": "GeoJSON",
                           "gpkg": "GeoPackage", "shp": N_("Shapefile（ZIP）")}
assert set(FORMATS) == set(get_args(ExportFormat)), "the formats the route supports"
# The output coordinate systems: the two national ones, the local metric one (the CGCS2000 3-degree
# Gauss-Krüger zone of the data) and the web maps' GCJ-02 (gis/crs.py output_crs).
CRS_CHOICES = {"EPSG:4326": N_("WGS 84（EPSG:4326，GPS）"), "EPSG:4490": N_("CGCS2000（EPSG:4490）"),
               "gk3": N_("CGCS2000 高斯-克吕格 3° 带（米，本地）"), "gcj02": N_("GCJ-02（高德、腾讯地图）")}

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)


def may_export(user: Principal, layer: str) -> bool:
    """Whether api/policy.py lets the user export ``layer`` (the rule of GET /exports/{layer})."""
    spec = catalog.LAYERS.get(layer)
    return spec is not None and spec.export_sql is not None and \
        bool(POLICY[EXPORT_ROUTE].for_layer(layer).roles & user.roles)


def formats(layer: str) -> list[str]:
    """The formats a layer can be written in: a Shapefile needs one geometry type (not "any"), and
    a layer without geometry is a table (GeoJSON and GeoPackage still hold its rows)."""
    geometry = catalog.layer_spec(layer).geometry
    return [f for f in FORMATS if f != "shp" or geometry in ("point", "line", "polygon")]


@router.get("/exports", response_class=HTMLResponse)
def exports_page(request: Request, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    layers = [layer for layer in LAYER_NAMES if may_export(user, layer)]
    return page(request, user, lang, "exports.html", N_("数据导出"), layers=layers, names=LAYER_NAMES,
                formats={layer: formats(layer) for layer in layers}, format_names=FORMATS,
                crs_choices=CRS_CHOICES,
                spatial={layer: catalog.layer_spec(layer).geometry is not None for layer in layers})
