"""The school perimeter (校园周边200米): the check in four formats, its rules, and its maps."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from api.deps import AppSettings, Conn
from api.headers import Nonce
from api.params import BIGINT, COMMUNITY_CODE, GRID_CODE, XLSX, content_disposition
from api.policy import POLICY
from api.security import CurrentUser
from gis.access.accounts import Principal
from gis.access.roles import PERIMETER_WRITE
from gis.maps.base import base_layer
from gis.perimeter import rules as perimeter_rules
from gis.perimeter.check import Scope, violation_listing
from gis.perimeter.export import MEDIA_TYPES, Listing, Stream, rows, xlsx_bytes
from gis.perimeter.mapdata import perimeter_map_data
from layers.perimeter import perimeter_map
from layers.shell import render_html

router = APIRouter(tags=["perimeter"])
Format = Literal["json", "geojson", "csv", "xlsx"]
LicenceState = Literal["missing", "expired", "not_displayed", "valid"]  # gis.perimeter.check.LICENCE_STATES
# The four answers of a check, declared so that OpenAPI clients know each content type.
CHECK_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {
    "application/json": {}, "application/geo+json": {}, "text/csv": {}, XLSX: {}},
    "description": "JSON (default), GeoJSON, CSV or XLSX, by the format parameter"}}


def _open_streams(conn: Conn) -> Iterator[list[Stream]]:
    """The streams a request opened, closed before its transaction ends (this dependency depends on
    the connection's, so it exits first), also when reading one failed in the middle: an open COPY
    or cursor would otherwise still hold the connection when it is committed and pooled again."""
    opened: list[Stream] = []
    try:
        yield opened
    finally:
        for stream in opened:
            stream.close()


Streams = Annotated[list[Stream], Depends(_open_streams, scope="function")]
SPOOL_BYTES = 8 * 1024 * 1024  # a listing larger than this waits on disk, not in memory
SPOOL_CHUNK = 256 * 1024


def listing_response(conn: Conn, streams: Streams, listing: Listing, fmt: str, name: str) -> Response:
    """A listing in ``fmt``: CSV, GeoJSON and JSON as PostgreSQL produces them (COPY, a server-side
    cursor), XLSX built whole. CSV and XLSX are downloads named ``name``. The streamed formats are read
    to the end into a spooled file (memory up to SPOOL_BYTES, then disk) before the answer starts: the
    request's transaction ends when the handler returns (api.deps.Conn), before the answer is sent, so a
    failing query is an error response and never a cut-off body."""
    download = ({"Content-Disposition": content_disposition(f"{name}.{fmt}")}
                if fmt in ("csv", "xlsx") else {})
    if fmt == "xlsx":
        return Response(content=xlsx_bytes(rows(conn, listing), listing), media_type=XLSX, headers=download)
    stream = Stream(conn, listing, fmt)
    streams.append(stream)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed after the answer)
    for chunk in stream:
        spool.write(chunk)
    spool.seek(0)
    return StreamingResponse(iter(lambda: spool.read(SPOOL_CHUNK), b""), media_type=MEDIA_TYPES[fmt],
                             headers=download, background=BackgroundTask(spool.close))


@router.get("/perimeter/violations", summary="Places breaking a perimeter rule (校园周边违规)",
            responses=CHECK_RESPONSES)
def violations(
    conn: Conn,
    streams: Streams,
    format: Format = "json",
    day: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD (default today)")] = None,
    community: Annotated[str | None, Query(pattern=COMMUNITY_CODE, description="12-digit community code")
                         ] = None,
    grid: Annotated[str | None, Query(pattern=GRID_CODE, description="15-digit grid code")] = None,
    school: Annotated[str | None, Query(max_length=200, description="a school's ref or id")] = None,
    category: Annotated[str | None, Query(max_length=100, description="a place category's code")] = None,
    rule: Annotated[int | None, Query(ge=1, le=BIGINT, description="a rule's id (GET /perimeter/rules)")
                    ] = None,
    licence_state: Annotated[LicenceState | None, Query(description="the place's licence state")] = None,
) -> Any:
    """Every place that breaks a rule, listed once with its nearest school and the distance in metres
    on the ellipsoid, for the district (no filter), a community, a grid or one school; narrowed to a
    place category, a rule or a licence state when given. CSV and XLSX carry Chinese headers (the CSV
    a UTF-8 BOM); JSON and GeoJSON the field names."""
    day = day or date.today()
    scope = Scope(community=community, grid=grid, school=school, category=category, rule_id=rule,
                  licence_state=licence_state)
    listing = violation_listing(conn, day, scope)
    return listing_response(conn, streams, listing, format, f"perimeter-{day}")


@router.get("/perimeter/schools/{school}/violations", summary="Violations around one school",
            responses=CHECK_RESPONSES)
def school_violations(conn: Conn, streams: Streams, school: str, format: Format = "json",
                      day: Annotated[date | None, Query(alias="date")] = None) -> Any:
    day = day or date.today()
    listing = violation_listing(conn, day, Scope(school=school))
    return listing_response(conn, streams, listing, format, f"perimeter-{school}-{day}")


# --- rules ---------------------------------------------------------------------------------------

class RuleIn(BaseModel):
    region: str = Field("national", description="'national' or an administrative code prefix (2-12 digits)")
    category: str
    school_levels: list[str]
    distance_m: float
    kind: Literal["forbidden", "licence_required"]
    method: Literal["boundary", "entrance"] = "boundary"
    note: str | None = None


@router.get("/perimeter/rules", summary="The perimeter rules (per region)")
def rules(conn: Conn) -> list[dict[str, Any]]:
    return perimeter_rules.list_rules(conn)


@router.get("/perimeter/rules/{rule_id}")
def rule(conn: Conn, rule_id: int) -> dict[str, Any]:
    return perimeter_rules.get_rule(conn, rule_id)


def holds_region(user: Principal, region: str) -> bool:
    """Whether the user's perimeter-writing grants hold the whole ``region``: a rule binds every school
    of its region, so a street's inspector sets no province's rule ('national' takes an unscoped grant)."""
    return any(g.role in PERIMETER_WRITE
               and (g.scope == "" or (region != "national" and region.startswith(g.scope)))
               for g in user.grants)


def _refuse_unless_held(user: Principal | None, *regions: str) -> None:
    for region in regions:
        if user is None or not holds_region(user, region):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"the rule's region {region} is outside your scope")


@router.post("/perimeter/rules", status_code=201)
def add_rule(conn: Conn, user: CurrentUser, body: RuleIn) -> dict[str, Any]:
    _refuse_unless_held(user, body.region)
    return perimeter_rules.add_rule(conn, body.model_dump())


@router.put("/perimeter/rules/{rule_id}")
def change_rule(conn: Conn, user: CurrentUser, rule_id: int, body: RuleIn) -> dict[str, Any]:
    _refuse_unless_held(user, perimeter_rules.get_rule(conn, rule_id)["region"], body.region)
    return perimeter_rules.change_rule(conn, rule_id, body.model_dump())


@router.delete("/perimeter/rules/{rule_id}", status_code=204)
def remove_rule(conn: Conn, user: CurrentUser, rule_id: int) -> Response:
    _refuse_unless_held(user, perimeter_rules.get_rule(conn, rule_id)["region"])
    perimeter_rules.remove_rule(conn, rule_id)
    return Response(status_code=204)


# --- maps ----------------------------------------------------------------------------------------

@router.get("/maps/perimeter", response_class=HTMLResponse, summary="The perimeter map (校园周边图)")
def perimeter_map_page(conn: Conn, settings: AppSettings, nonce: Nonce, user: CurrentUser,
                       day: Annotated[date | None, Query(alias="date")] = None) -> HTMLResponse:
    data = perimeter_map_data(conn, day or date.today())
    return HTMLResponse(render_html(perimeter_map(data, settings, _base(conn, data, settings),
                                                  place_pages=_place_pages(user)), nonce=nonce))


@router.get("/maps/perimeter/schools/{school}", response_class=HTMLResponse, summary="One school's perimeter")
def school_map_page(conn: Conn, settings: AppSettings, nonce: Nonce, user: CurrentUser, school: str,
                    day: Annotated[date | None, Query(alias="date")] = None) -> HTMLResponse:
    data = perimeter_map_data(conn, day or date.today(), school)
    wall_map = ("/maps/perimeter/schools/" + quote(school, safe="") + "/wall.pdf"  # the PDF wall map
                if _allowed(user, ("GET", "/maps/perimeter/schools/{school}/wall.pdf")) else None)
    return HTMLResponse(render_html(perimeter_map(data, settings, _base(conn, data, settings),
                                                  place_pages=_place_pages(user), wall_map=wall_map),
                                    nonce=nonce))


def _allowed(user: Principal | None, route: tuple[str, str]) -> bool:
    rule = POLICY.get(route)
    return user is not None and rule is not None and bool(rule.roles & user.roles)


def _place_pages(user: Principal | None) -> bool:
    """Whether the popups link the place pages (where inspections are recorded): when the policy lets
    the user open them."""
    rule = POLICY.get(("GET", "/perimeter/places/{place}"))
    return user is not None and rule is not None and bool(rule.roles & user.roles)


def _base(conn: Conn, data: dict[str, Any], settings: AppSettings) -> dict[str, Any] | None:
    """The roads and buildings under a perimeter map without tiles, in what it frames."""
    return base_layer(conn, data["bbox"]) if settings.basemap == "none" and data.get("bbox") else None
