"""Inspections of places (检查记录) and the violations' life: record, notify, rectify, re-check, close."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, UploadFile
from pydantic import BaseModel

from api.deps import AppSettings, Conn
from gis.errors import InvalidInput
from gis.perimeter import inspections
from gis.perimeter.check import Scope

router = APIRouter(tags=["inspections"])
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
PHOTO_MAX_BYTES = 20 * 1024 * 1024


class InspectionIn(BaseModel):
    inspector: str
    result: Literal["compliant", "violation", "rectified", "closed_down", "absent"]
    note: str | None = None
    inspected_at: datetime | None = None
    licence_displayed: bool | None = None


class StatusIn(BaseModel):
    status: Literal["open", "notified", "rectified", "closed"]
    actor: str
    note: str | None = None


@router.post("/perimeter/violations/record", summary="Run the check and record its violations")
def record(conn: Conn, day: Annotated[date | None, Query(alias="date")] = None, community: str | None = None,
           grid: str | None = None, school: str | None = None) -> dict[str, int]:
    """New violations are opened; those already open get the latest rule, school and distance."""
    return inspections.record_violations(conn, day or date.today(),
                                         scope=Scope(community=community, grid=grid, school=school))


@router.get("/perimeter/violations/recorded", summary="Recorded violations")
def recorded(conn: Conn, response: Response,
             status: Literal["open", "notified", "rectified", "closed"] | None = None,
             limit: Annotated[int, Query(ge=1, le=inspections.MAX_LIMIT)] = inspections.DEFAULT_LIMIT,
             offset: Annotated[int, Query(ge=0, le=2**62)] = 0) -> list[dict[str, Any]]:
    """One page (oldest first); X-Total-Count says how many match in all, for the next page's offset."""
    total, rows = inspections.list_violations(conn, status, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return rows


@router.get("/perimeter/violations/recorded/{violation_id}", summary="A violation and its history")
def one(conn: Conn, violation_id: int) -> dict[str, Any]:
    return inspections.violation(conn, violation_id)


@router.patch("/perimeter/violations/recorded/{violation_id}", summary="Move a violation on")
def move(conn: Conn, violation_id: int, body: StatusIn) -> dict[str, Any]:
    return inspections.move(conn, violation_id, body.status, body.actor, body.note)


@router.post("/perimeter/places/{place}/inspections", status_code=201, summary="Record an inspection")
def inspect(conn: Conn, place: str, body: InspectionIn,
            day: Annotated[date | None, Query(alias="date", description="re-check date")] = None
            ) -> dict[str, Any]:
    """A re-check (an inspection of a place whose violation is rectified, or one with result
    'rectified') runs the check for the place: closed if it no longer violates, else reopened."""
    return inspections.record_inspection(conn, place, body.inspector, body.result, body.note,
                                         body.inspected_at, body.licence_displayed, day=day)


@router.get("/perimeter/places/{place}/inspections", summary="A place's inspections")
def place_inspections(conn: Conn, place: str) -> list[dict[str, Any]]:
    return inspections.inspections_of(conn, place)


@router.put("/perimeter/inspections/{inspection_id}/photo", summary="Attach a photo to an inspection")
async def photo(conn: Conn, settings: AppSettings, inspection_id: int, file: UploadFile) -> dict[str, str]:
    suffix = PHOTO_TYPES.get(file.content_type or "")
    if suffix is None:
        raise InvalidInput.one("file", f"a photo: {', '.join(PHOTO_TYPES)}")
    content = await file.read(PHOTO_MAX_BYTES + 1)
    if len(content) > PHOTO_MAX_BYTES:
        raise InvalidInput.one("file", "larger than 20 MB")
    name = f"{inspection_id}-{uuid.uuid4().hex[:12]}{suffix}"
    folder = Path(settings.data_dir) / "photos"
    inspections.attach_photo(conn, inspection_id, name)  # 404 before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return {"photo": name}
