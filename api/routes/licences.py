"""Licences in the whole jurisdiction (证照齐全、亮证经营): the shops of licensed categories without a
valid displayed licence, by community and grid, in the perimeter check's four formats."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Conn
from api.params import COMMUNITY_CODE, GRID_CODE
from api.routes.perimeter import CHECK_RESPONSES, Format, Streams, listing_response
from gis.perimeter.licences import licence_listing

router = APIRouter(tags=["perimeter"])


@router.get("/perimeter/licences", summary="Shops without a valid displayed licence (无证/未亮证经营)",
            responses=CHECK_RESPONSES)
def unlicensed_shops(
    conn: Conn,
    streams: Streams,
    format: Format = "json",
    day: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD (default today)")] = None,
    community: Annotated[str | None, Query(pattern=COMMUNITY_CODE, description="12-digit code")] = None,
    grid: Annotated[str | None, Query(pattern=GRID_CODE, description="15-digit code")] = None,
    category: Annotated[list[str] | None, Query(
        description="place categories to check (repeat the parameter); default: those a licence_required "
                    "perimeter rule names")] = None,
) -> Any:
    """Every shop of the checked categories, anywhere in the jurisdiction (or one community or grid,
    by geometry), without a licence valid on the date and displayed: its state (missing, expired,
    not_displayed), its community and grid (empty when it lies outside every grid, never left out).
    CSV (UTF-8 with a BOM) and XLSX carry Chinese headers."""
    day = day or date.today()
    listing = licence_listing(conn, day, community=community, grid=grid, categories=category)
    return listing_response(conn, streams, listing, format, f"licences-{day}")
