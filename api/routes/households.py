"""Households (户) of the register: create, list with filters and paging, read, update, delete.

Updates are optimistic: the body's ``version`` or an ``If-Match`` header must name the version
the edit was based on; a stale one is answered 409.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from api.deps import AppSettings, Conn
from api.params import AreaQuery, DbId, IfMatch, Paging, Version, delete_version, resolve_version, tagged
from api.routes.persons import PersonOut
from gis.errors import InvalidInput
from gis.register import households as register

router = APIRouter(tags=["households"])

InputCRS = Literal["EPSG:4326", "EPSG:4490", "gcj02"]
Placement = Literal["inside", "border", "outside"]


class HouseholdOut(BaseModel):
    id: int
    ref: str | None = None
    address: str
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    grid_code: str | None = None
    community_code: str | None = None
    placement: Placement
    lon: float
    lat: float
    version: int
    updated_at: datetime
    members: int


class HouseholdDetail(HouseholdOut):
    persons: list[PersonOut]


class HouseholdPage(BaseModel):
    total: int
    items: list[HouseholdOut]


class HouseholdPatch(BaseModel):
    ref: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, min_length=1, max_length=500)
    building: str | None = Field(default=None, max_length=100)
    unit: str | None = Field(default=None, max_length=100)
    room: str | None = Field(default=None, max_length=100)
    lon: float | None = None
    lat: float | None = None
    crs: InputCRS = "EPSG:4326"
    version: Version = None


class HouseholdIn(BaseModel):
    ref: str | None = Field(default=None, max_length=200)
    address: str = Field(min_length=1, max_length=500, description="地址")
    building: str | None = Field(default=None, max_length=100, description="楼栋")
    unit: str | None = Field(default=None, max_length=100, description="单元")
    room: str | None = Field(default=None, max_length=100, description="房号")
    lon: float
    lat: float
    crs: InputCRS = Field(default="EPSG:4326", description="of lon/lat; gcj02 = 火星坐标")


class HouseholdPut(HouseholdIn):
    version: Version = None


@dataclass
class HouseholdQuery(AreaQuery):
    placement: Placement | None = None
    poverty: Annotated[str | None, Query(max_length=50, description="a status, or any")] = None
    q: Annotated[str | None, Query(max_length=200, description=(
        "in the address, ref, building-unit-room or a member's name; or the last 4 characters of a "
        "member's ID number or phone"))] = None


@router.post("/households", response_model=HouseholdDetail, status_code=status.HTTP_201_CREATED)
def create_household(conn: Conn, settings: AppSettings, body: HouseholdIn, response: Response) -> dict:
    """Create a household; it is placed in its grid (inside / border / outside) at once."""
    (new_id,) = register.insert_households(conn, [body.model_dump()], settings.region_bbox)
    response.headers["Location"] = f"/households/{new_id}"
    return tagged(response, register.get_household(conn, new_id))


@router.get("/households", response_model=HouseholdPage)
def list_households(conn: Conn, query: Annotated[HouseholdQuery, Depends()],
                    paging: Annotated[Paging, Depends()]) -> dict:
    return register.list_households(conn, **asdict(query), **asdict(paging))


@router.get("/households/{household_id}", response_model=HouseholdDetail)
def get_household(conn: Conn, household_id: DbId, response: Response) -> dict:
    return tagged(response, register.get_household(conn, household_id))


def _update(conn: Conn, settings: AppSettings, household_id: int, changes: dict, if_match: str | None,
            response: Response) -> dict:
    based_on = resolve_version(changes.pop("version", None), if_match)
    if "lon" not in changes and "lat" not in changes:
        changes.pop("crs", None)
    return tagged(response, register.update_household(conn, household_id, based_on, changes,
                                                      settings.region_bbox))


@router.put("/households/{household_id}", response_model=HouseholdDetail)
def replace_household(conn: Conn, settings: AppSettings, household_id: DbId, body: HouseholdPut,
                      response: Response, if_match: IfMatch = None) -> dict:
    return _update(conn, settings, household_id, body.model_dump(), if_match, response)


@router.patch("/households/{household_id}", response_model=HouseholdDetail)
def patch_household(conn: Conn, settings: AppSettings, household_id: DbId, body: HouseholdPatch,
                    response: Response, if_match: IfMatch = None) -> dict:
    changes = body.model_dump(exclude_unset=True)
    if "address" in changes and changes["address"] is None:
        raise InvalidInput.one("address", "must not be blank")
    return _update(conn, settings, household_id, changes, if_match, response)


@router.delete("/households/{household_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_household(conn: Conn, household_id: DbId, if_match: IfMatch = None) -> Response:
    """Delete a household and its members; with If-Match only if still at that version."""
    register.delete_household(conn, household_id, delete_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
