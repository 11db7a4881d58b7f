"""Users and grants (用户与授权): an admin manages the users within their own scope.

The database decides (migration 013, through gis/access/administration.py): a user is the admin's to
see and change when every grant of the user lies within one of the admin's admin scopes, and a grant
they give must lie within it too. A refusal answers 403, a user outside the scope 404 (as if absent).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, Field

from api.deps import Conn
from api.params import Paging
from gis.access import administration

router = APIRouter(tags=["users and grants (用户与授权)"])

Username = Annotated[str, Path(min_length=1, max_length=100, description="the user's login name")]


class GrantIn(BaseModel):
    role: str = Field(max_length=50, description="admin, grid_worker, inspector, planner or viewer")
    scope: str = Field(default="", max_length=15,
                       description="'' (everything), or a 6/9/12/15-digit district/street/community/grid "
                                   "code; a grid worker (网格员) an existing grid")


class UserIn(GrantIn):
    username: str = Field(max_length=100, description="2-63 lower-case letters, digits, '.', '_', '-'")
    password: str = Field(max_length=1000, description="at least 10 characters")
    full_name: str | None = Field(default=None, max_length=1000)


class UserUpdate(BaseModel):
    active: bool | None = Field(default=None, description="false disables the account and ends its sessions")
    full_name: str | None = Field(default=None, max_length=1000, description="'' clears it")


class PasswordIn(BaseModel):
    password: str = Field(max_length=1000,
                          description="at least 10 characters; every session of the user ends")


class GrantOut(BaseModel):
    role: str
    scope: str


class UserOut(BaseModel):
    username: str
    full_name: str | None
    active: bool
    created_at: datetime
    last_sign_in: datetime | None
    grants: list[GrantOut]


class UserList(BaseModel):
    total: int
    items: list[UserOut]


@contextmanager
def refusals_as_403() -> Iterator[None]:
    """The database's refusal (not an admin of that scope) as a 403, recorded as refused by api.deps."""
    try:
        yield
    except administration.Refused as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None


@router.get("/users", response_model=UserList, summary="The users within your scope, searched by name")
def list_users(conn: Conn, paging: Annotated[Paging, Depends()],
               q: Annotated[str | None, Query(max_length=200, description="part of the name or full name")]
               = None) -> dict[str, Any]:
    with refusals_as_403():
        return administration.list_users(conn, q, paging.limit, paging.offset)


@router.post("/users", status_code=201, response_model=UserOut,
             summary="Create a user with a first grant (a role over a scope within yours)")
def create_user(user: UserIn, conn: Conn) -> dict[str, Any]:
    with refusals_as_403():
        return administration.create_user(conn, user.username, user.password, user.role, user.scope,
                                          user.full_name)


@router.get("/users/{username}", response_model=UserOut, summary="One user within your scope")
def get_user(username: Username, conn: Conn) -> dict[str, Any]:
    with refusals_as_403():
        return administration.get_user(conn, username)


@router.patch("/users/{username}", response_model=UserOut,
              summary="Enable or disable a user (disabling ends their sessions at once), "
                      "change the full name")
def update_user(username: Username, change: UserUpdate, conn: Conn) -> dict[str, Any]:
    with refusals_as_403():
        return administration.update_user(conn, username, change.active, change.full_name)


@router.post("/users/{username}/password", status_code=204, response_class=Response,
             summary="Set a new password: every session of the user ends")
def set_password(username: Username, body: PasswordIn, conn: Conn) -> Response:
    with refusals_as_403():
        administration.set_password(conn, username, body.password)
    return Response(status_code=204)


@router.post("/users/{username}/grants", status_code=201, response_model=UserOut,
             summary="Grant a role over a scope within yours (200 if held already)")
def add_grant(username: Username, body: GrantIn, conn: Conn, response: Response) -> dict[str, Any]:
    with refusals_as_403():
        added = administration.grant(conn, username, body.role, body.scope)
        response.status_code = 201 if added else 200
        return administration.get_user(conn, username)


@router.delete("/users/{username}/grants", status_code=204, response_class=Response,
               summary="Revoke a grant (not the user's last one: disable the account instead)")
def revoke_grant(username: Username, conn: Conn,
                 role: Annotated[str, Query(max_length=50)],
                 scope: Annotated[str, Query(max_length=15, description="'' for everything")] = "",
                 ) -> Response:
    with refusals_as_403():
        administration.revoke(conn, username, role, scope)
    return Response(status_code=204)
