"""Inspections of places (检查记录) and the violations' life: record, notify, rectify, re-check, close.

Who inspected and who moved a violation on is the signed-in user (their username), never a name the
client sends. Photos go to the media store (gis/media): kept once by content, judged by content, EXIF
kept as evidence; a photo is read through its inspection only, by those who may read inspections.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppSettings, Conn
from api.params import read_uploads
from api.photos import IMAGE_RESPONSE, SHA256, jpeg
from api.security import CurrentUser
from gis.access.accounts import Principal
from gis.errors import InvalidInput
from gis.media import store as media
from gis.perimeter import inspections
from gis.perimeter.check import Scope
from gis.settings import Settings

router = APIRouter(tags=["inspections"])


class InspectionIn(BaseModel):
    # forbid: an `inspector` (or anything else) sent by the client is refused, not silently ignored
    model_config = ConfigDict(extra="forbid")
    result: Literal["compliant", "violation", "rectified", "closed_down", "absent"]
    note: str | None = Field(None, max_length=2000)
    inspected_at: datetime | None = None
    licence_displayed: bool | None = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # no `actor`: the signed-in user moves it
    status: Literal["open", "notified", "rectified", "closed"]
    note: str | None = Field(None, max_length=2000)


def actor(user: Principal | None) -> str:
    """Who acts: the signed-in user's username (every route here is for signed-in roles only)."""
    assert user is not None, "api/policy.py lets no anonymous caller reach an inspection write"
    return user.username


def keep_photos(conn: psycopg.Connection, settings: Settings, user: Principal | None, inspection_id: int,
                photos: list[tuple[bytes, str | None]], field: str = "photos") -> list[dict[str, Any]]:
    """Store the photos (all judged before any is linked) and link them to the inspection."""
    stored = [(media.store(conn, settings.data_dir, content, actor(user), field), name)
              for content, name in photos]
    inspections.add_photos(conn, inspection_id, [(p.sha256, name) for p, name in stored])
    return [photo_json(inspection_id, p.as_row()) for p, _ in stored]


def photo_json(inspection_id: int, row: dict[str, Any]) -> dict[str, Any]:
    base = f"/perimeter/inspections/{inspection_id}/photos/{row['sha256']}"
    return {**{k: row[k] for k in ("sha256", "mime", "width", "height", "taken_at", "taken_offset",
                                   "lon", "lat")},
            "url": base, "thumbnail": base + "/thumbnail"}


@router.post("/perimeter/violations/record", summary="Run the check and record its violations")
def record(conn: Conn, user: CurrentUser, day: Annotated[date | None, Query(alias="date")] = None,
           community: str | None = None, grid: str | None = None,
           school: str | None = None) -> dict[str, int]:
    """New violations are opened; those already open get the latest rule, school and distance."""
    return inspections.record_violations(conn, day or date.today(), actor=f"check ({actor(user)})",
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
    """``next``: the steps its workflow allows from here."""
    found = inspections.violation(conn, violation_id)
    return {**found, "next": list(inspections.TRANSITIONS[found["status"]])}


@router.patch("/perimeter/violations/recorded/{violation_id}", summary="Move a violation on")
def move(conn: Conn, user: CurrentUser, violation_id: int, body: StatusIn) -> dict[str, Any]:
    """The signed-in user makes the step; 409 for a step the workflow does not allow from here."""
    return inspections.move(conn, violation_id, body.status, actor(user), body.note)


@router.post("/perimeter/places/{place}/inspections", status_code=201, summary="Record an inspection")
def inspect(conn: Conn, user: CurrentUser, place: str, body: InspectionIn,
            day: Annotated[date | None, Query(alias="date", description="re-check date")] = None
            ) -> dict[str, Any]:
    """The inspector is the signed-in user. A re-check (an inspection of a place whose violation is
    rectified, or one with result 'rectified') runs the check for the place: closed if it no longer
    violates, else reopened. Photos: POST /perimeter/inspections/{id}/photos."""
    return inspections.record_inspection(conn, place, actor(user), body.result, body.note,
                                         body.inspected_at, body.licence_displayed, day=day)


@router.get("/perimeter/places/{place}/inspections", summary="A place's inspections")
def place_inspections(conn: Conn, place: str) -> list[dict[str, Any]]:
    return [{**i, "photos": [photo_json(i["id"], p) for p in i["photos"]]}
            for i in inspections.inspections_of(conn, place)]


@router.post("/perimeter/inspections/{inspection_id}/photos", status_code=201,
             summary="Add photos to an inspection")
async def add_photos(conn: Conn, settings: AppSettings, user: CurrentUser, inspection_id: int,
                     photos: Annotated[list[UploadFile], File(description="JPEG, PNG or WebP photos")]
                     ) -> list[dict[str, Any]]:
    """Each judged by its content (not its name or content type), at most 20 MB; EXIF time and GPS
    position kept with it as evidence; the same photo sent twice is stored once."""
    return keep_photos(conn, settings, user, inspection_id, await read_uploads(photos))


@router.put("/perimeter/inspections/{inspection_id}/photo", summary="Attach a photo to an inspection")
async def photo(conn: Conn, settings: AppSettings, user: CurrentUser, inspection_id: int,
                file: UploadFile) -> dict[str, Any]:
    """One photo (the older form of POST .../photos); ``photo`` is its SHA-256."""
    stored = keep_photos(conn, settings, user, inspection_id, await read_uploads([file], "file"), "file")
    if not stored:
        raise InvalidInput.one("file", "empty file")
    return {"photo": stored[0]["sha256"], **stored[0]}


@router.get("/perimeter/inspections/{inspection_id}/photos", summary="An inspection's photos")
def photos(conn: Conn, inspection_id: int) -> list[dict[str, Any]]:
    """With the EXIF time and position each was taken at (evidence); the images carry no EXIF."""
    found = inspections.photos_of(conn, [inspection_id]).get(inspection_id, [])
    return [photo_json(inspection_id, p) for p in found]


def _image(conn: psycopg.Connection, settings: Settings, inspection_id: int, sha256: str,
           copy: media.Copy) -> Response:
    inspections.photo_of(conn, inspection_id, sha256)  # 404 unless this inspection holds it
    return jpeg(settings.data_dir, sha256, copy)


@router.get("/perimeter/inspections/{inspection_id}/photos/{sha256}", summary="A photo (published copy)",
            response_class=Response, responses=IMAGE_RESPONSE)
def photo_image(conn: Conn, settings: AppSettings, inspection_id: int, sha256: SHA256) -> Response:
    """Upright, at most 1600 px a side, without EXIF (its evidence is in the JSON list)."""
    return _image(conn, settings, inspection_id, sha256, "published")


@router.get("/perimeter/inspections/{inspection_id}/photos/{sha256}/thumbnail", summary="A photo's thumbnail",
            response_class=Response, responses=IMAGE_RESPONSE)
def photo_thumbnail(conn: Conn, settings: AppSettings, inspection_id: int, sha256: SHA256) -> Response:
    return _image(conn, settings, inspection_id, sha256, "thumbnail")
