"""Unmanaged compounds (无人管理小区): create one or import a GeoJSON file of them (all or nothing, every
row's problems), read them placed in their community and grid, their overlaps, the lead helper unit
per compound (409 when another unit helps it during the period; history kept), the helper's tasks with
photos before and after, and the coverage per street, community or grid.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppSettings, Conn
from api.params import BIGINT, DbId, body_schema, json_or_form
from api.routes.duties import keep
from api.security import CurrentUser
from gis.compounds import compounds, coverage, helpers, tasks
from gis.errors import InvalidInput

router = APIRouter(tags=["compounds (无人管理小区)"])
On = Annotated[date | None, Query(description="the day judged (default: today)")]
AREA = r"^[1-9][0-9]{8}([0-9]{3}([0-9]{3})?)?$"  # a street (9 digits), community (12) or grid (15)
MAX_FILE_BYTES = 50 * 1024 * 1024


class CompoundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, WGS 84 (EPSG:4326)")
    management: str = Field("none", max_length=20, description="GET /compounds/vocabulary")
    ref: str | None = Field(None, max_length=60)
    households: int | None = Field(None, ge=0, le=1_000_000)
    note: str | None = Field(None, max_length=2000)


class PairingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: int = Field(ge=1, le=BIGINT)
    valid_from: date
    valid_to: date | None = Field(None, description="last day (inclusive); null = open")
    note: str | None = Field(None, max_length=500)


class PairingEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    valid_to: date = Field(description="the unit's last day as helper (inclusive)")


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # the unit is the compound's helper that day; the recorder
    kind: str = Field(
        max_length=20, description="beautify 美化, lighting 亮化, greening 绿化, good_deed 实事好事"
    )
    title: str = Field(min_length=1, max_length=200)
    done_on: date
    note: str | None = Field(None, max_length=2000)


@router.get("/compounds", summary="Compounds placed in their community and grid, with today's helper")
def list_compounds(
    conn: Conn,
    area: Annotated[str | None, Query(pattern=AREA)] = None,
    helped: bool | None = None,
    management: Annotated[str | None, Query(max_length=20)] = None,
    on: On = None,
) -> list[dict[str, Any]]:
    """`area`: a street, community or grid code; `helped`: with a lead helper on `on` or without. The
    coverage figures are the lengths of these lists."""
    return compounds.list_compounds(conn, area, helped, management, on)


@router.post("/compounds", status_code=201, summary="A compound from a GeoJSON polygon")
def create_compound(body: CompoundIn, conn: Conn) -> dict[str, Any]:
    return compounds.create_compound(conn, compounds.CompoundSpec(**body.model_dump()))


@router.post(
    "/compounds/import",
    status_code=201,
    summary="Import a GeoJSON FeatureCollection of compounds: all or none (422 lists every row)",
)
async def import_compounds(conn: Conn, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Properties: name (required), management, ref (unique), households, note. The answer names the
    overlaps the new compounds make (like the division check); they are stored all the same."""
    content = await file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise InvalidInput.one("file", f"at most {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return compounds.import_compounds(conn, compounds.read_feature_collection(content))


@router.get("/compounds/vocabulary", summary="Management kinds and task kinds")
def vocabulary(conn: Conn) -> dict[str, Any]:
    return {
        "management": compounds.vocabulary(conn),
        "task_kinds": [{"code": k, "name_zh": zh, "name_en": en} for k, (zh, en) in tasks.KINDS.items()],
    }


@router.get("/compounds/overlaps", summary="Pairs of overlapping compounds (over 1 m²), largest first")
def overlaps(conn: Conn) -> list[dict[str, Any]]:
    return compounds.overlaps(conn)


@router.get("/compounds/coverage", summary="Share of compounds with a current helper per area")
def compound_coverage(
    conn: Conn, level: Literal["street", "community", "grid"] = "community", on: On = None
) -> dict[str, Any]:
    """Each row's `compounds` and `helped` equal the lengths of GET /compounds?area=CODE&on=… (and
    &helped=true)."""
    return coverage.coverage(conn, level, on)


@router.get("/compounds/{compound_id}", summary="One compound with its polygon and today's helper")
def get_compound(compound_id: DbId, conn: Conn, on: On = None) -> dict[str, Any]:
    return compounds.get_compound(conn, compound_id, on)


@router.get("/compounds/{compound_id}/helpers", summary="Who helped the compound when (oldest first)")
def helper_history(compound_id: DbId, conn: Conn) -> list[dict[str, Any]]:
    return helpers.history(conn, compound_id)


@router.post(
    "/compounds/{compound_id}/helpers",
    status_code=201,
    summary="Pair a helper unit with the compound; 409 when another unit helps it then",
)
def pair(compound_id: DbId, body: PairingIn, conn: Conn) -> dict[str, Any]:
    return helpers.pair(conn, compound_id, body.unit_id, body.valid_from, body.valid_to, body.note)


@router.post("/compound-helpers/{helper_id}/end", summary="End a pairing on a day (history is kept)")
def end_pairing(helper_id: DbId, body: PairingEnd, conn: Conn) -> dict[str, Any]:
    return helpers.end(conn, helper_id, body.valid_to)


@router.get("/compounds/{compound_id}/tasks", summary="The helper's tasks in the compound, newest first")
def list_tasks(compound_id: DbId, conn: Conn) -> list[dict[str, Any]]:
    return tasks.tasks_of(conn, compound_id)


@router.post(
    "/compounds/{compound_id}/tasks",
    status_code=201,
    openapi_extra=body_schema(TaskIn, ("before", "after")),
    summary="Record a task (美化/亮化/绿化, 实事好事) with photos before and after",
)
async def add_task(
    request: Request, compound_id: DbId, conn: Conn, settings: AppSettings, user: CurrentUser
) -> dict[str, Any]:
    body, uploads = await json_or_form(request, TaskIn, ("before", "after"))
    before = keep(conn, settings, user, uploads["before"], "before")
    after = keep(conn, settings, user, uploads["after"], "after")
    return tasks.add_task(conn, compound_id, body.kind, body.title, body.done_on, body.note, before, after)
