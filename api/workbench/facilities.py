"""The facility pages (阵地): the facilities of the user's area with the add form (admins), and the
facility check (阵地达标检查) listing the communities that fail a target.

Both share their paths with the JSON API (PageRoute for a browser's page request, FormRoute for the
form post); everything goes through gis/facilities and row-level security as the API does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import Conn
from api.routes.facilities import Area, FacilityIn
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.routing import FormRoute, PageRoute
from gis.errors import InvalidInput
from gis.facilities import check, records

FIELDS = ("kind", "name", "lon", "lat", "crs", "address", "owner_community")
page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)


def _area(user: Any) -> str:
    """The user's area: her one scope, else everything she sees (row-level security narrows writes)."""
    scopes = {g.scope for g in user.grants}
    return scopes.pop() if len(scopes) == 1 else ""


def _list_page(
    request: Request,
    conn: Conn,
    user: Any,
    lang: Any,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    area = _area(user)
    total, rows = records.facilities(conn, prefix=area[:12], limit=500)
    response = page(
        request,
        user,
        lang,
        "facilities.html",
        N_("阵地设施"),
        rows=rows,
        total=total,
        kinds=records.vocabulary(conn),
        may_add=allowed(user, "/facilities") and "admin" in user.roles,
        form=form or {"crs": "EPSG:4326"},
        errors=errors or {},
        check_link=allowed(user, "/facilities/check"),
    )
    response.status_code = status
    return response


@page_router.get("/facilities")
def facilities_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return _list_page(request, conn, user, lang)


@page_router.get("/facilities/check")
def check_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, area: Area = "") -> HTMLResponse:
    """The check for ``area`` (the API's parameter), else the user's own; only the communities of her
    area are ever counted (gis/facilities/check.sql)."""
    assert user is not None
    area = area or _area(user)
    return page(
        request,
        user,
        lang,
        "facility_check.html",
        N_("阵地达标检查"),
        rows=check.failures(conn, area[:12]),
        targets=check.targets(conn),
        area=area,
    )


@form_router.post("/facilities")
async def add_facility(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> Any:
    """The add form: its fields are the API's; a refusal answers the page with it beside the field."""
    assert user is not None
    posted = await request.form()
    form = {k: v for k, v in posted.items() if k in FIELDS and isinstance(v, str)}
    fields: dict[str, Any] = {k: v.strip() for k, v in form.items() if v.strip()}
    try:
        body = FacilityIn.model_validate(fields)
    except ValidationError as exc:
        errors = {str(e["loc"][0]): e["msg"] for e in exc.errors() if e["loc"]}
        return _list_page(request, conn, user, lang, form, errors, 422)
    try:
        with conn.transaction():
            made = records.create_facility(conn, **body.model_dump())
    except InvalidInput as exc:
        return _list_page(request, conn, user, lang, form, {p.field: p.reason for p in exc.problems}, 422)
    return RedirectResponse(f"/facilities#facility-{made['id']}", status_code=303)
