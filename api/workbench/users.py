"""The admin's users and grants pages (用户管理): the users within the admin's scope with a search and an
add-user form; a user's page with their grants (each with a revoke button), a grant form, enable or
disable, the full name and a new password; what the account acts as (issue 14): the grid worker record
of a grid worker's account and the responsible unit (责任单位) of a unit's, each chosen from a list.

The pages share ``/users`` and ``/users/{username}`` with the API (PageRoute), and so do the forms
that post what the API takes (add a user, grant, set a password: a browser's form post gets the page,
any other client the JSON route); enable/disable and revoke, which the API does with PATCH and DELETE,
post to ``/users/{username}`` and ``/users/{username}/grants/revoke``; the links post to
``/users/{username}/unit`` and ``/users/{username}/worker`` (an empty choice unlinks). Everything goes
through gis/access/administration.py and gis/access/links.py: the database decides what the admin may
see and change (migrations 013 and 023).
A refused form is shown again with the reason beside its field, with the API's status code.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from api.deps import Conn, note_attempt, request_detail, route_template
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.render import ROLE_NAMES, page
from api.workbench.routing import PageRoute
from gis.access import administration, audit, links
from gis.access.accounts import Principal
from gis.access.roles import ADMIN, UNIT, WORKER
from gis.errors import Conflict, InvalidInput, NotFound

router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
# Forms with no API route at their address (the API uses PATCH and DELETE there).
form_router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)

PAGE_SIZE = 100
# What a scope code is, by its length ('' is everything).
SCOPE_KINDS = {0: N_("全部辖区"), 6: N_("区县"), 9: N_("街道"), 12: N_("社区"), 15: N_("网格")}
DONE = Literal["created", "granted", "revoked", "password", "enabled", "disabled", "saved", "linked",
               "unlinked"]
NOTICES = {"created": N_("已添加用户。"), "granted": N_("已授权。"), "revoked": N_("已撤销授权。"),
           "password": N_("已重设密码，该用户需重新登录。"), "enabled": N_("已启用账号。"),
           "disabled": N_("已停用账号，该用户已被登出。"), "saved": N_("已保存。"),
           "linked": N_("已关联。"), "unlinked": N_("已解除关联。")}
Field = Annotated[str, Form(max_length=1000)]
Username = Annotated[str, Path(min_length=1, max_length=100)]


def _admin_scopes(user: Principal) -> list[str]:
    return sorted({g.scope for g in user.grants if g.role == ADMIN})


def _scopes(conn: psycopg.Connection, user: Principal) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The scopes the admin may grant (for the forms' choice) and the name of each code (for grants)."""
    choices = administration.scope_choices(conn, _admin_scopes(user))
    return choices, {c["code"]: c["name"] for c in choices if c["name"]}


def _refusal(request: Request, exc: administration.Refused) -> None:
    """A refused form is shown again (no exception reaches api.deps): record the refusal as it would."""
    detail = {**request_detail(request), "status": 403, "reason": str(exc)[:200]}
    note_attempt(request, audit.Entry("refused", route_template(request), detail))


def _failure(request: Request, exc: Exception, field: str) -> tuple[int, dict[str, str]]:
    """The status and the reasons by field of a refused form; ``field`` takes what names no field."""
    if isinstance(exc, InvalidInput):
        return 422, {p.field: p.reason for p in exc.problems}
    if isinstance(exc, administration.Refused):
        _refusal(request, exc)
        return 403, {field: str(exc)}
    if isinstance(exc, NotFound):
        return 404, {field: str(exc)}
    return 409, {field: str(exc)}


def _back(request: Request, username: str, done: str) -> RedirectResponse:
    """Back to the user's page, saying what was done; a client that is not a browser (these forms have
    no API route beside them) is sent to the user's JSON, which takes no such parameter."""
    browser = "text/html" in request.headers.get("accept", "")
    return RedirectResponse(f"/users/{username}" + (f"?done={done}" if browser else ""), status_code=303)


def _users_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang, q: str | None,
                form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                status_code: int = 200, done: str | None = None) -> HTMLResponse:
    try:
        found = administration.list_users(conn, q.strip() if q else None, PAGE_SIZE)
    except administration.Refused:  # an admin whose account was disabled meanwhile
        found = {"total": 0, "items": []}
    choices, names = _scopes(conn, user)
    response = page(request, user, lang, "users.html", N_("用户管理"), q=q or "", found=found,
                    form=form or {"username": "", "full_name": "", "role": "grid_worker", "scope": ""},
                    errors=errors or {}, choices=choices, names=names, kinds=SCOPE_KINDS,
                    role_names=ROLE_NAMES, notice=NOTICES.get(done or ""))
    response.status_code = status_code
    return response


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
               q: Annotated[str | None, Query(max_length=200)] = None,
               done: DONE | None = None) -> HTMLResponse:
    assert user is not None
    return _users_page(request, conn, user, lang, q, done=done)


@router.post("/users", response_class=HTMLResponse, response_model=None)
def add_user(request: Request, conn: Conn, user: CurrentUser, lang: Lang, username: Field = "",
             full_name: Field = "", password: Field = "", role: Field = "",
             scope: Field = "") -> Response:
    """The add-user form: the user and their first grant."""
    assert user is not None
    try:
        administration.create_user(conn, username.strip(), password, role, scope, full_name.strip() or None)
    except (InvalidInput, administration.Refused, NotFound, Conflict) as exc:
        status, errors = _failure(request, exc, "username" if isinstance(exc, Conflict) else "scope")
        form = {"username": username, "full_name": full_name, "role": role, "scope": scope}
        return _users_page(request, conn, user, lang, None, form, errors, status)
    return RedirectResponse(f"/users/{username.strip()}?done=created", status_code=303)


def _user_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang, username: str,
               errors: dict[str, dict[str, str]] | None = None, status_code: int = 200,
               done: str | None = None, form: dict[str, str] | None = None) -> HTMLResponse:
    target = administration.get_user(conn, username)  # 404 outside the admin's scope
    choices, names = _scopes(conn, user)
    held = {g["role"] for g in target["grants"]}
    response = page(request, user, lang, "user.html", N_("用户"), u=target, choices=choices, names=names,
                    kinds=SCOPE_KINDS, role_names=ROLE_NAMES, errors=errors or {},
                    form=form or {"role": "", "scope": ""}, myself=target["username"] == user.username,
                    notice=NOTICES.get(done or ""), links=links.links_of(conn, username),
                    units=links.unit_choices(conn) if UNIT in held else None,
                    workers=links.worker_choices(conn) if WORKER in held else None)
    response.status_code = status_code
    return response


@router.get("/users/{username}", response_class=HTMLResponse)
def user_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, username: Username,
              done: DONE | None = None) -> HTMLResponse:
    assert user is not None
    return _user_page(request, conn, user, lang, username, done=done)


@form_router.post("/users/{username}", response_class=HTMLResponse, response_model=None)
def change_user(request: Request, conn: Conn, user: CurrentUser, lang: Lang, username: Username,
                active: Annotated[bool | None, Form()] = None,
                full_name: Annotated[str | None, Form(max_length=1000)] = None) -> Response:
    """Enable or disable the account, or change the full name (a field not posted is unchanged)."""
    assert user is not None
    try:
        administration.update_user(conn, username, active, full_name)
    except (InvalidInput, administration.Refused, Conflict) as exc:
        form = "state" if active is not None else "profile"
        status, errors = _failure(request, exc, form)
        return _user_page(request, conn, user, lang, username, {form: errors}, status)
    return _back(request, username, "saved" if active is None else "enabled" if active else "disabled")


@router.post("/users/{username}/password", response_class=HTMLResponse, response_model=None)
def reset_password(request: Request, conn: Conn, user: CurrentUser, lang: Lang, username: Username,
                   password: Field = "") -> Response:
    assert user is not None
    try:
        administration.set_password(conn, username, password)
    except (InvalidInput, administration.Refused, Conflict) as exc:
        status, errors = _failure(request, exc, "password")
        return _user_page(request, conn, user, lang, username, {"password": errors}, status)
    if username == user.username:  # their own sessions ended with it, this one too
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(f"/users/{username}?done=password", status_code=303)


@router.post("/users/{username}/grants", response_class=HTMLResponse, response_model=None)
def add_grant(request: Request, conn: Conn, user: CurrentUser, lang: Lang, username: Username,
              role: Field = "", scope: Field = "") -> Response:
    assert user is not None
    try:
        administration.grant(conn, username, role, scope)
    except (InvalidInput, administration.Refused, NotFound, Conflict) as exc:
        if isinstance(exc, NotFound) and exc.what == "user":
            raise
        status, errors = _failure(request, exc, "scope")
        return _user_page(request, conn, user, lang, username, {"grant": errors}, status,
                          form={"role": role, "scope": scope})
    return RedirectResponse(f"/users/{username}?done=granted", status_code=303)


@form_router.post("/users/{username}/grants/revoke", response_class=HTMLResponse, response_model=None)
def revoke_grant(request: Request, conn: Conn, user: CurrentUser, lang: Lang, username: Username,
                 role: Field = "", scope: Field = "") -> Response:
    assert user is not None
    try:
        administration.revoke(conn, username, role, scope)
    except (administration.Refused, NotFound, Conflict) as exc:
        if isinstance(exc, NotFound) and exc.what == "user":
            raise
        status, errors = _failure(request, exc, "revoke")
        return _user_page(request, conn, user, lang, username, {"revoke": errors}, status)
    return _back(request, username, "revoked")


Choice = Annotated[str, Form(max_length=20, pattern=r"^[0-9]*$")]


@form_router.post("/users/{username}/unit", response_class=HTMLResponse, response_model=None)
def link_unit(request: Request, conn: Conn, user: CurrentUser, lang: Lang, username: Username,
              unit_id: Choice = "") -> Response:
    """The unit a unit-role account acts for (责任单位); an empty choice unlinks it."""
    assert user is not None
    try:
        if unit_id:
            links.link_unit(conn, username, int(unit_id))
        else:
            links.unlink_unit(conn, username)
    except (InvalidInput, administration.Refused, NotFound, Conflict) as exc:
        if isinstance(exc, NotFound) and exc.what == "user":
            raise
        status, errors = _failure(request, exc, "unit_id")
        return _user_page(request, conn, user, lang, username, {"unit": errors}, status)
    return _back(request, username, "linked" if unit_id else "unlinked")


@form_router.post("/users/{username}/worker", response_class=HTMLResponse, response_model=None)
def link_worker(request: Request, conn: Conn, user: CurrentUser, lang: Lang, username: Username,
                worker_id: Choice = "") -> Response:
    """The grid worker record (网格员) a grid worker's account is; an empty choice unlinks it."""
    assert user is not None
    try:
        if worker_id:
            links.link_worker(conn, int(worker_id), username)
        else:
            linked = links.links_of(conn, username)["worker"]
            if linked is not None:
                links.unlink_worker(conn, linked["id"])
    except (InvalidInput, administration.Refused, NotFound, Conflict) as exc:
        if isinstance(exc, NotFound) and exc.what == "user":
            raise
        status, errors = _failure(request, exc, "worker_id")
        return _user_page(request, conn, user, lang, username, {"worker": errors}, status)
    return _back(request, username, "linked" if worker_id else "unlinked")
