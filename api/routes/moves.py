"""Moves of the register's persons (迁入, 迁出, 户间迁移) and a household's record of them.

A move-in creates the person; a move-out removes them, keeping their name and masked ID number in the
record; a transfer keeps the person and changes their household. Move-outs and transfers name the
version they were based on (body ``version`` or If-Match): a stale one is answered 409. A head (户主)
who leaves a household with other members names the new head (``new_head_id``) or is refused (422).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import Conn
from api.errors import error_body
from api.params import BIGINT, DbId, IfMatch, Paging, Version, resolve_version, tagged
from api.routes.persons import PersonIn, PersonOut, Relation
from gis.access import audit
from gis.codes import mask_id_number
from gis.register import moves as register
from gis.register.common import DuplicateIdNumber
from gis.register.moves import NOTE_MAX

router = APIRouter(tags=["moves"])

MovedOn = Annotated[date | None, Field(description="迁移日期; today if absent, never in the future")]
Note = Annotated[str | None, Field(default=None, max_length=NOTE_MAX,
                                   description="迁入来源 / 迁出去向或原因 / 迁移原因")]
NewHead = Annotated[int | None, Field(default=None, ge=1, le=BIGINT, description=(
    "the member who becomes head (户主) when the head leaves a household with other members"))]


class MoveOut(BaseModel):
    id: int
    kind: Literal["in", "out", "transfer"]
    moved_on: date
    person_id: int | None = None
    name: str
    id_number: str | None = Field(default=None, description="masked; the full number is never kept")
    from_household_id: int | None = None
    from_address: str | None = Field(default=None, description="absent for a household outside your rows")
    to_household_id: int | None = None
    to_address: str | None = None
    note: str | None = None
    recorded_at: datetime
    actor_username: str | None = Field(default=None, description="who recorded it (stamped by the database)")


class MovePage(BaseModel):
    total: int
    items: list[MoveOut]


class MoveIn(PersonIn):
    household_id: int | None = Field(default=None, ge=1, le=BIGINT,  # type: ignore[assignment]
                                     description="the household of the path (may be left out)")
    moved_on: MovedOn = None
    note: Note = None


class MoveOutBody(BaseModel):
    version: Version = None
    moved_on: MovedOn = None
    note: Note = None
    new_head_id: NewHead = None


class TransferBody(BaseModel):
    household_id: int = Field(ge=1, le=BIGINT, description="the household the person moves to")
    relation: Relation | None = Field(default=None, description="与新户主关系; kept if absent")
    version: Version = None
    moved_on: MovedOn = None
    note: Note = None
    new_head_id: NewHead = None


@router.post("/households/{household_id}/move-in", response_model=PersonOut,
             status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "the ID number is registered already (the attempt is audited)"}})
def move_in(conn: Conn, household_id: DbId, body: MoveIn, response: Response) -> dict | JSONResponse:
    """Register a person moving into the household (迁入), with the record of the move."""
    fields = body.model_dump(exclude={"moved_on", "note"})
    try:
        person = register.move_in(conn, household_id, fields, body.moved_on, body.note)
    except DuplicateIdNumber as exc:
        # the same answer and audit entry as POST /persons: whoever holds the number, wherever
        audit.record(conn, "refused", "persons.duplicate_id_number",
                     {"attempt": "move-in", "reason": str(exc), "household_id": household_id,
                      "id_number": mask_id_number(fields.get("id_number"))})
        return JSONResponse(error_body(str(exc), [{"row": None, "field": "id_number", "reason": str(exc)}]),
                            status_code=status.HTTP_409_CONFLICT)
    response.headers["Location"] = f"/persons/{person['id']}"
    return tagged(response, person)


@router.post("/persons/{person_id}/move-out", response_model=MoveOut)
def move_out(conn: Conn, person_id: DbId, body: MoveOutBody, if_match: IfMatch = None) -> dict:
    """Record the person's move-out (迁出) and remove them from the register; returns the record."""
    based_on = resolve_version(body.version, if_match)
    return register.move_out(conn, person_id, based_on, body.moved_on, body.note, body.new_head_id)


@router.post("/persons/{person_id}/transfer", response_model=PersonOut)
def transfer(conn: Conn, person_id: DbId, body: TransferBody, response: Response,
             if_match: IfMatch = None) -> dict:
    """Move the person to another household of the register (户间迁移): the same person, a new household."""
    based_on = resolve_version(body.version, if_match)
    return tagged(response, register.transfer(conn, person_id, based_on, body.household_id, body.relation,
                                              body.moved_on, body.note, body.new_head_id))


@router.get("/households/{household_id}/moves", response_model=MovePage)
def list_moves(conn: Conn, household_id: DbId, paging: Annotated[Paging, Depends()]) -> dict:
    """The moves into, out of and away from the household, newest first."""
    return register.list_moves(conn, household_id, paging.limit, paging.offset)
