"""四清 statistics per grid, community or everything; every figure links to the list behind it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import Conn
from api.params import AreaQuery
from gis.errors import InvalidInput
from gis.register.stats import statistics

router = APIRouter(tags=["statistics"])


class StatsEntry(BaseModel):
    level: Literal["all", "community", "grid"]
    code: str | None = None
    name: str | None = None
    community_code: str | None = None
    figures: dict[str, Any] = Field(description="each figure is {count, href}; href lists exactly those rows")


class Statistics(BaseModel):
    scope: dict[str, str | None]
    all: StatsEntry | None = None
    communities: list[StatsEntry]
    grids: list[StatsEntry]


@router.get("/stats", response_model=Statistics)
def get_statistics(conn: Conn, area: Annotated[AreaQuery, Depends()]) -> dict:
    """四清 figures: households, persons, registered/floating (流动人口), employment, key persons
    (重点人员) by category, poor groups (低保/特困...) by status, elderly alone, disabled, activists,
    volunteers. Without filters: all communities (the street), each community and each grid."""
    if area.grid is not None and area.community is not None:
        raise InvalidInput.one("grid", "give grid or community, not both")
    return statistics(conn, grid=area.grid, community=area.community)
