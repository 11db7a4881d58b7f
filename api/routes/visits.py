"""Visits (走访): check in at a household (JSON, or multipart with photos), a household's visits, the
households overdue for a visit (list and XLSX), the visits of a period and the figures per grid and
worker, whose counts are the lengths of those lists.

The visitor is the signed-in user, stamped by the database from the request's token; a body that names
one is refused (extra fields forbidden). Photos go to the media store (gis/media), EXIF kept as evidence.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppSettings, Conn
from api.params import XLSX, CommunityQuery, DbId, GridQuery, Paging, body_schema, download, json_or_form
from api.security import CurrentUser
from gis.errors import InvalidInput
from gis.media import store as media
from gis.visits import overdue as overdue_list
from gis.visits import record, workbook

router = APIRouter(tags=["visits"])
PERIOD_DAYS = 30  # the figures' default period: the last 30 days
From = Annotated[date | None, Query(alias="from", description="first day (default: 30 days before `to`)")]
To = Annotated[date | None, Query(alias="to", description="last day, included (default: today)")]
On = Annotated[date | None, Query(description="the day judged (default: today)")]


class VisitIn(BaseModel):
    # forbid: a `visitor` (or anything else) sent by the client is refused, not silently ignored
    model_config = ConfigDict(extra="forbid")
    lon: float = Field(description="the phone's position, in `crs`")
    lat: float
    crs: str = Field("EPSG:4326", max_length=16, description="EPSG:4326 (the browser's), GCJ-02 or BD-09")
    accuracy_m: float | None = Field(None, ge=0, le=100_000, description="the phone's accuracy estimate")
    kind: str = Field(max_length=40, description="GET /visits/vocabulary: kinds")
    outcome: str = Field(max_length=40, description="GET /visits/vocabulary: outcomes")
    note: str | None = Field(None, max_length=2000)
    client_id: str | None = Field(None, max_length=64, description="the phone's id of this visit: a retry "
                                  "with the same id returns the first visit (200) instead of a second")
    visited_at: datetime | None = Field(None, description="when the phone checked in (default: now)")


POST_BODY = body_schema(VisitIn)


@router.post("/households/{household_id}/visits", status_code=201, summary="Check in at a household (走访)",
             openapi_extra=POST_BODY,
             responses={200: {"description": "the same client_id again: the first visit"}})
async def post_visit(request: Request, response: Response, conn: Conn, settings: AppSettings,
                     user: CurrentUser, household_id: DbId) -> dict[str, Any]:
    """The visitor is the signed-in user. The position may be WGS 84 (the browser's), GCJ-02 or BD-09;
    the distance to the household is measured on the ellipsoid and a check-in farther than
    GRIDMAP_VISIT_FAR_M is flagged `far`, not refused. A household outside your grids: 404."""
    assert user is not None, "api/policy.py lets no anonymous caller reach a visit"
    body, uploads = await json_or_form(request, VisitIn, ("photos",))
    stored = [(media.store(conn, settings.data_dir, content, user.username), name)
              for content, name in uploads["photos"]]
    found, created = record.record_visit(
        conn, household_id, record.Position(body.lon, body.lat, body.crs, body.accuracy_m), body.kind,
        body.outcome, body.note, body.client_id, far_m=settings.visit_far_m, visited_at=body.visited_at,
        photos=[record.Photo(p.sha256, name) for p, name in stored])
    if not created:
        response.status_code = 200
    return found


@router.get("/households/{household_id}/visits", summary="A household's visits, newest first")
def household_visits(conn: Conn, household_id: DbId) -> list[dict[str, Any]]:
    """With each visit's photos and the EXIF time and position each was taken at (evidence)."""
    return record.visits_of(conn, household_id)


@router.get("/visits/vocabulary", summary="Visit kinds, outcomes and the visit policy (走访频次)")
def vocabulary(conn: Conn) -> dict[str, list[dict[str, Any]]]:
    return record.vocabulary(conn)


@router.get("/visits/overdue", summary="Households overdue for a visit (未按期走访)")
def overdue(conn: Conn, grid: GridQuery = None, community: CommunityQuery = None,
            on: On = None) -> list[dict[str, Any]]:
    """Households of the grid or community (neither: all you read) whose last visit that counts lies
    further back than their policy's interval (the strictest group of any member), or never visited."""
    return overdue_list.overdue(conn, grid=grid, community=community, on=on)


@router.get("/visits/overdue.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}},
            summary="Households overdue for a visit as a workbook, Chinese headers")
def overdue_xlsx(conn: Conn, grid: GridQuery = None, community: CommunityQuery = None,
                 on: On = None) -> Response:
    rows = overdue_list.overdue(conn, grid=grid, community=community, on=on)
    day = on or record.today()
    return download(workbook.overdue_workbook(rows), XLSX,
                    f"未按期走访-{grid or community or 'all'}-{day.isoformat()}.xlsx")


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or record.today()
    return start or end - timedelta(days=PERIOD_DAYS - 1), end


@router.get("/visits/figures", summary="Visit figures per grid and per worker")
def figures(conn: Conn, grid: GridQuery = None, community: CommunityQuery = None, start: From = None,
            end: To = None) -> dict[str, Any]:
    """Per grid: households, visits, households visited, far visits in the period, and households
    overdue on its last day (= the length of GET /visits/overdue?grid=…&on=…); per worker: her visits
    and the overdue households of the grids she serves. Drill down: GET /visits?grid=…&from=…&to=…"""
    first, last = _period(start, end)
    return overdue_list.figures(conn, grid=grid, community=community, start=first, end=last)


@router.get("/visits", summary="The visits of a period, in an area or by a visitor")
def visits(conn: Conn, response: Response, paging: Annotated[Paging, Depends()], grid: GridQuery = None,
           community: CommunityQuery = None,
           visitor: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9._-]{1,62}$")] = None,
           start: From = None, end: To = None) -> dict[str, Any]:
    """Oldest first, one page; `total` is what the figures count as visits."""
    first, last = _period(start, end)
    if last < first:
        raise InvalidInput.one("to", "must not be before from")
    total, rows = record.visits_in(conn, grid=grid, community=community, visitor=visitor, start=first,
                                   end=last, limit=paging.limit, offset=paging.offset)
    response.headers["X-Total-Count"] = str(total)
    return {"total": total, "items": rows}
