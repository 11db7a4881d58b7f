"""Places (经营场所) and schools (学校) of the school perimeter one at a time: search, read, create and
replace, through gis.perimeter.places; and the preview of a new perimeter rule (which schools it
changes, nothing saved). Writes keep to the communities the writer's grants cover."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from api.deps import AppSettings, Conn
from api.routes.perimeter import RuleIn
from api.security import CurrentUser
from gis.access.accounts import Principal
from gis.access.roles import PERIMETER_WRITE
from gis.perimeter import places
from gis.perimeter.rules import preview_rule

router = APIRouter(tags=["perimeter"])
CRS = Literal["EPSG:4326", "EPSG:4490", "gcj02"]


def write_scopes(user: Principal | None) -> list[str] | None:
    """The code prefixes the user's perimeter-writing grants cover; None: everywhere."""
    scopes = [g.scope for g in user.grants if g.role in PERIMETER_WRITE] if user else []
    return None if "" in scopes else scopes


def _scoped(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except places.OutOfScope as exc:
        raise HTTPException(403, str(exc)) from None


class LicenceIn(BaseModel):
    kind: str | None = Field(None, description="e.g. 营业执照, 食品经营许可证 (default 营业执照)")
    number: str | None = None
    valid_until: date | None = Field(None, description="the last valid day; none: no expiry")
    displayed: bool = Field(False, description="亮证经营: shown at the entrance")


class PlaceIn(BaseModel):
    name: str
    ref: str | None = None
    category: str = Field(description="a place_category code or its Chinese name (网吧)")
    address: str | None = None
    lon: float
    lat: float
    crs: CRS = "EPSG:4326"
    licence: LicenceIn | None = Field(None, description="the main licence; none: the place has none")


class PlacePut(PlaceIn):
    version: str = Field(description="the version read with the place (a 409 when it changed since)")


class SchoolIn(BaseModel):
    name: str
    ref: str | None = None
    level: str = Field(description="a school_level code or its Chinese name (小学)")
    geometry: dict[str, Any] | str = Field(description="the campus: GeoJSON (Multi)Polygon (a Point when no "
                                                       "boundary is known) or WKT")
    gates: dict[str, Any] | str | None = Field(None, description="GeoJSON MultiPoint, WKT or "
                                                                 "'lon,lat; lon,lat'")
    crs: CRS = "EPSG:4326"


class SchoolPut(SchoolIn):
    version: str


@router.get("/perimeter/places", summary="Search places (经营场所) by name, address, ref or category")
def search_places(conn: Conn, q: Annotated[str | None, Query(max_length=200)] = None,
                  category: Annotated[str | None, Query(max_length=40)] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    return places.search_places(conn, q, category, limit)


@router.post("/perimeter/places", status_code=201, summary="Add a place with its licence")
def create_place(conn: Conn, settings: AppSettings, user: CurrentUser, body: PlaceIn) -> dict[str, Any]:
    fields = body.model_dump(exclude={"crs"})
    return _scoped(places.save_place, conn, fields, crs=body.crs, bbox=settings.region_bbox,
                   scopes=write_scopes(user))


@router.get("/perimeter/places/{place}", summary="One place with its licences (by ref or id)")
def get_place(conn: Conn, place: str) -> dict[str, Any]:
    return places.get_place(conn, place)


@router.put("/perimeter/places/{place}", summary="Replace a place at its version")
def replace_place(conn: Conn, settings: AppSettings, user: CurrentUser, place: str,
                  body: PlacePut) -> dict[str, Any]:
    fields = body.model_dump(exclude={"crs", "version"})
    return _scoped(places.save_place, conn, fields, key=place, version=body.version, crs=body.crs,
                   bbox=settings.region_bbox, scopes=write_scopes(user))


@router.get("/perimeter/schools", summary="Search schools by name, ref or level")
def search_schools(conn: Conn, q: Annotated[str | None, Query(max_length=200)] = None,
                   level: Annotated[str | None, Query(max_length=40)] = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    return places.search_schools(conn, q, level, limit)


@router.post("/perimeter/schools", status_code=201, summary="Add a school: campus polygon and gates")
def create_school(conn: Conn, settings: AppSettings, user: CurrentUser, body: SchoolIn) -> dict[str, Any]:
    fields = body.model_dump(exclude={"crs"})
    return _scoped(places.save_school, conn, fields, crs=body.crs, bbox=settings.region_bbox,
                   scopes=write_scopes(user))


@router.get("/perimeter/schools/{school}", summary="One school: campus and gates as GeoJSON (by ref or id)")
def get_school(conn: Conn, school: str) -> dict[str, Any]:
    return places.get_school(conn, school)


@router.put("/perimeter/schools/{school}", summary="Replace a school at its version")
def replace_school(conn: Conn, settings: AppSettings, user: CurrentUser, school: str,
                   body: SchoolPut) -> dict[str, Any]:
    fields = body.model_dump(exclude={"crs", "version"})
    return _scoped(places.save_school, conn, fields, key=school, version=body.version, crs=body.crs,
                   bbox=settings.region_bbox, scopes=write_scopes(user))


@router.post("/perimeter/rules/preview", summary="Which schools a new rule would change (nothing saved)")
def preview(conn: Conn, body: RuleIn,
            day: Annotated[date | None, Query(alias="date")] = None) -> dict[str, Any]:
    """The violations that would appear and disappear with the rule added, by the check itself run
    in a transaction that is rolled back."""
    return preview_rule(conn, body.model_dump(), day)
