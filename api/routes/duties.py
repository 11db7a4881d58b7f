"""Duties (值守/劝导) and 门前三包: define a duty (weekly on a weekday or monthly on a day, at a road
section or a point, for a unit), read the roster derived from the recurrences for a range of days and
the days missed, record a day (done or missed, JSON or multipart with photos); frontage agreements of
shops and their checks.

Who recorded is the signed-in user, stamped by the database; a body naming one is refused (extra fields
forbidden). A unit's accounts see and record only their own unit's duties (row-level security).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppSettings, Conn
from api.params import BIGINT, DbId, body_schema, json_or_form
from api.security import CurrentUser
from gis.duties import duties, frontage
from gis.media import store as media

router = APIRouter(tags=["duties (值守)"])
From = Annotated[date | None, Query(alias="from", description="first day (default: 30 days before `to`)")]
To = Annotated[date | None, Query(alias="to", description="last day, included")]
UnitQuery = Annotated[int | None, Query(ge=1, le=BIGINT, description="only this unit's")]


def keep(
    conn: Conn, settings: AppSettings, user: CurrentUser, uploads: list[tuple[bytes, str | None]], field: str
) -> list[tuple[str, str | None]]:
    """Store the uploads in the media store (EXIF kept as evidence): (sha256, file name) pairs."""
    assert user is not None, "api/policy.py lets no anonymous caller record"
    return [
        (media.store(conn, settings.data_dir, content, user.username, field).sha256, name)
        for content, name in uploads
    ]


class DutyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="e.g. 每月15日交通红绿灯文明劝导")
    unit_id: int = Field(ge=1, le=BIGINT)
    recurrence: str = Field(max_length=10, description="weekly or monthly")
    weekday: int | None = Field(None, ge=1, le=7, description="weekly: ISO weekday, 5 = Friday (每周五)")
    month_day: int | None = Field(
        None,
        ge=1,
        le=31,
        description="monthly: the day; a month without it (the 31st in April): its last day",
    )
    section_id: int | None = Field(None, ge=1, le=BIGINT, description="the post: a road section …")
    lon: float | None = Field(None, description="… or a point (WGS 84), e.g. a crossing")
    lat: float | None = None
    post_name: str | None = Field(None, max_length=200)
    valid_from: date
    valid_to: date | None = Field(None, description="last day (inclusive); null = open")
    note: str | None = Field(None, max_length=2000)


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a `recorder` sent by the client is refused
    duty_day: date = Field(description="the rostered day recorded (today or before)")
    status: str = Field(max_length=10, description="done or missed")
    note: str | None = Field(None, max_length=2000)


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    place_id: int | None = Field(None, ge=1, le=BIGINT, description="the shop as a place …")
    lon: float | None = Field(None, description="… or as a point of its own (WGS 84) with shop_name")
    lat: float | None = None
    shop_name: str | None = Field(None, max_length=200)
    unit_id: int | None = Field(None, ge=1, le=BIGINT)
    owner: str | None = Field(None, max_length=200)
    valid_from: date
    valid_to: date | None = None
    note: str | None = Field(None, max_length=2000)


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # the checker is the signed-in user
    checked_on: date
    result: str = Field(max_length=10, description="pass or fail")
    note: str | None = Field(None, max_length=2000)


@router.get("/duties", summary="The duties you see (a unit's accounts: their own)")
def list_duties(conn: Conn, unit_id: UnitQuery = None) -> list[dict[str, Any]]:
    return duties.list_duties(conn, unit_id)


@router.post("/duties", status_code=201, summary="Define a duty: recurrence, post, unit, period")
def create_duty(body: DutyIn, conn: Conn) -> dict[str, Any]:
    return duties.create_duty(conn, duties.DutySpec(**body.model_dump()))


@router.get("/duties/roster", summary="The roster of a range of days, derived from the recurrences")
def roster(conn: Conn, start: From = None, end: To = None, unit_id: UnitQuery = None) -> list[dict[str, Any]]:
    """Every rostered day with its record and state: done, missed (recorded so, or not recorded by the
    end of the day) or due. Default: the 30 days up to today."""
    first, last = duties.default_period(end or duties.today())
    return duties.roster(conn, start or first, last, unit_id)


@router.get("/duties/missed", summary="The rostered days missed (listed from the day after)")
def missed(conn: Conn, start: From = None, end: To = None, unit_id: UnitQuery = None) -> list[dict[str, Any]]:
    """Default: the 30 days up to yesterday."""
    first, last = duties.default_period(end)
    return duties.missed(conn, start or first, last, unit_id)


@router.get("/duties/{duty_id}", summary="One duty")
def get_duty(duty_id: DbId, conn: Conn) -> dict[str, Any]:
    return duties.get_duty(conn, duty_id)


@router.get("/duties/{duty_id}/records", summary="A duty's records, newest day first, with photos")
def records(duty_id: DbId, conn: Conn) -> list[dict[str, Any]]:
    return duties.records_of(conn, duty_id)


@router.post(
    "/duties/{duty_id}/records",
    status_code=201,
    openapi_extra=body_schema(RecordIn, ("photos",)),
    summary="Record a rostered day: done or missed, with photos; 409 when already recorded",
)
async def record(
    request: Request, duty_id: DbId, conn: Conn, settings: AppSettings, user: CurrentUser
) -> dict[str, Any]:
    body, uploads = await json_or_form(request, RecordIn, ("photos",))
    photos = keep(conn, settings, user, uploads["photos"], "photos")
    return duties.record_day(conn, duty_id, body.duty_day, body.status, body.note, photos)


@router.get("/frontage/agreements", summary="门前三包 agreements in force on a day")
def agreements(
    conn: Conn,
    unit_id: UnitQuery = None,
    on: Annotated[date | None, Query(description="default: today")] = None,
) -> list[dict[str, Any]]:
    return frontage.list_agreements(conn, unit_id, on)


@router.post("/frontage/agreements", status_code=201, summary="A shop's 门前三包 agreement")
def create_agreement(body: AgreementIn, conn: Conn) -> dict[str, Any]:
    return frontage.create_agreement(conn, frontage.AgreementSpec(**body.model_dump()))


@router.get("/frontage/agreements/{agreement_id}", summary="One agreement with its last check")
def get_agreement(agreement_id: DbId, conn: Conn) -> dict[str, Any]:
    return frontage.get_agreement(conn, agreement_id)


@router.get("/frontage/agreements/{agreement_id}/checks", summary="An agreement's checks, newest first")
def checks(agreement_id: DbId, conn: Conn) -> list[dict[str, Any]]:
    frontage.get_agreement(conn, agreement_id)
    return frontage.checks_of(conn, agreement_id)


@router.post(
    "/frontage/agreements/{agreement_id}/checks",
    status_code=201,
    openapi_extra=body_schema(CheckIn, ("photos",)),
    summary="Check an agreement (pass or fail, photos)",
)
async def add_check(
    request: Request, agreement_id: DbId, conn: Conn, settings: AppSettings, user: CurrentUser
) -> dict[str, Any]:
    body, uploads = await json_or_form(request, CheckIn, ("photos",))
    photos = keep(conn, settings, user, uploads["photos"], "photos")
    return frontage.add_check(conn, agreement_id, body.checked_on, body.result, body.note, photos)
