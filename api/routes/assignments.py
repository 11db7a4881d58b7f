"""Assignments of road sections to units for a period (责任期), their history, and ending them."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import Conn
from api.params import BIGINT, DbId
from api.routes.roads import ContactsVisible
from gis.roads import assignments as road_assignments

router = APIRouter(tags=["road sections (责任路段)"])


class AssignmentIn(BaseModel):
    unit_id: int = Field(ge=1, le=BIGINT)
    valid_from: date = Field(description="first day held")
    valid_to: date | None = Field(default=None, description="last day held (inclusive); null = open")
    duty_day: int = Field(default=5, ge=1, le=7, description="ISO weekday; 5 = Friday (每周五)")
    note: str | None = Field(default=None, max_length=500)


class AssignmentEnd(BaseModel):
    valid_to: date = Field(description="the last day the unit holds the section (inclusive)")


@router.post("/sections/{section_id}/assignments", status_code=201,
             summary="Assign a section to a unit; 409 when another unit holds it during the period")
def assign(section_id: DbId, body: AssignmentIn, conn: Conn, contacts: ContactsVisible) -> dict[str, Any]:
    return road_assignments.assign_section(conn, section_id, body.unit_id, body.valid_from, body.valid_to,
                                           body.duty_day, body.note, contacts=contacts)


@router.get("/sections/{section_id}/assignments", summary="Who held the section when (with its ancestors)")
def history(section_id: DbId, conn: Conn, contacts: ContactsVisible) -> list[dict[str, Any]]:
    """The units' contact persons and phones only for planners and admins."""
    return road_assignments.section_history(conn, section_id, contacts=contacts)


@router.get("/assignments/{assignment_id}", summary="One assignment")
def get_assignment(assignment_id: DbId, conn: Conn, contacts: ContactsVisible) -> dict[str, Any]:
    return road_assignments.get_assignment(conn, assignment_id, contacts)


@router.post("/assignments/{assignment_id}/end", summary="End an assignment on a day (history is kept)")
def end(assignment_id: DbId, body: AssignmentEnd, conn: Conn, contacts: ContactsVisible) -> dict[str, Any]:
    return road_assignments.end_assignment(conn, assignment_id, body.valid_to, contacts)
