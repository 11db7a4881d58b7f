"""Grids (网格) with their archive (一档) and register (一册), and grid workers (网格员)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppSettings, Conn
from api.params import (
    BIGINT,
    COMMUNITY_CODE,
    CSV,
    GRID_CODE,
    XLSX,
    CommunityQuery,
    DbId,
    GridCode,
    GridQuery,
    download,
)
from gis.access import links
from gis.division import grids, workers
from gis.register.export import export_register
from gis.register.stats import statistics

router = APIRouter(tags=["grids"])


class Worker(BaseModel):
    id: int
    name: str
    phone: str | None = Field(default=None, description="masked")
    ref: str | None = None
    role: Literal["worker", "team"] = "worker"


class GridArchive(BaseModel):
    """一档: the grid's own file."""

    code: str
    name: str
    community_code: str
    ref: str | None = None
    area_m2: float = Field(description="Area on the ellipsoid, m²")
    geometry: dict[str, Any] = Field(description="GeoJSON MultiPolygon, EPSG:4326")
    workers: list[Worker]
    statistics: dict[str, Any] = Field(description="四清 figures, each {count, href}")


class GridUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    ref: str | None = Field(default=None, max_length=200)
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")
    crs: str | None = Field(default=None, description="EPSG:4326 (default), EPSG:4490 or gcj02")


class GridIn(GridUpdate):
    code: str = Field(pattern=GRID_CODE, description="15 digits: community code + 3-digit sequence")
    community_code: str = Field(pattern=COMMUNITY_CODE)


class WorkerGrid(BaseModel):
    grid_code: str
    role: Literal["worker", "team"]


class WorkerOut(BaseModel):
    id: int
    name: str
    phone: str | None = Field(default=None, description="masked")
    ref: str | None = None
    service_phone: str | None = Field(default=None, description="public service phone (服务电话), printed "
                                      "on the wall map; whole, not masked")
    has_account: bool | None = Field(default=None, description="whether the worker signs in with an account "
                                     "(her field records name it)")
    grids: list[WorkerGrid]


class WorkerIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=30)
    ref: str | None = Field(default=None, max_length=200)
    grids: list[Annotated[str, Field(pattern=GRID_CODE)]] = Field(default_factory=list, max_length=1000)
    role: Literal["worker", "team"] = Field(default="worker", description="worker 网格员 or team 服务团队")
    service_phone: str | None = Field(default=None, max_length=30, description=workers.SERVICE_PHONE_FORMATS)


class WorkerChange(BaseModel):
    service_phone: str | None = Field(max_length=30, description="public service phone (服务电话): "
                                      + workers.SERVICE_PHONE_FORMATS + "; null or empty clears it")


class WorkerEdit(BaseModel):
    """The worker's own fields; those left out stay as they are (null clears phone or ref)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=30, description="personal phone (masked when shown)")
    ref: str | None = Field(default=None, max_length=200)


class Assignment(BaseModel):
    worker_id: int = Field(ge=1, le=BIGINT)
    role: Literal["worker", "team"] = "worker"


def _archive(conn: Conn, code: str) -> dict:
    archive = grids.get_grid(conn, code)
    archive["statistics"] = statistics(conn, grid=code)["grids"][0]["figures"]
    return archive


@router.get("/grids", response_class=Response, responses={200: {"content": {"application/geo+json": {}}}})
def list_grids(conn: Conn, community: CommunityQuery = None) -> Response:
    """The grids as a GeoJSON FeatureCollection (optionally of one community)."""
    return Response(json.dumps(grids.list_grids(conn, community), ensure_ascii=False),
                    media_type="application/geo+json")


@router.get("/grids/{code}", response_model=GridArchive)
def get_grid(conn: Conn, code: GridCode) -> dict:
    return _archive(conn, code)


@router.post("/grids", response_model=GridArchive, status_code=status.HTTP_201_CREATED)
def create_grid(conn: Conn, settings: AppSettings, body: GridIn) -> dict:
    """Create a grid within its community (422 on ``geom`` if it reaches more than 1 m outside); the
    households inside it that you may write are placed in it in the same transaction."""
    grids.create_grid(conn, body.code, body.community_code, body.name, body.geometry, body.ref,
                      crs=body.crs, bbox=settings.region_bbox)
    return _archive(conn, body.code)


@router.put("/grids/{code}", response_model=GridArchive)
def update_grid(conn: Conn, settings: AppSettings, code: GridCode, body: GridUpdate) -> dict:
    """Replace name and boundary (within the community, as on creation); households in the old and new
    boundary are placed again with your rights: 403 if that would move any out of your scope."""
    grids.update_grid(conn, code, body.name, body.geometry, body.ref, crs=body.crs, bbox=settings.region_bbox)
    return _archive(conn, code)


@router.delete("/grids/{code}", status_code=status.HTTP_204_NO_CONTENT)
def delete_grid(conn: Conn, code: GridCode) -> Response:
    grids.delete_grid(conn, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/grids/{code}/register.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def register_xlsx(conn: Conn, code: GridCode) -> Response:
    """The grid's register (一册), ID numbers and phones masked."""
    return download(export_register(conn, "xlsx", grid=code), XLSX, f"register-{code}.xlsx")


@router.get("/grids/{code}/register.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def register_csv(conn: Conn, code: GridCode) -> Response:
    return download(export_register(conn, "csv", grid=code), CSV, f"register-{code}.csv")


@router.post("/grids/{code}/workers", response_model=WorkerOut)
def assign_worker(conn: Conn, code: GridCode, body: Assignment) -> dict:
    """Assign a grid worker to this grid (or change the role)."""
    return workers.assign_worker(conn, body.worker_id, code, body.role)


@router.delete("/grids/{code}/workers/{worker_id}", status_code=status.HTTP_204_NO_CONTENT)
def unassign_worker(conn: Conn, code: GridCode, worker_id: DbId) -> Response:
    workers.unassign_worker(conn, worker_id, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _with_accounts(conn: Conn, rows: list[dict]) -> list[dict]:
    """The rows with whether each worker has an account (as the directory page shows it)."""
    accounts = links.worker_accounts(conn, [r["id"] for r in rows])
    return [{**r, "has_account": accounts.get(r["id"], {}).get("has_account", False)} for r in rows]


@router.get("/grid-workers", response_model=list[WorkerOut], tags=["grid workers"])
def list_workers(conn: Conn, grid: GridQuery = None) -> list[dict]:
    return _with_accounts(conn, workers.list_workers(conn, grid=grid))


@router.get("/grid-workers/{worker_id}", response_model=WorkerOut, tags=["grid workers"])
def get_worker(conn: Conn, worker_id: DbId) -> dict:
    return _with_accounts(conn, [workers.get_worker(conn, worker_id)])[0]


@router.put("/grid-workers/{worker_id}/service-phone", response_model=WorkerOut, tags=["grid workers"],
            summary="Set a grid worker's public service phone (服务电话)")
def change_worker(conn: Conn, worker_id: DbId, body: WorkerChange) -> dict:
    """The number printed beside her name on the wall map. Your admin scope must cover every grid she
    serves (403 otherwise); the change is audited. 422 names the formats taken."""
    try:
        workers.set_service_phone(conn, worker_id, body.service_phone)
    except PermissionError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    return get_worker(conn, worker_id)


@router.post("/grid-workers", response_model=WorkerOut, status_code=status.HTTP_201_CREATED,
             tags=["grid workers"])
def create_worker(conn: Conn, body: WorkerIn) -> dict:
    """A grid worker (网格员), assigned to grids at once: an admin of a street or community names the
    grids of her area she serves (403 for a grid outside it, or none); an admin of everything may
    leave them for later."""
    try:
        return workers.create_worker(conn, body.name, body.phone, body.ref, body.grids, body.role,
                                     service_phone=body.service_phone)
    except PermissionError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None


@router.patch("/grid-workers/{worker_id}", response_model=WorkerOut, tags=["grid workers"],
              summary="Change a grid worker's name, personal phone or ref")
def edit_worker(conn: Conn, worker_id: DbId, body: WorkerEdit) -> dict:
    """Your admin scope must cover every grid she serves (403 otherwise, 404 for no such worker); each
    field changed is audited (migration 038)."""
    try:
        changed = workers.change_worker(conn, worker_id, body.model_dump(exclude_unset=True))
    except PermissionError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    return _with_accounts(conn, [changed])[0]


@router.delete("/grid-workers/{worker_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["grid workers"],
               summary="Remove a grid worker (her grid assignments go with her)")
def delete_worker(conn: Conn, worker_id: DbId) -> Response:
    """The same scope rule as a change (403 / 404); audited with her name."""
    try:
        workers.delete_worker(conn, worker_id)
    except PermissionError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
