"""Honour and red/black lists (红黑榜, 十文明户, 最美家庭, 孝道红黑榜): versions drafted, approved and
published; entries while drafted; a new version of a published one; the public page's lists (published,
approved as public, redacted); households taking part and the participation share per community.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Conn
from api.params import BIGINT, DbId
from gis.honours import lists, public

router = APIRouter(tags=["honours"])
Area = Annotated[str, Query(pattern=r"^([1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?)?$")]
Id = Annotated[int | None, Field(None, ge=1, le=BIGINT)]


class ListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=40, description="GET /honours/vocabulary")
    scope: str = Field(description="the 9-digit street or 12-digit community of the list")
    series: str = Field(max_length=100, description="names the list across its versions, e.g. 2026年第二季度")
    title: str = Field(max_length=200)
    public: bool = False


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    colour: Literal["red", "black"]
    place_id: Id = None
    unit_id: Id = None
    household_id: Id = None
    person_id: Id = None
    reason: str | None = Field(None, max_length=1000)
    violation_id: Id = None
    inspection_id: Id = None
    report_id: Id = None


class StateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["approve", "reopen", "publish"]
    public: bool | None = Field(
        None, description="with approve: may the published version go public (redacted)"
    )


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=200)


class ParticipationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100)
    household_ids: list[Annotated[int, Field(ge=1, le=BIGINT)]] = Field(min_length=1, max_length=10_000)


@router.get("/honours/vocabulary", summary="Kinds of lists (红黑榜, 十文明户 ...) and what they name")
def vocabulary(conn: Conn) -> list[dict[str, Any]]:
    return lists.kinds(conn)


@router.get("/honours/lists", summary="List versions of an area you may see")
def list_lists(
    conn: Conn,
    area: Area = "",
    state: Annotated[Literal["drafted", "approved", "published"] | None, Query()] = None,
) -> list[dict[str, Any]]:
    return lists.lists(conn, prefix=area, state=state)


@router.post("/honours/lists", status_code=201, summary="Draft a list")
def create_list(conn: Conn, body: ListIn) -> dict[str, Any]:
    return lists.create_list(conn, **body.model_dump())


@router.get("/honours/lists/{list_id}", summary="A list version with the entries you may read")
def get_list(conn: Conn, list_id: DbId) -> dict[str, Any]:
    return lists.honour_list(conn, list_id)


@router.post("/honours/lists/{list_id}/entries", status_code=201, summary="Add an entry to a drafted list")
def add_entry(conn: Conn, list_id: DbId, body: EntryIn) -> dict[str, Any]:
    """A black entry points to its evidence: a closed violation, an inspection that found one, or a
    closed report."""
    return lists.add_entry(conn, list_id, body.model_dump())


@router.delete(
    "/honours/lists/{list_id}/entries/{entry_id}",
    status_code=204,
    summary="Remove an entry from a drafted list",
)
def remove_entry(conn: Conn, list_id: DbId, entry_id: DbId) -> None:
    lists.remove_entry(conn, list_id, entry_id)


@router.post("/honours/lists/{list_id}/state", summary="Approve, reopen or publish a list")
def change_state(conn: Conn, list_id: DbId, body: StateIn) -> dict[str, Any]:
    return lists.change_state(conn, list_id, body.action, public=body.public)


@router.post(
    "/honours/lists/{list_id}/versions",
    status_code=201,
    summary="Draft the next version of a published list (supersedes it once published)",
)
def new_version(conn: Conn, list_id: DbId, body: VersionIn) -> dict[str, Any]:
    return lists.new_version(conn, list_id, title=body.title)


@router.get("/honours/participation", summary="Households taking part per community against the target")
def participation(
    conn: Conn, area: Area = "", year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> list[dict[str, Any]]:
    return public.participation(conn, area, year or date.today().year)


@router.post("/honours/participation", summary="Record households taking part in a year (参评)")
def take_part(conn: Conn, body: ParticipationIn) -> dict[str, int]:
    return {"recorded": public.take_part(conn, body.household_ids, body.year)}


@router.get("/public/honours", summary="The published public lists (红黑榜 公示), redacted")
def public_lists(conn: Conn, area: Area = "") -> list[dict[str, Any]]:
    """Published versions an admin approved as public, not superseded; households and persons as
    张**家 with the building only."""
    return public.public_lists(conn, area)
