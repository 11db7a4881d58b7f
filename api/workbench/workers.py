"""The grid worker directory (网格员名录) as a page: the workers of the reader's grids with their grids,
masked phones, public service phones (服务电话, printed on the wall map) and whether each has an account
to sign in with (issue 14: every field record names an account). An admin who may manage that account
sees its name, linked to its user page, where the link is made or removed; everyone else reads only
"has an account".

An admin over every grid a worker serves sets the service phone in the row's own small form (posted
to the API's address, where the API takes PUT); the database checks the scope and audits the
change (migration 035), the form is offered only where it would be allowed (no form leads to a 403),
and a refused number comes back beside the field in the API's words (the formats taken).

The page shares GET /grid-workers with the API's directory (PageRoute); the rows are the API's
(gis/division/workers.py under row-level security), the accounts gis/access/links.py's.
"""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import Conn
from api.params import DbId, GridQuery
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang, Language
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.access import links
from gis.access.accounts import Principal
from gis.access.roles import ADMIN
from gis.division import workers
from gis.errors import InvalidInput

router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
# The row's form: no API route posts to that address (the API uses PUT there).
form_router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)

DIRECTORY = "/grid-workers"


def _directory(request: Request, conn: psycopg.Connection, user: Principal, lang: Language,
               grid: str | None, failed: int | None = None, errors: dict[str, str] | None = None,
               typed: str = "", status_code: int = 200) -> HTMLResponse:
    found = workers.list_workers(conn, grid=grid)
    ids = [w["id"] for w in found]
    accounts = links.worker_accounts(conn, ids)
    editable = workers.editable(conn, ids) if ADMIN in user.roles else set()
    response = page(request, user, lang, "grid_workers.html", N_("网格员名录"), workers=found,
                    accounts=accounts, grid=grid or "", editable=editable, failed=failed,
                    errors=errors or {}, typed=typed, formats=workers.SERVICE_PHONE_FORMATS)
    response.status_code = status_code
    return response


@router.get(DIRECTORY, response_class=HTMLResponse)
def directory_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                   grid: GridQuery = None) -> HTMLResponse:
    assert user is not None
    return _directory(request, conn, user, lang, grid)


@form_router.post("/grid-workers/{worker_id}/service-phone", response_class=HTMLResponse, response_model=None)
def set_service_phone(request: Request, conn: Conn, user: CurrentUser, lang: Lang, worker_id: DbId,
                      service_phone: Annotated[str, Form(max_length=100)] = "",
                      grid: Annotated[str, Form(max_length=15)] = "") -> HTMLResponse | RedirectResponse:
    """Set or clear (empty) the worker's service phone; back to the directory at her row (303)."""
    assert user is not None
    shown_grid = grid if grid.isdigit() and len(grid) == 15 else None
    try:
        workers.set_service_phone(conn, worker_id, service_phone)
    except InvalidInput as exc:
        errors = {p.field: p.reason for p in exc.problems}
        return _directory(request, conn, user, lang, shown_grid, worker_id, errors, service_phone, 422)
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    back = f"{DIRECTORY}?grid={shown_grid}" if shown_grid and allowed(user, DIRECTORY) else DIRECTORY
    return RedirectResponse(f"{back}#worker-{worker_id}", status_code=303)
