"""Accounts behind field work (issue 14): an admin links a grid worker record (网格员) to the account she
signs in with, and a unit-role account to the responsible unit (责任单位) it acts for.

The database decides (migration 023, through gis/access/links.py): the account must be the admin's to
manage, a worker's grids within the admin's scope, a worker's account a grid worker and a unit's a
unit-role holder (409 otherwise). Whether a worker has an account is read by whoever reads the worker;
the account's name only by an admin who may manage it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Conn
from api.params import BIGINT, DbId
from api.routes.users import Username, refusals_as_403
from gis.access import links
from gis.errors import NotFound

router = APIRouter(tags=["users and grants (用户与授权)"])


class WorkerAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=100, description="the account's login name; it must hold "
                                                                     "a grid worker (网格员) grant")


class WorkerAccountOut(BaseModel):
    worker_id: int
    has_account: bool
    username: str | None = Field(description="only for an admin who may manage the account")


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: int = Field(ge=1, le=BIGINT, description="the responsible unit (责任单位); the account must "
                                                        "hold the unit role")


class Linked(BaseModel):
    id: int
    name: str
    linked_by: str | None
    linked_at: datetime | None


class LinksOut(BaseModel):
    worker: Linked | None
    unit: Linked | None


def _account(conn: Conn, worker_id: int) -> dict[str, Any]:
    found = links.worker_accounts(conn, [worker_id])
    if worker_id not in found:
        raise NotFound("grid worker", worker_id)
    return {"worker_id": worker_id, **found[worker_id]}


@router.get("/grid-workers/{worker_id}/account", response_model=WorkerAccountOut, tags=["grid workers"],
            summary="Whether a grid worker has an account (its name for an admin who manages it)")
def worker_account(conn: Conn, worker_id: DbId) -> dict[str, Any]:
    return _account(conn, worker_id)


@router.put("/grid-workers/{worker_id}/account", response_model=WorkerAccountOut, tags=["grid workers"],
            summary="Link a grid worker to the account she signs in with")
def link_worker(conn: Conn, worker_id: DbId, body: WorkerAccountIn) -> dict[str, Any]:
    """Your admin scope must cover the worker's grids and the account; the account must hold a grid
    worker grant and be no other worker's (409)."""
    with refusals_as_403():
        links.link_worker(conn, worker_id, body.username)
    return _account(conn, worker_id)


@router.delete("/grid-workers/{worker_id}/account", status_code=204, response_class=Response,
               tags=["grid workers"], summary="Unlink a grid worker from its account")
def unlink_worker(conn: Conn, worker_id: DbId) -> Response:
    with refusals_as_403():
        links.unlink_worker(conn, worker_id)
    return Response(status_code=204)


@router.get("/users/{username}/links", response_model=LinksOut,
            summary="The grid worker record and the responsible unit an account is linked to")
def user_links(conn: Conn, username: Username) -> dict[str, Any]:
    with refusals_as_403():
        return links.links_of(conn, username)


@router.put("/users/{username}/unit", response_model=LinksOut,
            summary="Link a unit-role account to the responsible unit (责任单位) it acts for")
def link_unit(conn: Conn, username: Username, body: UnitIn) -> dict[str, Any]:
    """One unit per account (a new one replaces the old); the account must hold the unit role (409)."""
    with refusals_as_403():
        links.link_unit(conn, username, body.unit_id)
        return links.links_of(conn, username)


@router.delete("/users/{username}/unit", status_code=204, response_class=Response,
               summary="Unlink an account from its responsible unit")
def unlink_unit(conn: Conn, username: Username) -> Response:
    with refusals_as_403():
        links.unlink_unit(conn, username)
    return Response(status_code=204)

