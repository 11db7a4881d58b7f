"""Facilities (阵地): 道德讲堂, 志愿服务站, 市民学校, 宣传栏, 曝光台 ... as points with an owner; the check
against the targets per community; the sessions held (date, topic, attendance) and their photos.

The community a facility stands in is derived from its point by the database; the recorder of a
session is the signed-in user. Photos go to the media store (gis/media), EXIF kept as evidence.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppSettings, Conn
from api.params import BIGINT, DbId, Paging, read_uploads
from api.security import CurrentUser
from gis.facilities import check, records
from gis.media import store as media

router = APIRouter(tags=["facilities"])
Area = Annotated[
    str,
    Query(
        pattern=r"^([1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?)?$",
        description="a district, street or community code ('' = all)",
    ),
]
KindQuery = Annotated[str | None, Query(max_length=40)]


class FacilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=40, description="GET /facilities/vocabulary")
    name: str = Field(max_length=200)
    lon: float
    lat: float
    crs: str = Field("EPSG:4326", max_length=16, description="EPSG:4326 or GCJ-02")
    address: str | None = Field(None, max_length=300)
    owner_community: str | None = Field(None, pattern=r"^[1-9][0-9]{11}$")
    owner_unit: int | None = Field(None, ge=1, le=BIGINT)


class FacilityPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str | None = Field(None, max_length=40)
    name: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)
    owner_community: str | None = Field(None, pattern=r"^[1-9][0-9]{11}$")
    owner_unit: int | None = Field(None, ge=1, le=BIGINT)
    active: bool | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str | None = Field(None, max_length=16)


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held_on: date
    topic: str = Field(max_length=300)
    attendance: int = Field(ge=0, le=100_000)
    note: str | None = Field(None, max_length=2000)


@router.get("/facilities/vocabulary", summary="Facility kinds and targets (阵地类型与建设标准)")
def vocabulary(conn: Conn) -> dict[str, Any]:
    return {"kinds": records.vocabulary(conn), "targets": check.targets(conn)}


@router.get("/facilities/check", summary="Communities failing a facility target (阵地达标检查)")
def facility_check(conn: Conn, area: Area = "", kind: KindQuery = None) -> list[dict[str, Any]]:
    """Each community under `area` with too few or too many active facilities of a kind with a target
    (道德讲堂: 1-2 per community), one statement. Only the communities of your area are counted (a street
    admin: her street's; a scope of everything: all): `area` narrows within it."""
    return check.failures(conn, area, kind)


@router.get("/facilities", summary="Facilities of an area")
def list_facilities(
    conn: Conn,
    response: Response,
    paging: Annotated[Paging, Depends()],
    area: Area = "",
    kind: KindQuery = None,
    active: bool | None = None,
) -> dict[str, Any]:
    total, rows = records.facilities(
        conn, prefix=area, kind=kind, active=active, limit=paging.limit, offset=paging.offset
    )
    response.headers["X-Total-Count"] = str(total)
    return {"total": total, "items": rows}


@router.post("/facilities", status_code=201, summary="Add a facility (its community: where its point lies)")
def create_facility(conn: Conn, body: FacilityIn) -> dict[str, Any]:
    return records.create_facility(conn, **body.model_dump())


@router.get("/facilities/{facility_id}", summary="A facility")
def get_facility(conn: Conn, facility_id: DbId) -> dict[str, Any]:
    return records.facility(conn, facility_id)


@router.patch("/facilities/{facility_id}", summary="Change a facility (close it: active false)")
def patch_facility(conn: Conn, facility_id: DbId, body: FacilityPatch) -> dict[str, Any]:
    return records.update_facility(conn, facility_id, body.model_dump(exclude_unset=True))


@router.get("/facilities/{facility_id}/sessions", summary="Sessions held at a facility, newest first")
def list_sessions(conn: Conn, facility_id: DbId) -> list[dict[str, Any]]:
    return records.sessions(conn, facility_id)


@router.post("/facilities/{facility_id}/sessions", status_code=201, summary="Record a session held")
def create_session(conn: Conn, facility_id: DbId, body: SessionIn) -> dict[str, Any]:
    """The recorder is the signed-in user, stamped by the database."""
    return records.record_session(conn, facility_id, **body.model_dump())


@router.post("/facility-sessions/{session_id}/photos", status_code=201, summary="Add photos to a session")
async def add_session_photos(
    conn: Conn,
    settings: AppSettings,
    user: CurrentUser,
    session_id: DbId,
    photos: Annotated[list[UploadFile], File()],
) -> dict[str, Any]:
    """By whoever recorded the session; EXIF kept in the media store as evidence."""
    assert user is not None, "api/policy.py lets no anonymous caller reach a session"
    uploads = await read_uploads(photos)
    found = records.session(conn, session_id)
    stored = [
        (media.store(conn, settings.data_dir, content, user.username), name) for content, name in uploads
    ]
    records.link_photos(conn, found["id"], [(p.sha256, n) for p, n in stored])
    return records.session(conn, session_id)
