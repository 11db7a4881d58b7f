"""Responsible units (责任单位) and their weekly duty roster (值勤表)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import Conn
from api.params import XLSX, DbId
from gis.roads import units as road_units
from gis.roads.roster import roster_workbook

router = APIRouter(tags=["responsible units (责任单位)"])

Kind = Literal["government", "institution", "enterprise", "school", "community", "shop", "other"]


class UnitUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: Kind | None = Field(default=None, description="机关 government, 事业单位 institution, 企业 "
                                                        "enterprise, 学校 school, 社区 community, 商户 shop")
    contact: str | None = Field(default=None, max_length=100, description="联系人 contact person")
    phone: str | None = Field(default=None, max_length=30)
    ref: str | None = Field(default=None, max_length=200)


class UnitIn(UnitUpdate):
    name: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]
    kind: Kind = "other"  # type: ignore[assignment]


@router.get("/units", summary="Units with the sections and length they hold today")
def list_units(conn: Conn) -> list[dict[str, Any]]:
    return road_units.list_units(conn)


@router.post("/units", status_code=201, summary="Create a unit")
def create_unit(unit: UnitIn, conn: Conn) -> dict[str, Any]:
    return road_units.create_unit(conn, unit.model_dump(exclude_none=True))


@router.get("/units/{unit_id}", summary="One unit")
def get_unit(unit_id: DbId, conn: Conn) -> dict[str, Any]:
    return road_units.get_unit(conn, unit_id)


@router.patch("/units/{unit_id}", summary="Change a unit's name, kind, contact or phone")
def update_unit(unit_id: DbId, unit: UnitUpdate, conn: Conn) -> dict[str, Any]:
    return road_units.update_unit(conn, unit_id, unit.model_dump(exclude_unset=True))


@router.delete("/units/{unit_id}", status_code=204, summary="Delete a unit that never held a section")
def delete_unit(unit_id: DbId, conn: Conn) -> Response:
    road_units.delete_unit(conn, unit_id)
    return Response(status_code=204)


@router.get("/units/{unit_id}/roster.xlsx", summary="The unit's weekly duty roster as XLSX",
            response_class=Response, responses={200: {"content": {XLSX: {}}}})
def roster(unit_id: DbId, conn: Conn,
           on: Annotated[date | None, Query(description="sections held on or after; default today")] = None,
           ) -> Response:
    body = roster_workbook(conn, unit_id, on)
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="roster-unit-{unit_id}.xlsx"'})
