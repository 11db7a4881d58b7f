"""Persons (人员) of the register with their 四清 tags: create, list with filters and paging, read,
update, delete. ID numbers and phones are masked in every response unless asked for (audited); beside
a masked ID number the birth date it hides is given as the birth year only."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import Conn
from api.errors import error_body
from api.params import (
    BIGINT,
    AreaQuery,
    DbId,
    IfMatch,
    Paging,
    Version,
    delete_version,
    resolve_version,
    tagged,
)
from api.security import require_unmask_right
from gis.access import audit
from gis.codes import mask_id_number
from gis.register import persons as register
from gis.register.common import DuplicateIdNumber

router = APIRouter(tags=["persons"])

Relation = Literal["head", "spouse", "child", "parent", "grandchild", "sibling", "other"]
Residence = Literal["registered", "floating"]
Employment = Literal["employed", "unemployed", "retired", "student", "preschool", "other"]


class PersonOut(BaseModel):
    id: int
    household_id: int
    ref: str | None = None
    name: str
    id_number: str | None = Field(default=None, description="masked (430503********1234) unless unmasked")
    phone: str | None = Field(default=None, description="masked unless unmasked")
    sex: Literal["M", "F"] | None = None
    birth_date: date | None = Field(default=None, description="absent beside a masked ID number: it hides it")
    birth_year: int | None = Field(default=None, description="出生年份, for ages and age groups")
    relation: Relation
    residence: Residence
    employment: Employment | None = None
    poverty: str | None = None
    key_person: str | None = None
    elderly_alone: bool
    disabled: bool
    activist: bool
    volunteer: bool
    grid_code: str | None = None
    community_code: str | None = None
    version: int
    updated_at: datetime


class PersonPage(BaseModel):
    total: int
    items: list[PersonOut]


class PersonPatch(BaseModel):
    household_id: int | None = Field(default=None, ge=1, le=BIGINT)
    ref: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, min_length=1, max_length=100, description="姓名")
    id_number: str | None = Field(default=None, max_length=30, description="身份证号, 18 characters")
    phone: str | None = Field(default=None, max_length=30)
    sex: Literal["M", "F"] | None = Field(default=None, description="derived from the ID number if absent")
    birth_date: date | None = Field(default=None, description="derived from the ID number if absent")
    relation: Relation | None = Field(default=None, description="与户主关系")
    residence: Residence | None = Field(default=None, description="registered 户籍 / floating 流动")
    employment: Employment | None = None
    poverty: str | None = Field(default=None, max_length=50, description="低保 dibao, 特困 tekun, ...")
    key_person: str | None = Field(default=None, max_length=50, description="重点人员 category")
    elderly_alone: bool | None = None
    disabled: bool | None = None
    activist: bool | None = None
    volunteer: bool | None = None
    version: Version = None


class PersonIn(BaseModel):
    household_id: int = Field(ge=1, le=BIGINT)
    ref: str | None = Field(default=None, max_length=200)
    name: str = Field(min_length=1, max_length=100, description="姓名")
    id_number: str | None = Field(default=None, max_length=30, description="身份证号, 18 characters")
    phone: str | None = Field(default=None, max_length=30)
    sex: Literal["M", "F"] | None = Field(default=None, description="derived from the ID number if absent")
    birth_date: date | None = Field(default=None, description="derived from the ID number if absent")
    relation: Relation = Field(default="other", description="与户主关系")
    residence: Residence = Field(default="registered", description="registered 户籍 / floating 流动")
    employment: Employment | None = None
    poverty: str | None = Field(default=None, max_length=50, description="低保 dibao, 特困 tekun, ...")
    key_person: str | None = Field(default=None, max_length=50, description="重点人员 category")
    elderly_alone: bool = False
    disabled: bool = False
    activist: bool = False
    volunteer: bool = False


class PersonPut(PersonIn):
    version: Version = None


@dataclass
class PersonQuery(AreaQuery):
    household: Annotated[int | None, Query(ge=1, le=BIGINT)] = None
    residence: Residence | None = None
    key_person: Annotated[str | None, Query(max_length=50, description="a category, or any")] = None
    poverty: Annotated[str | None, Query(max_length=50, description="a status, or any")] = None
    employment: Employment | Literal["unknown"] | None = None
    elderly_alone: bool | None = None
    disabled: bool | None = None
    activist: bool | None = None
    volunteer: bool | None = None
    q: Annotated[str | None, Query(max_length=100, description="part of the name")] = None


def _duplicate(conn: Conn, attempt: str, exc: DuplicateIdNumber, changes: dict,
               person_id: int | None = None) -> JSONResponse:
    """The answer to an ID number registered already: the same 409 whoever holds it and wherever, and
    an audit entry for the attempt (a worker could otherwise probe who lives in other grids unseen).
    Answered, not raised, so the entry is committed with the request."""
    audit.record(conn, "refused", "persons.duplicate_id_number",
                 {"attempt": attempt, "reason": str(exc), "household_id": changes.get("household_id"),
                  "id_number": mask_id_number(changes.get("id_number"))},
                 ids=[person_id] if person_id is not None else None)
    return JSONResponse(error_body(str(exc), [{"row": None, "field": "id_number", "reason": str(exc)}]),
                        status_code=status.HTTP_409_CONFLICT)


@router.post("/persons", response_model=PersonOut, status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "the ID number is registered already (the attempt is audited)"}})
def create_person(conn: Conn, body: PersonIn, response: Response) -> dict | JSONResponse:
    fields = body.model_dump()
    try:
        person = register.create_person(conn, fields)
    except DuplicateIdNumber as exc:
        return _duplicate(conn, "insert", exc, fields)
    response.headers["Location"] = f"/persons/{person['id']}"
    return tagged(response, person)


@router.get("/persons", response_model=PersonPage)
def list_persons(conn: Conn, query: Annotated[PersonQuery, Depends()],
                 paging: Annotated[Paging, Depends()]) -> dict:
    return register.list_persons(conn, **asdict(paging), **asdict(query))


@router.get("/persons/{person_id}", response_model=PersonOut)
def get_person(
    conn: Conn, request: Request, person_id: DbId, response: Response,
    unmasked: Annotated[bool, Query(description="the full ID number and phone; for roles holding the "
                                                "register right, and written to the audit log")] = False,
) -> dict:
    if unmasked:
        require_unmask_right(request)
    person = register.get_person(conn, person_id, unmasked=unmasked)
    if unmasked:
        audit.record(conn, "read", "persons.unmasked", {"fields": ["id_number", "phone"]}, ids=[person_id])
    return tagged(response, person)


def _update(conn: Conn, person_id: int, changes: dict, partial: bool, if_match: str | None,
            response: Response) -> dict | JSONResponse:
    based_on = resolve_version(changes.pop("version", None), if_match)
    try:
        person = register.update_person(conn, person_id, based_on, changes, partial=partial)
    except DuplicateIdNumber as exc:
        return _duplicate(conn, "update", exc, changes, person_id)
    return tagged(response, person)


@router.put("/persons/{person_id}", response_model=PersonOut)
def replace_person(conn: Conn, person_id: DbId, body: PersonPut, response: Response,
                   if_match: IfMatch = None) -> dict | JSONResponse:
    return _update(conn, person_id, body.model_dump(), False, if_match, response)


@router.patch("/persons/{person_id}", response_model=PersonOut)
def patch_person(conn: Conn, person_id: DbId, body: PersonPatch, response: Response,
                 if_match: IfMatch = None) -> dict | JSONResponse:
    return _update(conn, person_id, body.model_dump(exclude_unset=True), True, if_match, response)


@router.delete("/persons/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_person(conn: Conn, person_id: DbId, if_match: IfMatch = None) -> Response:
    register.delete_person(conn, person_id, delete_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
