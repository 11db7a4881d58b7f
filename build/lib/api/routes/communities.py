"""Communities (社区): CRUD, the division check (全覆盖、无缝隙、不交叉) and the community register (一册)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from api.deps import AppSettings, Conn
from api.params import COMMUNITY_CODE, CSV, XLSX, CommunityCode, download
from gis.division import communities
from gis.division.check import check_division
from gis.division.grids import unplaced_households
from gis.register.export import export_register

router = APIRouter(tags=["communities"])


class CommunityOut(BaseModel):
    code: str
    name: str
    street_name: str | None = None
    ref: str | None = None
    area_m2: float = Field(description="Area on the ellipsoid, m²")
    grids: int = Field(description="Number of grids")
    geometry: dict[str, Any] | None = Field(default=None, description="GeoJSON MultiPolygon, EPSG:4326")


class CommunityUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    street_name: str | None = Field(default=None, max_length=200)
    ref: str | None = Field(default=None, max_length=200)
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")
    crs: str | None = Field(default=None, description="EPSG:4326 (default), EPSG:4490 or gcj02")


class CommunityIn(CommunityUpdate):
    code: str = Field(pattern=COMMUNITY_CODE, description="12 digits: 6 county + 3 street + 3 community")


@router.get("/communities", response_model=list[CommunityOut])
def list_communities(conn: Conn) -> list[dict]:
    return communities.list_communities(conn)


@router.get("/communities/{code}", response_model=CommunityOut)
def get_community(conn: Conn, code: CommunityCode) -> dict:
    return communities.get_community(conn, code)


@router.post("/communities", response_model=CommunityOut, status_code=status.HTTP_201_CREATED)
def create_community(conn: Conn, settings: AppSettings, body: CommunityIn) -> dict:
    return communities.create_community(conn, body.code, body.name, body.geometry, body.street_name, body.ref,
                                  crs=body.crs, bbox=settings.region_bbox)


@router.put("/communities/{code}", response_model=CommunityOut)
def update_community(conn: Conn, settings: AppSettings, code: CommunityCode, body: CommunityUpdate) -> dict:
    """Replace name and boundary. 422 on ``geom`` if the boundary would leave a grid of the community
    outside it, or reach into a community outside your scope (more than 1 m, either way)."""
    return communities.update_community(conn, code, body.name, body.geometry, body.street_name, body.ref,
                                  crs=body.crs, bbox=settings.region_bbox)


@router.delete("/communities/{code}", status_code=status.HTTP_204_NO_CONTENT)
def delete_community(conn: Conn, code: CommunityCode) -> Response:
    communities.delete_community(conn, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/communities/{code}/division")
def division(conn: Conn, code: CommunityCode,
             format: Literal["json", "geojson"] = "json",
             tolerance_m2: Annotated[float, Query(ge=0, le=1e6, description="Ignore parts below, m²")] = 0.01,
             ) -> Response:
    """Gaps, overlaps and grid area outside the community. ``format=geojson`` gives the bare
    FeatureCollection (application/geo+json); ``json`` adds a summary per kind."""
    result = check_division(conn, code, tolerance_m2)
    if format == "geojson":
        bare = {"type": "FeatureCollection", "features": result["features"]}
        return Response(json.dumps(bare, ensure_ascii=False), media_type="application/geo+json")
    summary = {kind: {"count": 0, "area_m2": 0.0} for kind in ("gap", "overlap", "outside")}
    for feature in result["features"]:
        entry = summary[feature["properties"]["kind"]]
        entry["count"] += 1
        entry["area_m2"] += feature["properties"]["area_m2"]
    return Response(json.dumps({**result, "summary": summary}, ensure_ascii=False),
                    media_type="application/json")


@router.get("/communities/{code}/unplaced")
def unplaced(conn: Conn, code: CommunityCode) -> list[dict]:
    """Households of the community outside every grid or on a grid border, to check by hand."""
    communities.get_community(conn, code)
    return unplaced_households(conn, code)


@router.get("/communities/{code}/register.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}}})
def register_xlsx(conn: Conn, code: CommunityCode) -> Response:
    """The community's register (一册), a sheet per grid, ID numbers and phones masked."""
    return download(export_register(conn, "xlsx", community=code), XLSX, f"register-{code}.xlsx")


@router.get("/communities/{code}/register.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def register_csv(conn: Conn, code: CommunityCode) -> Response:
    return download(export_register(conn, "csv", community=code), CSV, f"register-{code}.csv")
