"""Volunteers (学雷锋志愿服务): teams, their members (a resident of the register by person_id, or an
outsider by name and phone), activities with the hours each member served.

A person's `volunteer` flag in the register is derived from active membership by the database: join
and leave here, and the flag follows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Conn
from api.params import BIGINT, DbId
from gis.volunteers import teams

router = APIRouter(tags=["volunteers"])
Area = Annotated[str, Query(pattern=r"^([1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?)?$")]


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    scope: str = Field(description="the 9-digit street or 12-digit community the team serves")
    station_id: int | None = Field(None, ge=1, le=BIGINT, description="its 志愿服务站 (a facility)")


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: int | None = Field(None, ge=1, le=BIGINT, description="a resident of the register")
    name: str | None = Field(None, max_length=100, description="an outsider's name")
    phone: str | None = Field(None, max_length=20, description="an outsider's phone")
    joined_on: date | None = None


class LeaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    left_on: date | None = None


class HoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: int = Field(ge=1, le=BIGINT)
    hours: Decimal = Field(gt=0, le=24, max_digits=5, decimal_places=2)


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held_on: date
    title: str = Field(max_length=300)
    facility_id: int | None = Field(None, ge=1, le=BIGINT)
    hours: list[HoursIn] = Field(default_factory=list, max_length=1000)


@router.get("/volunteers/teams", summary="Volunteer teams of an area, with active members and hours")
def list_teams(conn: Conn, area: Area = "") -> list[dict[str, Any]]:
    return teams.teams(conn, area)


@router.post("/volunteers/teams", status_code=201, summary="Form a team")
def create_team(conn: Conn, body: TeamIn) -> dict[str, Any]:
    return teams.create_team(conn, **body.model_dump())


@router.get("/volunteers/teams/{team_id}", summary="A team")
def get_team(conn: Conn, team_id: DbId) -> dict[str, Any]:
    return teams.team(conn, team_id)


@router.get("/volunteers/teams/{team_id}/members", summary="A team's members (residents you may read)")
def list_members(conn: Conn, team_id: DbId, active: bool = False) -> list[dict[str, Any]]:
    return teams.members(conn, team_id, active_only=active)


@router.post(
    "/volunteers/teams/{team_id}/members", status_code=201, summary="A resident or an outsider joins"
)
def join(conn: Conn, team_id: DbId, body: MemberIn) -> dict[str, Any]:
    return teams.join(conn, team_id, **body.model_dump())


@router.post("/volunteers/members/{member_id}/leave", summary="A member leaves (kept, with the day)")
def leave(conn: Conn, member_id: DbId, body: LeaveIn) -> dict[str, Any]:
    return teams.leave(conn, member_id, body.left_on)


@router.get("/volunteers/teams/{team_id}/activities", summary="A team's activities, newest first")
def list_activities(conn: Conn, team_id: DbId) -> list[dict[str, Any]]:
    return teams.activities(conn, team_id)


@router.post(
    "/volunteers/teams/{team_id}/activities",
    status_code=201,
    summary="Record an activity with the hours each member served",
)
def create_activity(conn: Conn, team_id: DbId, body: ActivityIn) -> dict[str, Any]:
    return teams.record_activity(
        conn,
        team_id,
        held_on=body.held_on,
        title=body.title,
        facility_id=body.facility_id,
        hours=[(h.member_id, h.hours) for h in body.hours],
    )
