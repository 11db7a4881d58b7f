"""Reports of uncivil behaviour (不文明行为): file one (JSON, or multipart with photos), the lists and
queues, one report with its history, routing evidence and duplicate suggestions, the workflow's steps
and the vocabulary.

The reporter is the signed-in user, stamped by the database; a body that names one is refused (extra
fields forbidden). Who may take each step is decided by the database (report_transition, migration 022):
not yours, 403; wrong state, 409; a missing reason or 'after' photo, 422. Photos go to the media store.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppSettings, Conn
from api.params import BIGINT, CommunityQuery, DbId, GridQuery, Paging, body_fields, body_schema, json_or_form
from api.security import CurrentUser
from gis.errors import InvalidInput
from gis.media import store as media
from gis.reports import file, read, workflow

router = APIRouter(tags=["reports"])
Code = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


class ReportIn(BaseModel):
    # forbid: a `reporter` (or anything else) sent by the client is refused, not silently ignored
    model_config = ConfigDict(extra="forbid")
    category: str = Field(max_length=40, description="GET /reports/vocabulary: categories")
    lon: float = Field(description="where it was seen, in `crs`")
    lat: float
    crs: str = Field("EPSG:4326", max_length=16, description="EPSG:4326 (the browser's), GCJ-02 or BD-09")
    description: str | None = Field(None, max_length=2000)
    client_id: str | None = Field(None, max_length=64, description="the phone's id of this report: a retry "
                                  "with the same id returns the first report (200) instead of a second")
    reported_at: datetime | None = Field(None, description="when it was seen (default: now)")


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["accept", "reject", "duplicate", "dispatch", "overrule", "return", "sign", "handle",
                    "verify", "close"]
    expected_state: str | None = Field(None, max_length=20, description="refuse (409) unless the report "
                                       "is in this state: two dispatchers cannot both act on one report")
    reason: str | None = Field(None, max_length=40, description="a return's reason (return_reasons)")
    note: str | None = Field(None, max_length=2000, description="why: needed to reject and to overrule")
    duplicate_of: int | None = Field(None, ge=1, le=BIGINT)
    owner_kind: Literal["unit", "grid", "community", "street"] | None = Field(
        None, description="dispatch to another owner: unit (unit_id), grid (grid_code), community or "
        "street (community_code)")
    unit_id: int | None = Field(None, ge=1, le=BIGINT)
    grid_code: str | None = Field(None, pattern=r"^[1-9][0-9]{14}$")
    community_code: str | None = Field(None, pattern=r"^[1-9][0-9]{11}$")


async def read_body(request: Request) -> tuple[dict[str, Any], list[tuple[bytes, str | None]]]:
    """The fields as sent and the photos (`photos`) of a JSON body, a multipart form or a plain form post,
    for the callers that validate the fields themselves (the workbench's report forms)."""
    fields, uploads = await body_fields(request, ("photos",), urlencoded=True)
    return fields, uploads["photos"]


def keep(conn: Conn, settings: AppSettings, user: CurrentUser,
         uploads: list[tuple[bytes, str | None]]) -> list[file.Photo]:
    assert user is not None, "api/policy.py lets no anonymous caller store a photo"
    return [file.Photo(media.store(conn, settings.data_dir, content, user.username).sha256, name)
            for content, name in uploads]


def file_one(conn: Conn, body: ReportIn, photos: list[file.Photo]) -> tuple[dict[str, Any], bool]:
    report_id, created = file.file_report(conn, file.NewReport(
        body.category, body.lon, body.lat, body.crs, body.description, body.client_id, body.reported_at,
        photos))
    return read.report(conn, report_id), created


@router.post("/reports", status_code=201, summary="Report uncivil behaviour (上报不文明行为)",
             openapi_extra=body_schema(ReportIn),
             responses={200: {"description": "the same client_id again: the first report"},
                        422: {"description": "a field is missing or wrong: the answer names it"}})
async def post_report(request: Request, response: Response, conn: Conn, settings: AppSettings,
                      user: CurrentUser) -> dict[str, Any]:
    """The reporter is the signed-in user. The owner is found on arrival (routing evidence in
    `routing`); `duplicates` lists open reports of the same category within 50 m and 72 hours."""
    body, uploads = await json_or_form(request, ReportIn, ("photos",), urlencoded=True)
    found, created = file_one(conn, body, keep(conn, settings, user, uploads["photos"]))
    if not created:
        response.status_code = 200
    return found


@router.get("/reports/vocabulary", summary="Report categories, return reasons and states")
def vocabulary(conn: Conn) -> dict[str, list[dict[str, Any]]]:
    return read.vocabulary(conn)


@router.get("/reports", summary="Reports you may read (a queue), newest first")
def reports(conn: Conn, response: Response, paging: Annotated[Paging, Depends()],
            state: Code = None, category: Code = None,
            owner_kind: Annotated[Literal["unit", "grid", "community", "street"] | None, Query()] = None,
            unit_id: Annotated[int | None, Query(ge=1, le=BIGINT)] = None, grid: GridQuery = None,
            community: CommunityQuery = None,
            start: Annotated[date | None, Query(alias="from", description="first day (China)")] = None,
            end: Annotated[date | None, Query(alias="to", description="last day, included")] = None,
            overdue: bool | None = None, mine: bool = False) -> dict[str, Any]:
    """A unit's account reads its unit's reports, a grid worker those in her grids, a reporter her
    own, an admin or viewer those of their areas; the reporter's name only for admins and herself."""
    if start and end and end < start:
        raise InvalidInput.one("to", "must not be before from")
    total, rows = read.reports(conn, state=state, category=category, owner_kind=owner_kind, unit_id=unit_id,
                               grid=grid, community=community, start=start, end=end, overdue=overdue,
                               mine=mine, limit=paging.limit, offset=paging.offset)
    response.headers["X-Total-Count"] = str(total)
    return {"total": total, "items": rows}


@router.get("/reports/{report_id}", summary="One report: history, routing evidence, duplicates")
def one_report(conn: Conn, report_id: DbId) -> dict[str, Any]:
    return read.report(conn, report_id)


@router.post("/reports/{report_id}/transitions", summary="Take a step of the workflow (流转)",
             openapi_extra=body_schema(StepIn))
async def post_step(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser,
                    report_id: DbId) -> dict[str, Any]:
    """accept | reject (note) | duplicate (duplicate_of) | dispatch (optionally to another owner) |
    overrule (note) | return (reason) | sign | handle (an 'after' photo, sent here as `photos` or
    before) | verify (not by the account that handled it) | close. Answers the report as it is now."""
    body, files = await json_or_form(request, StepIn, ("photos",), urlencoded=True)
    uploads = files["photos"]
    owner = (workflow.Owner(body.owner_kind, body.unit_id, body.grid_code, body.community_code)
             if body.owner_kind else None)
    try:
        workflow.transition(conn, report_id, body.action, expected=body.expected_state, reason=body.reason,
                            note=body.note, duplicate_of=body.duplicate_of, owner=owner,
                            photos=keep(conn, settings, user, uploads) if uploads else ())
    except workflow.NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    return read.report(conn, report_id)
